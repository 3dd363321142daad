"""Return reminders: e-mails before a return is due and after it is overdue, each sent once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone

from monitoring.models import (
    ReminderKind,
    ReminderSent,
)
from monitoring.reporting_periods import period_saved, periods_open
from monitoring.selectors import returns_needing_reminders
from monitoring.services.notify import provider_emails, queue_mail


@dataclass(frozen=True)
class RemindersSent:
    sent: int
    already_sent: int


def reminders_send(*, today: date | None = None) -> RemindersSent:
    """E-mail providers 5 working days before a return is due and 1 day after it is due if
    it has not been submitted. The ReminderSent row (unique per contract, period and kind) is
    written first; the mail goes after commit, so a second run sends nothing.

    Being the daily job, it also opens the reporting periods the pages offer (their rows are
    made here and by the services, never while a page is read)."""
    today = today or timezone.localdate()
    periods_open(today=today, months=3)
    sent = skipped = 0
    for contract, period, kind in returns_needing_reminders(today=today):
        recipients = provider_emails(contract)
        if not recipients:
            continue
        with transaction.atomic():
            _row, created = ReminderSent.objects.get_or_create(
                contract=contract, period=period_saved(period), kind=kind,
                defaults={"recipients": ", ".join(sorted(recipients))},
            )
            if not created:
                skipped += 1
                continue
            sent += 1
            overdue = kind == ReminderKind.AFTER_DUE
            subject = (f"{'Overdue' if overdue else 'Due soon'}: {period.label} return for "
                       f"{contract.reference} {contract.title}")
            queue_mail(recipients, subject, "monitoring/email/return_reminder.txt", None,
                       {"contract": contract, "period": period, "overdue": overdue})
    return RemindersSent(sent=sent, already_sent=skipped)
