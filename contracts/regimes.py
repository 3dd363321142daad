"""Which procurement regime a contract was procured under: the one rule for its OCDS, its
notices and its page.

A contract records its regime, except that a call-off is procured under its framework's: the
Procurement Act 2023 applies to procurements begun on or after 24 February 2025, so a call-off
from a framework that started before then is a Public Contracts Regulations 2015 call-off,
whatever year it is made in.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Case, CharField, Expression, F, Value, When

from contracts.models import Contract, ProcurementRegime

PROCUREMENT_ACT_COMMENCEMENT = date(2025, 2, 24)


def framework_regime(framework_start: date) -> str:
    if framework_start < PROCUREMENT_ACT_COMMENCEMENT:
        return ProcurementRegime.PCR_2015
    return ProcurementRegime.PA_2023


def regime(contract: Contract) -> str:
    """The regime that governs the contract (its framework's for a call-off)."""
    try:
        call_off = contract.call_off
    except Contract.call_off.RelatedObjectDoesNotExist:
        return contract.procurement_regime
    return framework_regime(call_off.lot.framework.start_date)


def regime_sql(prefix: str = "") -> Expression:
    """``regime`` in SQL, for filtering contracts on it (``prefix`` reaches the contract from
    another model). Tested against ``regime`` in ``contracts/tests/test_notices_sql.py``."""
    framework_start = f"{prefix}call_off__lot__framework__start_date"
    return Case(
        When(**{f"{prefix}call_off__isnull": True}, then=F(f"{prefix}procurement_regime")),
        When(**{f"{framework_start}__lt": PROCUREMENT_ACT_COMMENCEMENT},
             then=Value(ProcurementRegime.PCR_2015.value)),
        default=Value(ProcurementRegime.PA_2023.value), output_field=CharField())


def regime_label(contract: Contract) -> str:
    return ProcurementRegime(regime(contract)).label
