"""Reads from the contract register: visible contracts, the register page, key-date alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from commissioning import access
from commissioning.periods import add_months
from contracts.models import (
    ACTIVE_STATUSES,
    AlertKind,
    CommissioningShare,
    Contract,
    ContractDocument,
    ContractStatus,
    Decision,
    DecisionPurpose,
    ExtensionOption,
    ReviewDate,
    Variation,
)

# Sort keys the register accepts (anything else falls back to the reference).
SORTS = {
    "reference": ("reference",),
    "title": ("title",),
    "provider": ("provider__name",),
    "end": ("current_end",),
    "value": ("annual_value",),
}


def contract_detail_queryset(user) -> QuerySet[Contract]:
    """Visible contracts with everything their page shows, in a fixed number of queries."""
    return (
        Contract.objects.for_user(user)
        .select_related("provider", "holder", "lead_commissioner", "partnership",
                        "contract_manager", "call_off__lot__framework")
        .prefetch_related(
            "service_lines",
            Prefetch("shares", queryset=CommissioningShare.objects.select_related("organisation")),
            Prefetch("extension_options",
                     queryset=ExtensionOption.objects.select_related("exercised_decision")),
            "review_dates",
            Prefetch("decisions", queryset=Decision.objects.select_related("recorded_by")),
            Prefetch("variations", queryset=Variation.objects.select_related("decision")),
            Prefetch("documents", queryset=ContractDocument.objects.select_related("uploaded_by")),
            # Shown by the funding and monitoring includes, through reverse relations.
            "funding_allocations__scheme__agreement",
            "funding_allocations__source",
            "kpis",
        )
    )


def get_contract_for_user(user, pk: int, *, detail: bool = False) -> Contract:
    """The contract if the user may see it, else 404 (never a 403 that confirms it exists)."""
    queryset = contract_detail_queryset(user) if detail else (
        Contract.objects.for_user(user).select_related("partnership", "holder", "provider")
    )
    return get_object_or_404(queryset, pk=pk)


def contract_register(*, user, sort: str = "reference") -> QuerySet[Contract]:
    """The register rows a user may see, with the derived end date, in the chosen order."""
    descending = sort.startswith("-")
    fields = SORTS.get(sort.lstrip("-"), SORTS["reference"])
    ordering = [f"-{f}" if descending else f for f in fields] + ["pk"]
    return (
        Contract.objects.for_user(user)
        .with_term()
        .select_related("provider", "lead_commissioner", "holder")
        .order_by(*ordering)
    )


# --- Key-date alerts -------------------------------------------------------------------------

EXPIRY_THRESHOLDS = (3, 6, 12, 18)  # months before the current end date
STANDSTILL_WINDOW = (timedelta(days=5), timedelta(days=7))  # before, after the end
REVIEW_WINDOW = timedelta(days=30)
EXTENSION_DECISION_LEAD_MONTHS = 3  # warn this long before the notice deadline
DECIDING_PURPOSES = (DecisionPurpose.RECOMMISSIONING, DecisionPurpose.TERMINATION)


@dataclass(frozen=True)
class DueAlert:
    contract: Contract
    kind: str
    due_date: date
    threshold: str = ""

    @property
    def title(self) -> str:
        if self.kind == AlertKind.EXPIRY:
            return f"Contract ends within {self.threshold}"
        if self.kind == AlertKind.STANDSTILL_END:
            return "Standstill period ends"
        if self.kind == AlertKind.REVIEW:
            return "Review date"
        return "Extension decision due"

    @property
    def action(self) -> str:
        """What the contract manager should do next."""
        if self.kind == AlertKind.EXPIRY:
            return ("Record a re-commissioning decision, exercise an extension option or plan "
                    "the contract's end")
        if self.kind == AlertKind.STANDSTILL_END:
            return "If there has been no challenge, make the contract live after this date"
        if self.kind == AlertKind.REVIEW:
            return "Carry out the review and record any decision or variation"
        return (f"Decide whether to exercise extension {self.threshold} before the notice "
                "deadline")


def key_date_alerts_due(
    *, today: date, contracts: QuerySet[Contract] | None = None
) -> list[DueAlert]:
    """Alerts due today for the given contracts (all by default), soonest first.

    - expiry: an active contract ending within 18, 12, 6 or 3 months (the nearest threshold
      passed) with no re-commissioning or termination decision in the 24 months before its
      end; an exercised extension moves the end date, so the alert clock restarts;
    - standstill end: an awarded contract whose standstill ends within 5 days (or just did);
    - review: a review date in the next 30 days;
    - extension decision: the next unexercised option, from 3 months before the notice
      deadline (current end minus notice period) until the contract ends.
    """
    base = contracts if contracts is not None else Contract.objects.all()
    horizon = add_months(today, max(EXPIRY_THRESHOLDS))
    review_soon = ReviewDate.objects.filter(
        contract=OuterRef("pk"), date__gte=today, date__lte=today + REVIEW_WINDOW
    )
    candidates = (
        base.with_term()
        .filter(
            Q(status__in=ACTIVE_STATUSES, current_end__lte=horizon, current_end__gte=today)
            | Q(status=ContractStatus.AWARDED, standstill_end_date__isnull=False)
            | Exists(review_soon)
        )
        .select_related("contract_manager", "provider")
        .prefetch_related(
            "extension_options",
            Prefetch("review_dates", queryset=ReviewDate.objects.filter(
                date__gte=today, date__lte=today + REVIEW_WINDOW), to_attr="reviews_soon"),
            Prefetch("decisions", queryset=Decision.objects.filter(
                purpose__in=DECIDING_PURPOSES), to_attr="deciding_decisions"),
        )
    )
    alerts: list[DueAlert] = []
    for contract in candidates:
        end = contract.current_end
        active = contract.status in ACTIVE_STATUSES
        if active and today <= end:
            passed = [m for m in EXPIRY_THRESHOLDS if add_months(end, -m) <= today]
            decided = any(
                d.meeting_date >= add_months(end, -24) for d in contract.deciding_decisions
            )
            if passed and not decided:
                alerts.append(DueAlert(contract, AlertKind.EXPIRY, end, f"{min(passed)} months"))
        standstill = contract.standstill_end_date
        if contract.status == ContractStatus.AWARDED and standstill and (
            standstill - STANDSTILL_WINDOW[0] <= today <= standstill + STANDSTILL_WINDOW[1]
        ):
            alerts.append(DueAlert(contract, AlertKind.STANDSTILL_END, standstill))
        for review in contract.reviews_soon:
            alerts.append(DueAlert(contract, AlertKind.REVIEW, review.date))
        option = contract.next_option
        if option and contract.status in (ContractStatus.LIVE, ContractStatus.EXTENDED):
            deadline = add_months(end, -contract.notice_period_months)
            if add_months(deadline, -EXTENSION_DECISION_LEAD_MONTHS) <= today <= end:
                alerts.append(DueAlert(contract, AlertKind.EXTENSION_DECISION, deadline,
                                       f"option {option.sequence}"))
    alerts.sort(key=lambda a: (a.due_date, a.contract.reference, a.kind))
    return alerts


def key_date_alerts_for_user(*, user, today: date) -> list[DueAlert]:
    """The alerts a commissioner-side user sees on their dashboard (none for providers)."""
    if not (access.is_platform_admin(user) or access.is_commissioner_side(user)):
        return []
    return key_date_alerts_due(today=today, contracts=Contract.objects.for_user(user))
