"""Reads for the dashboard and performance pages."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Max, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from commissioning.models import User
from contracts.models import ACTIVE_STATUSES, Contract
from monitoring import charts
from monitoring.models import (
    KPI,
    AssessmentStatus,
    KPITarget,
    PerformanceAssessment,
    PerformanceReturn,
    PeriodKind,
    PseudonymisedServiceUser,
    ReminderKind,
    ReportingPeriod,
    ReturnStatus,
    ReturnValue,
    ReturnVersion,
    ServiceUserList,
    display_value,
)
from monitoring.rag import RAG_LABELS, Target, rag, target_in_force
from monitoring.reporting_periods import previous_period, recent_periods, reminder_dates
from monitoring.s52 import (
    S52_MINIMUM_KPIS,
    assessment_due_date,
    contract_over_s52_threshold,
)

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


def kpis_for_period(contract: Contract, period: ReportingPeriod) -> list[KPI]:
    """The contract's active KPIs reported in ``period``, with targets prefetched."""
    kpis = (contract.kpis.filter(is_active=True).select_related("service_line")
            .prefetch_related("targets__valid_from"))
    return [kpi for kpi in kpis if kpi.applies_to(period)]


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
    # Keyed by (kind, first day), not id: a period nobody has reported on may have no row yet.
    returns = {
        (r.contract_id, r.period.kind, r.period.start_date): r
        for r in PerformanceReturn.objects.filter(contract__in=contracts).select_related("period")
    }
    items: list[TaskListItem] = []
    for contract in contracts:
        wanted: dict[tuple[str, date], ReportingPeriod] = {}
        for kind in period_kinds(k for k in contract.kpis.all() if k.is_active):
            for period in periods_by_kind[kind]:
                if contract.start_date <= period.end_date and \
                        period.start_date <= contract.current_end:
                    wanted[period.kind, period.start_date] = period
        for (contract_id, *_when), ret in returns.items():
            if contract_id == contract.pk and ret.status != ReturnStatus.ACCEPTED:
                wanted.setdefault((ret.period.kind, ret.period.start_date), ret.period)
        for period in sorted(wanted.values(), key=lambda p: p.start_date, reverse=True):
            ret = returns.get((contract.pk, period.kind, period.start_date))
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
    kpis = kpis_for_period(contract, period)
    current = {}
    if performance_return is not None and performance_return.pk:
        current = {v.kpi_id: v for v in performance_return.values.all()}
    before = previous_period(period)
    previous = {
        v.kpi_id: v for v in ReturnValue.objects.filter(
            performance_return__contract=contract, performance_return__period_id=before.pk,
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


# The review inbox's orders (monitoring.filters.INBOX_SORT_CHOICES; "-key" descending). The
# oldest submission first breaks ties, then the id, so that every page is the same each time.
INBOX_SORTS = {
    "submitted": ("submitted_at",),
    "reference": ("contract__reference",),
    "provider": ("contract__provider__name",),
    "period": ("period__start_date",),
    "partnership": ("contract__partnership__name",),
}


def inbox_for_user(*, user: User, statuses=(ReturnStatus.SUBMITTED,),
                   sort: str | None = None) -> QuerySet:
    """Returns waiting for the commissioner, oldest submission first or in the order ``sort``
    names (a key of ``INBOX_SORTS``, "-key" for descending; an unknown one is ignored). The
    page reads its rows through ``inbox_rows``."""
    descending = bool(sort) and sort.startswith("-")
    fields = INBOX_SORTS.get(sort[descending:] if sort else "submitted")
    if fields is None:
        descending, fields = False, INBOX_SORTS["submitted"]
    ordering = [f"-{f}" if descending else f for f in fields]
    ordering += [f for f in ("submitted_at", "pk") if f not in fields]
    return returns_for_user(user).filter(status__in=statuses).order_by(*ordering)


def inbox_counts(*, user: User) -> dict[str, int]:
    """How many returns wait for the commissioner (submitted) and for the provider (queried),
    in one query."""
    counts = dict(
        returns_for_user(user).filter(status__in=(ReturnStatus.SUBMITTED, ReturnStatus.QUERIED))
        .order_by().values_list("status").annotate(n=Count("pk")))
    return {status: counts.get(status, 0) for status in (ReturnStatus.SUBMITTED,
                                                         ReturnStatus.QUERIED)}


@dataclass(slots=True)
class InboxRow:
    """One return as the inbox shows it."""

    pk: int
    reference: str
    title: str
    provider: str
    period: str
    submitted_on: date | None
    late: bool
    versions: int
    partnership: str

    @property
    def submitted_text(self) -> str:
        """As the ``date:"j M Y"`` filter gives it (12 May 2025), without its per-call cost."""
        day = self.submitted_on
        return f"{day.day} {day:%b %Y}" if day else ""


INBOX_COLUMNS = (
    "pk", "contract__reference", "contract__title", "contract__provider__short_name",
    "contract__provider__name", "period__label", "period__due_date", "submitted_at",
    "version_count", "contract__partnership__short_name", "contract__partnership__name",
)


def inbox_values(returns: QuerySet) -> QuerySet:
    """The inbox's columns of ``returns`` as plain values (for ``inbox_rows``): one query for
    a page, without building five model instances for each row (bench/RESULTS.md, issue 19)."""
    return returns.annotate(version_count=Coalesce(Subquery(
        # A correlated subquery, not a join + GROUP BY: it runs only for the rows on the
        # page (bench/RESULTS.md: the inbox was 170 ms).
        ReturnVersion.objects.filter(performance_return=OuterRef("pk")).order_by()
        .values("performance_return").annotate(n=Count("pk")).values("n")[:1]
    ), 0)).values_list(*INBOX_COLUMNS)


def inbox_rows(values) -> list[InboxRow]:
    """Rows from ``inbox_values``: names as the pages show them (short name, else name), the
    day of submission in local time and whether that was after the period's due date."""
    rows = []
    for pk, reference, title, provider_short, provider, period, due, submitted_at, versions, \
            partnership_short, partnership in values:
        day = timezone.localtime(submitted_at).date() if submitted_at else None
        rows.append(InboxRow(pk, reference, title, provider_short or provider, period, day,
                             day is not None and day > due, versions,
                             partnership_short or partnership))
    return rows


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
    today = today or timezone.localdate()
    periods = recent_periods(kind=PeriodKind.QUARTER, today=today, count=count)
    kpis = list(contract.kpis.filter(is_active=True).select_related("service_line"))
    targets = target_rows(kpis)
    values = shown_values(performance_return__contract=contract,
                          performance_return__period__in=[p for p in periods if p.pk])
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
