"""Demo contracts from the seed committee papers, with dates shifted relative to today.

Bromley Well (seed 000) started on 1 October 2017 for 3 + up to 2 years; here it started
52 months ago with both options exercised, so it is extended and ends within the year. The
Merton community services contract with CLCH (seed 002) ends at the end of this financial
year with its re-commissioning in procurement. Safe to run any number of times: contracts
are matched on (holder, reference) and their children replaced.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from commissioning.demo import upsert
from commissioning.models import Organisation, OrganisationKind, Partnership, User
from commissioning.periods import add_months, financial_year_start
from contracts.frameworks.models import (
    ApplicationDecision,
    AwardMethod,
    CallOff,
    CallOffRules,
    EvaluationResult,
    Framework,
    FrameworkParty,
    FrameworkStatus,
    Lot,
    ProcurementWindow,
    ProviderApplication,
)
from contracts.frameworks.services import CallOffInput, call_off_create
from contracts.models import (
    CommissioningShare,
    Contract,
    ContractStatus,
    Decision,
    DecisionMaker,
    DecisionPurpose,
    ExtensionOption,
    OngoingCosts,
    ProcurementRegime,
    ProcurementRoute,
    ReviewDate,
    ServiceArea,
    ServiceLine,
    Variation,
)
from contracts.services import ShareInput

BROMLEY = "London Borough of Bromley"
SEL_ICB = "NHS South East London Integrated Care Board"
MERTON = "London Borough of Merton"
SWL_ICB = "NHS South West London Integrated Care Board"
BROMLEY_PARTNERSHIP = "Bromley Council and NHS South East London ICB"
MERTON_PARTNERSHIP = "Merton Council and NHS South West London ICB"

BROMLEY_WELL_PATHWAYS = [
    "Carers' Support Services", "Dementia Support Services", "Services to Elderly Frail",
    "Long Term Health Conditions", "Learning and Physical Disability",
    "Mental Health Support Services", "Single Point of Access",
    "Strategic support to the third sector",
]

# Section 75 services and their nominated leads (seed 003: CCG → the ICB, LBB → the Council).
SECTION_75 = [
    ("S75-IC", "Intermediate Care", SEL_ICB, "Bromley Healthcare Community Interest Company",
     ServiceArea.COMMUNITY_HEALTH, "1850000"),
    ("S75-CSB", "Children's Short Breaks Services", SEL_ICB,
     "Bromley Healthcare Community Interest Company", ServiceArea.CHILDRENS_SERVICES, "420000"),
    ("S75-JCC", "Joint Community Contract", BROMLEY,
     "Bromley Healthcare Community Interest Company", ServiceArea.COMMUNITY_HEALTH, "3100000"),
    ("S75-CE", "Community Equipment", BROMLEY, "Bromley Healthcare Community Interest Company",
     ServiceArea.ADULT_SOCIAL_CARE, "960000"),
    ("S75-SLT", "Speech and Language Therapy", SEL_ICB,
     "Bromley Healthcare Community Interest Company", ServiceArea.CHILDRENS_SERVICES, "510000"),
    ("S75-MH", "Mental Health Services", BROMLEY, "Oxleas NHS Foundation Trust",
     ServiceArea.MENTAL_HEALTH, "2240000"),
    ("S75-MHW", "Mental Health Services – Wellbeing", SEL_ICB, "Oxleas NHS Foundation Trust",
     ServiceArea.MENTAL_HEALTH, "680000"),
]

MERTON_SERVICES_IN_SCOPE = [
    "Adult community health services", "0-19 Health Visiting", "0-19 Nursing Service",
    "Family Nurse Partnership", "Child Healthy Weight Service", "Safeguarding Service (health)",
    "Educational Occupational therapy",
]


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _contract(*, holder: Organisation, reference: str, manager: User | None,
              **fields) -> Contract:
    contract, _ = upsert(Contract, holder=holder, reference=reference,
                         defaults={**fields, "contract_manager": manager})
    return contract


def _shares(contract: Contract, *shares: tuple[Organisation, str, bool]) -> None:
    for org, share, monitors in shares:
        upsert(CommissioningShare, contract=contract, organisation=org,
               defaults={"share_percent": Decimal(share), "joint_monitoring": monitors})


def _lines(contract: Contract, names: list[str]) -> None:
    # Matched by name and never deleted: other apps (KPIs) may point at service lines.
    for order, name in enumerate(names, 1):
        upsert(ServiceLine, contract=contract, name=name, defaults={"order": order})


def _decision(contract: Contract, *, purpose: str, report_reference: str,
              **fields) -> Decision:
    decision, _ = upsert(
        Decision, contract=contract, purpose=purpose, report_reference=report_reference,
        defaults=fields,
    )
    return decision


def _option(contract: Contract, sequence: int, length_months: int,
            decision: Decision | None = None) -> None:
    upsert(ExtensionOption, contract=contract, sequence=sequence,
           defaults={"length_months": length_months, "exercised": decision is not None,
                     "exercised_decision": decision})


def load(stdout) -> None:
    today = date.today()
    orgs = {o.name: o for o in Organisation.objects.all()}
    oxleas, _ = Organisation.objects.get_or_create(
        name="Oxleas NHS Foundation Trust",
        defaults={"short_name": "Oxleas", "kind": OrganisationKind.NHS_TRUST, "ods_code": "RPG"},
    )
    orgs[oxleas.name] = oxleas
    bromley, sel_icb = orgs[BROMLEY], orgs[SEL_ICB]
    merton, swl_icb = orgs[MERTON], orgs[SWL_ICB]
    bromley_partnership = Partnership.objects.get(name=BROMLEY_PARTNERSHIP)
    merton_partnership = Partnership.objects.get(name=MERTON_PARTNERSHIP)
    users = {u.email: u for u in User.objects.filter(email__in=[
        "alicia.munday@bromley.example.org", "josepha.reynolds@bromley.example.org",
        "richard.ellis@merton.example.org", "paul.feven@selondon-icb.example.org"])}
    alicia = users.get("alicia.munday@bromley.example.org")
    richard = users.get("richard.ellis@merton.example.org")
    paul = users.get("paul.feven@selondon-icb.example.org")

    # Bromley Well: 3 + up to 2 years, both options exercised, ending within the year.
    start = _month_start(add_months(today, -52))
    initial_end = add_months(start, 36) - timedelta(days=1)
    well = _contract(
        holder=bromley, reference="CS17033-PSIS", manager=alicia,
        title="Primary and Secondary Intervention Services (Bromley Well)",
        description="Early intervention and prevention services for adults and carers, "
                    "jointly funded by the Council, the ICB (formerly Bromley CCG) and the "
                    "Better Care Fund. 15% of the funding envelope is kept as an innovation "
                    "fund. The contract is held by the Council with joint monitoring by the ICB.",
        service_area=ServiceArea.ADULT_SOCIAL_CARE, provider=orgs[
            "Bromley Third Sector Enterprise"],
        lead_commissioner=bromley, partnership=bromley_partnership,
        procurement_regime=ProcurementRegime.PCR_2015,
        procurement_route=ProcurementRoute.PCR_COMPETITIVE_DIALOGUE, tendered=True,
        start_date=start, initial_end_date=initial_end, notice_period_months=6,
        annual_value=Decimal("2700000.00"), vat_not_recoverable=Decimal("0"),
        # The award paper's financial and customer-impact boxes (seed 000); its sources of
        # funding come from the scheme links in funding/demo.py.
        ongoing_costs=OngoingCosts.RECURRING, budget_head="Various",
        total_current_budget=Decimal("2751000.00"), estimated_users=5000,
        status=ContractStatus.EXTENDED, awarded_on=start - timedelta(days=90),
        standstill_end_date=start - timedelta(days=80),
    )
    award = _decision(
        well, purpose=DecisionPurpose.AWARD, decision_maker=DecisionMaker.EXECUTIVE,
        body_name="Executive, with pre-decision scrutiny by the Care Services PDS Committee",
        meeting_date=start - timedelta(days=90), report_reference="CS17033", is_key=True,
        is_urgent=False, call_in_applies=True,
        outcome="Award the contract for Primary and Secondary Intervention Services to Bromley "
                "Third Sector Enterprise for 3 years with the option to extend for up to 2 "
                "years, at £2.7m per annum.",
    )
    for sequence in (1, 2):
        decided = add_months(initial_end, 12 * (sequence - 1) - 7)
        decision = _decision(
            well, purpose=DecisionPurpose.EXTENSION,
            decision_maker=DecisionMaker.DELEGATED_OFFICER,
            body_name="Director of Adult Social Care", meeting_date=decided,
            report_reference=f"ACH-EXT-{sequence}",
            outcome=f"Exercise extension option {sequence} (12 months).",
        )
        _option(well, sequence, 12, decision)
    upsert(Variation, contract=well,
        description="Innovation fund used to add a hospital discharge support element",
        defaults={"date": add_months(start, 20), "decision": award,
                  "value_change": Decimal("150000.00")},
    )
    _lines(well, BROMLEY_WELL_PATHWAYS)
    _shares(well, (bromley, "74.00", True), (sel_icb, "26.00", True))
    upsert(ReviewDate, contract=well, description="Annual contract review with Bromley Well",
        defaults={"date": today + timedelta(days=21)},
    )

    # Dementia Hub: Council lead, funded through the Better Care Fund; live.
    hub_start = _month_start(add_months(today, -26))
    hub = _contract(
        holder=bromley, reference="ECHS-DH-01", manager=alicia, title="Bromley Dementia Hub",
        description="Information, advice and post-diagnosis support for people with dementia "
                    "and their carers, working with the Memory Clinic. Commissioned by the "
                    "Council with the ICB through the Better Care Fund. Collects NHS numbers "
                    "(pseudonymised) to track impact on care packages and admissions.",
        service_area=ServiceArea.ADULT_SOCIAL_CARE,
        provider=orgs["Alzheimer's Society (Bromley Dementia Hub)"],
        lead_commissioner=bromley, partnership=bromley_partnership,
        procurement_regime=ProcurementRegime.PCR_2015,
        procurement_route=ProcurementRoute.PCR_LIGHT_TOUCH, tendered=True,
        start_date=hub_start, initial_end_date=add_months(hub_start, 36) - timedelta(days=1),
        notice_period_months=6, annual_value=Decimal("320000.00"), status=ContractStatus.LIVE,
    )
    _option(hub, 1, 12)
    _shares(hub, (bromley, "100.00", True))

    # Section 75 services, each held and led by its nominated lead.
    s75_start = date(financial_year_start(today) - 2, 4, 1)
    for reference, title, lead_name, provider_name, area, value in SECTION_75:
        lead = orgs[lead_name]
        other = sel_icb if lead == bromley else bromley
        contract = _contract(
            holder=lead, reference=reference, manager=alicia if lead == bromley else paul,
            title=title, description="A service within the Bromley Section 75 agreement "
                                     f"(nominated lead: {lead.display_name}).",
            service_area=area, provider=orgs[provider_name], lead_commissioner=lead,
            partnership=bromley_partnership, procurement_regime=ProcurementRegime.PCR_2015,
            procurement_route=ProcurementRoute.PCR_LIGHT_TOUCH, tendered=False,
            start_date=s75_start, initial_end_date=date(s75_start.year + 5, 3, 31),
            notice_period_months=12, annual_value=Decimal(value), status=ContractStatus.LIVE,
        )
        _shares(contract, (lead, "60.00", True), (other, "40.00", True))

    # Merton: community services with CLCH, held and led by the ICB, ending this March.
    merton_end = date(financial_year_start(today) + 1, 3, 31)
    clch = _contract(
        holder=swl_icb, reference="MCS-CLCH-2016", manager=richard,
        title="Merton community health services",
        description="Community health services including c£4m of public health and children's "
                    "services commissioned by the Council, jointly commissioned with the ICB "
                    "(formerly Merton CCG).",
        service_area=ServiceArea.COMMUNITY_HEALTH,
        provider=orgs["Central London Community Healthcare NHS Trust"],
        lead_commissioner=swl_icb, partnership=merton_partnership,
        procurement_regime=ProcurementRegime.PCR_2015,
        procurement_route=ProcurementRoute.PCR_LIGHT_TOUCH, tendered=True,
        start_date=date(merton_end.year - 5, 4, 1),
        initial_end_date=date(merton_end.year - 1, 3, 31), notice_period_months=6,
        annual_value=Decimal("24000000.00"), status=ContractStatus.EXTENDED,
    )
    extension = _decision(
        clch, purpose=DecisionPurpose.EXTENSION, decision_maker=DecisionMaker.ICB_BOARD,
        body_name="Merton Health and Care Together Committee",
        meeting_date=date(merton_end.year - 2, 11, 15), report_reference="MHCT-24-11",
        outcome="Extend the community services contract by 12 months to allow "
                "re-commissioning.", is_key=True,
    )
    _option(clch, 1, 12, extension)
    _decision(
        clch, purpose=DecisionPurpose.RECOMMISSIONING,
        decision_maker=DecisionMaker.CABINET, body_name="Merton Cabinet",
        meeting_date=add_months(merton_end, -16), report_reference="CAB-CS-19",
        outcome="Start market engagement for integrated community services from 1 April, "
                "with the carers support service and other services in scope.", is_key=True,
    )
    _lines(clch, MERTON_SERVICES_IN_SCOPE)
    _shares(clch, (swl_icb, "83.00", True), (merton, "17.00", True))

    recommission = _contract(
        holder=swl_icb, reference="MCS-2027", manager=richard,
        title="Merton integrated community services (re-commissioning)",
        description="Integrated community health and care services for Merton, with the "
                    "voluntary sector and Primary Care Networks.",
        service_area=ServiceArea.COMMUNITY_HEALTH,
        provider=orgs["Central London Community Healthcare NHS Trust"],
        lead_commissioner=swl_icb, partnership=merton_partnership,
        procurement_regime=ProcurementRegime.PSR,
        procurement_route=ProcurementRoute.PSR_COMPETITIVE_PROCESS, tendered=True,
        start_date=merton_end + timedelta(days=1),
        initial_end_date=date(merton_end.year + 5, 3, 31), notice_period_months=12,
        annual_value=Decimal("26500000.00"), status=ContractStatus.IN_PROCUREMENT,
    )
    _option(recommission, 1, 24)
    _lines(recommission, [*MERTON_SERVICES_IN_SCOPE, "Carers Support services",
                          "Community Equipment", "Dementia Hub"])
    _shares(recommission, (swl_icb, "80.00", True), (merton, "20.00", True))

    carers_start = date(financial_year_start(today) - 1, 7, 1)
    carers = _contract(
        holder=merton, reference="ASC-CSM-01", manager=richard,
        title="Merton carers support service",
        description="Core carers support contract; in scope for the integrated community "
                    "services re-commissioning.",
        service_area=ServiceArea.CARERS, provider=orgs["Carers Support Merton"],
        lead_commissioner=merton, partnership=merton_partnership,
        procurement_regime=ProcurementRegime.PA_2023,
        procurement_route=ProcurementRoute.PA_DIRECT_AWARD, tendered=False,
        start_date=carers_start, initial_end_date=add_months(carers_start, 24) - timedelta(1),
        notice_period_months=3, annual_value=Decimal("285000.00"), status=ContractStatus.LIVE,
    )
    _shares(carers, (merton, "100.00", True))

    load_frameworks(stdout)
    stdout.write(f"Contracts: {Contract.objects.count()} in the register.")


# --- The Early Intervention and Prevention framework (seed 004) ------------------------------
#
# Cambridgeshire County Council (lead), Peterborough City Council and the ICB (formerly the
# CCG) under an Inter Authority Agreement: 5 + 2 years from 1 April 2021, four lots (Lot 4
# under review), the Annex 2 providers admitted to their lots, and one call-off for each
# Annex 2 contract. The paper gives the providers, their lots and the total (£614,836 a
# year); the split of that total between the call-offs, their titles and their commissioners'
# shares are illustrative.

EIP_REFERENCE = "EIP-2021"
EIP_PARTNERSHIP = "Cambridgeshire and Peterborough Joint Commissioning"
CCC = "Cambridgeshire County Council"
PCC = "Peterborough City Council"
CP_ICB = "NHS Cambridgeshire and Peterborough Integrated Care Board"
SENSORY = "Cambridgeshire County Council Sensory Service"
EIP_TOTAL = Decimal("614836.00")

_COMMON_SKILLS = [
    "Ability to signpost effectively where requirements fall outside of service scope",
    "Able to assess and manage risk effectively",
    "Service users and carers are consistently involved in the co-production, development "
    "and delivery of services",
]
EIP_LOTS = [
    (1, "Support for hospital discharge and admission avoidance", "active",
     "Services which will support the timely discharge of people from hospital or to prevent "
     "admission/re-admission of individuals into an acute setting",
     ["Developed partnerships with acute and social care settings",
      "Able to effectively communicate and work with statutory services across health and "
      "social care",
      "Recovery and re-ablement focussed delivery which promotes and enables independence",
      *_COMMON_SKILLS],
     ["Reduction in discharge times from acute settings", "Support effective discharge processes",
      "Prevent of admission and re-admission wherever possible",
      "Provide high quality assessments for support needs", "Identification and mitigation of risk",
      "Service users are supported to increase independence and improve quality of life"]),
    (2, "Information and advice", "active",
     "Services which deliver information and advice to improve access and awareness",
     ["Able to deliver high quality advice and information through a variety of methods and "
      "media appropriate to specific cohorts",
      "Knowledge of local systems and pathways to support accurate and timely information and "
      "advice",
      "Delivery of services to support independence and enable people to self-service wherever "
      "possible", *_COMMON_SKILLS],
     ["Information is easy to access and understand",
      "Advice for individuals is available to meet their specific circumstances",
      "Self-service resources are available to support delivery of services",
      "Services are able to measure access to information and impact of advice",
      "Services are delivered in an inclusive way which meets the needs of specific cohorts and "
      "hard to engage communities"]),
    (3, "Community support", "active",
     "Services which are delivered in local communities or within people's homes supporting "
     "increasing or prolonging independence and improving social connections",
     ["Able to effectively communicate and work across pathways within local communities",
      "Able to adapt and develop local responses to meet needs",
      "Recovery and reablement focussed delivery which promotes and enables independence",
      "Understand the importance of social connections and impact on health and wellbeing",
      *_COMMON_SKILLS],
     ["Individuals are able to maintain their independence",
      "Individuals feel more connected to their communities",
      "Provide quality assessments for support needs and identification and mitigation of risk",
      "Service users are supported to increase independence and improve quality of life"]),
    (4, "Day opportunities", "under_review",
     "Services which provide centres within local communities where people with support needs "
     "can go to meet others, engage in a range of appropriate activities, reducing social "
     "isolation and maximising independence. Being scoped for inclusion subject to the outcome "
     "of a wider review into the commissioning of Day Opportunities: this lot may be removed.",
     ["Developed partnerships with social care and community settings",
      "Able to effectively communicate and work with statutory services",
      "Able to adapt/flex offer to meet the preferences of those using services",
      "Recovery and reablement focussed delivery ethos which promotes and enable independence",
      *_COMMON_SKILLS],
     ["Individuals increase their social connections",
      "Informal carers are provided with an opportunity for a break from their caring "
      "responsibilities",
      "Provide quality assessments for support needs and identification and mitigation of risk",
      "Service users are supported to maintain/increase independence and improve quality of "
      "life"]),
]
# Annex 2: provider → lots admitted to.
EIP_ADMISSIONS = [
    ("Care Network Cambridgeshire", (1,)),
    ("Caring Together Charity", (1, 3)),
    ("Hunts Forum of Voluntary Organisations", (2,)),
    ("Age UK Cambridgeshire and Peterborough", (2, 3)),
    (SENSORY, (2, 3)),
    ("Volunteer Action Cambridgeshire", (2, 3)),
]
# One call-off per Annex 2 contract: reference, title, provider, lot, annual value,
# shares [(organisation, %)], funding, start, end.
EIP_CALL_OFFS = [
    ("EIP-L1-01", "Home from hospital support", "Care Network Cambridgeshire", 1, "98500",
     [(CP_ICB, "100")], "own_budget", date(2021, 10, 1), date(2027, 3, 31)),
    ("EIP-L3-01", "Carers' support in the community", "Caring Together Charity", 3, "112000",
     [(CCC, "50"), (CP_ICB, "50")], "section_75", date(2021, 10, 1), date(2027, 3, 31)),
    ("EIP-L1-02", "Carers' hospital discharge support", "Caring Together Charity", 1, "46250",
     [(CP_ICB, "100")], "own_budget", date(2021, 10, 1), date(2027, 3, 31)),
    ("EIP-L2-01", "Voluntary sector information and advice", "Hunts Forum of Voluntary "
     "Organisations", 2, "38400", [(CP_ICB, "100")], "own_budget", date(2022, 4, 1),
     date(2027, 3, 31)),
    ("EIP-L3-02", "Community navigators", "Age UK Cambridgeshire and Peterborough", 3,
     "87600", [(CCC, "50"), (CP_ICB, "50")], "section_75", date(2021, 10, 1),
     date(2027, 3, 31)),
    ("EIP-L3-03", "Information, advice and home support", "Age UK Cambridgeshire and "
     "Peterborough", 3, "72300", [(PCC, "40"), (CP_ICB, "60")], "section_256",
     date(2022, 4, 1), date(2028, 3, 31)),
    ("EIP-L2-02", "Later life information and advice", "Age UK Cambridgeshire and "
     "Peterborough", 2, "41900", [(CP_ICB, "100")], "own_budget", date(2022, 4, 1),
     date(2028, 3, 31)),
    ("EIP-L3-04", "Sensory support services", SENSORY, 3, "54286",
     [(CCC, "50"), (CP_ICB, "50")], "section_256", date(2021, 10, 1), date(2027, 3, 31)),
    ("EIP-L3-05", "Volunteer befriending and community support", "Volunteer Action "
     "Cambridgeshire", 3, "33600", [(CP_ICB, "100")], "own_budget", date(2022, 4, 1),
     date(2028, 3, 31)),
    ("EIP-L2-03", "Sensory information and advice", SENSORY, 2, "30000", [(CP_ICB, "100")],
     "own_budget", date(2022, 4, 1), date(2028, 3, 31)),
]


def load_frameworks(stdout) -> None:
    """The EIP framework, its lots, windows, admissions and call-offs. Safe to run twice:
    rows are matched on their natural keys and call-offs already made are left alone."""
    today = date.today()
    partnership = Partnership.objects.get(name=EIP_PARTNERSHIP)
    upsert(Organisation, name=SENSORY, defaults={"short_name": "CCC Sensory Service",
                                "kind": OrganisationKind.OTHER_PUBLIC_BODY},
    )
    orgs = {o.name: o for o in Organisation.objects.filter(
        name__in=[CCC, PCC, CP_ICB, *(name for name, _lots in EIP_ADMISSIONS)])}
    sandra = User.objects.filter(email="sandra.pedley@cpicb.example.org").first()
    framework, _ = upsert(Framework, partnership=partnership, reference=EIP_REFERENCE,
        defaults={
            "title": "Early Intervention and Prevention",
            "description": "A framework for early intervention and prevention services, jointly "
                           "procured by Cambridgeshire County Council, Peterborough City Council "
                           "and the CCG (now the ICB) under an Inter Authority Agreement. "
                           "Commissioners call off jointly or individually under NHS Standard "
                           "Contract terms. No volume of work is guaranteed.",
            "start_date": date(2021, 4, 1), "initial_term_months": 60, "extension_months": 24,
            # The Annex 2 contracts' annual value over the full 5 + 2 years.
            "estimated_total_value": EIP_TOTAL * 7,
            "open_to_new_providers": True,
            "call_off_rules": CallOffRules.DIRECT_AWARD_ALLOWED,
            "status": FrameworkStatus.LIVE,
        },
    )
    for former_lead in FrameworkParty.objects.filter(framework=framework, is_lead=True).exclude(
            organisation=orgs[CCC]):
        former_lead.is_lead = False
        former_lead.save()
    for name in (CCC, PCC, CP_ICB):
        upsert(FrameworkParty, framework=framework, organisation=orgs[name],
               defaults={"is_lead": name == CCC})
    lots = {}
    for number, title, status, description, skills, outcomes in EIP_LOTS:
        lots[number], _ = upsert(Lot, framework=framework, number=number,
            defaults={"title": title, "status": status, "description": description,
                      "provider_skills": "\n".join(skills), "outcomes": "\n".join(outcomes)},
        )
    initial, _ = upsert(ProcurementWindow, framework=framework, opens=date(2021, 1, 4),
                        defaults={"closes": date(2021, 2, 12)})
    if today <= framework.end_date and not framework.windows.filter(
            opens__lte=today, closes__gte=today).exists():
        latest = framework.windows.order_by("-closes").first()
        opens = max(today - timedelta(days=14), latest.closes + timedelta(days=1))
        if opens <= today:
            ProcurementWindow.objects.create(framework=framework, opens=opens,
                                             closes=today + timedelta(days=28))
    for name, numbers in EIP_ADMISSIONS:
        for number in numbers:
            upsert(
                ProviderApplication, provider=orgs[name], lot=lots[number],
                decision=ApplicationDecision.ADMITTED,
                defaults={"window": initial, "submitted_on": date(2021, 2, 10),
                          "evaluation": EvaluationResult.CRITERIA_MET,
                          "evaluated_by": sandra, "evaluated_on": date(2021, 3, 1),
                          "evaluation_notes": "Light-touch evaluation: viable, robust and "
                                              "experienced in the lot area.",
                          "framework_agreement_date": date(2021, 4, 1)},
            )
    current = framework.windows.filter(opens__lte=today, closes__gte=today).first()
    if current is not None:
        # A provider already on the framework applying to another lot in the current window.
        ProviderApplication.objects.get_or_create(
            provider=orgs["Care Network Cambridgeshire"], lot=lots[3],
            decision=ApplicationDecision.PENDING,
            defaults={"window": current, "submitted_on": max(current.opens, today -
                                                             timedelta(days=3))},
        )
    made = set(CallOff.objects.filter(lot__framework=framework).values_list(
        "contract__reference", flat=True))
    for reference, title, provider, number, value, shares, funding, start, end in EIP_CALL_OFFS:
        if reference in made:
            continue
        share_inputs = [ShareInput(orgs[org], Decimal(pct)) for org, pct in shares]
        call_off_create(
            data=CallOffInput(
                lot=lots[number], provider=orgs[provider],
                award_method=AwardMethod.DIRECT_AWARD,
                direct_award_justification="Continuity of an existing service in scope of the "
                                           "framework (Annex 2), awarded to the incumbent "
                                           "admitted to the lot.",
                funding_arrangement=funding, called_off_on=start - timedelta(days=60),
                reference=reference, title=title, service_area=ServiceArea.ADULT_SOCIAL_CARE,
                start_date=start, initial_end_date=end, annual_value=Decimal(value),
                lead_commissioner=share_inputs[0].organisation, shares=share_inputs,
            ),
            created_by=sandra,
        )
    total = sum(c.contract.annual_value for c in CallOff.objects.filter(
        lot__framework=framework).select_related("contract"))
    stdout.write(f"Frameworks: {framework.reference} with {len(lots)} lots, "
                 f"£{total:,.2f} a year called off.")
