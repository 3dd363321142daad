"""Monitoring background tasks: thin, safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="monitoring.tasks.send_return_reminders")
def send_return_reminders() -> dict:
    """Daily: reminder e-mails 5 working days before a return is due and the day after it
    is due (if not submitted), each sent once (ReminderSent rows guard against repeats)."""
    from monitoring.services import reminders_send

    result = reminders_send()
    return {"sent": result.sent, "already_sent": result.already_sent}
