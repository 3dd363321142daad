"""Personas shared by every app's tests.

Two partnerships (A: a council and an ICB; B: another council and ICB), two providers, and a
person for each role. Every view test checks that the wrong persona is refused.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

import pytest
import redis
from django.apps import apps
from django.db import connection
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from commissioning.access import set_current_organisation
from commissioning.celery import app
from commissioning.middleware import SESSION_KEY as CURRENT_ORGANISATION_KEY
from commissioning.middleware import SESSION_REFRESHED_KEY
from commissioning.models import Role
from commissioning.tests import factories as f

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # live_server + sync Playwright

# Records what each browser journey POSTs through its pages (@pytest.mark.covers).
pytest_plugins = ("commissioning.tests.journeys",)


@dataclass
class World:
    council_a: object
    icb_a: object
    council_b: object
    icb_b: object
    provider_x: object
    provider_y: object
    partnership_a: object
    partnership_b: object
    commissioner_a: object
    icb_commissioner_a: object
    commissioner_b: object
    contract_manager_a: object
    finance_officer_a: object
    report_officer_a: object
    read_only_a: object
    partnership_admin_a: object
    provider_x_user: object
    provider_x_approver: object
    provider_y_user: object
    outsider: object
    staff_admin: object

    def personas(self) -> dict[str, object]:
        return {
            "commissioner_a": self.commissioner_a,
            "commissioner_b": self.commissioner_b,
            "finance_officer_a": self.finance_officer_a,
            "report_officer_a": self.report_officer_a,
            "provider_x": self.provider_x_user,
            "provider_y": self.provider_y_user,
            "partnership_admin_a": self.partnership_admin_a,
            "staff_admin": self.staff_admin,
            "outsider": self.outsider,
        }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Real hashing is deliberately slow; tests use a fast hasher for speed, nothing else."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db) -> World:
    council_a = f.CouncilFactory(name="London Borough of Bromley", short_name="Bromley Council")
    icb_a = f.ICBFactory(name="NHS South East London ICB", short_name="SEL ICB")
    council_b = f.CouncilFactory(name="London Borough of Merton", short_name="Merton Council")
    icb_b = f.ICBFactory(name="NHS South West London ICB", short_name="SWL ICB")
    provider_x = f.ProviderFactory(
        name="Bromley Third Sector Enterprise", short_name="Bromley Well"
    )
    provider_y = f.ProviderFactory(name="Age UK Cambridgeshire", short_name="Age UK")
    partnership_a = f.PartnershipFactory(
        name="Bromley Council and NHS South East London ICB", organisations=[council_a, icb_a]
    )
    partnership_b = f.PartnershipFactory(
        name="Merton Council and NHS South West London ICB", organisations=[council_b, icb_b]
    )
    staff_admin = f.UserFactory(
        email="admin@example.org", full_name="Staff Admin", is_staff=True, is_superuser=True
    )
    return World(
        council_a=council_a, icb_a=icb_a, council_b=council_b, icb_b=icb_b,
        provider_x=provider_x, provider_y=provider_y,
        partnership_a=partnership_a, partnership_b=partnership_b,
        commissioner_a=f.user_with_role(council_a, Role.COMMISSIONER,
                                        email="commissioner.a@example.org",
                                        full_name="Cara Commissioner"),
        icb_commissioner_a=f.user_with_role(icb_a, Role.COMMISSIONER,
                                            email="icb.a@example.org", full_name="Ian ICB"),
        commissioner_b=f.user_with_role(council_b, Role.COMMISSIONER,
                                        email="commissioner.b@example.org",
                                        full_name="Bea Merton"),
        contract_manager_a=f.user_with_role(council_a, Role.CONTRACT_MANAGER,
                                            email="manager.a@example.org",
                                            full_name="Mo Manager"),
        finance_officer_a=f.user_with_role(council_a, Role.FINANCE_OFFICER,
                                           email="finance.a@example.org",
                                           full_name="Fin Officer"),
        report_officer_a=f.user_with_role(council_a, Role.REPORT_OFFICER,
                                          email="reports.a@example.org",
                                          full_name="Rita Reports"),
        read_only_a=f.user_with_role(council_a, Role.READ_ONLY, email="viewer.a@example.org",
                                     full_name="Vic Viewer"),
        partnership_admin_a=f.user_with_role(council_a, Role.PARTNERSHIP_ADMIN,
                                             email="padmin.a@example.org",
                                             full_name="Pat Admin"),
        provider_x_user=f.user_with_role(provider_x, Role.PROVIDER_SUBMITTER,
                                         email="submitter.x@example.org",
                                         full_name="Xena Provider"),
        provider_x_approver=f.user_with_role(provider_x, Role.PROVIDER_APPROVER,
                                             email="approver.x@example.org",
                                             full_name="Xavier Approver"),
        provider_y_user=f.user_with_role(provider_y, Role.PROVIDER_SUBMITTER,
                                         email="submitter.y@example.org",
                                         full_name="Yusuf Provider"),
        outsider=f.UserFactory(email="outsider@example.org", full_name="Otto Outsider"),
        staff_admin=staff_admin,
    )


@pytest.fixture
def client_for(client):
    """client_for(user) -> a test client signed in as that user."""

    def make(user):
        c = Client()
        c.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        # Signed in with both factors, as after a real sign-in with an authenticator app.
        device, _ = TOTPDevice.objects.get_or_create(
            user=user, name="Test authenticator", defaults={"confirmed": True}
        )
        session = c.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        # As the first page after signing in leaves it: the organisation the person acts for
        # is remembered and the idle timeout was just pushed forward, so a test's first page
        # does not also save the session (that page's queries are the ones a test counts).
        organisation = set_current_organisation(user, None)
        if organisation is not None:
            session[CURRENT_ORGANISATION_KEY] = organisation.pk
        session[SESSION_REFRESHED_KEY] = int(time.time())
        session.save()
        return c

    return make


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium (never a downloaded browser), headless, with no background traffic."""
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic",
                 "--no-first-run"],
    }


def _require_real_services() -> str:
    """The URL of the test Redis started by scripts/with-test-services.sh.

    Outside that script (e.g. a quick SQLite run) these tests are skipped; in CI they must run.
    """
    url = os.environ.get("TEST_REDIS_URL")
    on_postgres = os.environ.get("DATABASE_URL", "").startswith("postgres")
    if not url or not on_postgres:
        if os.environ.get("CI"):
            pytest.fail("CI must run the suite through scripts/with-test-services.sh (make test)")
        pytest.skip("needs PostgreSQL and Redis: run `make test`")
    return url


@pytest.fixture
def celery_worker_process(live_server, tmp_path):
    """A real Celery worker (separate process) on the test Redis and the test database.

    Yields a handle with the e-mail folder the worker writes to. The producing side (this test
    process) stops running tasks in-process for the duration.
    """
    redis_url = _require_real_services()
    db = connection.settings_dict
    database_url = (f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}")
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    log = tmp_path / "worker.log"
    media_root = tmp_path / "media"
    media_root.mkdir()
    env = {**os.environ, "DATABASE_URL": database_url, "CELERY_BROKER_URL": redis_url,
           "CELERY_TASK_ALWAYS_EAGER": "false", "EMAIL_FILE_PATH": str(mail_dir),
           "SITE_URL": live_server.url, "MEDIA_ROOT": str(media_root)}
    root = Path(__file__).resolve().parent
    # Empty the queue so a previous test's leftovers never run here.
    redis.Redis.from_url(redis_url).flushdb()
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "commissioning", "worker",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO",
         "--concurrency=1",
         f"--logfile={log}"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if log.exists() and "ready." in log.read_text():
            break
        if process.poll() is not None:
            pytest.fail(f"Celery worker exited: {log.read_text() if log.exists() else ''}")
        time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("Celery worker did not start within 60 s")

    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False

    class Handle:
        pass

    handle = Handle()
    handle.process, handle.mail_dir, handle.log, handle.env = process, mail_dir, log, env
    handle.media_root = media_root
    try:
        yield handle
    finally:
        app.conf.task_always_eager = was_eager
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def pytest_terminal_summary(terminalreporter):
    """The fuzz tests' count of inputs tried (commissioning/tests/test_fuzz_*.py)."""
    strategies = sys.modules.get("commissioning.tests.strategies")
    line = strategies.summary_line() if strategies else None
    if line:
        terminalreporter.write_line(line)


# Reference data that migrations seed (funding sources, the KPI template library). A
# transactional test empties every table when it finishes; put the seeds back for the next.
_SEED_MIGRATIONS = (
    ("funding.migrations.0002_seed_funding_sources", "seed", "funding.FundingSource"),
    ("monitoring.migrations.0002_kpi_template_library", "load", "monitoring.KPITemplateSet"),
)


@pytest.fixture(autouse=True)
def _migration_seeded_reference_data(request):
    uses_db = request.node.get_closest_marker("django_db") or {
        "db", "transactional_db", "world", "live_server"} & set(request.fixturenames)
    if uses_db:
        request.getfixturevalue("db")  # follows the test's own django_db marker
        for module, function, model in _SEED_MIGRATIONS:
            if not apps.get_model(model).objects.exists():
                getattr(import_module(module), function)(apps, None)
    yield
