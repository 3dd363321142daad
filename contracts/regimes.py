"""Which procurement regime a contract was procured under: the one rule for its OCDS, its
notices and its page.

A contract records its regime, except that a call-off is procured under its framework's: the
Procurement Act 2023 applies to procurements begun on or after 24 February 2025, so a call-off
from a framework that started before then is a Public Contracts Regulations 2015 call-off,
whatever year it is made in.
"""

from __future__ import annotations

from datetime import date

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


def regime_label(contract: Contract) -> str:
    return ProcurementRegime(regime(contract)).label
