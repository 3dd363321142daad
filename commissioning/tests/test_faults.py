"""Faults with the real services: nothing a user saved is lost."""

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from commissioning.models import OutboundEmail, OutboundEmailStatus
from commissioning.tasks import sweep_email_outbox
from commissioning.tests import services_control
from conftest import _require_real_services
from contracts.tests.factories import contract_for
from monitoring.models import PerformanceReturn, ReturnStatus
from monitoring.reports.models import MonthlyReport, ReportStatus
from monitoring.reports.services import sweep_reports
from monitoring.services import returns as return_services
from monitoring.tests.factories import kpi_with_target, quarter

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_it_keeps_working_and_keeps_the_email_while_redis_is_down(world, client_for,
                                                                  celery_worker_process):
    admin = client_for(world.partnership_admin_a)
    services_control.redis_stop()
    try:
        started = time.monotonic()
        response = admin.post("/people/invite/", {
            "full_name": "Rhea Resilient", "email": "rhea@example.org",
            "organisation": world.icb_a.pk, "role": "commissioner"})
        elapsed = time.monotonic() - started
        assert response.status_code == 302, "the user's request succeeds without Redis"
        assert elapsed < 15
        assert admin.get("/").status_code == 200
        assert admin.get("/people/").status_code == 200
        email = OutboundEmail.objects.get(to=["rhea@example.org"])
        assert email.status == OutboundEmailStatus.PENDING
    finally:
        services_control.redis_start()

    # Redis is back: the scheduled sweep hands the waiting e-mail to the (reconnected) worker.
    OutboundEmail.objects.filter(pk=email.pk).update(
        created_at=timezone.now() - timedelta(minutes=5))
    assert sweep_email_outbox() == 1
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        email.refresh_from_db()
        if email.status == OutboundEmailStatus.SENT:
            break
        time.sleep(0.3)
    assert email.status == OutboundEmailStatus.SENT
    sent = list(celery_worker_process.mail_dir.glob("*.log"))
    assert len(sent) == 1 and "rhea@example.org" in sent[0].read_text()
    # Sweeping again sends nothing twice.
    assert sweep_email_outbox() == 0


def test_it_reconnects_after_postgresql_restarts(world, client_for, live_server):
    _require_real_services()
    cookie = client_for(world.commissioner_a).cookies["sessionid"].value

    def get(path: str) -> tuple[int, str]:
        request = urllib.request.Request(live_server.url + path,
                                         headers={"Cookie": f"sessionid={cookie}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, ""

    assert get("/")[0] == 200  # the server thread now holds an open connection
    services_control.postgres_restart()
    connection.close()  # this thread's connection died with the server too
    status, body = get("/")
    assert status == 200 and "Cara Commissioner" in body
    assert get("/healthz/") == (200, '{"status": "ok"}')


def test_a_dump_restores_into_an_empty_database_and_the_app_serves_it(world, tmp_path):
    _require_real_services()
    settings_dict = connection.settings_dict
    base = ["-h", settings_dict["HOST"], "-p", str(settings_dict["PORT"]), "-U",
            settings_dict["USER"]]
    dump = tmp_path / "backup.dump"
    subprocess.run([services_control.pg_tool("pg_dump"), *base, "--format=custom",
                    f"--file={dump}", settings_dict["NAME"]], check=True, timeout=120)
    restored = f"restore_{os.getpid()}"
    subprocess.run([services_control.pg_tool("createdb"), *base, restored], check=True)
    try:
        subprocess.run([services_control.pg_tool("pg_restore"), *base, "--no-owner",
                        f"--dbname={restored}", str(dump)], check=True, timeout=120)
        env = {**os.environ, "DATABASE_URL":
               f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:"
               f"{settings_dict['PORT']}/{restored}"}
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        code = (
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='commissioning.settings';"
            "django.setup();"
            "from django.core.management import call_command; call_command('migrate', '--check');"
            "from django.test import Client; from commissioning.models import User;"
            "from django.test.utils import setup_test_environment; setup_test_environment();"
            "c = Client(); u = User.objects.get(email='commissioner.a@example.org');"
            "c.force_login(u, backend='django.contrib.auth.backends.ModelBackend');"
            "from django_otp.plugins.otp_totp.models import TOTPDevice;"
            "from django_otp import DEVICE_ID_SESSION_KEY;"
            "d = TOTPDevice.objects.create(user=u, name='t');"
            "s = c.session; s[DEVICE_ID_SESSION_KEY] = d.persistent_id; s.save();"
            "r = c.get('/partnerships/'); print(r.status_code);"
            "print('Bromley Council and NHS South East London ICB' in r.content.decode())"
        )
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
        assert out.returncode == 0, out.stderr
        assert out.stdout.split()[-2:] == ["200", "True"]
    finally:
        connection.close()
        subprocess.run([services_control.pg_tool("dropdb"), *base, "--if-exists", restored],
                       timeout=60)


def test_a_report_asked_for_while_redis_is_down_is_kept_and_produced_when_it_is_back(
        world, client_for, celery_worker_process):
    officer = client_for(world.report_officer_a)
    services_control.redis_stop()
    try:
        response = officer.post("/reports/", {"partnership": world.partnership_a.pk,
                                              "month": 7, "year": 2025}, follow=True)
        assert response.status_code == 200
        assert "could not be reached just now" in response.content.decode()
        report = MonthlyReport.objects.get()
        assert report.status == ReportStatus.QUEUED
        assert officer.get("/reports/").status_code == 200
    finally:
        services_control.redis_start()
    # The sweep (every 5 minutes from beat) hands the saved request to the worker.
    MonthlyReport.objects.filter(pk=report.pk).update(
        queued_at=timezone.now() - timedelta(minutes=15))
    assert sweep_reports() == 1
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        report.refresh_from_db()
        if report.status in (ReportStatus.DONE, ReportStatus.FAILED):
            break
        time.sleep(0.3)
    assert report.status == ReportStatus.DONE, report.error
    assert MonthlyReport.objects.count() == 1


def test_a_return_submitted_while_redis_is_down_is_saved_and_its_email_kept(
        world, client_for, celery_worker_process):
    """The provider's "Submit the return" with Redis stopped: the return is submitted, the
    page says so (no error page), and the commissioners' e-mail waits in the outbox."""
    contract = contract_for(world, reference="RD-1", title="Carers' breaks")
    kpi_with_target(contract, code="C1", name="Carers supported", target="100")
    period = quarter()
    draft = return_services.return_save_draft(
        contract=contract, period=period, overall_commentary="Steady quarter",
        values=[return_services.ValueInput(kpi_id=contract.kpis.get().pk, value=120)],
        expected_version=None, saved_by=world.provider_x_user)
    provider = client_for(world.provider_x_user)
    check_url = f"/returns/{contract.pk}/{period.code}/check/"
    page = provider.get(check_url).content.decode()
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    before = OutboundEmail.objects.count()
    services_control.redis_stop()
    try:
        response = provider.post(check_url, {"declaration": "on", "version": version})
        assert response.status_code == 302, "a saved change is never reported as failed"
        assert provider.get(response["Location"]).status_code == 200
    finally:
        services_control.redis_start()
    draft.refresh_from_db()
    assert draft.status == ReturnStatus.SUBMITTED
    waiting = OutboundEmail.objects.filter(status=OutboundEmailStatus.PENDING)
    assert OutboundEmail.objects.count() > before and waiting.exists()
    assert PerformanceReturn.objects.get(pk=draft.pk).submitted_by == world.provider_x_user
