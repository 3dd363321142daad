"""Demo funding from the seed committee papers, with years relative to today.

Bromley's Section 75 agreement (seed 003) with its services and nominated leads, Bromley Well
(seed 000: £2.7m a year from the Council, the ICB (formerly Bromley CCG) and the Better Care
Fund, 15% kept as an innovation fund) and the BCF-funded Dementia Hub; Merton's BCF-funded
adult social care (seed 002: around £10m, including 44% of domiciliary care, £433k of
community equipment and carers support). Two financial years of monthly actuals: last year
complete and closed, this year to last month; Community Equipment in Bromley overspends.
Safe to run any number of times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from commissioning.demo import upsert
from commissioning.models import Organisation, Partnership, User
from commissioning.periods import add_months, financial_year_start
from contracts.models import Contract
from funding import selectors, services
from funding.models import (
    AgreementKind,
    AgreementPartner,
    AllocationBasis,
    AreaOfSpend,
    ArrangementType,
    BudgetType,
    Commissioner,
    ContractFunding,
    Contribution,
    ContributionChange,
    FundingSource,
    Instalment,
    MonthClose,
    MonthlyActual,
    RiskShareOutcome,
    RiskShareRule,
    Scheme,
    SchemeBudget,
    SchemeType,
    Section75Agreement,
    TopSlice,
    TopSliceDrawdown,
    UnderspendRule,
)

BROMLEY = "London Borough of Bromley"
SEL_ICB = "NHS South East London Integrated Care Board"
MERTON = "London Borough of Merton"
SWL_ICB = "NHS South West London Integrated Care Board"
BROMLEY_PARTNERSHIP = "Bromley Council and NHS South East London ICB"
MERTON_PARTNERSHIP = "Merton Council and NHS South West London ICB"

PENNY = Decimal("0.01")
UPLIFT = Decimal("1.03")  # this year's budgets: 3% more than last year's


@dataclass(frozen=True)
class SchemeSeed:
    code: str
    name: str
    lead: str
    scheme_type: str
    # (partner, funding source code, annual amount last year)
    funding: tuple[tuple[str, str, str], ...]
    is_bcf: bool = False
    commissioner: str = Commissioner.LA
    nhs_percent: str | None = None
    provider: str = ""
    area: str = AreaOfSpend.SOCIAL_CARE
    contract: str = ""  # demo contract reference it funds, if any
    spend: str = "1.00"  # actual spend as a share of budget (1.10 = 10% overspend)


C, NHS, BCF = "council-core", "nhs-baseline", "bcf-nhs-minimum"

BROMLEY_SCHEMES = [
    # Seed 003: Section 75 funded services and their nominated leads (CCG → the ICB).
    SchemeSeed("S75-01", "Intermediate Care", SEL_ICB, SchemeType.HOME_BASED_IC,
               ((SEL_ICB, NHS, "1110000"), (BROMLEY, C, "740000")),
               commissioner=Commissioner.JOINT, nhs_percent="60",
               provider="Bromley Healthcare Community Interest Company",
               area=AreaOfSpend.COMMUNITY_HEALTH, contract="S75-IC", spend="0.99"),
    SchemeSeed("S75-02", "Children's Short Breaks Services", SEL_ICB, SchemeType.OTHER,
               ((SEL_ICB, NHS, "252000"), (BROMLEY, C, "168000")),
               commissioner=Commissioner.NHS,
               provider="Bromley Healthcare Community Interest Company", contract="S75-CSB",
               spend="0.98"),
    SchemeSeed("S75-03", "Joint Community Contract", BROMLEY, SchemeType.COMMUNITY_BASED,
               ((BROMLEY, C, "1860000"), (SEL_ICB, NHS, "1240000")),
               commissioner=Commissioner.JOINT, nhs_percent="40",
               provider="Bromley Healthcare Community Interest Company",
               area=AreaOfSpend.COMMUNITY_HEALTH, contract="S75-JCC"),
    SchemeSeed("S75-04", "Community Equipment", BROMLEY, SchemeType.ASSISTIVE_TECHNOLOGIES,
               ((BROMLEY, C, "576000"), (SEL_ICB, BCF, "384000")), is_bcf=True,
               commissioner=Commissioner.JOINT, nhs_percent="40",
               provider="Bromley Healthcare Community Interest Company", contract="S75-CE",
               spend="1.11"),
    SchemeSeed("S75-05", "Speech and Language Therapy", SEL_ICB, SchemeType.OTHER,
               ((SEL_ICB, NHS, "306000"), (BROMLEY, C, "204000")),
               commissioner=Commissioner.NHS,
               provider="Bromley Healthcare Community Interest Company",
               area=AreaOfSpend.COMMUNITY_HEALTH, contract="S75-SLT"),
    SchemeSeed("S75-06", "Mental Health Services", BROMLEY, SchemeType.OTHER,
               ((BROMLEY, C, "1344000"), (SEL_ICB, NHS, "896000")),
               commissioner=Commissioner.LA, area=AreaOfSpend.MENTAL_HEALTH, contract="S75-MH",
               spend="0.995"),
    SchemeSeed("S75-07", "Mental Health Services – Wellbeing", SEL_ICB,
               SchemeType.CARE_PLANNING, ((SEL_ICB, NHS, "408000"), (BROMLEY, C, "272000")),
               commissioner=Commissioner.NHS, area=AreaOfSpend.MENTAL_HEALTH,
               contract="S75-MHW"),
    # Seed 000: Bromley Well, jointly funded by the Council, the CCG and the BCF.
    SchemeSeed("BCF-01", "Primary and Secondary Intervention Services (Bromley Well)", BROMLEY,
               SchemeType.COMMUNITY_BASED,
               ((BROMLEY, C, "1300000"), (SEL_ICB, NHS, "700000"), (SEL_ICB, BCF, "700000")),
               is_bcf=True, commissioner=Commissioner.JOINT, nhs_percent="52",
               provider="Bromley Third Sector Enterprise", contract="CS17033-PSIS",
               spend="0.97"),
    # Seed 003: the Dementia Hub, commissioned by the Council through the BCF.
    SchemeSeed("BCF-02", "Bromley Dementia Hub", BROMLEY, SchemeType.CARE_PLANNING,
               ((SEL_ICB, BCF, "320000"),), is_bcf=True,
               provider="Alzheimer's Society (Bromley Dementia Hub)", contract="ECHS-DH-01"),
]

MERTON_SCHEMES = [
    # Seed 002: around £10m of adult social care funded from the Better Care Fund.
    SchemeSeed("BCF-01", "Domiciliary care (BCF-funded share)", MERTON, SchemeType.HOME_CARE,
               ((SWL_ICB, BCF, "5500000"), (MERTON, C, "7000000")), is_bcf=True,
               spend="1.01"),
    SchemeSeed("BCF-02", "Community equipment", MERTON, SchemeType.ASSISTIVE_TECHNOLOGIES,
               ((SWL_ICB, BCF, "433000"), (MERTON, C, "300000"), (SWL_ICB, NHS, "300000")),
               is_bcf=True, commissioner=Commissioner.JOINT, nhs_percent="50",
               provider="Croydon Council (Community Equipment Service)"),
    SchemeSeed("BCF-03", "Carers support", MERTON, SchemeType.CARERS_SERVICES,
               ((SWL_ICB, BCF, "285000"),), is_bcf=True, provider="Carers Support Merton",
               contract="ASC-CSM-01", spend="0.98"),
    SchemeSeed("BCF-04", "Reablement", MERTON, SchemeType.HOME_BASED_IC,
               ((MERTON, "ibcf", "1200000"),), is_bcf=True),
    SchemeSeed("BCF-05", "Discharge to assess", SWL_ICB, SchemeType.CARE_TRANSITION,
               ((SWL_ICB, "discharge", "1100000"),), is_bcf=True,
               commissioner=Commissioner.JOINT, nhs_percent="50", spend="1.02"),
    SchemeSeed("BCF-06", "Disabled Facilities Grants", MERTON, SchemeType.DFG_RELATED,
               ((MERTON, "dfg", "1400000"),), is_bcf=True, spend="0.9"),
    SchemeSeed("BCF-07", "Continuing healthcare assessment", MERTON, SchemeType.CARE_PLANNING,
               ((SWL_ICB, BCF, "420000"),), is_bcf=True),
]


def _money(value: Decimal) -> Decimal:
    return value.quantize(PENNY, rounding=ROUND_HALF_UP)


def _year_amount(amount: str, year: int, first_year: int) -> Decimal:
    return _money(Decimal(amount) * (UPLIFT if year > first_year else 1))


def _agreement(*, partnership: Partnership, title: str, reference: str, host: Organisation,
               partners: list[tuple[Organisation, str | None]], start: date,
               manager: User | None, **fields) -> Section75Agreement:
    agreement, _ = upsert(
        Section75Agreement, partnership=partnership, title=title,
        defaults={"reference": reference, "host_partner": host, "start_date": start,
                  "end_date": date(start.year + 5, 3, 31), "pooled_fund_manager": manager,
                  "kind": AgreementKind.SECTION_75, **fields},
    )
    for organisation, share in partners:
        upsert(
            AgreementPartner, agreement=agreement, organisation=organisation,
            defaults={"risk_share_percent": Decimal(share) if share else None})
    return agreement


def _schemes(agreement: Section75Agreement, seeds: list[SchemeSeed], orgs: dict,
             sources: dict, years: list[int]) -> dict[str, Scheme]:
    schemes = {}
    for seed in seeds:
        provider = orgs.get(seed.provider)
        nhs = Decimal(seed.nhs_percent) if seed.nhs_percent else None
        scheme, _ = upsert(
            Scheme, agreement=agreement, code=seed.code,
            defaults={
                "name": seed.name, "lead_partner": orgs[seed.lead],
                "scheme_type": seed.scheme_type, "is_bcf": seed.is_bcf,
                "budget_type": BudgetType.POOLED, "commissioner": seed.commissioner,
                "nhs_percent": nhs, "la_percent": Decimal(100) - nhs if nhs is not None else None,
                "provider": provider, "provider_text": "" if provider else seed.provider,
                "area_of_spend": seed.area,
            },
        )
        schemes[seed.code] = scheme
        for year in years:
            total = Decimal(0)
            for partner, code, amount in seed.funding:
                value = _year_amount(amount, year, years[0])
                total += value
                contribution, created = Contribution.objects.get_or_create(
                    scheme=scheme, partner=orgs[partner], year=year, source=sources[code],
                    defaults={"amount": value})
                if created:
                    _instalments(contribution)
            SchemeBudget.objects.get_or_create(scheme=scheme, year=year,
                                               defaults={"amount": total})
    return schemes


def _instalments(contribution: Contribution) -> None:
    """Quarterly instalments, paid when due (in the past)."""
    today = date.today()
    quarter = _money(contribution.amount / 4)
    amounts = [quarter, quarter, quarter, contribution.amount - 3 * quarter]
    for n, amount in enumerate(amounts):
        due = add_months(date(contribution.year, 4, 30), 3 * n)
        Instalment.objects.create(contribution=contribution, due_date=due, amount=amount,
                                  paid_date=due if due < today else None)


# Month-by-month spend pattern (April … March): busier in winter, quiet in August.
PATTERN = [Decimal(x) for x in ("0.97", "0.98", "1.00", "0.99", "0.94", "1.00", "1.01",
                                 "1.02", "1.00", "1.05", "1.04", "1.00")]


def _actuals(agreement: Section75Agreement, schemes: dict[str, Scheme],
             seeds: list[SchemeSeed], years: list[int], last_month: date) -> None:
    budgets = {(b.scheme_id, b.year): b.amount
               for b in SchemeBudget.objects.filter(scheme__agreement=agreement)}
    for seed in seeds:
        scheme = schemes[seed.code]
        for year in years:
            budget = budgets[(scheme.pk, year)]
            monthly = budget / 12
            spent = Decimal(0)
            for index, factor in enumerate(PATTERN):
                month = add_months(date(year, 4, 1), index)
                if month > last_month:
                    break
                # The overspend grows through the year (demand for equipment keeps rising).
                drift = 1 + (Decimal(seed.spend) - 1) * Decimal(index + 6) / Decimal(11)
                amount = _money(monthly * factor * drift)
                spent += amount
                remaining = sum(PATTERN[index + 1:], Decimal(0)) * monthly * drift
                upsert(
                    MonthlyActual, scheme=scheme, month=month,
                    defaults={"actual": amount, "forecast_outturn": _money(spent + remaining)})


def _close_months(agreement: Section75Agreement, until: date, user: User | None) -> None:
    month = agreement.start_date.replace(day=1)
    while month <= until:
        MonthClose.objects.get_or_create(
            agreement=agreement, month=month,
            defaults={"is_closed": True, "closed_by": user,
                      "closed_at": timezone.make_aware(
                          datetime.combine(add_months(month, 1).replace(day=10), time(9)))})
        month = add_months(month, 1)


def _link_contracts(agreement: Section75Agreement, schemes: dict[str, Scheme],
                    seeds: list[SchemeSeed], sources: dict) -> int:
    """Fund the demo contracts (if the contracts demo loaded them) from their schemes."""
    linked = 0
    for seed in seeds:
        if not seed.contract:
            continue
        contract = Contract.objects.filter(partnership=agreement.partnership,
                                           reference=seed.contract).first()
        if contract is None:
            continue
        total = sum((Decimal(a) for _p, _c, a in seed.funding), Decimal(0))
        for _partner, code, amount in seed.funding:
            share = (Decimal(amount) * 100 / total).quantize(PENNY)
            upsert(
                ContractFunding, contract=contract, scheme=schemes[seed.code],
                source=sources[code],
                defaults={"basis": AllocationBasis.SHARE, "share_percent": share,
                          "amount": _money(contract.annual_value * share / 100)})
        linked += 1
    return linked


def load(stdout) -> None:
    today = date.today()
    this_year = financial_year_start(today)
    years = [this_year - 1, this_year]
    start = date(years[0], 4, 1)
    last_month = add_months(today.replace(day=1), -1)
    orgs = {o.name: o for o in Organisation.objects.all()}
    sources = {s.code: s for s in FundingSource.objects.all()}
    users = {u.email: u for u in User.objects.filter(email__in=[
        "finance.officer@bromley.example.org", "richard.ellis@merton.example.org",
        "josepha.reynolds@bromley.example.org"])}
    finance = users.get("finance.officer@bromley.example.org")
    richard = users.get("richard.ellis@merton.example.org")

    # --- Bromley ----------------------------------------------------------------------------
    bromley = _agreement(
        partnership=Partnership.objects.get(name=BROMLEY_PARTNERSHIP),
        title="Bromley Section 75 Partnership Agreement", reference="LBB-SEL-S75",
        host=orgs[BROMLEY], partners=[(orgs[BROMLEY], None), (orgs[SEL_ICB], None)],
        start=start, manager=finance, arrangement_type=ArrangementType.POOLED_FUND,
        review_date=date(years[0] + 2, 9, 30),
        governance_board="Integrated Commissioning Board",
        aims="Joint commissioning of health and social care services for Bromley residents: "
             "intermediate care, children's short breaks, community services, equipment, "
             "speech and language therapy, mental health and wellbeing, and early "
             "intervention and prevention through Bromley Well and the Dementia Hub.",
        risk_share_rule=RiskShareRule.PROPORTIONAL,
        underspend_rule=UnderspendRule.RETURN_TO_PARTNERS, parallel_reduction=False,
    )
    schemes = _schemes(bromley, BROMLEY_SCHEMES, orgs, sources, years)
    _actuals(bromley, schemes, BROMLEY_SCHEMES, years, last_month)
    for year in years:
        TopSlice.objects.get_or_create(
            agreement=bromley, scheme=schemes["BCF-01"], year=year, name="Innovation fund",
            defaults={"percent": Decimal("15")})
    last_years_fund = TopSlice.objects.get(agreement=bromley, scheme=schemes["BCF-01"],
                                           year=years[0], name="Innovation fund")
    TopSliceDrawdown.objects.get_or_create(
        top_slice=last_years_fund, purpose="Hospital discharge support element",
        defaults={"amount": Decimal("150000.00"), "decision_maker": "Executive",
                  "decision_date": date(years[0], 9, 14), "decision_reference": "CS17033",
                  "recorded_by": finance})
    linked = _link_contracts(bromley, schemes, BROMLEY_SCHEMES, sources)
    # Last year is closed at year end; this year is closed up to two months ago.
    _close_months(bromley, date(years[1], 3, 1), finance)
    if finance is not None and not RiskShareOutcome.objects.filter(agreement=bromley,
                                                                   year=years[0]).exists():
        services.year_end_close(agreement=bromley, year=years[0], user=finance)
    _close_months(bromley, add_months(last_month, -1), finance)

    # --- Merton -----------------------------------------------------------------------------
    merton = _agreement(
        partnership=Partnership.objects.get(name=MERTON_PARTNERSHIP),
        title="Merton Better Care Fund Section 75 Agreement", reference="LBM-SWL-BCF",
        host=orgs[MERTON], partners=[(orgs[MERTON], "50"), (orgs[SWL_ICB], "50")],
        start=start, manager=richard, arrangement_type=ArrangementType.POOLED_FUND,
        governance_board="Merton Health and Care Together Committee",
        aims="The Better Care Fund pooled budget: adult social care services that reduce "
             "delayed transfers of care and support people at home.",
        risk_share_rule=RiskShareRule.FIXED_SPLIT,
        underspend_rule=UnderspendRule.CARRY_FORWARD, parallel_reduction=True,
    )
    merton_schemes = _schemes(merton, MERTON_SCHEMES, orgs, sources, years)
    _actuals(merton, merton_schemes, MERTON_SCHEMES, years, last_month)
    linked += _link_contracts(merton, merton_schemes, MERTON_SCHEMES, sources)
    _close_months(merton, date(years[1], 3, 1), None)
    reduced = Contribution.objects.get(scheme=merton_schemes["BCF-02"], partner=orgs[MERTON],
                                       year=years[1], source=sources[C])
    if richard is not None and not ContributionChange.objects.filter(
            contribution__scheme__agreement=merton).exists():
        services.contribution_reduce(
            contribution=reduced, new_amount=_money(reduced.amount * Decimal("0.9")),
            reason="Council savings in community equipment; the ICB's contribution is reduced "
                   "in parallel under the agreement.", user=richard,
            decision=services.DecisionInput(decision_maker="Merton Cabinet",
                                            decision_date=date(years[1], 6, 16),
                                            decision_reference="CAB-ASC-26"))

    page = selectors.agreement_page(bromley, this_year)
    stdout.write(
        f"Funding: {Section75Agreement.objects.count()} agreements; Bromley's "
        f"{selectors.year_label(this_year)} forecast variance £{page.totals.variance:,.2f}; "
        f"{linked} demo contracts linked to schemes.")
