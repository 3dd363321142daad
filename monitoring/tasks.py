"""Monitoring background tasks: thin, safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="monitoring.tasks.send_return_reminders")
def send_return_reminders() -> dict:
    """Daily: reminder e-mails 5 working days before a return is due and the day after it
    is due (if not submitted), each sent once (ReminderSent rows guard against repeats)."""
    from monitoring.services.reminders import reminders_send

    result = reminders_send()
    return {"sent": result.sent, "already_sent": result.already_sent}


@shared_task(name="monitoring.tasks.start_monthly_reports")
def start_monthly_reports() -> list[int]:
    """Beat, 06:00 on weekdays of the first week: acts only on the first working day of the
    month; creates one report per partnership for the month just ended and fans out."""
    from monitoring.reports.services import start_monthly_reports as start

    return [report.pk for report in start()]


@shared_task(name="monitoring.tasks.generate_monthly_report", bind=True)
def generate_monthly_report(self, report_id: int) -> str:
    """Produce one partnership's monthly report (claimed, so safe to deliver twice)."""
    from monitoring.reports.services import monthly_report_generate

    report = monthly_report_generate(report_id=report_id, task_id=self.request.id or "eager")
    return report.status if report else "skipped"


@shared_task(name="monitoring.tasks.sweep_reports")
def sweep_reports() -> int:
    """Every few minutes: enqueue reports recorded while Redis was down."""
    from monitoring.reports.services import sweep_reports as sweep

    return sweep()
