"""Reads from the contract register: visible contracts, the register page, key-date alerts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial

from django.db.models import Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from commissioning import access
from commissioning.models import Organisation, Partnership
from commissioning.periods import add_months
from contracts.key_dates import notice_deadline
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


# What the register page shows of each row (templates/contracts/contract_list.html). The
# exports and the API read whole rows from ``contract_register``.
REGISTER_PAGE_COLUMNS = (
    "reference", "title", "status", "annual_value", "provider__name", "provider__short_name",
    "lead_commissioner__name", "lead_commissioner__short_name",
)


def register_page_rows(rows: QuerySet[Contract]) -> QuerySet[Contract]:
    """The register's (filtered, sorted) rows with only the columns its page shows.

    Of ``with_term``'s derived values only ``current_end`` is selected: each one repeats the
    SQL of the ones it is built on (two subqueries apiece), and compiling them was the largest
    single cost of the page (bench/RESULTS.md, issue 19). Filters and sorts on them still
    work (they are written out where used); the shown status is worked out from
    ``current_end`` by ``status_on``, the same rule as ``status_now``."""
    rows = (rows.select_related(None).select_related("provider", "lead_commissioner")
            .only(*REGISTER_PAGE_COLUMNS))
    rows.query.set_annotation_mask({"current_end"})
    return rows


# --- Key-date alerts -------------------------------------------------------------------------

EXPIRY_THRESHOLDS = (3, 6, 12, 18)  # months before the current end date
STANDSTILL_WINDOW = (timedelta(days=5), timedelta(days=7))  # before, after the end
REVIEW_WINDOW = timedelta(days=30)
EXTENSION_DECISION_LEAD_MONTHS = 3  # warn this long before the notice deadline
DECIDING_PURPOSES = (DecisionPurpose.RECOMMISSIONING, DecisionPurpose.TERMINATION)


@dataclass
class DueAlert:
    """A key date due on a contract. ``contract`` is loaded for the alerts that are shown
    (see ``key_date_alerts_due(attach=...)``); the rest carry only the ids and reference."""

    contract_id: int
    reference: str
    manager_id: int | None
    kind: str
    due_date: date
    threshold: str = ""
    contract: Contract | None = field(default=None, compare=False, repr=False)

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
    *, today: date, contracts: QuerySet[Contract] | None = None, attach: int | None = None,
    loaded: dict[int, Contract] | None = None,
) -> list[DueAlert]:
    """Alerts due today for the given contracts (all by default), soonest first.

    - expiry: an active contract ending within 18, 12, 6 or 3 months (the nearest threshold
      passed) with no re-commissioning or termination decision in the 24 months before its
      end; an exercised extension moves the end date, so the alert clock restarts;
    - standstill end: an awarded contract whose standstill ends within 5 days (or just did);
    - review: a review date in the next 30 days;
    - extension decision: the next unexercised option, from 3 months before the notice
      deadline (current end minus notice period) until the contract ends.

    The rules run over plain rows (no model instances): five queries whatever the number of
    contracts. ``contract`` (with its provider and manager) is then loaded, in one more
    query, for the first ``attach`` alerts (every alert by default); contracts the caller
    has already loaded (``loaded``, by id) are reused.
    """
    base = contracts if contracts is not None else Contract.objects.all()
    horizon = add_months(today, max(EXPIRY_THRESHOLDS))
    review_until = today + REVIEW_WINDOW
    review_soon = ReviewDate.objects.filter(
        contract=OuterRef("pk"), date__gte=today, date__lte=review_until
    )
    rows = list(
        base.with_term()
        .filter(
            Q(status__in=ACTIVE_STATUSES, current_end__lte=horizon, current_end__gte=today)
            | Q(status=ContractStatus.AWARDED, standstill_end_date__isnull=False)
            | Exists(review_soon)
        )
        .order_by()
        .values_list("pk", "reference", "status", "current_end", "standstill_end_date",
                     "notice_period_months", "contract_manager_id")
    )
    if not rows:
        return []
    ids = [row[0] for row in rows]
    next_option: dict[int, int] = {}
    for contract_id, sequence in (
        ExtensionOption.objects.filter(contract_id__in=ids, exercised=False)
        .order_by("contract_id", "-sequence").values_list("contract_id", "sequence")
    ):
        next_option[contract_id] = sequence  # ascending last: the lowest sequence wins
    reviews: dict[int, list[date]] = {}
    for contract_id, when in (
        ReviewDate.objects.filter(contract_id__in=ids, date__gte=today, date__lte=review_until)
        .order_by("date").values_list("contract_id", "date")
    ):
        reviews.setdefault(contract_id, []).append(when)
    last_decided: dict[int, date] = dict(
        Decision.objects.filter(contract_id__in=ids, purpose__in=DECIDING_PURPOSES)
        .order_by().values("contract_id").annotate(last=Max("meeting_date"))
        .values_list("contract_id", "last")
    )
    alerts: list[DueAlert] = []
    for pk, reference, status, end, standstill, notice, manager in rows:
        alert = partial(DueAlert, pk, reference, manager)  # kind, due date, threshold
        active = status in ACTIVE_STATUSES
        if active and today <= end:
            passed = [m for m in EXPIRY_THRESHOLDS if add_months(end, -m) <= today]
            decided = pk in last_decided and last_decided[pk] >= add_months(end, -24)
            if passed and not decided:
                alerts.append(alert(AlertKind.EXPIRY, end, f"{min(passed)} months"))
        if status == ContractStatus.AWARDED and standstill and (
            standstill - STANDSTILL_WINDOW[0] <= today <= standstill + STANDSTILL_WINDOW[1]
        ):
            alerts.append(alert(AlertKind.STANDSTILL_END, standstill))
        for when in reviews.get(pk, ()):
            alerts.append(alert(AlertKind.REVIEW, when))
        option = next_option.get(pk)
        if option is not None and status in (ContractStatus.LIVE, ContractStatus.EXTENDED):
            deadline = notice_deadline(end, notice)
            if add_months(deadline, -EXTENSION_DECISION_LEAD_MONTHS) <= today <= end:
                alerts.append(alert(AlertKind.EXTENSION_DECISION, deadline,
                                    f"option {option}"))
    alerts.sort(key=lambda a: (a.due_date, a.reference, a.kind))
    shown = alerts if attach is None else alerts[:attach]
    loaded = dict(loaded or {})
    missing = {a.contract_id for a in shown} - loaded.keys()
    if missing:
        loaded.update(Contract.objects.with_term().select_related(
            "contract_manager", "provider").in_bulk(missing))
    for item in shown:
        item.contract = loaded[item.contract_id]
    return alerts


def key_date_alerts_for_user(*, user, today: date, attach: int | None = None
                             ) -> list[DueAlert]:
    """The alerts a commissioner-side user sees on their dashboard (none for providers)."""
    if not (access.is_platform_admin(user) or access.is_commissioner_side(user)):
        return []
    return key_date_alerts_due(today=today, contracts=Contract.objects.for_user(user),
                               attach=attach)


def providers_known_to(partnerships) -> QuerySet[Organisation]:
    """The providers a partnership (or any of several) may name on a contract: those already
    delivering one of its contracts, those that applied to a lot of one of its frameworks
    (admitted or not), and those that work for nobody yet (registered, with no contract or
    application anywhere: naming one reveals nothing of another partnership).

    Not every provider on the service: a provider that works only for other partnerships is
    none of this partnership's business (a commissioner adds a provider that is new to the
    service with the contract; a platform administrator may name any provider)."""
    if isinstance(partnerships, Partnership):
        partnerships = [partnerships.pk]
    any_contract = Contract.objects.filter(provider=OuterRef("pk"))
    # Applications through the organisation's reverse relation (``framework_applications``):
    # frameworks build on the register, and the register does not import them.
    any_application = Organisation.objects.filter(pk=OuterRef("pk"),
                                                  framework_applications__isnull=False)
    return Organisation.objects.providers().filter(is_active=True).filter(
        Q(pk__in=Contract.objects.filter(partnership__in=partnerships).values("provider_id"))
        | Q(pk__in=Organisation.objects.filter(
            framework_applications__lot__framework__partnership__in=partnerships).values("pk"))
        | (~Exists(any_contract) & ~Exists(any_application))
    )


def provider_choices(user, partnerships, *, current: int | None = None) -> QuerySet[Organisation]:
    """The providers a form offers: those known to the partnership(s), the contract's own
    provider, or every active provider for a platform administrator (the service desk)."""
    if access.is_platform_admin(user):
        return Organisation.objects.providers().filter(is_active=True)
    known = providers_known_to(partnerships)
    if current is not None:
        known = Organisation.objects.filter(Q(pk__in=known.values("pk")) | Q(pk=current))
    return known


@dataclass(frozen=True)
class NextKeyDate:
    due_date: date
    what: str


def contract_next_key_date(contract: Contract, *, today: date) -> NextKeyDate | None:
    """What is due next on a contract, for the summary at the top of its page: the soonest of
    its review dates, the notice deadline of its next extension option (current end minus
    the notice period) and its end, on or after ``today``. Reads the prefetched
    ``review_dates`` and ``extension_options``."""
    candidates = [NextKeyDate(r.date, f"Review: {r.description}")
                  for r in contract.review_dates.all()]
    end = contract.current_end_date
    option = contract.next_option
    if option is not None and end is not None:
        candidates.append(NextKeyDate(notice_deadline(end, contract.notice_period_months),
                                      f"Decide on extension option {option.sequence}"))
    if end is not None:
        candidates.append(NextKeyDate(end, "Contract ends"))
    upcoming = sorted((c for c in candidates if c.due_date >= today),
                      key=lambda c: c.due_date)
    return upcoming[0] if upcoming else None
