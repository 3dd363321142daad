"""Transparency notices a contract owes, and by when: the one place for these rules.

Which notices a contract needs follows from its regime (``contracts.regimes``: a call-off
follows its framework) and its events, all already in the register:

- UK7 contract details (Procurement Act): 30 days after entering into the contract (the end
  of its standstill, else its award, else its start);
- UK9 contract performance (PA, over £5m): 30 days after a final s.52 assessment;
- UK10 contract change (PA): before a variation that needs one takes effect (its date; the
  rule is ``Variation.change_notice_required``);
- UK11 contract termination (PA): 30 days after the contract ended or was terminated;
- PSR intention to award (Direct Award C, Most Suitable Provider, Competitive Process): on
  the award decision, before the standstill;
- PSR confirmation of award: 30 days after the standstill ends (Direct Award A and B: 30 days
  after the award).
- Payments compliance (Procurement Act s.69, per organisation, not per contract): 30 days
  after the end of each six-month reporting period (1 April to 30 September, 1 October to
  31 March; the first ended 30 September 2025), for an organisation that held a Procurement
  Act contract over £5 million in force at some time in the period.

A contract details notice of a contract over the s.52 threshold must carry at least three
KPIs (``contracts.thresholds``): the notice shows a problem until it has them. KPIs and
assessments are reached through the contract's reverse relations (``kpis``,
``performance_assessments``) because the register may not import monitoring.

Nothing is stored about a notice except its publication (``NoticePublication``), so a change
to the register changes what is due at once. A notice is cleared when an officer records it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.functions import Abs, Cast, Coalesce, Concat, TruncDate
from django.utils import timezone

from commissioning import datacache
from commissioning.models import Organisation
from commissioning.periods import financial_year_bounds
from contracts import ocds, regimes
from contracts.models import (
    AddDays,
    Contract,
    ContractStatus,
    NoticeKind,
    NoticePublication,
    ProcurementRegime,
    ProcurementRoute,
    Variation,
    whole_life_value_sql,
)
from contracts.thresholds import (
    S52_MINIMUM_KPIS,
    contract_over_s52_threshold,
    over_s52_threshold_q,
)

NOTICE_DAYS = 30
SOON_DAYS = 14  # "due soon" on the dashboard
R = ProcurementRoute
PSR_WITH_INTENTION = (R.PSR_DIRECT_AWARD_C, R.PSR_MOST_SUITABLE_PROVIDER,
                      R.PSR_COMPETITIVE_PROCESS)
ENTERED = (ContractStatus.LIVE, ContractStatus.EXTENDED, ContractStatus.EXPIRED,
           ContractStatus.TERMINATED)
ENDED = (ContractStatus.EXPIRED, ContractStatus.TERMINATED)
AWARDED = (ContractStatus.AWARDED, *ENTERED)

@dataclass
class DueNotice:
    """A notice the contract owes for one event, and whether it has been published."""

    kind: str
    event: str
    due: date
    rule: str  # the deadline in words: "within 30 days of entering into the contract"
    contract: Contract
    problems: list[str] = field(default_factory=list)
    published: NoticePublication | None = None
    subject: Any = None  # the variation, assessment or (payments) organisation it is about
    contracts: list[Contract] = field(default_factory=list)  # a payments notice's contracts

    @property
    def title(self) -> str:
        return NoticeKind(self.kind).label

    @property
    def organisation(self) -> Any:
        """Whose duty it is: the contract's holder, or the organisation of a payments
        compliance notice (``subject``)."""
        return self.subject if self.kind == NoticeKind.PAYMENTS else self.contract.holder

    @property
    def period_end(self) -> str:
        return self.event.split("/")[-1]

    def state(self, today: date) -> str:
        if self.published is not None:
            return "published"
        if self.due < today:
            return "overdue"
        return "due"

    def days_left(self, today: date) -> int:
        return (self.due - today).days

    @property
    def when_today(self) -> str:
        return self.when(timezone.localdate())

    @property
    def overdue_today(self) -> bool:
        return self.state(timezone.localdate()) == "overdue"

    def when(self, today: date) -> str:
        """"due in 5 days", "due today", "overdue by 3 days" or "published"."""
        if self.published is not None:
            return "published"
        days = self.days_left(today)
        if days == 0:
            return "due today"
        if days > 0:
            return f"due in {days} day{'s' if days != 1 else ''}"
        return f"overdue by {-days} day{'s' if days != -1 else ''}"


def entered_into(contract: Contract) -> date:
    """The day the contract was entered into: after its standstill, else its award, else its
    start (the register records no signature date)."""
    return contract.standstill_end_date or contract.awarded_on or contract.start_date


def _published(contract: Contract) -> dict[tuple[str, str], NoticePublication]:
    return {(p.kind, p.event): p for p in contract.notice_publications.all()}


def _kpi_names(contract: Contract) -> list[str]:
    return [kpi.name for kpi in contract.kpis.all() if kpi.is_active]


def notices_for_contract(contract: Contract) -> list[DueNotice]:
    """Every notice the contract owes, published or not, in deadline order."""
    regime = regimes.regime(contract)
    status = contract.shown_status
    found: list[DueNotice] = []

    def add(kind: str, event: str, due: date, rule: str, **extra: Any) -> None:
        found.append(DueNotice(kind=kind, event=event, due=due, rule=rule, contract=contract,
                               **extra))

    if regime == ProcurementRegime.PA_2023:
        if status in ENTERED:
            problems = []
            if contract_over_s52_threshold(contract):
                count = len(_kpi_names(contract))
                if count < S52_MINIMUM_KPIS:
                    problems.append(
                        f"A contract worth over £5 million must publish at least "
                        f"{S52_MINIMUM_KPIS} KPIs with its contract details: it has {count}.")
            add(NoticeKind.UK7, "award", entered_into(contract) + timedelta(days=NOTICE_DAYS),
                "within 30 days of entering into the contract", problems=problems)
        if contract_over_s52_threshold(contract):
            for assessment in contract.performance_assessments.all():
                if assessment.status == "final" and assessment.finalised_at:
                    finalised = timezone.localdate(assessment.finalised_at)
                    add(NoticeKind.UK9, f"assessment-{assessment.financial_year}",
                        finalised + timedelta(days=NOTICE_DAYS),
                        "within 30 days of the performance assessment", subject=assessment)
        for variation in contract.variations.all():
            if variation.change_notice_required:
                add(NoticeKind.UK10, f"variation-{variation.pk}", variation.date,
                    "before the change takes effect", subject=variation)
        if status in ENDED:
            add(NoticeKind.UK11, "end", contract.current_end_date + timedelta(days=NOTICE_DAYS),
                "within 30 days of the contract ending")
    elif regime == ProcurementRegime.PSR and status in AWARDED and contract.awarded_on:
        route = contract.procurement_route
        if route in PSR_WITH_INTENTION:
            add(NoticeKind.PSR_INTENTION, "award", contract.awarded_on,
                "when the award decision is made, before the standstill period")
            after = contract.standstill_end_date or contract.awarded_on
            rule = "within 30 days of the standstill period ending"
        else:
            after, rule = contract.awarded_on, "within 30 days of the award"
        add(NoticeKind.PSR_AWARD, "award", after + timedelta(days=NOTICE_DAYS), rule)

    published = _published(contract)
    for notice in found:
        notice.published = published.get((notice.kind, notice.event))
    return sorted(found, key=lambda n: (n.due, n.kind))


def find_notice(contract: Contract, kind: str, event: str) -> DueNotice | None:
    return next((n for n in notices_for_contract(contract)
                 if n.kind == kind and n.event == event), None)


def outstanding(contracts: Any, *, today: date | None = None) -> list[DueNotice]:
    """The unpublished notices of the given contracts (a ``for_user`` queryset), overdue
    first, for the dashboard."""
    today = today or timezone.localdate()
    candidates = notice_queryset(contracts.filter(
        Q(procurement_regime__in=(ProcurementRegime.PA_2023, ProcurementRegime.PSR))
        | Q(call_off__isnull=False)))
    due = [n for contract in candidates
           for n in notices_for_contract(contract) if n.published is None]
    due += [n for n in payments_notices(contracts, today=today) if n.published is None]
    return sorted(due, key=lambda n: (n.due, n.contract.reference if n.contract else "",
                                      n.kind))


# --- Payments compliance (per organisation) --------------------------------------------------

PAYMENTS_FIRST_PERIOD_START = date(2025, 4, 1)


def payments_periods(until: date) -> list[tuple[date, date]]:
    """The six-month reporting periods (1 April to 30 September, 1 October to 31 March) that
    ended before ``until``, oldest first, from the first (ended 30 September 2025)."""
    periods = []
    start = PAYMENTS_FIRST_PERIOD_START
    while True:
        end = (date(start.year, 9, 30) if start.month == 4 else date(start.year + 1, 3, 31))
        if end >= until:
            return periods
        periods.append((start, end))
        start = end + timedelta(days=1)


def payments_notices(contracts: Any, *, today: date | None = None) -> list[DueNotice]:
    """The payments compliance notices the holders of these contracts (a ``for_user``
    queryset) owe: one per organisation and ended period in which it held a Procurement Act
    contract over £5 million that was in force. Each lists those contracts as ``contracts``."""
    today = today or timezone.localdate()
    periods = payments_periods(today)
    if not periods:
        return []
    owed: dict[tuple[int, date], DueNotice] = {}
    candidates = notice_queryset(contracts.filter(
        Q(procurement_regime=ProcurementRegime.PA_2023) | Q(call_off__isnull=False),
        status__in=ENTERED).select_related("holder"))
    for contract in candidates:
        if regimes.regime(contract) != ProcurementRegime.PA_2023 \
                or not contract_over_s52_threshold(contract):
            continue
        for start, end in periods:
            if entered_into(contract) <= end and contract.current_end_date >= start:
                notice = owed.setdefault((contract.holder_id, end), DueNotice(
                    kind=NoticeKind.PAYMENTS, event=f"{start.isoformat()}/{end.isoformat()}",
                    due=end + timedelta(days=NOTICE_DAYS),
                    rule=PAYMENTS_RULE,
                    contract=None, subject=contract.holder))
                notice.contracts.append(contract)
    published = {(p.organisation_id, p.event): p for p in NoticePublication.objects.filter(
        kind=NoticeKind.PAYMENTS, contract__isnull=True,
        organisation_id__in={holder for holder, _end in owed})}
    for (holder, _end), notice in owed.items():
        notice.published = published.get((holder, notice.event))
    return sorted(owed.values(), key=lambda n: (n.due, n.subject.name))


def find_payments_notice(contracts: Any, organisation: Any, period_end: str,
                         today: date | None = None) -> DueNotice | None:
    return next((n for n in payments_notices(contracts.filter(holder=organisation),
                                             today=today)
                 if n.period_end == period_end), None)


def notice_queryset(contracts: Any) -> Any:
    """What working out a contract's notices reads, in a fixed number of queries."""
    return ocds.ocds_queryset(contracts).prefetch_related(
        "kpis", "performance_assessments", "notice_publications__recorded_by")


# --- The same rules in SQL: a page of the outstanding notices, and how many there are --------
#
# ``outstanding`` works each contract out in Python, which for a register of thousands means
# loading thousands of contracts to show twenty. ``unpublished_notice_rows`` states the rules
# above (``notices_for_contract`` and ``payments_notices``) as one SQL query, so a page can be
# ordered, cut and counted in the database; ``notices_for_rows`` then builds the shown rows'
# notices with the Python rules themselves. contracts/tests/test_notices_sql.py checks over
# hundreds of generated contracts that the two forms owe exactly the same notices: change
# one and that test fails until the other follows.

NOTICE_ROW = ("n_contract", "n_organisation", "n_kind", "n_event", "n_due", "n_reference")
NOTICE_ORDER = ("n_due", "n_reference", "n_kind", "n_event", "n_organisation")
PAYMENTS_RULE = "within 30 days of the end of the six-month reporting period"


def _row(queryset: Any, *, kind: str, event: Any, due: Any, contract: str = "pk",
         organisation: str = "holder_id", reference: str = "reference") -> Any:
    """One kind of notice as rows of ``NOTICE_ROW``, unpublished ones only."""
    published = NoticePublication.objects.filter(contract=OuterRef("n_contract"), kind=kind,
                                                 event=OuterRef("n_event"))
    return (queryset.order_by()
            .annotate(n_contract=F(contract), n_organisation=F(organisation),
                      n_kind=Value(kind), n_event=event, n_due=due,
                      n_reference=F(reference))
            .filter(~Exists(published))
            .values_list(*NOTICE_ROW))


def unpublished_notice_rows(contracts: Any, *, today: date | None = None) -> Any:
    """``outstanding`` in SQL: one row ``NOTICE_ROW`` (contract id or None for a payments
    notice, organisation id, kind, event, due date, contract reference) per unpublished
    notice the given contracts (a ``for_user`` queryset) owe, in ``outstanding``'s order.
    Slice it for a page and ``count()`` it; ``notices_for_rows`` makes the notices."""
    today = today or timezone.localdate()
    days = Value(NOTICE_DAYS)
    contract_ids = contracts.order_by().values("pk")
    base = contracts.order_by().with_term().alias(
        n_regime=regimes.regime_sql(),
        n_entered=Coalesce("standstill_end_date", "awarded_on", "start_date"))
    # A cheap test on the contract's own row first (a call-off's regime is its framework's),
    # so the database works out terms and values only for possible Procurement Act contracts.
    call_offs = Contract._meta.get_field("call_off").related_model.objects.values("contract")
    pa = base.filter(Q(procurement_regime=ProcurementRegime.PA_2023) | Q(pk__in=call_offs),
                     n_regime=ProcurementRegime.PA_2023)
    psr = base.filter(n_regime=ProcurementRegime.PSR, status_now__in=AWARDED,
                      awarded_on__isnull=False)
    with_intention = Q(procurement_route__in=PSR_WITH_INTENTION)
    branches = [
        _row(pa.filter(status_now__in=ENTERED), kind=NoticeKind.UK7, event=Value("award"),
             due=AddDays(F("n_entered"), days)),
        _row(pa.filter(status_now__in=ENDED), kind=NoticeKind.UK11, event=Value("end"),
             due=AddDays(F("current_end"), days)),
        _row(psr.filter(with_intention), kind=NoticeKind.PSR_INTENTION, event=Value("award"),
             due=F("awarded_on")),
        _row(psr, kind=NoticeKind.PSR_AWARD, event=Value("award"), due=AddDays(Case(
            When(with_intention, then=Coalesce("standstill_end_date", "awarded_on")),
            default=F("awarded_on")), days)),
    ]
    # Assessments are monitoring's model, reached through the contract's reverse relation.
    assessments = Contract._meta.get_field("performance_assessments").related_model.objects
    branches.append(_row(
        assessments.filter(contract__in=contract_ids, status="final",
                           finalised_at__isnull=False)
        .alias(n_regime=regimes.regime_sql("contract__"))
        .filter(over_s52_threshold_q("contract__"), n_regime=ProcurementRegime.PA_2023),
        kind=NoticeKind.UK9, contract="contract_id", organisation="contract__holder_id",
        reference="contract__reference",
        event=Concat(Value("assessment-"), F("financial_year"), output_field=CharField()),
        due=AddDays(TruncDate("finalised_at"), days)))
    # Variation.change_notice_required: any change of term, or a value change over 10% (15%
    # for works) of the whole-life value (any value change when that is nothing).
    threshold = Case(When(contract__works=True, then=Value(Decimal("15"))),
                     default=Value(Decimal("10")), output_field=DecimalField())
    branches.append(_row(
        Variation.objects.filter(contract__in=contract_ids)
        .alias(n_regime=regimes.regime_sql("contract__"),
               n_percent=ExpressionWrapper(Abs("value_change") * 100,
                                           output_field=DecimalField()),
               n_limit=ExpressionWrapper(threshold * whole_life_value_sql("contract__"),
                                         output_field=DecimalField()))
        .filter(~Q(term_change_months=0) | Q(n_percent__gt=F("n_limit")),
                n_regime=ProcurementRegime.PA_2023),
        kind=NoticeKind.UK10, contract="contract_id", organisation="contract__holder_id",
        reference="contract__reference",
        event=Concat(Value("variation-"), Cast("pk", CharField()), output_field=CharField()),
        due=F("date")))
    # Payments compliance: one row per holder and ended period (UNION drops the repeats).
    for start, end in payments_periods(today):
        event = f"{start.isoformat()}/{end.isoformat()}"
        published = NoticePublication.objects.filter(
            kind=NoticeKind.PAYMENTS, contract__isnull=True,
            organisation=OuterRef("holder_id"), event=event)
        branches.append(
            pa.filter(over_s52_threshold_q(), ~Exists(published), status__in=ENTERED,
                      n_entered__lte=end, current_end__gte=start).order_by()
            .annotate(n_contract=Value(None, output_field=IntegerField()),
                      n_organisation=F("holder_id"), n_kind=Value(NoticeKind.PAYMENTS.value),
                      n_event=Value(event), n_due=Value(end + timedelta(days=NOTICE_DAYS)),
                      n_reference=Value(""))
            .values_list(*NOTICE_ROW))
    first, *rest = branches
    return first.union(*rest).order_by(*NOTICE_ORDER)


def in_sql() -> bool:
    """Whether the database takes the rules' SQL: SQLite's parser overflows its stack on the
    nested month arithmetic, so the embedded set-up (a demo's handful of contracts) works
    the notices out in Python with ``outstanding``."""
    return connection.vendor == "postgresql"


class OutstandingNotices:
    """Every unpublished notice of the contracts, soonest first, for a ``Paginator``: counted
    and cut in the database (``unpublished_notice_rows``), only the page's notices built."""

    def __init__(self, contracts: Any, *, today: date | None = None) -> None:
        if in_sql():
            self.rows = unpublished_notice_rows(contracts, today=today)
        else:
            self.rows = outstanding(contracts.with_term(), today=today)

    def count(self) -> int:
        return self.rows.count() if in_sql() else len(self.rows)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[DueNotice]:
        return notices_for_rows(self.rows[index]) if in_sql() else self.rows[index]


def outstanding_page(contracts: Any, *, limit: int, today: date | None = None
                     ) -> tuple[list[DueNotice], int]:
    """The first ``limit`` notices of ``unpublished_notice_rows`` and how many there are, from
    one query (the count is a window over the same rows, so the rules are compiled and run
    once; the dashboard's part of issue 19)."""
    today = today or timezone.localdate()
    if not in_sql():
        due = outstanding(contracts.with_term(), today=today)
        return due[:limit], len(due)
    sql, params = _rows_sql(contracts, today)
    columns = ", ".join(NOTICE_ROW)
    # Only constant names and Django's own compiled SQL are formatted in; values are params.
    query = (f"SELECT {columns}, COUNT(*) OVER () FROM ({sql}) AS notices "  # noqa: S608
             f"ORDER BY {', '.join(NOTICE_ORDER)} LIMIT %s")
    with connection.cursor() as cursor:
        cursor.execute(query, [*params, limit])
        fetched = cursor.fetchall()
    if not fetched:
        return [], 0
    page = [(*row[:4], date.fromisoformat(row[4]) if isinstance(row[4], str) else row[4],
             row[5]) for row in fetched]
    return notices_for_rows(page), fetched[0][-1]


def _rows_sql(contracts: Any, today: date) -> tuple[str, tuple]:
    """The SQL of ``unpublished_notice_rows``, compiled once a day for the same contracts
    query (``datacache.compiled_once``)."""
    return datacache.compiled_once(
        "contracts.notices", contracts, today,
        lambda: unpublished_notice_rows(contracts, today=today).order_by().query
        .sql_with_params())


def notices_for_rows(rows: Any) -> list[DueNotice]:
    """The notices of rows of ``unpublished_notice_rows`` (a page of them), in their order, as
    the lists of notices due show them (the dashboard, the notices list): kind, event,
    deadline, and the contract (reference, title, holder) or, for a payments notice, the
    organisation. Which notices are owed and when was decided by the SQL form of the rules,
    which ``contracts/tests/test_notices_sql.py`` holds to the Python rules; the deadline's
    rule in words, the problems and the variation or assessment a notice is about are not
    worked out here (the notice's own page does, with ``find_notice``): loading each
    contract's options, variations, KPIs and assessments again for that was most of the
    dashboard's time after a change (issue 19)."""
    rows = list(rows)
    contracts = Contract.objects.select_related("holder").only(
        "reference", "title", "holder").in_bulk({row[0] for row in rows if row[0] is not None})
    organisations = Organisation.objects.in_bulk(
        {row[1] for row in rows if row[0] is None})
    found = []
    for contract_id, organisation_id, kind, event, due, _reference in rows:
        if contract_id is None:
            found.append(DueNotice(kind=kind, event=event, due=due, rule=PAYMENTS_RULE,
                                   contract=None, subject=organisations[organisation_id]))
        else:
            found.append(DueNotice(kind=kind, event=event, due=due, rule="",
                                   contract=contracts[contract_id]))
    return found


# --- Recording a publication ------------------------------------------------------------------

def notice_publish(*, notice: DueNotice, notice_identifier: str, published_on: date,
                   user: Any) -> NoticePublication:
    """Record that the notice was published; the record is kept with its history."""
    with transaction.atomic():
        return NoticePublication.objects.create(
            contract=notice.contract, organisation=notice.organisation, kind=notice.kind,
            event=notice.event, notice_identifier=notice_identifier.strip(),
            published_on=published_on, recorded_by=user)


# --- The ICB's annual PSR summary ---------------------------------------------------------------

def psr_summary(contracts: Any, *, organisation: Any, financial_year: str) -> list[Contract]:
    """Contracts the organisation awarded under the Provider Selection Regime in the
    financial year ("2025-26"), by award date: what its annual PSR summary lists."""
    start, end = financial_year_bounds(financial_year)
    return list(
        contracts.filter(holder=organisation, procurement_regime=ProcurementRegime.PSR,
                         awarded_on__gte=start, awarded_on__lte=end)
        .select_related("provider").order_by("awarded_on", "reference"))
