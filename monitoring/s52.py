"""Procurement Act 2023 section 52: the one place for its thresholds and dates.

A public contract worth more than £5 million must have at least three key performance
indicators, published, and its performance must be assessed at least once every 12 months.
"""

from __future__ import annotations

from datetime import date, datetime

from commissioning.periods import add_months

# The value threshold lives with the register, which needs it too (contract details notices).
from contracts.thresholds import (  # noqa: F401 - monitoring's callers import them from here
    S52_MINIMUM_KPIS,
    S52_VALUE_THRESHOLD,
    contract_over_s52_threshold,
    over_s52_threshold,
)

ASSESSMENT_INTERVAL_MONTHS = 12


def assessment_due_date(*, start_date: date, last_final: date | datetime | None) -> date:
    """12 months after the last final assessment, or after the contract's start if there has
    been none. A day the month lacks (29 February, 31st) moves to the month's last day."""
    since = last_final if last_final is not None else start_date
    if isinstance(since, datetime):
        since = since.date()
    return add_months(since, ASSESSMENT_INTERVAL_MONTHS)
