"""The data behind the monthly joint monitoring report, gathered in a fixed number of queries.

Whatever the number of contracts and KPIs, the queries are the same: a handful for the
contracts, KPIs, targets and return values, a handful for each pooled budget (an agreement
page is itself a fixed set of aggregate queries).
"""

from __future__ import annotations

import gc
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Max
from django.utils import timezone

from commissioning import access
from commissioning.models import Organisation, Partnership
from commissioning.periods import FinancialYear, add_months
from contracts.models import ACTIVE_STATUSES, Contract
from contracts.selectors import DueAlert, key_date_alerts_due
from funding.models import Section75Agreement
from funding.selectors import agreement_page
from monitoring import charts
from monitoring.models import (
    KPI,
    PerformanceAssessment,
    PerformanceReturn,
    PeriodKind,
    ReturnStatus,
)
from monitoring.rag import RAG_LABELS, RAG_ORDER
from monitoring.reporting_periods import recent_periods
from monitoring.s52 import S52_MINIMUM_KPIS, assessment_due_date, contract_over_s52_threshold
from monitoring.selectors import (
    KPIPerformance,
    kpi_performance,
    shown_values,
    target_rows,
)

TREND_QUARTERS = 4


@dataclass
class ContractSection:
    contract: Contract
    kpis: list[KPIPerformance]
    rag_counts: Counter
    worst: str | None
    commentary: str

    @property
    def worst_label(self) -> str:
        return RAG_LABELS[self.worst]


@dataclass
class ReturnsStatusRow:
    provider: Organisation
    accepted: int = 0
    submitted: int = 0
    queried: int = 0
    draft: int = 0
    overdue: int = 0


@dataclass
class BudgetRow:
    agreement: object
    scheme_count: int
    budget: Decimal
    actual_to_date: Decimal
    forecast: Decimal
    variance: Decimal
    partner_shares: list
    schemes: list = field(default_factory=list)


@dataclass
class MonthlyReportData:
    partnership: Partnership
    month: date
    produced_on: date
    partners: list[Organisation]
    contracts: list[Contract]
    sections: list[ContractSection]
    rag_totals: Counter
    returns_status: list[ReturnsStatusRow]
    returns_outstanding: int
    budgets: list[BudgetRow]
    expiring: list[DueAlert]
    assessments_due: list[tuple[Contract, str]]
    s52_warnings: list[tuple[Contract, int]]
    periods: list = field(default_factory=list)

    @property
    def month_label(self) -> str:
        return f"{self.month:%B %Y}"

    @property
    def budget_totals(self) -> dict[str, Decimal]:
        keys = ("budget", "actual_to_date", "forecast", "variance")
        return {k: sum((getattr(b, k) for b in self.budgets), Decimal("0")) for k in keys}

    @property
    def decisions_needed(self) -> int:
        return len(self.expiring) + len(self.assessments_due)

    @property
    def rag_chart(self) -> str:
        """Contracts by their worst KPI rating, as an SVG bar chart."""
        return charts.bar_chart(
            [("Red", self.rag_totals.get("red", 0), "red"),
             ("Amber", self.rag_totals.get("amber", 0), "amber"),
             ("Green", self.rag_totals.get("green", 0), "green"),
             ("No rating", self.rag_totals.get(None, 0), None)],
            title=f"Contracts by worst KPI rating, {self.month_label}", width=480, height=180,
        )


def month_end(month: date) -> date:
    return add_months(month, 1) - timedelta(days=1)


def _performance(contracts: list[Contract], as_of: date) -> tuple[list, dict]:
    """Every active KPI of the contracts with values over the last quarters, in four queries."""
    periods = recent_periods(kind=PeriodKind.QUARTER, today=as_of + timedelta(days=1),
                             count=TREND_QUARTERS)
    kpis = list(
        KPI.objects.filter(contract__in=contracts, is_active=True)
        .select_related("service_line")
        .order_by("contract_id", "service_line__order", "code")
    )
    # Targets and values as plain rows: building thousands of model instances (and their
    # related-object caches) was most of this function's time (bench/RESULTS.md).
    targets = target_rows(KPI.objects.filter(contract__in=contracts, is_active=True))
    values = shown_values(performance_return__contract__in=contracts,
                          performance_return__period__in=[p for p in periods if p.pk])
    by_contract: dict[int, list[KPIPerformance]] = defaultdict(list)
    for kpi in kpis:
        # Text sparklines only: an SVG for each of thousands of KPIs would take WeasyPrint
        # past the worker's memory limit (measured: +230 MB for 1,400 KPIs).
        by_contract[kpi.contract_id].append(
            kpi_performance(kpi, periods, values, targets.get(kpi.pk, []),
                            svg_sparkline=False))
    return periods, by_contract


def _returns_status(contracts: list[Contract], periods: list, as_of: date) -> tuple[list, int]:
    """Per provider: the latest quarter's returns by state; overdue = due and not submitted."""
    latest = periods[-1]
    existing = {
        r.contract_id: r.status
        for r in PerformanceReturn.objects.filter(contract__in=contracts, period_id=latest.pk)
    }
    rows: dict[int, ReturnsStatusRow] = {}
    outstanding = 0
    for contract in contracts:
        if not contract.kpis_active:
            continue
        row = rows.setdefault(contract.provider_id, ReturnsStatusRow(contract.provider))
        status = existing.get(contract.pk)
        if status == ReturnStatus.ACCEPTED:
            row.accepted += 1
        elif status == ReturnStatus.SUBMITTED:
            row.submitted += 1
        elif status == ReturnStatus.QUERIED:
            row.queried += 1
            outstanding += 1
        elif latest.due_date < as_of:
            row.overdue += 1
            outstanding += 1
        else:
            row.draft += 1
            outstanding += 1
    return sorted(rows.values(), key=lambda r: (-r.overdue, r.provider.name)), outstanding


def _budgets(partnership: Partnership, month: date) -> list[BudgetRow]:
    year = FinancialYear.from_date(month).start
    rows = []
    # Only agreements every member is a partner in: every member's people read the report.
    agreements = Section75Agreement.objects.filter(
        access.every_member_party_q(partnership, access.agreement_party_q))
    for agreement in agreements.order_by("title"):
        if not agreement.covers_month(month):
            continue
        # As at the report's month: spend to its end, forecasts as known then.
        page = agreement_page(agreement, year, as_at=month)
        rows.append(BudgetRow(
            agreement=agreement, scheme_count=len(page.schemes), budget=page.totals.budget,
            actual_to_date=page.totals.actual_to_date, forecast=page.totals.forecast,
            variance=page.totals.variance, partner_shares=page.projection,
            schemes=page.schemes,
        ))
    return rows


@contextmanager
def _collector_paused():
    """Build the report's tens of thousands of small objects without Python's cyclic garbage
    collector rescanning all of them again and again as they pile up (a third of the time
    for 2,766 KPIs, measured: bench/RESULTS.md). Nothing here makes reference cycles worth
    collecting early; the collector runs as usual afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def monthly_report_data(*, partnership: Partnership, month: date,
                        produced_on: date | None = None) -> MonthlyReportData:
    """Everything the monthly joint monitoring report shows, for the month just ended."""
    with _collector_paused():
        return _monthly_report_data(partnership=partnership, month=month,
                                    produced_on=produced_on)


def _monthly_report_data(*, partnership: Partnership, month: date,
                         produced_on: date | None) -> MonthlyReportData:
    produced_on = produced_on or timezone.localdate()
    as_of = month_end(month)
    partners = [m.organisation for m in partnership.members.select_related("organisation")
                .order_by("organisation__name")]
    contract_qs = (
        # Only contracts every member is party to: every member's people read the report.
        Contract.objects.filter(access.every_member_party_q(partnership, access.contract_party_q),
                                status__in=ACTIVE_STATUSES)
        .select_related("provider", "lead_commissioner", "holder")
        .prefetch_related("extension_options")  # for the whole-life value
        .with_term()
        # As at the report's month: running at some time in it (not ended before it began,
        # not starting after it ended).
        .filter(current_end__gte=month, start_date__lte=as_of)
        .order_by("title")
    )
    contracts = list(contract_qs)
    periods, performance = _performance(contracts, as_of)
    sections, totals = [], Counter()
    for contract in contracts:
        kpis = performance.get(contract.pk, [])
        contract.kpis_active = bool(kpis)
        counts = Counter(k.rag for k in kpis)
        worst = min(counts, key=RAG_ORDER.__getitem__) if counts else None
        totals[worst] += 1
        commentary = next((k.latest.value.overall_commentary
                           for k in kpis if k.latest and k.latest.value), "")
        sections.append(ContractSection(contract, kpis, counts, worst, commentary))
    # Worst performers first: most red, then most amber.
    sections.sort(key=lambda s: (RAG_ORDER[s.worst], -s.rag_counts.get("red", 0),
                                 -s.rag_counts.get("amber", 0), s.contract.title))
    returns_status, outstanding = _returns_status(contracts, periods, as_of)

    finalised = dict(
        PerformanceAssessment.objects.filter(contract__in=contracts, status="final")
        .values("contract").annotate(last=Max("finalised_at")).values_list("contract", "last")
    )
    assessments_due, s52 = [], []
    for section in sections:
        contract = section.contract
        if not contract_over_s52_threshold(contract):
            continue
        s52_count = sum(1 for k in section.kpis if k.kpi.is_s52)
        if s52_count < S52_MINIMUM_KPIS:
            s52.append((contract, s52_count))
        due = assessment_due_date(start_date=contract.start_date,
                                  last_final=finalised.get(contract.pk))
        if due <= as_of + timedelta(days=60):
            assessments_due.append((contract, f"{due:%-d %B %Y}"))

    expiring = key_date_alerts_due(today=as_of, contracts=contract_qs,
                                   loaded={c.pk: c for c in contracts})
    return MonthlyReportData(
        partnership=partnership, month=month, produced_on=produced_on, partners=partners,
        contracts=contracts, sections=sections, rag_totals=totals,
        returns_status=returns_status, returns_outstanding=outstanding,
        budgets=_budgets(partnership, month), expiring=expiring,
        assessments_due=assessments_due, s52_warnings=s52, periods=periods,
    )
