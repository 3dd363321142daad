"""Demo performance data from seed 003: Bromley Well's generic outputs and pathway KPIs and
the Dementia Hub's KPIs, eight quarters of returns in every state (accepted, queried,
submitted, draft, overdue), some KPIs red, a Procurement Act assessment and pseudonymised
service-user lists. Safe to run any number of times: existing rows are left alone.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from commissioning.models import User
from commissioning.periods import financial_year_for
from contracts.models import Contract
from monitoring import nhs_numbers, reporting_periods, selectors
from monitoring.models import (
    DataType,
    Direction,
    Frequency,
    KPITemplateSet,
    PerformanceReturn,
    Quadrant,
    ServiceUserList,
)
from monitoring.reports import demo as report_demo
from monitoring.services import assessments as assessment_services
from monitoring.services import kpis as kpi_services
from monitoring.services import return_uploads
from monitoring.services import returns as return_services
from monitoring.services import service_users as service_user_services

BROMLEY_WELL = "CS17033-PSIS"
DEMENTIA_HUB = "ECHS-DH-01"

# Per quarter (oldest first) the figure for each KPI: counts as numbers, percentages as
# (numerator, denominator). Chosen so that some quarters are red and the trend is visible.
WELL_FIGURES = {
    "BW-G1": [(410, 520), (430, 530), (455, 540), (470, 560), (500, 590), (480, 600),
              (455, 610), (470, 600)],
    "BW-G2": [(470, 520), (480, 530), (440, 540), (420, 560), (450, 590), (470, 600),
              (430, 610), (440, 600)],
    "BW-G3": [(390, 520), (400, 530), (420, 540), (430, 560), (445, 590), (455, 600),
              (470, 610), (465, 600)],
    "BW-G4": [(480, 520), (490, 530), (500, 540), (520, 560), (545, 590), (555, 600),
              (560, 610), (550, 600)],
    "BW-G5": [(300, 520), (320, 530), (350, 540), (380, 560), (400, 590), (410, 600),
              (420, 610), (430, 600)],
    "BW-G6": [520, 530, 540, 560, 590, 600, 610, 600],
    "BW-CAR1": [140, 150, 155, 160, 170, 120, 165, 175],
    "BW-DEM1": [60, 62, 58, 70, 75, 80, 78, 82],
}
HUB_FIGURES = {
    "DH1": [150, 171, 186, 190, 200, 176, 182, 196],
    "DH2": [(140, 150), (160, 171), (180, 186), (181, 190), (170, 200), (150, 176),
            (149, 182), (170, 196)],
    "DH3": [(95, 100), (118, 120), (130, 131), (120, 122), (125, 130), (131, 135),
            (112, 128), (128, 130)],
    "DH4": [(80, 90), (84, 92), (90, 95), (88, 96), (91, 97), (86, 98), (82, 96), (90, 97)],
    "DH5": [(60, 75), (61, 78), (64, 80), (66, 81), (70, 84), (71, 85), (69, 86), (72, 86)],
    "DH6": [5, 6, 6, 7, 6, 9, 5, 6],
    "DH7": [30, 38, 46, 50, 44, 41, 47, 52],
}
# State of each quarter's return, oldest first; None = nothing sent (overdue).
WELL_STATES = ["accepted"] * 5 + ["queried", "submitted", "draft"]
HUB_STATES = ["accepted"] * 6 + ["submitted", None]

PATHWAY_KPIS = [
    # code, name, pathway name contains, target
    ("BW-CAR1", "Carers supported through the Carers' Support pathway", "Carer", "150"),
    ("BW-DEM1", "People supported through the Dementia Support pathway", "Dementia", "65"),
]


def _user(email: str) -> User | None:
    return User.objects.filter(email=email).first()


def _ensure_kpis(contract: Contract, set_name: str, actor: User | None) -> None:
    template_set = KPITemplateSet.objects.filter(name=set_name).first()
    if template_set is not None:
        kpi_services.templates_copy(contract=contract, template_set=template_set, copied_by=actor)


def _ensure_pathway_kpis(contract: Contract, actor: User | None) -> None:
    existing = set(contract.kpis.values_list("code", flat=True))
    for order, (code, name, pathway, target) in enumerate(PATHWAY_KPIS, start=20):
        if code in existing:
            continue
        line = contract.service_lines.filter(name__icontains=pathway).first()
        kpi_services.kpi_create(
            contract=contract,
            data=kpi_services.KPIInput(
                code=code, name=name, quadrant=Quadrant.HOW_MUCH, data_type=DataType.COUNT,
                direction=Direction.HIGHER, frequency=Frequency.QUARTERLY, unit="people",
                service_line_id=line.pk if line else None, order=order),
            target=Decimal(target), tolerance=Decimal("10"), created_by=actor,
        )


def _inputs(contract: Contract, period, figures: dict, index: int) -> list:
    inputs = []
    for kpi in selectors.kpis_for_period(contract, period):
        series = figures.get(kpi.code)
        if not series:
            continue
        figure = series[index % len(series)]
        if kpi.is_percentage:
            inputs.append(return_services.ValueInput(
                kpi_id=kpi.pk, numerator=Decimal(figure[0]), denominator=Decimal(figure[1])))
        else:
            inputs.append(return_services.ValueInput(kpi_id=kpi.pk, value=Decimal(figure)))
    return inputs


def _returns(contract: Contract, periods: list, figures: dict, states: list, *,
             submitter: User | None, reviewer: User | None) -> int:
    made = 0
    for index, (period, state) in enumerate(zip(periods, states, strict=True)):
        if state is None or period.end_date < contract.start_date:
            continue
        if PerformanceReturn.objects.filter(contract=contract, period=period).exists():
            continue
        made += 1
        ret = return_services.return_save_draft(
            contract=contract, period=period, values=_inputs(contract, period, figures, index),
            overall_commentary=f"{period.label}: referrals steady; staffing "
                               f"{'stretched' if index % 3 == 1 else 'stable'}.",
            expected_version=None, saved_by=submitter,
        )
        for kpi in contract.kpis.filter(evidence_required=True):
            return_uploads.evidence_upload(
                performance_return=ret, kpi=kpi, uploaded_by=submitter,
                upload=SimpleUploadedFile(f"{kpi.code} evidence {period.code}.pdf",
                                          b"%PDF-1.4\n% demo evidence\n"))
        if state == "draft":
            continue
        return_services.return_submit(performance_return=ret, declaration=True,
                                      expected_version=ret.version, submitted_by=submitter)
        if state == "accepted":
            return_services.return_accept(performance_return=ret, expected_version=ret.version,
                                          accepted_by=reviewer)
        elif state == "queried":
            first = selectors.kpis_for_period(contract, period)[1]
            return_services.return_query(
                performance_return=ret, expected_version=ret.version,
                kpi_comments={first.pk: "This has dropped since last quarter: please explain "
                                        "and check the denominator."},
                comment="Please check the crisis avoidance figure before we accept.",
                queried_by=reviewer)
    return made


def _valid_test_numbers(start: int, count: int) -> list[str]:
    """NHS numbers from the 999 test range (never issued to real people)."""
    numbers, candidate = [], start
    while len(numbers) < count:
        nine = f"{candidate:09d}"
        digit = nhs_numbers.check_digit(nine)
        if digit is not None:
            numbers.append(nine + str(digit))
        candidate += 1
    return numbers


def _service_users(contract: Contract, period, numbers: list[str], user: User | None) -> None:
    if ServiceUserList.objects.filter(contract=contract, period=period).exists():
        return
    content = ("NHS number\n" + "\n".join(nhs_numbers.format_number(n) for n in numbers))
    service_user_services.service_users_upload(
        contract=contract, period=period, uploaded_by=user,
        upload=SimpleUploadedFile("service-users.csv", content.encode()))


def load(stdout) -> None:
    well = Contract.objects.filter(reference=BROMLEY_WELL).first()
    hub = Contract.objects.filter(reference=DEMENTIA_HUB).first()
    if well is None and hub is None:
        stdout.write("Monitoring demo skipped: the Bromley Well and Dementia Hub contracts "
                     "are not in the register.")
        return
    manager = _user("alicia.munday@bromley.example.org")
    submitter = _user("submitter@bromleywell.example.org")
    today = timezone.localdate()
    # The demo records against these quarters, so their rows must exist (reading never makes them).
    reporting_periods.periods_open(today=today)
    periods = reporting_periods.recent_periods(kind="quarter", today=today, count=8)
    made = 0
    if well is not None:
        _ensure_kpis(well, "Bromley Well generic outputs", manager)
        _ensure_pathway_kpis(well, manager)
        made += _returns(well, periods, WELL_FIGURES, WELL_STATES, submitter=submitter,
                         reviewer=manager)
        last_year = financial_year_for(today - timedelta(days=365))
        assessment = well.performance_assessments.filter(financial_year=last_year).first()
        if assessment is None:
            assessment_services.assessment_draft(contract=well, financial_year=last_year,
                                                 drafted_by=manager)
    if hub is not None:
        _ensure_kpis(hub, "Dementia Hub", manager)
        # The baseline now exists: the 12-month setting KPI gets its target from 4 quarters
        # ago, and the caseload target rose; earlier periods keep the targets they had.
        dh5 = hub.kpis.filter(code="DH5").first()
        if dh5 is not None:
            kpi_services.target_set(kpi=dh5, valid_from=periods[-4], target_value=Decimal("85"),
                                    amber_tolerance=Decimal("3"), set_by=manager)
        dh1 = hub.kpis.filter(code="DH1").first()
        if dh1 is not None:
            kpi_services.target_set(kpi=dh1, valid_from=periods[-3], target_value=Decimal("195"),
                                    amber_tolerance=Decimal("15"), set_by=manager)
        made += _returns(hub, periods, HUB_FIGURES, HUB_STATES, submitter=None,
                         reviewer=manager)
    if well is not None and hub is not None:
        shared = _valid_test_numbers(990_000_000, 40)
        _service_users(hub, periods[-3], shared[:30], None)
        _service_users(well, periods[-3], shared[18:] + _valid_test_numbers(990_100_000, 25),
                       submitter)
    stdout.write(f"Monitoring: {made} demo returns created across "
                 f"{periods[0].label} to {periods[-1].label}.")
    report_demo.load(stdout)
