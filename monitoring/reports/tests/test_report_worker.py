"""The monthly report end to end: real Redis, a real Celery worker process, real PDFs."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import time
from datetime import date

import pytest
from django.conf import settings
from pypdf import PdfReader

from monitoring.reports import services as report_services
from monitoring.reports.models import MonthlyReport, ReportStatus
from monitoring.reports.tests.test_reports import MONTH, build

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, timeout: float = 180.0, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(step)
    raise AssertionError("timed out waiting")


def text_of(path) -> str:
    with open(path, "rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return " ".join(" ".join(p.extract_text() for p in reader.pages).split())


def test_the_worker_produces_the_report_requested_from_the_reports_page(
        world, client_for, celery_worker_process):
    build(world, contracts=3, kpis=3)
    client = client_for(world.report_officer_a)
    response = client.post("/reports/", {"partnership": world.partnership_a.pk,
                                         "month": MONTH.month, "year": MONTH.year})
    assert response.status_code == 302
    report = MonthlyReport.objects.get()
    # The request returns at once; the worker process does the work.
    done = wait_for(lambda: MonthlyReport.objects.filter(
        pk=report.pk, status__in=[ReportStatus.DONE, ReportStatus.FAILED]).first())
    assert done.status == ReportStatus.DONE, done.error
    text = text_of(celery_worker_process.media_root / done.file.name)
    for expected in (world.partnership_a.name, "July 2025", "Carers support service 2",
                     "Carers supported 1", "55", "£1,200,000", "£120,000"):
        assert expected in text, expected
    # The status page reports it and stops refreshing.
    page = client.get(f"/reports/monthly/{report.pk}/").content.decode()
    assert "Download the report" in page and 'http-equiv="refresh"' not in page
    # The worker told the partnership by e-mail, with a link.
    link = f"/reports/monthly/{report.pk}/"
    wait_for(lambda: [m for m in celery_worker_process.mail_dir.glob("*.log")
                      if link in m.read_text()], timeout=60)


def test_running_the_beat_job_twice_leaves_one_report_per_partnership_and_month(
        world, celery_worker_process):
    first_working_day = date(2025, 9, 1)
    report_services.start_monthly_reports(today=first_working_day)
    report_services.start_monthly_reports(today=first_working_day)
    wait_for(lambda: MonthlyReport.objects.filter(status=ReportStatus.DONE).count() == 2)
    assert MonthlyReport.objects.count() == 2
    assert set(MonthlyReport.objects.values_list("partnership", "month")) == {
        (world.partnership_a.pk, date(2025, 8, 1)), (world.partnership_b.pk, date(2025, 8, 1))}
    files = list((celery_worker_process.media_root / "reports").iterdir())
    assert len(files) == 2


def test_a_worker_killed_mid_report_redoes_it_once_and_leaves_one_file(
        world, celery_worker_process):
    build(world, contracts=40, kpis=10)  # big enough to be caught in the act
    report_services.monthly_report_request(partnership=world.partnership_a, month=MONTH,
                                           requested_by=world.report_officer_a)
    report = MonthlyReport.objects.get()
    wait_for(lambda: MonthlyReport.objects.filter(pk=report.pk,
                                                  status=ReportStatus.RUNNING).exists(),
             step=0.05)
    children = subprocess.run(["pgrep", "-P", str(celery_worker_process.process.pid)],
                              capture_output=True, text=True).stdout.split()
    assert children, "the worker has a pool process"
    for pid in children:
        os.kill(int(pid), signal.SIGKILL)
    done = wait_for(lambda: MonthlyReport.objects.filter(
        pk=report.pk, status__in=[ReportStatus.DONE, ReportStatus.FAILED]).first())
    assert done.status == ReportStatus.DONE, done.error
    assert done.attempts == 2, "redelivered once after the kill, done once"
    assert MonthlyReport.objects.count() == 1
    files = list((celery_worker_process.media_root / "reports").iterdir())
    assert [f.name for f in files] == [os.path.basename(done.file.name)]
    assert "Carers support service 39" in text_of(files[0])
    assert "WorkerLostError" in celery_worker_process.log.read_text() or \
        "SIGKILL" in celery_worker_process.log.read_text()
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
