"""Reads for funding pages. Sums come from the database (aggregates and subqueries), so a page
runs the same number of queries whatever the number of schemes, years and months."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Round
from django.shortcuts import get_object_or_404

from commissioning.models import Organisation
from commissioning.periods import FinancialYear, add_months, financial_year_start
from funding.models import (
    AgreementPartner,
    AllocationBasis,
    ContractFunding,
    Contribution,
    FundingSource,
    MonthlyActual,
    RiskShareOutcome,
    Scheme,
    SchemeBudget,
    Section75Agreement,
    TopSlice,
    TopSliceDrawdown,
    year_label,
)
from funding.riskshare import (
    ODD_PENNY_RULE,
    PENNY,
    ZERO,
    PartnerShare,
    reserved_amount,
    risk_share,
)

MONEY = DecimalField(max_digits=14, decimal_places=2)


FIGURES = ("budget", "contributed", "committed", "actual_to_date", "forecast", "variance")


def money(value: Decimal | None) -> Decimal:
    """Pence, exactly. PostgreSQL returns exact numerics already; SQLite (used for quick test
    runs) returns computed decimals through floats, so they are rounded back to the penny."""
    return ZERO if value is None else Decimal(value).quantize(PENNY)


def fetch_schemes(queryset: QuerySet[Scheme]) -> list[Scheme]:
    """Evaluate a ``schemes_with_figures`` queryset with every figure exact to the penny."""
    rows = list(queryset)
    for row in rows:
        for name in FIGURES:
            setattr(row, name, money(getattr(row, name)))
    return rows


def _zero() -> Value:
    return Value(ZERO, output_field=MONEY)


def year_bounds(year: int) -> tuple[date, date]:
    """First days of the first and last months of financial year ``year`` (2025 -> 2025/26)."""
    return date(year, 4, 1), date(year + 1, 3, 1)


def year_months(year: int) -> list[date]:
    return [add_months(date(year, 4, 1), n) for n in range(12)]


def current_year(agreement: Section75Agreement, today: date | None = None) -> int:
    """This financial year, kept within the agreement's years."""
    today = today or date.today()
    years = agreement.years
    return min(max(financial_year_start(today), years[0]), years[-1])


def as_at_month(year: int, month: date | None = None, today: date | None = None) -> date:
    """The month that figures for financial year ``year`` are "as at": ``month`` if it falls
    in the year, else this month, kept within the year (a past year is shown as at March,
    a year not yet started as at April). Every page and report passes its month through
    here to ``scheme_figures``, so the same month always gives the same figures."""
    first, last = year_bounds(year)
    if month is not None:
        month = month.replace(day=1)
        if first <= month <= last:
            return month
    this_month = (today or date.today()).replace(day=1)
    return min(max(this_month, first), last)


def parse_as_at(year: int, raw: str | None) -> date:
    """A month chosen on a page as ``YYYY-MM`` (or an ISO date); anything else means the
    default month of ``as_at_month``."""
    month = None
    text = (raw or "").strip()
    try:
        month = date.fromisoformat(text if len(text) != 7 else f"{text}-01")
    except ValueError:
        month = None
    return as_at_month(year, month)


def parse_year(agreement: Section75Agreement, raw: str | None) -> int:
    try:
        year = int(raw or "")
    except ValueError:
        return current_year(agreement)
    return year if year in agreement.years else current_year(agreement)


# --- Visibility ------------------------------------------------------------------------------

def agreements_for_user(user) -> QuerySet[Section75Agreement]:
    return Section75Agreement.objects.for_user(user)


def get_agreement_for_user(user, pk: int) -> Section75Agreement:
    """The agreement if the user may see it, else 404."""
    return get_object_or_404(
        agreements_for_user(user).select_related("partnership", "host_partner",
                                                 "pooled_fund_manager"),
        pk=pk,
    )


def get_scheme_for_user(user, agreement_pk: int, pk: int) -> Scheme:
    agreement = get_agreement_for_user(user, agreement_pk)
    scheme = get_object_or_404(
        Scheme.objects.select_related("lead_partner", "provider"), agreement=agreement, pk=pk
    )
    scheme.agreement = agreement
    return scheme


def agreement_list(user) -> QuerySet[Section75Agreement]:
    return (
        agreements_for_user(user)
        .select_related("partnership", "host_partner")
        .annotate(scheme_count=Count("schemes", distinct=True))
        .order_by("partnership__name", "title")
    )


# --- Scheme figures --------------------------------------------------------------------------

def committed_expression():
    """A contract allocation's annual amount: a share follows the contract's annual value."""
    return Case(
        When(basis=AllocationBasis.SHARE,
             then=Round(F("contract__annual_value") * F("share_percent") / Value(Decimal(100)),
                        2)),
        default=F("amount"),
        output_field=MONEY,
    )


def _sum_subquery(queryset: QuerySet, group: str, expression) -> Subquery:
    return Subquery(
        queryset.order_by().values(group).annotate(total=Sum(expression)).values("total")[:1],
        output_field=MONEY,
    )


def schemes_with_figures(queryset: QuerySet[Scheme], year: int,
                         as_at: date | None = None) -> QuerySet[Scheme]:
    """Annotate budget, contributions, committed spend, actual to date, forecast outturn and
    variance for financial year ``year`` (actuals up to the month ``as_at`` if given)."""
    first, last = year_bounds(year)
    if as_at is not None:
        last = min(last, as_at)
    actuals = MonthlyActual.objects.filter(scheme=OuterRef("pk"), month__gte=first,
                                           month__lte=last)
    budget = Subquery(
        SchemeBudget.objects.filter(scheme=OuterRef("pk"), year=year).values("amount")[:1],
        output_field=MONEY,
    )
    forecast = Subquery(
        actuals.filter(forecast_outturn__isnull=False).order_by("-month")
        .values("forecast_outturn")[:1],
        output_field=MONEY,
    )
    return (
        queryset.annotate(
            budget=Coalesce(budget, _zero()),
            contributed=Coalesce(
                _sum_subquery(Contribution.objects.filter(scheme=OuterRef("pk"), year=year),
                              "scheme", "amount"), _zero()),
            committed=Coalesce(
                _sum_subquery(ContractFunding.objects.filter(scheme=OuterRef("pk")), "scheme",
                              committed_expression()), _zero()),
            actual_to_date=Coalesce(_sum_subquery(actuals, "scheme", "actual"), _zero()),
            last_forecast=forecast,
        )
        .annotate(forecast=Coalesce(F("last_forecast"), F("budget"), output_field=MONEY))
        .annotate(variance=ExpressionWrapper(F("forecast") - F("budget"), output_field=MONEY))
    )


def scheme_figures(queryset: QuerySet[Scheme], year: int, as_at: date) -> list[Scheme]:
    """The one place figures "to date" are worked out: each scheme's budget, contributions,
    committed spend, actual spend to the end of month ``as_at`` and the forecast outturn as
    last recorded up to that month, exact to the penny. The agreement page, the pooled fund
    statement, the monthly report and the committee report all read their figures here."""
    return fetch_schemes(schemes_with_figures(queryset, year, as_at=as_at))


@dataclass
class Totals:
    budget: Decimal = ZERO
    contributed: Decimal = ZERO
    committed: Decimal = ZERO
    actual_to_date: Decimal = ZERO
    forecast: Decimal = ZERO
    variance: Decimal = ZERO

    @classmethod
    def of(cls, schemes) -> Totals:
        totals = cls()
        for scheme in schemes:
            for name in ("budget", "contributed", "committed", "actual_to_date", "forecast",
                         "variance"):
                setattr(totals, name, getattr(totals, name) + getattr(scheme, name))
        return totals


# --- Contributions matrix --------------------------------------------------------------------

@dataclass
class MatrixRow:
    partner: Organisation
    cells: list[Decimal]
    total: Decimal


@dataclass
class ContributionMatrix:
    years: list[int]
    rows: list[MatrixRow]
    year_totals: list[Decimal]
    grand_total: Decimal

    @property
    def year_labels(self) -> list[str]:
        return [year_label(y) for y in self.years]

    def for_year(self, year: int) -> dict[int, Decimal]:
        index = self.years.index(year)
        return {row.partner.pk: row.cells[index] for row in self.rows}


def contribution_matrix(agreement: Section75Agreement,
                        partners: list[Organisation]) -> ContributionMatrix:
    """Partner × financial year totals from one GROUP BY query."""
    years = agreement.years
    sums: dict[tuple[int, int], Decimal] = {
        (row["partner_id"], row["year"]): money(row["total"])
        for row in Contribution.objects.filter(scheme__agreement=agreement)
        .order_by().values("partner_id", "year").annotate(total=Sum("amount"))
    }
    rows = []
    for partner in partners:
        cells = [sums.get((partner.pk, y), ZERO) for y in years]
        rows.append(MatrixRow(partner=partner, cells=cells, total=sum(cells, ZERO)))
    year_totals = [sum((row.cells[i] for row in rows), ZERO) for i in range(len(years))]
    return ContributionMatrix(years=years, rows=rows, year_totals=year_totals,
                              grand_total=sum(year_totals, ZERO))


# --- Top-slices ------------------------------------------------------------------------------

def top_slices_with_figures(queryset: QuerySet[TopSlice]) -> QuerySet[TopSlice]:
    """Annotate the budget each top-slice is taken from and the amount drawn down."""
    scheme_budget = Subquery(
        SchemeBudget.objects.filter(scheme=OuterRef("scheme"), year=OuterRef("year"))
        .values("amount")[:1], output_field=MONEY)
    agreement_budget = _sum_subquery(
        SchemeBudget.objects.filter(scheme__agreement=OuterRef("agreement"),
                                    year=OuterRef("year")),
        "scheme__agreement", "amount")
    drawn = _sum_subquery(TopSliceDrawdown.objects.filter(top_slice=OuterRef("pk")),
                          "top_slice", "amount")
    return queryset.select_related("scheme").annotate(
        base=Case(When(scheme__isnull=True, then=Coalesce(agreement_budget, _zero())),
                  default=Coalesce(scheme_budget, _zero()), output_field=MONEY),
        drawn=Coalesce(drawn, _zero()),
    )


def decorate_top_slice(top_slice: TopSlice) -> TopSlice:
    top_slice.base, top_slice.drawn = money(top_slice.base), money(top_slice.drawn)
    top_slice.reserved = reserved_amount(top_slice.base, top_slice.percent)
    top_slice.remaining = top_slice.reserved - top_slice.drawn
    return top_slice


# --- Pages -----------------------------------------------------------------------------------

@dataclass
class AgreementPage:
    agreement: Section75Agreement
    year: int
    partners: list[AgreementPartner]
    schemes: list[Scheme]
    totals: Totals
    matrix: ContributionMatrix
    top_slices: list[TopSlice]
    closed_months: set[date]
    months: list[tuple[date, bool]]
    projection: list[PartnerShare]
    outcomes: list[RiskShareOutcome] = field(default_factory=list)
    as_at: date | None = None

    @property
    def year_label(self) -> str:
        return year_label(self.year)

    @property
    def as_at_choices(self) -> list[date]:
        return year_months(self.year)

    @property
    def odd_penny_rule(self) -> str:
        return ODD_PENNY_RULE


def agreement_partners(agreement: Section75Agreement) -> list[AgreementPartner]:
    return list(agreement.agreement_partners.select_related("organisation")
                .order_by("organisation__name"))


def agreement_page(agreement: Section75Agreement, year: int,
                   as_at: date | None = None) -> AgreementPage:
    """Everything the agreement page shows, in a fixed number of queries, with spend and
    forecasts as at the end of month ``as_at`` (by default this month: ``as_at_month``)."""
    as_at = as_at_month(year, as_at)
    partners = agreement_partners(agreement)
    schemes = scheme_figures(
        agreement.schemes.select_related("lead_partner", "provider").order_by("code"),
        year, as_at)
    totals = Totals.of(schemes)
    matrix = contribution_matrix(agreement, [p.organisation for p in partners])
    top_slices = [decorate_top_slice(t) for t in top_slices_with_figures(
        agreement.top_slices.filter(year=year)).order_by("name")]
    closed = set(agreement.month_closes.filter(is_closed=True).values_list("month", flat=True))
    months = [(m, m in closed) for m in year_months(year) if agreement.covers_month(m)]
    projection = risk_share(
        agreement, partners, totals.variance, matrix.for_year(year),
        [(s.lead_partner_id, s.variance) for s in schemes],
    )
    outcomes = list(agreement.risk_share_outcomes.filter(year=year).select_related("partner"))
    return AgreementPage(agreement=agreement, year=year, partners=partners, schemes=schemes,
                         totals=totals, matrix=matrix, top_slices=top_slices,
                         closed_months=closed, months=months, projection=projection,
                         outcomes=outcomes, as_at=as_at)


@dataclass
class SchemePage:
    scheme: Scheme
    year: int
    figures: Scheme
    budgets: list[SchemeBudget]
    contributions: list[Contribution]
    actuals: list[MonthlyActual]
    allocations: list[ContractFunding]
    top_slices: list[TopSlice]
    closed_months: set[date]


def scheme_page(scheme: Scheme, year: int, contracts_visible: QuerySet) -> SchemePage:
    figures = scheme_figures(Scheme.objects.filter(pk=scheme.pk), year, as_at_month(year))[0]
    first, last = year_bounds(year)
    return SchemePage(
        scheme=scheme, year=year, figures=figures,
        budgets=list(scheme.budgets.order_by("year")),
        contributions=list(
            scheme.contributions.select_related("partner", "source")
            .prefetch_related("instalments", "changes").order_by("year", "partner__name",
                                                                  "source__order")),
        actuals=list(scheme.actuals.filter(month__gte=first, month__lte=last).order_by("month")),
        allocations=list(
            scheme.contract_allocations.filter(contract__in=contracts_visible)
            .select_related("contract", "source")
            .annotate(annual_amount=committed_expression())),  # shown through |money
        top_slices=[decorate_top_slice(t) for t in top_slices_with_figures(
            scheme.top_slices.filter(year=year).prefetch_related("drawdowns"))],
        closed_months=set(scheme.agreement.month_closes.filter(is_closed=True)
                          .values_list("month", flat=True)),
    )


# --- Statements ------------------------------------------------------------------------------

@dataclass
class Statement:
    agreement: Section75Agreement
    year: int
    quarter: int | None
    period_end: date
    income: list[tuple[Organisation, Decimal]]
    income_by_source: list[tuple[FundingSource, Decimal]]
    income_total: Decimal
    schemes: list[Scheme]
    totals: Totals
    projection: list[PartnerShare]
    outcomes: list[RiskShareOutcome]
    top_slices: list[TopSlice]

    @property
    def odd_penny_rule(self) -> str:
        return ODD_PENNY_RULE

    @property
    def title(self) -> str:
        if self.quarter:
            return (f"Pooled fund quarterly report, {year_label(self.year)} "
                    f"quarter {self.quarter}")
        return f"Pooled fund annual statement, {year_label(self.year)}"

    @property
    def year_label(self) -> str:
        return year_label(self.year)


def statement(agreement: Section75Agreement, year: int, quarter: int | None = None) -> Statement:
    """Income by partner, expenditure by scheme, variance and risk share for the year (or to
    the end of a quarter)."""
    if quarter:
        _start, end = FinancialYear.of(year).quarter(quarter)
        as_at = end.replace(day=1)
    else:
        as_at = year_bounds(year)[1]
        end = date(year + 1, 3, 31)
    partners = agreement_partners(agreement)
    income_rows = {
        row["partner_id"]: money(row["total"])
        for row in Contribution.objects.filter(scheme__agreement=agreement, year=year)
        .order_by().values("partner_id").annotate(total=Sum("amount"))
    }
    income = [(p.organisation, income_rows.get(p.organisation_id, ZERO)) for p in partners]
    by_source = list(
        FundingSource.objects.filter(contributions__scheme__agreement=agreement,
                                     contributions__year=year)
        .annotate(total=Sum("contributions__amount")).order_by("order", "name")
    )
    schemes = scheme_figures(agreement.schemes.select_related("lead_partner").order_by("code"),
                             year, as_at)
    totals = Totals.of(schemes)
    projection = risk_share(agreement, partners, totals.variance, income_rows,
                            [(s.lead_partner_id, s.variance) for s in schemes])
    return Statement(
        agreement=agreement, year=year, quarter=quarter, period_end=end,
        income=income, income_by_source=[(s, money(s.total)) for s in by_source],
        income_total=sum(income_rows.values(), ZERO), schemes=schemes, totals=totals,
        projection=projection,
        outcomes=list(agreement.risk_share_outcomes.filter(year=year).select_related("partner")),
        top_slices=[decorate_top_slice(t) for t in top_slices_with_figures(
            agreement.top_slices.filter(year=year))],
    )


# --- Better Care Fund plan -------------------------------------------------------------------

BCF_COLUMNS = [
    "Scheme ID", "Scheme Name", "Scheme Type", "Sub Types", "Planned Outputs",
    "Planned Output Unit", "Area of Spend", "Commissioner", "% NHS (if Joint Commissioner)",
    "% LA (if Joint Commissioner)", "Provider", "Source of Funding", "Expenditure (£)",
    "New/ Existing Scheme",
]


@dataclass
class BCFRow:
    scheme: Scheme
    source: FundingSource | None
    amount: Decimal

    def cells(self) -> list:
        scheme = self.scheme
        joint = scheme.commissioner == "joint"
        return [
            scheme.code, scheme.name, scheme.get_scheme_type_display(), scheme.sub_type,
            scheme.planned_outputs if scheme.planned_outputs is not None else "",
            scheme.output_units, scheme.get_area_of_spend_display(),
            scheme.get_commissioner_display(),
            scheme.nhs_percent if joint and scheme.nhs_percent is not None else "",
            scheme.la_percent if joint and scheme.la_percent is not None else "",
            scheme.provider_name, self.source.name if self.source else "", self.amount,
            "New" if scheme.is_new else "Existing",
        ]


def bcf_plan(agreement: Section75Agreement, year: int) -> list[BCFRow]:
    """One row per BCF scheme and funding source with its planned spend (the year's
    contributions), as the BCF planning template lays them out."""
    schemes = {
        s.pk: s for s in agreement.schemes.filter(is_bcf=True)
        .select_related("provider").order_by("code")
    }
    sources = {s.pk: s for s in FundingSource.objects.all()}
    sums = (Contribution.objects.filter(scheme__in=list(schemes), year=year)
            .order_by().values("scheme_id", "source_id").annotate(total=Sum("amount")))
    rows = [BCFRow(schemes[r["scheme_id"]], sources[r["source_id"]], money(r["total"]))
            for r in sums]
    funded = {row.scheme.pk for row in rows}
    rows += [BCFRow(s, None, ZERO) for pk, s in schemes.items() if pk not in funded]
    rows.sort(key=lambda r: (r.scheme.code, r.source.order if r.source else 999,
                             r.source.name if r.source else ""))
    return rows


# --- A contract's funding, as a committee paper states it ------------------------------------

@dataclass
class ContractFundingSummary:
    """How a contract is funded in a financial year: its scheme links, the funding sources
    named once each (in the sources' own order), and the top-slices held back from the
    schemes (or whole agreements) that fund it, with their reserved amounts."""

    year: int
    allocations: list[ContractFunding]
    sources: list[FundingSource]
    top_slices: list[TopSlice]

    @property
    def allocated(self) -> Decimal:
        return sum((a.amount for a in self.allocations), ZERO)

    @property
    def year_label(self) -> str:
        return year_label(self.year)


def contract_funding_summary(contract, year: int) -> ContractFundingSummary:
    """The contract's funding for committee papers (fixed number of queries)."""
    allocations = list(contract.funding_allocations.select_related(
        "scheme__agreement", "source").order_by("source__order", "source__name", "scheme__code"))
    sources = list({a.source_id: a.source for a in allocations}.values())
    scheme_ids = {a.scheme_id for a in allocations}
    agreement_ids = {a.scheme.agreement_id for a in allocations}
    top_slices = []
    if scheme_ids:
        top_slices = [decorate_top_slice(t) for t in top_slices_with_figures(
            TopSlice.objects.filter(year=year).filter(
                Q(scheme_id__in=scheme_ids)
                | Q(scheme__isnull=True, agreement_id__in=agreement_ids)))
            .order_by("name", "pk")]
    return ContractFundingSummary(year=year, allocations=allocations, sources=sources,
                                  top_slices=top_slices)
