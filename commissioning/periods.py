"""UK financial years, quarters, working days and month arithmetic: the one place for them.

Financial years run 1 April to 31 March and are named "2025/26". Quarters are Q1 Apr–Jun,
Q2 Jul–Sep, Q3 Oct–Dec, Q4 Jan–Mar. Working days exclude weekends and England and Wales bank
holidays: the published list from the ``govuk-bank-holidays`` package (it ships its own data,
so nothing is fetched over the network) for the years it covers, and for later years the rules
computed by the ``holidays`` package (England), so working days never silently count a bank
holiday once the published list runs out.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays
from govuk_bank_holidays.bank_holidays import BankHolidays

_LABEL = re.compile(r"^(\d{4})/(\d{2})$")
_SLUG = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class FinancialYear:
    """A UK financial year, 1 April to 31 March, the one type for them everywhere.

    Stored as its starting calendar year (``start``: funding's ``year`` columns) or as its
    label (``"2025/26"``: monitoring's ``financial_year`` columns); both convert through here,
    never by slicing strings.
    """

    start: int

    @classmethod
    def of(cls, start: int) -> FinancialYear:
        """``FinancialYear.of(2025)`` is 2025/26."""
        return cls(int(start))

    @classmethod
    def from_date(cls, day: date) -> FinancialYear:
        """The financial year containing ``day`` (31 March 2026 and 1 April 2025 are 2025/26)."""
        return cls(day.year if day.month >= 4 else day.year - 1)

    @classmethod
    def parse(cls, label: str) -> FinancialYear:
        """``"2025/26"`` -> 2025/26. Raises ValueError for anything else."""
        return cls._matched(_LABEL, label, "like 2025/26")

    @classmethod
    def from_slug(cls, slug: str) -> FinancialYear:
        """``"2025-26"`` (the form used in codes and file names) -> 2025/26."""
        return cls._matched(_SLUG, slug, "like 2025-26")

    @classmethod
    def _matched(cls, pattern: re.Pattern, text: str, example: str) -> FinancialYear:
        match = pattern.match(str(text).strip())
        if not match or int(match.group(2)) != (int(match.group(1)) + 1) % 100:
            raise ValueError(f"{text!r} is not a financial year {example}")
        return cls(int(match.group(1)))

    @property
    def label(self) -> str:
        """``"2025/26"``."""
        return f"{self.start}/{(self.start + 1) % 100:02d}"

    @property
    def short_label(self) -> str:
        """``"25/26"``, for chart axes."""
        return f"{self.start % 100:02d}/{(self.start + 1) % 100:02d}"

    @property
    def slug(self) -> str:
        """``"2025-26"``, for codes and file names."""
        return self.label.replace("/", "-")

    @property
    def first_day(self) -> date:
        return date(self.start, 4, 1)

    @property
    def last_day(self) -> date:
        return date(self.start + 1, 3, 31)

    def bounds(self) -> tuple[date, date]:
        """(1 April, 31 March)."""
        return self.first_day, self.last_day

    def quarter(self, quarter: int) -> tuple[date, date]:
        """First and last day of quarter 1–4 (Q1 April–June … Q4 January–March)."""
        if quarter not in (1, 2, 3, 4):
            raise ValueError("A quarter is 1, 2, 3 or 4")
        first = add_months(self.first_day, 3 * (quarter - 1))
        return first, add_months(first, 3) - timedelta(days=1)

    def __contains__(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day

    def __str__(self) -> str:
        return self.label


def financial_year_start(day: date) -> int:
    """The calendar year in which the financial year containing ``day`` starts."""
    return FinancialYear.from_date(day).start


def financial_year_for(day: date) -> str:
    """``date(2025, 4, 1)`` -> ``"2025/26"``; ``date(2026, 3, 31)`` -> ``"2025/26"``."""
    return FinancialYear.from_date(day).label


def financial_year_bounds(label: str) -> tuple[date, date]:
    """``"2025/26"`` -> (1 April 2025, 31 March 2026). Raises ValueError for a bad label."""
    return FinancialYear.parse(label).bounds()


def quarter_for(day: date) -> int:
    """Financial quarter 1–4: Q1 April–June … Q4 January–March."""
    return ((day.month - 4) % 12) // 3 + 1


def quarter_label(day: date) -> str:
    """``"2025/26 Q3"``."""
    return f"{financial_year_for(day)} Q{quarter_for(day)}"


def quarter_bounds(label: str, quarter: int) -> tuple[date, date]:
    """First and last day of quarter ``quarter`` (1–4) of financial year ``label``."""
    return FinancialYear.parse(label).quarter(quarter)


def add_months(day: date, months: int) -> date:
    """Calendar month arithmetic, clamping to the month's last day (31 Jan + 1 -> 28/29 Feb)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def months_between(start: date, end: date) -> int:
    """Whole calendar months from ``start`` to ``end`` (end exclusive, partial months dropped)."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if add_months(start, months) > end:
        months -= 1
    return months


@lru_cache(maxsize=1)
def _published_bank_holidays() -> tuple[int, frozenset[date]]:
    """The GOV.UK list (England and Wales) and the last year it covers."""
    days = frozenset(
        item["date"] for item in BankHolidays(use_cached_holidays=True).get_holidays(
            division=BankHolidays.ENGLAND_AND_WALES)
    )
    return max(day.year for day in days), days


@lru_cache(maxsize=64)
def _computed_bank_holidays(year: int) -> frozenset[date]:
    """Bank holidays worked out from the rules (Easter, first and last Mondays, substitute
    days), for years after the published list."""
    return frozenset(holidays.UK(subdiv="ENG", years=year).keys())


def is_bank_holiday(day: date) -> bool:
    last_published_year, published = _published_bank_holidays()
    if day.year <= last_published_year:
        return day in published
    return day in _computed_bank_holidays(day.year)


def is_working_day(day: date) -> bool:
    """Monday to Friday and not an England and Wales bank holiday."""
    return day.weekday() < 5 and not is_bank_holiday(day)


def add_working_days(day: date, days: int) -> date:
    """The date ``days`` working days after ``day`` (``day`` itself is not counted).

    ``add_working_days(date(2026, 12, 23), 2)`` skips Christmas and Boxing Day (and the
    weekend) and lands on Tuesday 29 December 2026.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    current = day
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current
