"""Core background tasks: e-mail delivery from the outbox."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.core.mail import send_mail
from django.db.models import F
from django.utils import timezone

from commissioning import queueing
from commissioning.models import OutboundEmail, OutboundEmailStatus

MAX_ATTEMPTS = 5


@shared_task(name="commissioning.tasks.send_queued_email")
def send_queued_email(email_id: int) -> None:
    """Send one outbox e-mail. Claimed with a conditional update, so a duplicate delivery of
    this task sends nothing twice."""
    claimed = OutboundEmail.objects.filter(
        pk=email_id, status=OutboundEmailStatus.PENDING
    ).update(status=OutboundEmailStatus.SENDING, attempts=F("attempts") + 1)
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
    """Enqueue e-mails that were saved while the broker was down (or whose worker died)."""
    stale = timezone.now() - timedelta(minutes=2)
    OutboundEmail.objects.filter(status=OutboundEmailStatus.SENDING,
                                 created_at__lt=stale - timedelta(minutes=15)).update(
        status=OutboundEmailStatus.PENDING)
    ids = list(OutboundEmail.objects.filter(
        status=OutboundEmailStatus.PENDING, created_at__lt=stale
    ).values_list("pk", flat=True)[:500])
    return queueing.sweep(ids, send_queued_email)


@shared_task(
    name="commissioning.tasks.send_email",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_email(*, subject: str, body: str, to: list[str]) -> None:
    """Send one plain-text e-mail directly (prefer commissioning.email.email_queue, which
    survives a broker outage)."""
    send_mail(subject, body, None, to)
