"""Reads from the contract register: visible contracts, the register page, key-date alerts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from commissioning import access, datacache
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


def alert_candidate_rows(base: QuerySet[Contract], *, today: date) -> QuerySet:
    """The contracts the alert rules look at, as plain rows ``ALERT_ROW``: active ones ending
    between today and 18 months ahead, awarded ones with a standstill end date, and any with
    a review date in the next 30 days. One place for both forms of the rules (Python and
    SQL), so they look at exactly the same contracts."""
    horizon = add_months(today, max(EXPIRY_THRESHOLDS))
    review_soon = ReviewDate.objects.filter(
        contract=OuterRef("pk"), date__gte=today, date__lte=today + REVIEW_WINDOW
    )
    return (
        base.with_term()
        .filter(
            Q(status__in=ACTIVE_STATUSES, current_end__lte=horizon, current_end__gte=today)
            | Q(status=ContractStatus.AWARDED, standstill_end_date__isnull=False)
            | Exists(review_soon)
        )
        .order_by()
        .values_list(*ALERT_ROW)
    )


ALERT_ROW = ("pk", "reference", "status", "current_end", "standstill_end_date",
             "notice_period_months", "contract_manager_id")


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

    This is the reference form of the rules; ``key_date_alerts_sql`` states them in SQL for
    a page and a count (contracts/tests/test_alerts_sql.py holds the two to the same alerts).
    """
    base = contracts if contracts is not None else Contract.objects.all()
    rows = list(alert_candidate_rows(base, today=today))
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
        ReviewDate.objects.filter(contract_id__in=ids, date__gte=today,
                                  date__lte=today + REVIEW_WINDOW)
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
    attach_contracts(alerts if attach is None else alerts[:attach], loaded=loaded)
    return alerts


# What templates/monitoring/includes/alerts_table.html shows of an alert's contract.
ALERT_LIST_COLUMNS = ("reference", "title", "contract_manager_id")


def attach_contracts(alerts: list[DueAlert], *, loaded: dict[int, Contract] | None = None,
                     full: bool = True) -> list[DueAlert]:
    """Set each alert's ``contract``, in one query for those not already ``loaded``: with its
    derived end date, provider and manager (``full``), or only what the dashboard's lists
    show of it (``ALERT_LIST_COLUMNS``: reference, title, link and manager)."""
    loaded = dict(loaded or {})
    missing = {a.contract_id for a in alerts} - loaded.keys()
    if missing:
        contracts = (Contract.objects.with_term().select_related("contract_manager", "provider")
                     if full else Contract.objects.only(*ALERT_LIST_COLUMNS))
        loaded.update(contracts.in_bulk(missing))
    for item in alerts:
        item.contract = loaded[item.contract_id]
    return alerts


# --- The same rules in SQL: a page of the alerts, and how many there are ---------------------
#
# ``key_date_alerts_due`` works the alerts out in Python over plain rows: for a register of
# thousands that is thousands of alerts to show twenty and count the rest. The SQL below
# states the same rules over the same candidate rows (``alert_candidate_rows``) with the same
# constants, so the database orders, cuts and counts them. PostgreSQL's ``date - interval
# 'N months'`` clamps to the month's last day exactly like ``add_months`` (as ``TermEnd``
# relies on); nested month steps stay nested (``notice_deadline`` then the lead months), as
# clamping twice is not clamping once. contracts/tests/test_alerts_sql.py checks over
# hundreds of generated contracts and edge days that both forms give the same alerts.

ALERT_ORDER = ("a_due", 'a_reference COLLATE "C"', 'a_kind COLLATE "C"', "a_contract",
               "a_threshold")  # Python's (due date, reference, kind), string order by code point


def _months_before(day_sql: str, months_sql: str) -> str:
    """``add_months(day, -months)`` in PostgreSQL (clamped to the month's last day)."""
    return f"(({day_sql}) - make_interval(months => ({months_sql})::integer))::date"


def _alerts_sql(contracts: QuerySet[Contract], today: date) -> tuple[str, tuple] | None:
    """The SQL (and its parameters) of every alert due ``today`` on the given contracts, one
    row (a_contract, a_reference, a_manager, a_kind, a_due, a_threshold) each, unordered;
    None if the contracts are none (a query Django knows to be empty). Remembered per day
    and contracts query (the user's visibility), as compiling the candidate rows costs more
    CPU than running the rules."""
    try:
        return datacache.compiled_once("contracts.alerts", contracts, today,
                                       lambda: _compile_alerts_sql(contracts, today))
    except EmptyResultSet:
        return None


def _compile_alerts_sql(contracts: QuerySet[Contract], today: date) -> tuple[str, tuple]:
    rows_sql, rows_params = alert_candidate_rows(contracts, today=today).query.sql_with_params()
    option, decision, review = (ExtensionOption._meta, Decision._meta, ReviewDate._meta)

    def column(meta, name: str) -> str:
        return connection.ops.quote_name(meta.get_field(name).column)

    def listed(values) -> tuple[str, list]:
        return ", ".join(["%s"] * len(values)), [str(v) for v in values]

    active, active_params = listed(ACTIVE_STATUSES)
    with_options, with_options_params = listed((ContractStatus.LIVE, ContractStatus.EXTENDED))
    deciding, deciding_params = listed(DECIDING_PURPOSES)
    thresholds = sorted(EXPIRY_THRESHOLDS)
    # The nearest threshold passed: the fewest months m with add_months(end, -m) <= today.
    nearest = "CASE " + " ".join(
        f"WHEN {_months_before('c.a_end', str(m))} <= %s THEN '{m} months'" for m in thresholds
    ) + " END"
    q = connection.ops.quote_name
    # Only names and Django's own compiled SQL are formatted in; values are params.
    sql = f"""
WITH c (a_contract, a_reference, a_status, a_end, a_standstill, a_notice, a_manager) AS (
  {rows_sql}
),
next_option AS (
  SELECT o.{column(option, "contract")} AS a_contract,
         MIN(o.{column(option, "sequence")}) AS a_sequence
  FROM {q(option.db_table)} o
  WHERE NOT o.{column(option, "exercised")}
    AND o.{column(option, "contract")} IN (SELECT a_contract FROM c)
  GROUP BY o.{column(option, "contract")}
)
SELECT c.a_contract, c.a_reference, c.a_manager, %s AS a_kind, c.a_end AS a_due,
       {nearest} AS a_threshold
FROM c
WHERE c.a_status IN ({active}) AND %s <= c.a_end AND ({nearest}) IS NOT NULL
  AND NOT EXISTS (
    SELECT 1 FROM {q(decision.db_table)} d
    WHERE d.{column(decision, "contract")} = c.a_contract
      AND d.{column(decision, "purpose")} IN ({deciding})
      AND d.{column(decision, "meeting_date")} >= {_months_before("c.a_end", "24")})
UNION ALL
SELECT c.a_contract, c.a_reference, c.a_manager, %s, c.a_standstill, ''
FROM c
WHERE c.a_status = %s AND c.a_standstill IS NOT NULL
  AND c.a_standstill - %s <= %s AND %s <= c.a_standstill + %s
UNION ALL
SELECT c.a_contract, c.a_reference, c.a_manager, %s, r.{column(review, "date")}, ''
FROM c JOIN {q(review.db_table)} r ON r.{column(review, "contract")} = c.a_contract
WHERE r.{column(review, "date")} >= %s AND r.{column(review, "date")} <= %s
UNION ALL
SELECT c.a_contract, c.a_reference, c.a_manager, %s,
       {_months_before("c.a_end", "c.a_notice")}, 'option ' || o.a_sequence
FROM c JOIN next_option o ON o.a_contract = c.a_contract
WHERE c.a_status IN ({with_options})
  AND {_months_before(_months_before("c.a_end", "c.a_notice"), "%s")} <= %s
  AND %s <= c.a_end
"""  # noqa: S608
    params = (
        *rows_params,
        # expiry
        AlertKind.EXPIRY.value, *[today for _ in thresholds], *active_params, today,
        *[today for _ in thresholds],
        *deciding_params,
        # standstill end
        AlertKind.STANDSTILL_END.value, ContractStatus.AWARDED.value,
        STANDSTILL_WINDOW[0].days, today, today, STANDSTILL_WINDOW[1].days,
        # review
        AlertKind.REVIEW.value, today, today + REVIEW_WINDOW,
        # extension decision
        AlertKind.EXTENSION_DECISION.value, *with_options_params,
        EXTENSION_DECISION_LEAD_MONTHS, today, today,
    )
    return sql, params


def alerts_in_sql() -> bool:
    """Whether the alerts are worked out in the database (PostgreSQL); the embedded SQLite
    set-up (a demo's handful of contracts) runs the Python rules."""
    return connection.vendor == "postgresql"


def _alert(row) -> DueAlert:
    contract_id, reference, manager, kind, due, threshold = row[:6]
    if isinstance(due, str):
        due = date.fromisoformat(due)
    return DueAlert(contract_id, reference, manager, kind, due, threshold)


def key_date_alerts_sql(contracts: QuerySet[Contract], *, today: date,
                        limit: int | None = None, offset: int = 0) -> list[DueAlert]:
    """``key_date_alerts_due`` in SQL: the alerts (without ``contract``) in its order, from
    ``offset``, at most ``limit`` of them."""
    found = _alerts_sql(contracts, today)
    if found is None:
        return []
    sql, params = found
    # Only constant names and Django's own compiled SQL are formatted in; values are params.
    query = (f"SELECT * FROM ({sql}) AS alerts ORDER BY {', '.join(ALERT_ORDER)}"  # noqa: S608
             " LIMIT %s OFFSET %s")
    with connection.cursor() as cursor:
        cursor.execute(query, [*params, limit, offset])
        return [_alert(row) for row in cursor.fetchall()]


@dataclass
class AlertsPage:
    alerts: list[DueAlert]  # the soonest ``limit``, each with its contract
    count: int  # all of them
    managed: int  # all of them on contracts the user manages


def key_date_alerts_page(contracts: QuerySet[Contract], *, today: date, limit: int,
                         manager_id: int | None = None) -> AlertsPage:
    """The soonest ``limit`` alerts of the contracts (with their contracts' own rows), how
    many there are and how many of those are on contracts ``manager_id`` manages: one query
    for the rules (the counts are windows over the same rows) and one for the contracts."""
    if not alerts_in_sql():
        alerts = key_date_alerts_due(today=today, contracts=contracts, attach=0)
        return AlertsPage(attach_contracts(alerts[:limit], full=False), len(alerts),
                          sum(1 for a in alerts if a.manager_id == manager_id))
    found = _alerts_sql(contracts, today)
    if found is None:
        return AlertsPage([], 0, 0)
    sql, params = found
    query = (f"SELECT *, COUNT(*) OVER (), "  # noqa: S608 - see key_date_alerts_sql
             f"COUNT(*) FILTER (WHERE a_manager = %s) OVER () FROM ({sql}) AS alerts "
             f"ORDER BY {', '.join(ALERT_ORDER)} LIMIT %s")
    with connection.cursor() as cursor:
        cursor.execute(query, [manager_id, *params, limit])
        fetched = cursor.fetchall()
    if not fetched:
        return AlertsPage([], 0, 0)
    return AlertsPage(attach_contracts([_alert(row) for row in fetched], full=False),
                      fetched[0][-2], fetched[0][-1])


class DueAlerts:
    """Every alert of the contracts, soonest first, for a ``Paginator``: counted and cut in
    the database (Python rules on SQLite), only the page's contracts loaded."""

    def __init__(self, contracts: QuerySet[Contract], *, today: date) -> None:
        self.contracts, self.today = contracts, today
        self.python = None if alerts_in_sql() else key_date_alerts_due(
            today=today, contracts=contracts, attach=0)
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            if self.python is not None:
                self._count = len(self.python)
            elif (found := _alerts_sql(self.contracts, self.today)) is None:
                self._count = 0
            else:
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT COUNT(*) FROM ({found[0]}) AS alerts",  # noqa: S608
                                   found[1])
                    self._count = cursor.fetchone()[0]
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[DueAlert]:
        if self.python is not None:
            alerts = self.python[index]
        else:
            start = index.start or 0
            alerts = key_date_alerts_sql(self.contracts, today=self.today,
                                         limit=index.stop - start, offset=start)
        return attach_contracts(alerts, full=False)


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
