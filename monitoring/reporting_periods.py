"""Reporting periods: the quarters and months providers report on, their due dates and
reminder days. Pure date rules plus the lookup of the period rows."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import IntegrityError, transaction

from commissioning.periods import (
    FinancialYear,
    add_months,
    add_working_days,
    is_working_day,
    quarter_for,
)
from monitoring.models import (
    PeriodKind,
    ReminderKind,
    ReportingPeriod,
)

DUE_WORKING_DAYS = 20
REMINDER_BEFORE_WORKING_DAYS = 5


def _period_values(kind: str, day: date) -> dict:
    year = FinancialYear.from_date(day)
    fy, fy_slug = year.label, year.slug
    if kind == PeriodKind.QUARTER:
        quarter = quarter_for(day)
        start, end = year.quarter(quarter)
        return {"code": f"{fy_slug}-q{quarter}", "label": f"{fy} Q{quarter}",
                "financial_year": fy, "quarter": quarter, "month": None,
                "start_date": start, "end_date": end,
                "due_date": add_working_days(end, DUE_WORKING_DAYS)}
    start = date(day.year, day.month, 1)
    end = add_months(start, 1) - timedelta(days=1)
    month = (day.month - 4) % 12 + 1
    return {"code": f"{fy_slug}-m{month:02d}", "label": f"{start:%B %Y}",
            "financial_year": fy, "quarter": quarter_for(day), "month": month,
            "start_date": start, "end_date": end,
            "due_date": add_working_days(end, DUE_WORKING_DAYS)}


def period_get(*, kind: str, day: date) -> ReportingPeriod:
    """The quarter or month containing ``day``, created the first time it is needed.

    The due date is 20 working days after the period ends (England and Wales bank holidays
    excluded), e.g. 2025/26 Q3 (October–December 2025) is due on 29 January 2026.
    """
    values = _period_values(kind, day)
    period = ReportingPeriod.objects.filter(kind=kind, start_date=values["start_date"]).first()
    if period is not None:
        return period
    try:
        with transaction.atomic():
            return ReportingPeriod.objects.create(kind=kind, **values)
    except IntegrityError:
        return ReportingPeriod.objects.get(kind=kind, start_date=values["start_date"])


def period_from_code(code: str) -> ReportingPeriod | None:
    """"2025-26-q3" or "2025-26-m07" -> the period (created if needed), None if malformed."""
    try:
        fy, _, part = code.rpartition("-")
        start = FinancialYear.from_slug(fy).first_day
        number = int(part[1:])
    except (ValueError, IndexError):
        return None
    if part.startswith("q") and 1 <= number <= 4:
        return period_get(kind=PeriodKind.QUARTER, day=add_months(start, 3 * (number - 1)))
    if part.startswith("m") and 1 <= number <= 12:
        return period_get(kind=PeriodKind.MONTH, day=add_months(start, number - 1))
    return None


def previous_period(period: ReportingPeriod) -> ReportingPeriod:
    return period_get(kind=period.kind, day=period.start_date - timedelta(days=1))


def recent_periods(*, kind: str, today: date, count: int) -> list[ReportingPeriod]:
    """The last ``count`` periods that have ended by ``today``, oldest first."""
    day = today
    current = _period_values(kind, day)
    if current["end_date"] >= today:
        day = current["start_date"] - timedelta(days=1)
    periods = []
    for _ in range(count):
        period = period_get(kind=kind, day=day)
        periods.append(period)
        day = period.start_date - timedelta(days=1)
    return list(reversed(periods))


def reminder_dates(period: ReportingPeriod) -> dict[str, date]:
    """The day each reminder goes: 5 working days before the due date, the day after it."""
    before = period.due_date
    remaining = REMINDER_BEFORE_WORKING_DAYS
    while remaining:
        before -= timedelta(days=1)
        if is_working_day(before):
            remaining -= 1
    return {ReminderKind.BEFORE_DUE: before,
            ReminderKind.AFTER_DUE: period.due_date + timedelta(days=1)}
