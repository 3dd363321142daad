"""Core background tasks: e-mail delivery from the outbox."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.core.mail import send_mail
from django.db.models import F
from django.utils import timezone

from commissioning import leavers, queueing
from commissioning.models import OutboundEmail, OutboundEmailStatus

MAX_ATTEMPTS = 5
# A claim older than this belongs to a worker that died mid-send: the sweep hands the e-mail
# to another. Much longer than one SMTP attempt can take (EMAIL_TIMEOUT), so a slow send is
# never doubled, and short enough that a lost e-mail is retried within minutes.
CLAIM_EXPIRY = timedelta(minutes=5)


@shared_task(name="commissioning.tasks.send_queued_email")
def send_queued_email(email_id: int) -> None:
    """Send one outbox e-mail. Claimed with a conditional update, so a duplicate delivery of
    this task sends nothing twice."""
    claimed = OutboundEmail.objects.filter(
        pk=email_id, status=OutboundEmailStatus.PENDING
    ).update(status=OutboundEmailStatus.SENDING, attempts=F("attempts") + 1,
             claimed_at=timezone.now())
    if not claimed:
        return
    email = OutboundEmail.objects.get(pk=email_id)
    try:
        send_mail(email.subject, email.body, None, email.to)
    except OSError as error:
        email.status = (OutboundEmailStatus.FAILED if email.attempts >= MAX_ATTEMPTS
                        else OutboundEmailStatus.PENDING)
        email.last_error = str(error)[:1000]
        email.save(update_fields=["status", "last_error"])
        return
    email.status = OutboundEmailStatus.SENT
    email.sent_at = timezone.now()
    email.save(update_fields=["status", "sent_at"])


@shared_task(name="commissioning.tasks.sweep_email_outbox")
def sweep_email_outbox() -> int:
    """Enqueue e-mails that were saved while the broker was down, and those whose worker
    died mid-send (claimed longer ago than ``CLAIM_EXPIRY``, whenever they were written)."""
    now = timezone.now()
    stale = now - timedelta(minutes=2)
    OutboundEmail.objects.filter(status=OutboundEmailStatus.SENDING,
                                 claimed_at__lt=now - CLAIM_EXPIRY).update(
        status=OutboundEmailStatus.PENDING)
    ids = list(OutboundEmail.objects.filter(
        status=OutboundEmailStatus.PENDING, created_at__lt=stale
    ).values_list("pk", flat=True)[:500])
    return queueing.sweep(ids, send_queued_email)



@shared_task(name="commissioning.tasks.suspend_dormant_sso_accounts")
def suspend_dormant_sso_accounts() -> int:
    """Leavers: suspend people who have not signed in through their organisation's provider
    for ``SSO_SUSPEND_AFTER_DAYS`` (the rule: ``leavers.suspend_dormant_accounts``)."""
    return leavers.suspend_dormant_accounts()
