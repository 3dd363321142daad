"""Core background tasks."""

from __future__ import annotations

from celery import shared_task
from django.core.mail import send_mail


@shared_task(
    name="commissioning.tasks.send_email",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_email(*, subject: str, body: str, to: list[str]) -> None:
    """Send one plain-text e-mail. Web requests enqueue mail instead of waiting on SMTP; a
    failed SMTP connection is retried with back-off."""
    send_mail(subject, body, None, to)
