"""Procurement Act 2023 section 52: the one place for its thresholds and dates.

A public contract worth more than £5 million must have at least three key performance
indicators, published, and its performance must be assessed at least once every 12 months.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from commissioning.periods import add_months

S52_VALUE_THRESHOLD = Decimal("5000000")
S52_MINIMUM_KPIS = 3
ASSESSMENT_INTERVAL_MONTHS = 12


def over_s52_threshold(*, annual_value: Decimal, whole_life_value: Decimal) -> bool:
    """More than £5 million a year or over the contract's whole life."""
    return annual_value > S52_VALUE_THRESHOLD or whole_life_value > S52_VALUE_THRESHOLD


def contract_over_s52_threshold(contract) -> bool:
    return over_s52_threshold(annual_value=contract.annual_value,
                              whole_life_value=contract.whole_life_value)


def assessment_due_date(*, start_date: date, last_final: date | datetime | None) -> date:
    """12 months after the last final assessment, or after the contract's start if there has
    been none. A day the month lacks (29 February, 31st) moves to the month's last day."""
    since = last_final if last_final is not None else start_date
    if isinstance(since, datetime):
        since = since.date()
    return add_months(since, ASSESSMENT_INTERVAL_MONTHS)
