"""Reads for the dashboard and performance pages."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from commissioning import access
from commissioning.models import Invitation, User
from contracts.models import ACTIVE_STATUSES, Contract
from contracts.permissions import can_create_contract
from contracts.selectors import DueAlert, key_date_alerts_for_user
from monitoring import charts
from monitoring.models import (
    KPI,
    PerformanceReturn,
    PeriodKind,
    ReminderKind,
    ReportingPeriod,
    ReturnStatus,
    ReturnValue,
    ReturnVersion,
    ServiceUserList,
)
from monitoring.rag import RAG_LABELS, RAG_ORDER, Target, rag, target_in_force
from monitoring.s52 import (
    S52_MINIMUM_KPIS,
    assessment_due_date,
    contract_over_s52_threshold,
    over_s52_threshold,
)


@dataclass
class Dashboard:
    """What the signed-in user must act on. Each later feature adds its own section."""

    partnerships: list = field(default_factory=list)
    pending_invitations: list = field(default_factory=list)
    expired_invitations: int = 0
    show_contracts: bool = False
    can_add_contracts: bool = False
    contract_alerts: list[DueAlert] = field(default_factory=list)
    my_contract_alerts: int = 0
    returns_to_review: int = 0
    provider_returns: list = field(default_factory=list)


DASHBOARD_ALERTS_SHOWN = 20


def dashboard_for_user(*, user: User) -> Dashboard:
    dashboard = Dashboard()
    dashboard.partnerships = list(
        access.partnerships_for_user(user).prefetch_related("members__organisation")
    )
    if access.is_platform_admin(user) or access.is_commissioner_side(user):
        # Contracts ending (18/12/6/3 months), standstill ends, reviews, extension decisions.
        dashboard.show_contracts = True
        dashboard.can_add_contracts = can_create_contract(user)
        dashboard.contract_alerts = key_date_alerts_for_user(
            user=user, today=timezone.localdate(), attach=DASHBOARD_ALERTS_SHOWN
        )
        dashboard.my_contract_alerts = sum(
            1 for a in dashboard.contract_alerts if a.manager_id == user.pk
        )
    if access.is_commissioner_side(user):
        dashboard.returns_to_review = inbox_for_user(user=user).count()
    if access.is_provider_user(user):
        dashboard.provider_returns = [
            item for item in provider_task_list(user=user)
            if item.status in ("overdue", "queried", "pending", "draft")
        ]
    if access.can_manage_people(user):
        invitations = Invitation.objects.pending().filter(
            organisation__in=access.organisations_user_can_invite_to(user)
        ).select_related("organisation")
        live, expired = [], 0
        for invitation in invitations:
            if invitation.is_expired:
                expired += 1
            else:
                live.append(invitation)
        dashboard.pending_invitations = live
        dashboard.expired_invitations = expired
    return dashboard


# --- Performance monitoring: returns, review, RAG and trends ---------------------------------

SHOWN_STATUSES = (ReturnStatus.SUBMITTED, ReturnStatus.ACCEPTED)


def monitored_contracts_for_user(user: User) -> QuerySet[Contract]:
    """Contracts whose performance the user may see (the contracts register's own rule)."""
    return Contract.objects.for_user(user)


def get_monitored_contract_for_user(user: User, pk: int) -> Contract:
    return get_object_or_404(
        monitored_contracts_for_user(user).select_related("provider", "partnership"), pk=pk
    )


def returns_for_user(user: User) -> QuerySet[PerformanceReturn]:
    """Returns of contracts the user may see: a provider only its own contracts' returns."""
    return PerformanceReturn.objects.for_user(user)


def get_return_for_user(user: User, pk: int) -> PerformanceReturn:
    return get_object_or_404(
        returns_for_user(user).select_related(
            "contract__provider", "contract__partnership", "period", "submitted_by",
            "reviewed_by",
        ),
        pk=pk,
    )


@dataclass
class VersionRow:
    """One KPI's figures as they stood in a submitted version of a return."""

    code: str
    name: str
    display: str
    numerator: Decimal | None
    denominator: Decimal | None
    commentary: str
    is_percentage: bool


def get_return_version_for_user(user: User, pk: int, number: int) -> ReturnVersion:
    """A submitted version of a return the user may see (the return's own visibility)."""
    performance_return = get_return_for_user(user, pk)
    version = get_object_or_404(
        ReturnVersion.objects.select_related("submitted_by"),
        performance_return=performance_return, number=number,
    )
    version.performance_return = performance_return
    return version


def return_version_rows(version: ReturnVersion) -> list[VersionRow]:
    """The snapshot's figures in the contract's KPI order; a KPI since removed or renamed
    keeps its code and the figures as submitted."""
    from monitoring.models import display_value

    def number(raw) -> Decimal | None:
        return None if raw in (None, "") else Decimal(raw)

    kpis = {k.code: k for k in KPI.objects.filter(
        contract_id=version.performance_return.contract_id, code__in=list(version.values))}
    rows = []
    for code in sorted(version.values, key=lambda c: (kpis[c].order if c in kpis else 10**9,
                                                       c)):
        figures = version.values[code]
        kpi = kpis.get(code)
        value = number(figures.get("value"))
        if kpi is not None:
            shown = display_value(kpi, value, figures.get("yes_no"), figures.get("text") or "")
        elif figures.get("yes_no") is not None:
            shown = "Yes" if figures["yes_no"] else "No"
        else:
            shown = figures.get("text") or ("" if value is None else f"{value.normalize():f}")
        rows.append(VersionRow(
            code=code, name=kpi.name if kpi else "", display=shown,
            numerator=number(figures.get("numerator")),
            denominator=number(figures.get("denominator")),
            commentary=figures.get("commentary") or "",
            is_percentage=bool(kpi and kpi.is_percentage),
        ))
    return rows


def period_kinds(kpis) -> set[str]:
    kinds = set()
    for kpi in kpis:
        kinds.add(PeriodKind.MONTH if kpi.frequency == "monthly" else PeriodKind.QUARTER)
    return kinds


def target_for(kpi: KPI, period: ReportingPeriod) -> Target | None:
    row = target_in_force(((t.valid_from.start_date, t) for t in kpi.targets.all()), period)
    if row is None:
        return None
    return Target(row.target_value, row.upper_value, row.amber_tolerance)


def value_rag(kpi: KPI, row: ReturnValue | None, period: ReportingPeriod) -> str | None:
    if row is None:
        return None
    answer = row.yes_no if kpi.data_type == "yes_no" else row.value
    return rag(data_type=kpi.data_type, direction=kpi.direction, value=answer,
               target=target_for(kpi, period))


def target_text(kpi: KPI, target: Target | None) -> str:
    if target is None or target.value is None:
        return "Not set yet"
    if kpi.data_type == "yes_no":
        return "Yes" if target.value else "No"
    unit = "%" if kpi.is_percentage else (f" {kpi.unit}" if kpi.unit else "")
    if kpi.data_type == "money":
        return f"£{target.value:,.2f}"
    if kpi.direction == "range":
        upper = target.upper if target.upper is not None else target.value
        return f"{target.value.normalize():f} to {upper.normalize():f}{unit}"
    sign = "at most " if kpi.direction == "lower" else "at least "
    return f"{sign}{target.value.normalize():f}{unit}"


@dataclass
class TaskListItem:
    contract: Contract
    period: ReportingPeriod
    performance_return: PerformanceReturn | None
    status: str
    status_label: str


def provider_task_list(*, user: User, today: date | None = None,
                       quarters: int = 4) -> list[TaskListItem]:
    """Returns due, overdue and submitted for the provider's own contracts: the last
    ``quarters`` ended quarters (and months, for contracts with monthly KPIs) plus any older
    return still in draft or queried. Runs a fixed number of queries."""
    from monitoring.services import recent_periods

    today = today or timezone.localdate()
    contracts = list(
        monitored_contracts_for_user(user).filter(kpis__is_active=True).distinct()
        .with_term().prefetch_related("kpis").order_by("reference")
    )
    periods_by_kind = {
        PeriodKind.QUARTER: recent_periods(kind=PeriodKind.QUARTER, today=today,
                                           count=quarters),
        PeriodKind.MONTH: recent_periods(kind=PeriodKind.MONTH, today=today,
                                         count=quarters * 3),
    }
    returns = {
        (r.contract_id, r.period_id): r
        for r in PerformanceReturn.objects.filter(contract__in=contracts).select_related("period")
    }
    items: list[TaskListItem] = []
    for contract in contracts:
        wanted: dict[int, ReportingPeriod] = {}
        for kind in period_kinds(k for k in contract.kpis.all() if k.is_active):
            for period in periods_by_kind[kind]:
                if contract.start_date <= period.end_date and \
                        period.start_date <= contract.current_end:
                    wanted[period.pk] = period
        for (contract_id, _period_id), ret in returns.items():
            if contract_id == contract.pk and ret.status != ReturnStatus.ACCEPTED:
                wanted.setdefault(ret.period_id, ret.period)
        for period in sorted(wanted.values(), key=lambda p: p.start_date, reverse=True):
            ret = returns.get((contract.pk, period.pk))
            items.append(TaskListItem(contract, period, ret, *return_state(ret, period, today)))
    return items


def return_state(ret: PerformanceReturn | None, period: ReportingPeriod,
                 today: date) -> tuple[str, str]:
    """(tag key, label) for a return's state, with overdue worked out from the due date."""
    if ret is not None and ret.status in (ReturnStatus.SUBMITTED, ReturnStatus.ACCEPTED):
        return ret.status, ret.get_status_display()
    if ret is not None and ret.status == ReturnStatus.QUERIED:
        return "queried", "Queried: changes needed"
    if period.due_date < today:
        return "overdue", "Overdue"
    if ret is not None:
        return "draft", "In progress"
    return "pending", "Not started"


@dataclass
class KPIFormRow:
    kpi: KPI
    target: Target | None
    target_text: str
    current: ReturnValue | None
    previous: ReturnValue | None
    rag: str | None = None


def return_form_rows(*, contract: Contract, period: ReportingPeriod,
                     performance_return: PerformanceReturn | None) -> list[KPIFormRow]:
    """Every KPI of the return with its target in force, this period's saved answer and
    the previous period's answer for reference. A fixed number of queries for any number of
    KPIs."""
    from monitoring.services import kpis_for_period, previous_period

    kpis = kpis_for_period(contract, period)
    current = {}
    if performance_return is not None and performance_return.pk:
        current = {v.kpi_id: v for v in performance_return.values.all()}
    before = previous_period(period)
    previous = {
        v.kpi_id: v for v in ReturnValue.objects.filter(
            performance_return__contract=contract, performance_return__period=before,
        ).exclude(performance_return__status=ReturnStatus.DRAFT)
    }
    rows = []
    for kpi in kpis:
        target = target_for(kpi, period)
        row = KPIFormRow(kpi, target, target_text(kpi, target), current.get(kpi.pk),
                         previous.get(kpi.pk))
        for answer in (row.current, row.previous):
            if answer is not None:
                answer.kpi = kpi  # already loaded: no query per row for its display
        row.rag = value_rag(kpi, row.current, period)
        rows.append(row)
    return rows


def inbox_for_user(*, user: User, statuses=(ReturnStatus.SUBMITTED,)) -> QuerySet:
    """Returns waiting for the commissioner: a fixed number of queries for any number."""
    return (
        returns_for_user(user).filter(status__in=statuses)
        .select_related("contract__provider", "contract__partnership", "period",
                        "submitted_by")
        # A correlated subquery, not a join + GROUP BY: the paginator's COUNT then skips it,
        # and it runs only for the rows on the page (bench/RESULTS.md: inbox was 170 ms).
        .annotate(version_count=Coalesce(Subquery(
            ReturnVersion.objects.filter(performance_return=OuterRef("pk")).order_by()
            .values("performance_return").annotate(n=Count("pk")).values("n")[:1]
        ), 0))
        .order_by("submitted_at", "pk")
    )


@dataclass
class PerformanceCell:
    period: ReportingPeriod
    value: ReturnValue | None
    rag: str | None
    status: str | None

    @property
    def rag_label(self) -> str:
        return RAG_LABELS[self.rag]


@dataclass
class KPIPerformance:
    kpi: KPI
    cells: list[PerformanceCell]
    latest: PerformanceCell | None
    target: Target | None
    target_text: str
    trend: str
    sparkline: str

    @property
    def rag(self) -> str | None:
        return self.latest.rag if self.latest else None

    @property
    def rag_label(self) -> str:
        return RAG_LABELS[self.rag]


def _trend(kpi: KPI, cells: list[PerformanceCell]) -> str:
    numbers = [c.value.value for c in cells if c.value is not None and c.value.value is not None]
    if len(numbers) < 2:
        return "Not enough data"
    if numbers[-1] == numbers[-2]:
        return "No change"
    up = numbers[-1] > numbers[-2]
    better = up if kpi.direction != "lower" else not up
    if kpi.direction == "range":
        return "Up" if up else "Down"
    return "Improving" if better else "Worsening"


@dataclass(slots=True)
class ShownValue:
    """A submitted or accepted KPI value as the performance tables and reports show it:
    a plain row (thousands are read for a report), not a ReturnValue instance."""

    kpi_id: int
    period_id: int
    value: Decimal | None
    yes_no: bool | None
    text: str
    commentary: str
    status: str
    overall_commentary: str
    kpi: KPI | None = None

    @property
    def display(self) -> str:
        from monitoring.models import display_value

        return display_value(self.kpi, self.value, self.yes_no, self.text)


def shown_values(**filters) -> dict[tuple[int, int], ShownValue]:
    """Submitted and accepted values matching ``filters`` (on ReturnValue), keyed
    (kpi id, period id), in one query."""
    rows = ReturnValue.objects.filter(
        performance_return__status__in=SHOWN_STATUSES, **filters,
    ).order_by().values_list(
        "kpi_id", "performance_return__period_id", "value", "yes_no", "text", "commentary",
        "performance_return__status", "performance_return__overall_commentary")
    return {(row[0], row[1]): ShownValue(*row) for row in rows}


def target_rows(kpis) -> dict[int, list[tuple[date, Target]]]:
    """Every target of these KPIs as (first period's start, Target), in one query."""
    from monitoring.models import KPITarget

    found: dict[int, list[tuple[date, Target]]] = defaultdict(list)
    for kpi_id, start, value, upper, tolerance in KPITarget.objects.filter(
        kpi__in=kpis
    ).order_by().values_list("kpi_id", "valid_from__start_date", "target_value",
                             "upper_value", "amber_tolerance"):
        found[kpi_id].append((start, Target(value, upper, tolerance)))
    return found


def contract_performance(*, contract: Contract, today: date | None = None,
                         count: int = 8) -> tuple[list[ReportingPeriod], list[KPIPerformance]]:
    """Each KPI's submitted and accepted values over the last ``count`` quarters, with RAG
    against the target in force in each period, the latest value and the trend."""
    from monitoring.services import recent_periods

    today = today or timezone.localdate()
    periods = recent_periods(kind=PeriodKind.QUARTER, today=today, count=count)
    kpis = list(contract.kpis.filter(is_active=True).select_related("service_line"))
    targets = target_rows(kpis)
    values = shown_values(performance_return__contract=contract,
                          performance_return__period__in=periods)
    return periods, [kpi_performance(kpi, periods, values, targets.get(kpi.pk, []))
                     for kpi in kpis]


def kpi_performance(kpi: KPI, periods: list[ReportingPeriod],
                    values: dict[tuple[int, int], ShownValue],
                    targets: list[tuple[date, Target]], *,
                    svg_sparkline: bool = True) -> KPIPerformance:
    """One KPI's cells over ``periods`` from already-loaded values keyed (kpi id, period id)
    and its targets (``target_rows``): RAG against the target in force in each period, the
    latest value and the trend."""
    cells = []
    numeric = kpi.is_numeric
    for period in periods:
        row = values.get((kpi.pk, period.pk))
        result = None
        if row is not None:
            row.kpi = kpi
            result = rag(data_type=kpi.data_type, direction=kpi.direction,
                         value=row.yes_no if kpi.data_type == "yes_no" else row.value,
                         target=target_in_force(targets, period))
        cells.append(PerformanceCell(period, row, result, row.status if row else None))
    latest = next((c for c in reversed(cells) if c.value is not None), None)
    target = target_in_force(targets, latest.period if latest else periods[-1])
    series = [c.value.value if c.value else None for c in cells]
    performance = KPIPerformance(
        kpi=kpi, cells=cells, latest=latest, target=target,
        target_text=target_text(kpi, target), trend=_trend(kpi, cells),
        sparkline=charts.sparkline(
            series, title=f"{kpi.code} {kpi.name}: trend over {len(periods)} quarters",
            target=target.value if target and numeric else None,
        ) if numeric and svg_sparkline else "",
    )
    performance.spark_text = charts.text_sparkline(series) if numeric else ""
    return performance


@dataclass
class ContractRAG:
    """One contract's row on the performance overview. ``contract`` (with its provider and
    partnership) is loaded only for the rows that are drawn: see ``attach_contracts``."""

    contract_id: int
    reference: str
    latest_period: ReportingPeriod | None
    over_s52_threshold: bool = False
    red: int = 0
    amber: int = 0
    green: int = 0
    no_target: int = 0
    kpi_count: int = 0
    contract: Contract | None = None

    @property
    def worst(self) -> str | None:
        if self.red:
            return "red"
        if self.amber:
            return "amber"
        return "green" if self.green else None

    @property
    def worst_label(self) -> str:
        return RAG_LABELS[self.worst]


def attach_contracts(rows: list[ContractRAG]) -> list[ContractRAG]:
    """Load each row's contract with its provider and partnership (one query)."""
    loaded = Contract.objects.select_related("provider", "partnership").in_bulk(
        [r.contract_id for r in rows if r.contract is None])
    for row in rows:
        if row.contract is None:
            row.contract = loaded[row.contract_id]
    return rows


# Each visible contract's latest submitted or accepted return, each active KPI's value in it,
# the target in force for that return's period and the RAG, counted per contract, in one
# statement (standard SQL: PostgreSQL and SQLite). ``rag()`` in monitoring/rag.py is the
# same rule in Python; a test checks that the two agree on generated data.
OVERVIEW_SQL = """
WITH latest AS MATERIALIZED (
  SELECT c.id AS contract_id,
         (SELECT r.id FROM {returns} r JOIN {periods} p ON p.id = r.period_id
          WHERE r.contract_id = c.id AND r.status IN (%s, %s)
          ORDER BY p.start_date DESC, r.id DESC LIMIT 1) AS return_id
  FROM {contracts} c WHERE c.id IN ({visible})
),
latest_period AS MATERIALIZED (
  SELECT latest.*,
         (SELECT r.rag_epoch FROM {returns} r WHERE r.id = latest.return_id) AS epoch,
         (SELECT p.start_date FROM {returns} r JOIN {periods} p ON p.id = r.period_id
          WHERE r.id = latest.return_id) AS period_start
  FROM latest
),
kpi_targets AS MATERIALIZED (
  SELECT k.id AS kpi_id, k.contract_id, k.data_type, k.direction, lp.return_id, t.id AS target_id,
         ROW_NUMBER() OVER (PARTITION BY k.id ORDER BY t.start_date DESC, t.id DESC) AS n
  FROM latest_period lp
  JOIN {kpis} k ON k.contract_id = lp.contract_id AND k.is_active
  LEFT JOIN (SELECT t.id, t.kpi_id, tp.start_date
             FROM {targets} t JOIN {periods} tp ON tp.id = t.valid_from_id) t
    ON t.kpi_id = k.id AND t.start_date <= lp.period_start
),
kpi_values AS MATERIALIZED (
  SELECT kt.kpi_id, kt.contract_id, kt.data_type, kt.direction, kt.target_id,
         v.value, v.yes_no
  FROM kpi_targets kt
  LEFT JOIN {values} v ON v.performance_return_id = kt.return_id AND v.kpi_id = kt.kpi_id
  WHERE kt.n = 1
),
rated AS (
  SELECT kv.contract_id, kv.kpi_id,
    CASE
      WHEN t.target_value IS NULL OR kv.data_type = 'text' THEN NULL
      WHEN kv.data_type = 'yes_no' THEN
        CASE WHEN kv.yes_no IS NULL THEN NULL
             WHEN kv.yes_no = (t.target_value <> 0) THEN 'green' ELSE 'red' END
      WHEN kv.value IS NULL THEN NULL
      WHEN kv.direction = 'lower' THEN
        CASE WHEN kv.value <= t.target_value THEN 'green'
             WHEN kv.value <= t.target_value + COALESCE(t.amber_tolerance, 0) THEN 'amber'
             ELSE 'red' END
      WHEN kv.direction = 'range' THEN
        CASE WHEN kv.value >= t.target_value
                  AND kv.value <= COALESCE(t.upper_value, t.target_value) THEN 'green'
             WHEN kv.value >= t.target_value - COALESCE(t.amber_tolerance, 0)
                  AND kv.value <= COALESCE(t.upper_value, t.target_value)
                                  + COALESCE(t.amber_tolerance, 0) THEN 'amber'
             ELSE 'red' END
      ELSE
        CASE WHEN kv.value >= t.target_value THEN 'green'
             WHEN kv.value >= t.target_value - COALESCE(t.amber_tolerance, 0) THEN 'amber'
             ELSE 'red' END
    END AS rag
  FROM kpi_values kv LEFT JOIN {targets} t ON t.id = kv.target_id
)
SELECT lp.return_id, lp.epoch,
       COALESCE(SUM(CASE WHEN rated.rag = 'red' THEN 1 ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN rated.rag = 'amber' THEN 1 ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN rated.rag = 'green' THEN 1 ELSE 0 END), 0),
       COUNT(rated.kpi_id)
FROM latest_period lp
LEFT JOIN rated ON rated.contract_id = lp.contract_id
WHERE lp.return_id IS NOT NULL
GROUP BY lp.return_id, lp.epoch
"""

# Each visible contract with its latest shown return, that return's stored counts and the
# number of active KPIs (for contracts with no return yet).
LATEST_SQL = """
WITH latest AS MATERIALIZED (
  SELECT c.id AS contract_id, c.reference, c.annual_value, c.start_date, c.initial_end_date,
         (SELECT r.id FROM {returns} r JOIN {periods} p ON p.id = r.period_id
          WHERE r.contract_id = c.id AND r.status IN (%s, %s)
          ORDER BY p.start_date DESC, r.id DESC LIMIT 1) AS return_id,
         (SELECT COUNT(*) FROM {kpis} k WHERE k.contract_id = c.id AND k.is_active)
           AS kpi_count
  FROM {contracts} c WHERE c.id IN ({visible})
)
SELECT l.contract_id, l.reference, l.annual_value, l.start_date, l.initial_end_date,
       l.kpi_count, l.return_id, r.period_id, r.rag_red, r.rag_amber, r.rag_green, r.rag_kpis
FROM latest l LEFT JOIN {returns} r ON r.id = l.return_id
"""


def _overview_sql(template: str, ids: list[int]) -> tuple[str, list]:
    from monitoring.models import KPITarget

    sql = template.format(
        visible=", ".join(["%s"] * len(ids)), contracts=Contract._meta.db_table,
        kpis=KPI._meta.db_table, returns=PerformanceReturn._meta.db_table,
        periods=ReportingPeriod._meta.db_table, targets=KPITarget._meta.db_table,
        values=ReturnValue._meta.db_table,
    )
    return sql, [ReturnStatus.SUBMITTED, ReturnStatus.ACCEPTED, *ids]


def rate_latest_returns(contract_ids: list[int]) -> dict[int, tuple[int, int, int, int]]:
    """Work out (red, amber, green, KPIs) for these contracts' latest shown returns and
    store them on the returns. Returns them by return id."""
    rated = read_rag_counts(contract_ids)
    store_rag_counts(rated)
    return {row[0]: tuple(int(n) for n in row[2:]) for row in rated}


def read_rag_counts(contract_ids: list[int]) -> list[tuple]:
    """(return id, epoch, red, amber, green, KPIs) for the contracts' latest shown returns,
    in one statement."""
    from django.db import connection

    if not contract_ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(*_overview_sql(OVERVIEW_SQL, contract_ids))
        return cursor.fetchall()


def store_rag_counts(rated: list[tuple]) -> None:
    """Keep counts on their returns, unless a change emptied them after they were read (the
    epoch moved on): such counts may be out of date, and the next request works them out
    again."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE monitoring_performancereturn SET rag_red = %s, rag_amber = %s, "
            "rag_green = %s, rag_kpis = %s WHERE id = %s AND rag_epoch = %s",
            [(red, amber, green, kpis, return_id, epoch)
             for return_id, epoch, red, amber, green, kpis in rated])


def performance_overview(*, contracts: QuerySet[Contract],
                         attach: bool = True) -> list[ContractRAG]:
    """RAG counts from each contract's latest submitted or accepted return, worst first
    (most red, then most amber). A fixed number of queries for any number of contracts.

    Each return's counts are worked out in the database (``OVERVIEW_SQL``) the first time
    they are needed and kept on the return until something they depend on changes
    (monitoring/signals.py); rating a thousand contracts' six KPIs on every request was
    most of this page's time. With ``attach=False`` the rows carry no ``contract`` (the
    page attaches only the 50 it draws)."""
    from django.db import connection

    from contracts.models import ExtensionOption, whole_life_value

    # The ids first, then a literal list: the planner then knows it is reading a thousand
    # contracts, not guessing ten thousand (which made it hash whole tables).
    visible = contracts.order_by().values("pk")
    ids = list(visible.values_list("pk", flat=True))
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(*_overview_sql(LATEST_SQL, ids))
        latest = cursor.fetchall()
    missing = [row[0] for row in latest if row[6] is not None and row[11] is None]
    fresh = rate_latest_returns(missing)
    periods = ReportingPeriod.objects.in_bulk({row[7] for row in latest if row[7]})
    option_months: dict[int, list[int]] = defaultdict(list)
    for contract_id, months in ExtensionOption.objects.filter(
            contract__in=visible).order_by().values_list("contract_id", "length_months"):
        option_months[contract_id].append(months)
    rows = []
    for pk, reference, annual_value, start, initial_end, kpi_count, return_id, period_id, \
            *stored in latest:
        red, amber, green = 0, 0, 0
        if return_id is not None:
            red, amber, green, _kpis = fresh.get(return_id) or stored
        annual_value = Decimal(annual_value)
        big = over_s52_threshold(annual_value=annual_value, whole_life_value=whole_life_value(
            start=_as_date(start), initial_end=_as_date(initial_end),
            annual_value=annual_value, option_months=option_months.get(pk, [])))
        rows.append(ContractRAG(
            pk, reference, periods.get(period_id), over_s52_threshold=big,
            red=int(red), amber=int(amber), green=int(green),
            no_target=int(kpi_count) - int(red) - int(amber) - int(green),
            kpi_count=int(kpi_count)))
    rows.sort(key=lambda r: (-r.red, -r.amber, RAG_ORDER[r.worst], r.reference))
    return attach_contracts(rows) if attach else rows


def _as_date(value) -> date:
    """A date column from a raw query (SQLite gives ISO strings)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def overview_assessments_due(rows: list[ContractRAG], *, today: date | None = None,
                             within_days: int = 60) -> list[tuple[object, date]]:
    """``assessments_due`` for the overview's rows from plain rows: (contract, due date) with
    each contract's id, reference and title, soonest (most overdue) first."""
    from types import SimpleNamespace

    from django.db.models import Max

    from monitoring.models import AssessmentStatus, PerformanceAssessment

    big = [r.contract_id for r in rows if r.over_s52_threshold]
    if not big:
        return []
    today = today or timezone.localdate()
    last = dict(PerformanceAssessment.objects.filter(
        contract_id__in=big, status=AssessmentStatus.FINAL).values("contract_id")
        .annotate(last=Max("finalised_at")).values_list("contract_id", "last"))
    due = []
    for pk, reference, title, start in Contract.objects.filter(pk__in=big).values_list(
            "pk", "reference", "title", "start_date"):
        stub = SimpleNamespace(pk=pk, reference=reference, title=title, start_date=start)
        when = assessment_due_date(start_date=start, last_final=last.get(pk))
        if when <= today + timedelta(days=within_days):
            due.append((stub, when))
    return sorted(due, key=lambda item: (item[1], item[0].reference))


def kpi_year_rags(*, contract: Contract, financial_year: str) -> list[tuple[KPI, list]]:
    """Each KPI with the RAG of every submitted or accepted return in the financial year."""
    kpis = list(contract.kpis.filter(is_active=True).prefetch_related("targets__valid_from"))
    rows = list(ReturnValue.objects.filter(
        performance_return__contract=contract,
        performance_return__period__financial_year=financial_year,
        performance_return__status__in=SHOWN_STATUSES,
    ).select_related("performance_return__period"))
    by_kpi = defaultdict(list)
    for row in rows:
        by_kpi[row.kpi_id].append(row)
    return [
        (kpi, [value_rag(kpi, row, row.performance_return.period) for row in by_kpi[kpi.pk]])
        for kpi in kpis
    ]


def s52_warning(contract: Contract, kpis=None) -> str:
    """Procurement Act 2023 s.52: a contract over £5m needs at least three KPIs."""
    if not contract_over_s52_threshold(contract):
        return ""
    kpis = contract.kpis.all() if kpis is None else kpis
    count = sum(1 for k in kpis if k.is_s52 and k.is_active)
    if count >= S52_MINIMUM_KPIS:
        return ""
    return (f"This contract is worth more than £5 million, so it must have at least three "
            f"key performance indicators under section 52 of the Procurement Act 2023. It has "
            f"{count}.")


def assessment_due(contract: Contract, today: date | None = None) -> str:
    """The annual assessment reminder for a contract over £5m (at least every 12 months)."""
    if not contract_over_s52_threshold(contract):
        return ""
    today = today or timezone.localdate()
    last = contract.performance_assessments.filter(status="final").order_by(
        "-finalised_at").first()
    due = assessment_due_date(start_date=contract.start_date,
                              last_final=last.finalised_at if last else None)
    if due > today + timedelta(days=60):
        return ""
    verb = "was due" if due < today else "is due"
    return (f"The annual Procurement Act performance assessment {verb} by "
            f"{due:%-d %B %Y}.")


def assessments_due(*, contracts: list[Contract], today: date | None = None,
                    within_days: int = 60) -> list[tuple[Contract, date]]:
    """Contracts over £5m whose annual Procurement Act assessment is due within
    ``within_days`` or overdue, soonest first. One query for any number of contracts (their
    extension options must be prefetched for the whole-life value)."""
    from django.db.models import Max

    from monitoring.models import AssessmentStatus, PerformanceAssessment

    today = today or timezone.localdate()
    big = [c for c in contracts if contract_over_s52_threshold(c)]
    if not big:
        return []
    last = dict(PerformanceAssessment.objects.filter(
        contract__in=big, status=AssessmentStatus.FINAL).values("contract_id")
        .annotate(last=Max("finalised_at")).values_list("contract_id", "last"))
    due = [(c, assessment_due_date(start_date=c.start_date, last_final=last.get(c.pk)))
           for c in big]
    return sorted([(c, d) for c, d in due if d <= today + timedelta(days=within_days)],
                  key=lambda item: item[1])


def returns_needing_reminders(*, today: date):
    """(contract, period, kind) for each reminder due today or missed earlier: 5 working days
    before the due date (until the due date), and from the day after it (for 10 days)."""
    from monitoring.services import recent_periods, reminder_dates

    contracts = list(
        Contract.objects.filter(status__in=ACTIVE_STATUSES, kpis__is_active=True).distinct()
        .with_term().select_related("provider").prefetch_related("kpis")
    )
    candidates = {
        PeriodKind.QUARTER: recent_periods(kind=PeriodKind.QUARTER, today=today, count=2),
        PeriodKind.MONTH: recent_periods(kind=PeriodKind.MONTH, today=today, count=3),
    }
    done = {
        (r.contract_id, r.period_id)
        for r in PerformanceReturn.objects.filter(contract__in=contracts).exclude(
            status=ReturnStatus.DRAFT)
    }
    for contract in contracts:
        for kind in period_kinds(k for k in contract.kpis.all() if k.is_active):
            for period in candidates[kind]:
                if period.end_date < contract.start_date or period.start_date > \
                        contract.current_end or (contract.pk, period.pk) in done:
                    continue
                dates = reminder_dates(period)
                if dates[ReminderKind.BEFORE_DUE] <= today <= period.due_date:
                    yield contract, period, ReminderKind.BEFORE_DUE
                elif dates[ReminderKind.AFTER_DUE] <= today <= period.due_date + timedelta(11):
                    yield contract, period, ReminderKind.AFTER_DUE


@dataclass
class ServiceUserReport:
    period: ReportingPeriod | None
    counts: list = field(default_factory=list)  # (contract, count)
    overlaps: list = field(default_factory=list)  # (contract a, contract b, people in both)


def service_user_report(*, contracts: QuerySet[Contract],
                        period: ReportingPeriod | None) -> ServiceUserReport:
    """Counts per service and people supported by two services in the same period, worked
    out from the keyed hashes. The numbers themselves are never available to show."""
    from monitoring.models import PseudonymisedServiceUser

    report = ServiceUserReport(period)
    if period is None:
        return report
    lists = list(ServiceUserList.objects.filter(contract__in=contracts, period=period)
                 .select_related("contract").order_by("contract__reference"))
    report.counts = [(item.contract, item.count) for item in lists]
    members = defaultdict(set)
    for list_id, digest in PseudonymisedServiceUser.objects.filter(
        service_user_list__in=lists
    ).values_list("service_user_list_id", "nhs_number_hash"):
        members[list_id].add(digest)
    for index, first in enumerate(lists):
        for second in lists[index + 1:]:
            shared = len(members[first.pk] & members[second.pk])
            report.overlaps.append((first.contract, second.contract, shared))
    return report
