"""The e-mail outbox is the only way mail leaves: written with the change that causes it,
sent by a worker, retried when the mail server fails, reclaimed when a worker dies."""

from __future__ import annotations

import socket
from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from commissioning.models import OutboundEmail, OutboundEmailStatus
from commissioning.tasks import CLAIM_EXPIRY, sweep_email_outbox
from contracts.models import KeyDateAlert
from contracts.tasks import send_key_date_alerts
from contracts.tests.factories import contract_for

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A loopback port nobody listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_key_date_alert_email_waits_in_the_outbox_when_the_mail_server_is_down(
        world, settings, django_capture_on_commit_callbacks):
    contract = contract_for(world, initial_end_date=date.today() + timedelta(days=60),
                            contract_manager=world.contract_manager_a, notice_period_months=0)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()
    with django_capture_on_commit_callbacks(execute=True):
        assert send_key_date_alerts() == {"created": 1, "already_sent": 0}
    alert = KeyDateAlert.objects.get()
    email = OutboundEmail.objects.get(to=[world.contract_manager_a.email])
    assert contract.reference in email.subject
    assert email.status == OutboundEmailStatus.PENDING and email.attempts == 1
    assert email.last_error

    # The mail server is back: the sweep sends it, once.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    OutboundEmail.objects.filter(pk=email.pk).update(
        created_at=timezone.now() - timedelta(minutes=5))
    assert sweep_email_outbox() == 1
    email.refresh_from_db()
    assert email.status == OutboundEmailStatus.SENT
    assert [m.to for m in mail.outbox] == [[world.contract_manager_a.email]]
    assert alert.sent_at is not None
    assert sweep_email_outbox() == 0


def test_a_sending_email_is_reclaimed_by_the_time_it_was_claimed_not_written(db):
    long_ago = timezone.now() - timedelta(hours=3)
    just_claimed = OutboundEmail.objects.create(
        subject="Slow but alive", body="…", to=["slow@example.org"], created_at=long_ago,
        status=OutboundEmailStatus.SENDING, attempts=1,
        claimed_at=timezone.now() - timedelta(seconds=30))
    abandoned = OutboundEmail.objects.create(
        subject="Worker died", body="…", to=["lost@example.org"], created_at=long_ago,
        status=OutboundEmailStatus.SENDING, attempts=1,
        claimed_at=timezone.now() - CLAIM_EXPIRY - timedelta(seconds=30))
    assert sweep_email_outbox() == 1
    just_claimed.refresh_from_db()
    abandoned.refresh_from_db()
    assert just_claimed.status == OutboundEmailStatus.SENDING  # never sent twice
    assert abandoned.status == OutboundEmailStatus.SENT
    assert [m.to for m in mail.outbox] == [["lost@example.org"]]
