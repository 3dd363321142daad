"""Monitoring background tasks: thin, safe to run twice.

Celery finds tasks in ``<app>.tasks``; ``generate_monthly_report`` is defined beside the report
services that enqueue it and imported here so the worker registers it under its stable name.
"""

from __future__ import annotations

from celery import shared_task

from monitoring.reports import services as report_services
from monitoring.reports.services import generate_monthly_report
from monitoring.services.reminders import reminders_send

__all__ = ["generate_monthly_report", "send_return_reminders", "start_monthly_reports",
           "sweep_reports"]


@shared_task(name="monitoring.tasks.send_return_reminders")
def send_return_reminders() -> dict:
    """Daily: reminder e-mails 5 working days before a return is due and the day after it
    is due (if not submitted), each sent once (ReminderSent rows guard against repeats)."""
    result = reminders_send()
    return {"sent": result.sent, "already_sent": result.already_sent}


@shared_task(name="monitoring.tasks.start_monthly_reports")
def start_monthly_reports() -> list[int]:
    """Beat, 06:00 on weekdays of the first week: acts only on the first working day of the
    month; creates one report per partnership for the month just ended and fans out."""
    return [report.pk for report in report_services.start_monthly_reports()]


@shared_task(name="monitoring.tasks.sweep_reports")
def sweep_reports() -> int:
    """Every few minutes: enqueue reports recorded while Redis was down."""
    return report_services.sweep_reports()
