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


def period_for(*, kind: str, day: date) -> ReportingPeriod:
    """The quarter or month containing ``day``: its row if it exists, otherwise the same period
    unsaved (``pk`` None), so a page can show it without writing. A service that records
    something against it calls ``period_saved`` first."""
    values = _period_values(kind, day)
    period = ReportingPeriod.objects.filter(kind=kind, start_date=values["start_date"]).first()
    return period if period is not None else ReportingPeriod(kind=kind, **values)


def period_get(*, kind: str, day: date) -> ReportingPeriod:
    """The quarter or month containing ``day``, its row created the first time it is needed
    (by a service, a POST or the daily task; never by a page being read).

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


def period_saved(period: ReportingPeriod) -> ReportingPeriod:
    """``period`` with its row: as it is when saved, created when it was shown unsaved."""
    return period if period.pk else period_get(kind=period.kind, day=period.start_date)


def period_by_code(code: str) -> ReportingPeriod | None:
    """"2025-26-q3" or "2025-26-m07" -> the period (unsaved if it has no row yet, see
    ``period_for``: pages read periods this way), None if malformed."""
    try:
        fy, _, part = code.rpartition("-")
        start = FinancialYear.from_slug(fy).first_day
        number = int(part[1:])
    except (ValueError, IndexError):
        return None
    if part.startswith("q") and 1 <= number <= 4:
        return period_for(kind=PeriodKind.QUARTER, day=add_months(start, 3 * (number - 1)))
    if part.startswith("m") and 1 <= number <= 12:
        return period_for(kind=PeriodKind.MONTH, day=add_months(start, number - 1))
    return None


def period_from_code(code: str) -> ReportingPeriod | None:
    """``period_by_code`` with its row, created the first time (for services and jobs)."""
    period = period_by_code(code)
    return None if period is None else period_saved(period)


def previous_period(period: ReportingPeriod) -> ReportingPeriod:
    """The period before ``period`` (unsaved if it has no row yet)."""
    return period_for(kind=period.kind, day=period.start_date - timedelta(days=1))


def _recent_values(kind: str, today: date, count: int) -> list[dict]:
    day = today
    current = _period_values(kind, day)
    if current["end_date"] >= today:
        day = current["start_date"] - timedelta(days=1)
    found = []
    for _ in range(count):
        values = _period_values(kind, day)
        found.append(values)
        day = values["start_date"] - timedelta(days=1)
    return list(reversed(found))


def recent_periods(*, kind: str, today: date, count: int) -> list[ReportingPeriod]:
    """The last ``count`` periods that have ended by ``today``, oldest first, in one query;
    those without a row yet come unsaved (``pk`` None): reading never writes."""
    wanted = _recent_values(kind, today, count)
    rows = {p.start_date: p for p in ReportingPeriod.objects.filter(
        kind=kind, start_date__in=[v["start_date"] for v in wanted])}
    return [rows.get(v["start_date"]) or ReportingPeriod(kind=kind, **v) for v in wanted]


def periods_open(*, today: date, past: int = 8, coming: int = 4,
                 months: int = 0) -> None:
    """Create any missing rows of the last ``past`` quarters, the ``coming`` quarters and the
    last ``months`` months (one query when none is missing). The KPI services and the daily
    reminders task run it, so the target page finds the quarters it offers without writing
    while it is read."""
    wanted = _recent_values(PeriodKind.QUARTER, today, past)
    day = wanted[-1]["end_date"] + timedelta(days=1)
    for _ in range(coming):
        values = _period_values(PeriodKind.QUARTER, day)
        wanted.append(values)
        day = values["end_date"] + timedelta(days=1)
    wanted += _recent_values(PeriodKind.MONTH, today, months) if months else []
    kinds = {(PeriodKind.MONTH if v["month"] else PeriodKind.QUARTER, v["start_date"]): v
             for v in wanted}
    existing = set(ReportingPeriod.objects.filter(
        start_date__in={start for _kind, start in kinds}).values_list("kind", "start_date"))
    for (kind, start), _values in kinds.items():
        if (kind, start) not in existing:
            period_get(kind=kind, day=start)  # one by one: each with its history row


def target_quarters(*, today: date, past: int = 8, coming: int = 4):
    """The quarters a target may start from: the last ``past`` ended and the ``coming`` ones
    (rows made by ``periods_open``), oldest first."""
    first = _recent_values(PeriodKind.QUARTER, today, past)[0]["start_date"]
    last = add_months(_recent_values(PeriodKind.QUARTER, today, 1)[0]["start_date"], 3 * coming)
    return ReportingPeriod.objects.filter(
        kind=PeriodKind.QUARTER, start_date__gte=first, start_date__lte=last,
    ).order_by("start_date")


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
