"""Procurement Act 2023 section 52's value threshold: the one place for it.

It lives with the register because the register's own duties depend on it (a contract details
notice must carry at least three KPIs for a contract over £5 million) and the register may not
import monitoring; monitoring's s.52 rules (``monitoring.s52``) import it from here.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Q, Value
from django.db.models.lookups import GreaterThan

from contracts.models import whole_life_value_sql

S52_VALUE_THRESHOLD = Decimal("5000000")
S52_MINIMUM_KPIS = 3


def over_s52_threshold(*, annual_value: Decimal, whole_life_value: Decimal) -> bool:
    """More than £5 million a year or over the contract's whole life."""
    return annual_value > S52_VALUE_THRESHOLD or whole_life_value > S52_VALUE_THRESHOLD


def contract_over_s52_threshold(contract) -> bool:
    return over_s52_threshold(annual_value=contract.annual_value,
                              whole_life_value=contract.whole_life_value)


def over_s52_threshold_q(prefix: str = "") -> Q:
    """``contract_over_s52_threshold`` as a filter (``prefix`` reaches the contract from
    another model). Tested against it in ``contracts/tests/test_notices_sql.py``."""
    return Q(**{f"{prefix}annual_value__gt": S52_VALUE_THRESHOLD}) | Q(
        GreaterThan(whole_life_value_sql(prefix), Value(S52_VALUE_THRESHOLD)))
