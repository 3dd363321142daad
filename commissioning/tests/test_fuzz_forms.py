"""Property-based fuzzing of every form-handling view (POST).

Each view gets generated POST bodies: for every field a plausible value (so the form and the
service behind it really run), a hostile one (empty, 10k characters, RTL marks, emoji, NUL
bytes, combining marks, numbers with commas, pound signs, exponents, NaN and Infinity,
impossible dates, SQL, HTML and formula payloads, wrong ids) or nothing at all, plus junk
fields. Signed in as a persona allowed to use the view.

Properties, for every input:
- never a server error (the test client raises on one; nothing here catches it);
- an error response (a 200/400 page with errors, or a 404) saved nothing: every domain and
  history table has the same rows as before;
- a success (a redirect) saved only valid rows: each passes ``full_clean``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commissioning import services
from commissioning.models import Invitation, Role
from commissioning.tests import strategies as fz
from commissioning.tests.strategies import checkbox, choice, id_text, multi
from commissioning.tests.strategies import field as f
from contracts import imports
from contracts.frameworks.models import (
    ApplicationDecision,
    AwardMethod,
    CallOffRules,
    EvaluationResult,
    Framework,
    FrameworkStatus,
    FundingArrangement,
    LotStatus,
    ProcurementWindow,
    ProviderApplication,
)
from contracts.frameworks.tests.factories import admit, framework_for
from contracts.models import (
    Contract,
    ContractStatus,
    DecisionMaker,
    DecisionPurpose,
    DocumentKind,
    ProcurementRegime,
    ProcurementRoute,
    RegisterImport,
    ServiceArea,
)
from contracts.tests.factories import ExtensionOptionFactory, contract_for, full_contract
from funding.models import (
    AgreementKind,
    AllocationBasis,
    AreaOfSpend,
    ArrangementType,
    BudgetType,
    Commissioner,
    FinanceImport,
    ImportStatus,
    RiskShareRule,
    Scheme,
    SchemeType,
    Section75Agreement,
    TopSlice,
    UnderspendRule,
)
from funding.tests.factories import agreement_for, contribute, scheme_for, source
from funding.tests.factories import agreement_for as other_agreement
from monitoring import tasks
from monitoring.models import (
    KPI,
    DataType,
    Direction,
    Frequency,
    KPITemplateSet,
    PerformanceReturn,
    Quadrant,
    Rating,
)
from monitoring.reports import committee as committee_reports
from monitoring.reports.models import CommitteeReport, CommitteeReportType, DecisionMakerChoice
from monitoring.services import assessments as assessment_services
from monitoring.tests.factories import fill_and_submit, kpi_with_target, percentage_kpi, quarter

SCALE = float(os.environ.get("FUZZ_SCALE", "1"))
EXAMPLES = 45  # per view; about 50 views

TEXT = st.sampled_from(("Carers support", "Dementia hub", "A", "Review of the service"))
DATE = fz.plausible_date()
ANY_DATE = st.one_of(DATE, fz.date_text())
MONEY = fz.money_text()
SMALL_INT = st.integers(min_value=-5, max_value=130).map(str)
PERCENT = st.sampled_from(("0", "50", "40", "60", "100", "33.33", "100.01", "-1", "50%"))


def fuzz_settings(examples: int = EXAMPLES):
    return settings(max_examples=max(1, int(examples * SCALE)), deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


@dataclass
class Spec:
    name: str
    persona: str
    url: object  # env -> url
    fields: object  # env -> {name: strategy}
    examples: int = EXAMPLES
    allowed_on_error: tuple[str, ...] = ()  # tables an error response may still write
    anonymous: bool = False
    ok_statuses: tuple[int, ...] = (200, 302, 400, 404)
    extra: dict = field(default_factory=dict)


def current(getter):
    """A value read at POST time (a record's current version)."""
    return st.just(getter)


def resolve(data: dict) -> dict:
    out = {}
    for key, value in data.items():
        out[key] = value() if callable(value) else value
    out.setdefault("csrfmiddlewaretoken", "token")  # a browser always sends one
    return out


def version_of(model, pk):
    def read():
        return str(model.objects.values_list("version", flat=True).get(pk=pk))
    return st.one_of(current(read), current(read), st.sampled_from(fz.HUGE_INTS))


def run_spec(spec: Spec, env, client):
    url = spec.url(env)
    strategy = fz.form_data(spec.fields(env))

    @fuzz_settings(spec.examples)
    @given(data=strategy)
    def run(data):
        fz.count_form(spec.name)
        before = fz.snapshot()
        response = client.post(url, resolve(data))
        after = fz.snapshot()
        assert response.status_code in spec.ok_statuses, (spec.name, response.status_code)
        if response.status_code == 302:
            fz.check_saved_rows(before, after)
        else:
            changed = fz.changes(before, after)
            for label in spec.allowed_on_error:
                changed.pop(label, None)
            assert changed == {}, (spec.name, response.status_code, changed)

    run()


def run_group(specs, env, client_for, world):
    clients = {}
    for spec in specs:
        if spec.anonymous:
            client = Client()
        else:
            if spec.persona not in clients:
                clients[spec.persona] = client_for(getattr(world, spec.persona))
            client = clients[spec.persona]
        run_spec(spec, env, client)


@pytest.fixture
def quiet(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.CELERY_TASK_ALWAYS_EAGER = True
    return tmp_path


def ids(*objects):
    return [o.pk for o in objects]


# --- Commissioning: invitations, organisations, passwords, two-factor ------------------------

def test_fuzz_commissioning_forms(world, client_for, quiet):
    org_ids = ids(world.council_a, world.icb_a)
    bad_org_ids = ids(world.council_b, world.provider_y)
    _invitation = services.invitation_create(
        invited_by=world.partnership_admin_a, full_name="New Person", email="new@example.org",
        organisation=world.council_a, role=Role.COMMISSIONER)

    token, token_hash = Invitation.new_token()
    Invitation.objects.filter(email="new@example.org").update(token_hash=token_hash)
    password = st.sampled_from(("correct horse battery staple", "short", "password123456",
                                "Commissioning-2026!", ""))
    specs = [
        Spec("invite", "partnership_admin_a", lambda e: reverse("invite"), lambda e: {
            "full_name": f(TEXT), "email": f(st.sampled_from((
                "a@example.org", "CARA.commissioner.a@example.org", "bad@", "x@y.z"))),
            "organisation": f(id_text(org_ids, bad_org_ids)),
            "role": f(choice(Role.values)),
        }),
        Spec("switch_organisation", "commissioner_a", lambda e: reverse("switch_organisation"),
             lambda e: {"organisation": f(id_text(org_ids, bad_org_ids))}),
        Spec("password_change", "commissioner_a", lambda e: reverse("password_change"),
             lambda e: {"old_password": f(password), "new_password1": f(password),
                        "new_password2": f(password)}, examples=30),
        Spec("two_factor_setup", "report_officer_a", lambda e: reverse("two_factor_setup"),
             lambda e: {"otp_token": f(st.integers(0, 999999).map(lambda n: f"{n:06d}"))},
             examples=30),
        Spec("two_factor_verify", "commissioner_a", lambda e: reverse("two_factor_verify"),
             lambda e: {"otp_token": f(st.integers(0, 999999).map(str)),
                        "next": f(st.sampled_from(("/contracts/", "https://evil.example/",
                                                   "//evil", "javascript:alert(1)")))},
             examples=30),
        Spec("invitation_accept", "", lambda e: reverse("invitation_accept", args=[token]),
             lambda e: {"new_password1": f(password), "new_password2": f(password)},
             anonymous=True, examples=30, ok_statuses=(200, 302, 400, 404, 410)),
        Spec("password_reset", "", lambda e: reverse("password_reset"),
             lambda e: {"email": f(st.sampled_from(("commissioner.a@example.org",
                                                    "nobody@example.org", "x")))},
             anonymous=True, examples=30),
    ]
    run_group(specs, None, client_for, world)


# --- Contracts -------------------------------------------------------------------------------

@dataclass
class ContractsEnv:
    contract: object
    other: object
    register_import: object


def contracts_env(world, client_for):
    contract = full_contract(world, status=ContractStatus.LIVE)
    ExtensionOptionFactory(contract=contract, sequence=3)
    other = contract_for(world, partnership=world.partnership_b, holder=world.council_b,
                         lead_commissioner=world.council_b, provider=world.provider_y)
    csv = (b"Contract reference,Title,Service area,Provider,Contract holder,Lead commissioner,"
           b"Procurement route,Start date,End date,Annual value\r\n"
           b"IMP-1,Carers,Carers,New Provider CIC,Bromley Council,Bromley Council,Grant,"
           b"01/04/2025,31/03/2027,1000\r\n")
    client = client_for(world.commissioner_a)
    client.post(reverse("contracts:import"), {
        "partnership": world.partnership_a.pk, "file": SimpleUploadedFile("r.csv", csv)})
    return ContractsEnv(contract=contract, other=other,
                        register_import=RegisterImport.objects.latest("pk")), Contract


def test_fuzz_contract_forms(world, client_for, quiet):
    env, _ = contracts_env(world, client_for)
    c = env.contract
    version = version_of(Contract, c.pk)
    provider_ids = id_text(ids(world.provider_x, world.provider_y),
                           ids(world.council_a, env.other))
    decision_ids = id_text(list(c.decisions.values_list("pk", flat=True)),
                           list(env.other.decisions.values_list("pk", flat=True)) or [999999])
    option_ids = id_text(list(c.extension_options.values_list("pk", flat=True)), [999999])

    def contract_url(name):
        return lambda e: reverse(f"contracts:{name}", args=[e.contract.pk])

    decision_fields = {
        "decision_maker": f(choice(DecisionMaker.values)), "body_name": f(TEXT),
        "meeting_date": f(ANY_DATE), "report_reference": f(TEXT),
        "is_key": f(checkbox()), "is_urgent": f(checkbox()),
        "call_in_applies": f(checkbox()), "outcome": f(TEXT),
    }
    details = {
        "reference": f(st.integers(1, 10 ** 6).map(lambda n: f"FZ-{n}")), "title": f(TEXT),
        "description": f(TEXT), "service_area": f(choice(ServiceArea.values)),
    }
    dates = {"start_date": f(ANY_DATE), "initial_end_date": f(ANY_DATE),
             "notice_period_months": f(SMALL_INT)}
    procurement = {"procurement_regime": f(choice(ProcurementRegime.values)),
                   "procurement_route": f(choice(ProcurementRoute.values))}
    file_strategy = st.tuples(
        st.sampled_from(("a.pdf", "a.docx", "a.csv", "a.txt", "a.exe", "a.pdf.exe", "",
                         "../../etc/passwd", "a" * 300 + ".pdf", "\u202efdp.exe")),
        st.one_of(st.just(b"%PDF-1.4\n%\xe2\xe3\n"), st.binary(max_size=300),
                  st.just(b"hello, world\n"), st.just(b""))).map(
        lambda t: SimpleUploadedFile(t[0] or "x", t[1]))
    mapping = {fld.name: f(st.sampled_from(env.register_import.headers))
               for fld in imports.FIELDS}
    specs = [
        Spec("contract_edit", "commissioner_a", contract_url("edit"), lambda e: {
            **details, **dates, **procurement, "provider": f(provider_ids),
            "tendered": f(checkbox()), "works": f(checkbox()), "annual_value": f(MONEY),
            "vat_not_recoverable": f(MONEY), "version": f(version)}),
        Spec("contract_status", "commissioner_a", contract_url("status"), lambda e: {
            "status": f(choice(ContractStatus.values)), "on": f(ANY_DATE), "version": f(version)}),
        Spec("extension", "commissioner_a", contract_url("extension"), lambda e: {
            "option": f(option_ids), **decision_fields, "version": f(version)}),
        Spec("decision", "commissioner_a", contract_url("decision"), lambda e: {
            "purpose": f(choice(DecisionPurpose.values)), **decision_fields}),
        Spec("variation", "commissioner_a", contract_url("variation"), lambda e: {
            "date": f(ANY_DATE), "description": f(TEXT), "value_change": f(MONEY),
            "term_change_months": f(SMALL_INT), "decision": f(decision_ids)}),
        Spec("review_date", "commissioner_a", contract_url("review_date"), lambda e: {
            "date": f(ANY_DATE), "description": f(TEXT)}),
        Spec("shares", "commissioner_a", contract_url("shares"), lambda e: {
            f"share_{world.council_a.pk}": f(PERCENT), f"share_{world.icb_a.pk}": f(PERCENT),
            f"monitor_{world.council_a.pk}": f(checkbox()),
            f"monitor_{world.icb_a.pk}": f(checkbox())}),
        Spec("document_upload", "commissioner_a", contract_url("document_upload"), lambda e: {
            "kind": f(choice(DocumentKind.values)), "file": f(file_strategy)}),
        Spec("import_map", "commissioner_a",
             lambda e: reverse("contracts:import_map", args=[e.register_import.pk]),
             lambda e: mapping),
        Spec("import_confirm", "commissioner_a", lambda e: e.register_import.get_absolute_url(),
             lambda e: {"create_providers": f(checkbox()),
                        "provider_kind": f(choice(("vcse", "independent_provider", "council")))},
             examples=30),
        Spec("wrong_contract_edit", "commissioner_a",
             lambda e: reverse("contracts:edit", args=[e.other.pk]),
             lambda e: {**details, "version": f(version)}, examples=20),
    ]
    run_group(specs, env, client_for, world)

    # The create journey: every page, then check and create.
    client = client_for(world.commissioner_a)
    partnership_ids = id_text(ids(world.partnership_a), ids(world.partnership_b))
    org_ids = id_text(ids(world.council_a, world.icb_a), ids(world.council_b))
    steps = {
        "details": details,
        "parties": {"partnership": f(partnership_ids), "holder": f(org_ids),
                    "lead_commissioner": f(org_ids), "provider": f(provider_ids),
                    "contract_manager": f(id_text(ids(world.commissioner_a),
                                                  ids(world.commissioner_b)))},
        "procurement": {**procurement, "tendered": f(choice(("yes", "no"))),
                        "status": f(choice(ContractStatus.values)), "awarded_on": f(ANY_DATE)},
        "dates": {**dates, "extension_options": f(st.sampled_from(("", "12, 12", "²", "0")))},
        "values": {"annual_value": f(MONEY), "vat_not_recoverable": f(MONEY)},
        "service-lines": {"service_lines": f(TEXT)},
        "shares": {f"share_{world.council_a.pk}": f(PERCENT),
                   f"share_{world.icb_a.pk}": f(PERCENT)},
    }
    journey = st.fixed_dictionaries({step: fz.form_data(fields)
                                     for step, fields in steps.items()})

    @fuzz_settings(40)
    @given(answers=journey)
    def create(answers):
        fz.count_form("contract_create_journey")
        client.get(reverse("contracts:create"))
        before = fz.snapshot()
        for step, data in answers.items():
            response = client.post(reverse("contracts:create_step", args=[step]), resolve(data))
            assert response.status_code in (200, 302)
        response = client.post(reverse("contracts:create_check"), resolve({}))
        assert response.status_code in (200, 302)
        after = fz.snapshot()
        if response.status_code == 302 and fz.changes(before, after):
            fz.check_saved_rows(before, after)
        else:
            assert fz.changes(before, after) == {}

    create()


# --- Frameworks ------------------------------------------------------------------------------

def test_fuzz_framework_forms(world, client_for, quiet):
    framework = framework_for(world, lots=2)
    today = date.today()
    ProcurementWindow.objects.create(framework=framework, opens=today - timedelta(days=5),
                                     closes=today + timedelta(days=30))
    lot1, lot2 = framework.lots.order_by("number")
    admit(world.provider_x, lot1)

    pending = admit(world.provider_y, lot2, decision=ApplicationDecision.PENDING)
    parties = id_text(ids(world.council_a, world.icb_a), ids(world.council_b, world.provider_x))
    common = {
        "reference": f(st.integers(1, 10 ** 6).map(lambda n: f"FW-Z{n}")), "title": f(TEXT),
        "description": f(TEXT), "parties": f(multi(ids(world.council_a, world.icb_a,
                                                         world.council_b))),
        "lead": f(parties), "start_date": f(ANY_DATE), "initial_term_months": f(SMALL_INT),
        "extension_months": f(SMALL_INT), "estimated_total_value": f(MONEY),
        "open_to_new_providers": f(checkbox()), "call_off_rules": f(choice(CallOffRules.values)),
        "status": f(choice(FrameworkStatus.values)),
    }
    lot_fields = {"number": f(SMALL_INT), "title": f(TEXT), "description": f(TEXT),
                  "provider_skills": f(TEXT), "outcomes": f(TEXT),
                  "status": f(choice(LotStatus.values))}
    specs = [
        Spec("framework_create", "commissioner_a", lambda e: reverse("contracts:framework_create"),
             lambda e: {"partnership": f(id_text(ids(world.partnership_a),
                                                 ids(world.partnership_b))), **common}),
        Spec("framework_edit", "commissioner_a",
             lambda e: reverse("contracts:framework_edit", args=[framework.pk]),
             lambda e: common),
        Spec("lot_create", "commissioner_a",
             lambda e: reverse("contracts:lot_create", args=[framework.pk]), lambda e: lot_fields),
        Spec("lot_edit", "commissioner_a",
             lambda e: reverse("contracts:lot_edit", args=[framework.pk, lot2.pk]),
             lambda e: lot_fields),
        Spec("windows", "commissioner_a",
             lambda e: reverse("contracts:framework_windows", args=[framework.pk]),
             lambda e: {"opens": f(ANY_DATE), "closes": f(ANY_DATE)}),
        Spec("framework_apply", "provider_y_user",
             lambda e: reverse("contracts:framework_apply", args=[framework.pk]),
             lambda e: {"lots": f(multi(ids(lot1, lot2)))}),
        Spec("application_evaluate", "commissioner_a",
             lambda e: reverse("contracts:application_evaluate", args=[pending.pk]),
             lambda e: {"evaluation": f(choice(EvaluationResult.values)),
                        "evaluated_on": f(ANY_DATE), "evaluation_notes": f(TEXT),
                        "decision": f(choice(("admit", "reject"))),
                        "framework_agreement_date": f(ANY_DATE)}),
        Spec("call_off_create", "commissioner_a",
             lambda e: reverse("contracts:call_off_create", args=[framework.pk, lot1.pk]),
             lambda e: {
                 "reference": f(st.integers(1, 10 ** 6).map(lambda n: f"CO-{n}")),
                 "title": f(TEXT), "description": f(TEXT),
                 "service_area": f(choice(ServiceArea.values)),
                 "award_method": f(choice(AwardMethod.values)),
                 "direct_award_justification": f(TEXT),
                 "provider": f(id_text(ids(world.provider_x), ids(world.provider_y))),
                 "called_off_on": f(ANY_DATE), "start_date": f(ANY_DATE),
                 "initial_end_date": f(ANY_DATE), "annual_value": f(MONEY),
                 "extension_options": f(st.sampled_from(("", "12", "12, 12", "²"))),
                 "lead_commissioner": f(parties),
                 "funding_arrangement": f(choice(FundingArrangement.values)),
                 f"invite_{world.provider_x.pk}": f(checkbox()),
                 f"bid_{world.provider_x.pk}": f(checkbox()),
                 f"score_{world.provider_x.pk}": f(PERCENT),
                 f"share_{world.council_a.pk}": f(PERCENT),
                 f"share_{world.icb_a.pk}": f(PERCENT)}),
        Spec("lot_withdraw", "commissioner_a",
             lambda e: reverse("contracts:lot_withdraw", args=[framework.pk, lot2.pk]),
             lambda e: {}, examples=10),
    ]
    run_group(specs, None, client_for, world)
    assert Framework.objects.exists() and ProviderApplication.objects.exists()


# --- Funding ---------------------------------------------------------------------------------

def test_fuzz_funding_forms(world, client_for, quiet):
    agreement = agreement_for(world)
    scheme = scheme_for(agreement, code="BCF-01", budget="100000")
    contribution = contribute(scheme, world.council_a, "50000")
    top_slice = TopSlice.objects.create(agreement=agreement, scheme=scheme, year=2025,
                                        name="Innovation", percent=5)
    contract = contract_for(world)
    other = other_agreement(world, partnership=world.partnership_b, host_partner=world.council_b)
    finance_import = FinanceImport.objects.create(
        agreement=agreement, original_name="a.csv", uploaded_by=world.commissioner_a,
        status=ImportStatus.READY, rows=[{"row": 2, "scheme_code": "BCF-01",
                                          "month": "2025-04-01", "actual": "10.00",
                                          "forecast": None}], errors=[])
    partners = ids(world.council_a, world.icb_a)
    year = st.sampled_from(("2025", "2026", "2027", "2024", "2030", "x"))
    money = f(MONEY)
    a_url = lambda name, *args: lambda e: reverse(f"funding:{name}",  # noqa: E731
                                                  args=[agreement.pk, *args])
    decision = {"decision_maker": f(TEXT), "decision_date": f(ANY_DATE),
                "decision_reference": f(TEXT)}
    agreement_fields = {
        "kind": f(choice(AgreementKind.values)), "title": f(TEXT), "reference": f(TEXT),
        "arrangement_type": f(choice(ArrangementType.values)),
        "host_partner": f(id_text(partners, ids(world.council_b))),
        "pooled_fund_manager": f(id_text(ids(world.commissioner_a), ids(world.commissioner_b))),
        "start_date": f(ANY_DATE), "end_date": f(ANY_DATE), "review_date": f(ANY_DATE),
        "governance_board": f(TEXT), "aims": f(TEXT),
        "risk_share_rule": f(choice(RiskShareRule.values)),
        "underspend_rule": f(choice(UnderspendRule.values)),
        "parallel_reduction": f(choice(("yes", "no"))),
        "version": f(version_of(Section75Agreement, agreement.pk)),
        **{f"partner_{p}": f(checkbox()) for p in partners},
        **{f"share_{p}": f(PERCENT) for p in partners},
    }
    scheme_fields = {
        "code": f(st.integers(1, 10 ** 5).map(lambda n: f"S-{n}")), "name": f(TEXT),
        "lead_partner": f(id_text(partners, ids(world.council_b))),
        "scheme_type": f(choice(SchemeType.values)), "sub_type": f(TEXT),
        "budget_type": f(choice(BudgetType.values)), "is_bcf": f(choice(("yes", "no"))),
        "commissioner": f(choice(Commissioner.values)), "nhs_percent": f(PERCENT),
        "la_percent": f(PERCENT), "provider": f(id_text(ids(world.provider_x))),
        "provider_text": f(TEXT), "area_of_spend": f(choice(AreaOfSpend.values)),
        "planned_outputs": f(MONEY), "output_units": f(TEXT), "is_new": f(choice(("yes", "no"))),
        "version": f(version_of(Scheme, scheme.pk)),
    }
    months = st.dates(min_value=date(2024, 1, 1), max_value=date(2029, 1, 1)).map(
        lambda d: d.replace(day=1).isoformat())
    specs = [
        Spec("agreement_create", "commissioner_a",
             lambda e: reverse("funding:agreement_create")
             + f"?partnership={world.partnership_a.pk}", lambda e: agreement_fields),
        Spec("agreement_edit", "commissioner_a", a_url("agreement_edit"),
             lambda e: agreement_fields),
        Spec("scheme_create", "commissioner_a", a_url("scheme_create"), lambda e: scheme_fields),
        Spec("scheme_edit", "commissioner_a", a_url("scheme_edit", scheme.pk),
             lambda e: scheme_fields),
        Spec("budget_set", "commissioner_a", a_url("budget_set", scheme.pk), lambda e: {
            "year": f(year), "amount": money, "version": f(SMALL_INT)}),
        Spec("contribution_set", "commissioner_a", a_url("contribution_set", scheme.pk),
             lambda e: {"partner": f(id_text(partners, ids(world.council_b))),
                        "year": f(year), "source": f(id_text([source().pk])),
                        "amount": money}),
        Spec("instalment_add", "commissioner_a", a_url("instalment_add", contribution.pk),
             lambda e: {"due_date": f(ANY_DATE), "amount": money, "paid_date": f(ANY_DATE)}),
        Spec("contribution_reduce", "commissioner_a",
             a_url("contribution_reduce", contribution.pk), lambda e: {
                 "new_amount": money, "reason": f(TEXT), **decision,
                 "version": f(SMALL_INT)}),
        Spec("top_slice_create", "commissioner_a", a_url("top_slice_create"), lambda e: {
            "name": f(TEXT), "scheme": f(id_text([scheme.pk])), "year": f(year),
            "percent": f(PERCENT)}),
        Spec("top_slice_draw", "commissioner_a", a_url("top_slice_draw", top_slice.pk),
             lambda e: {"amount": money, "purpose": f(TEXT), **decision}),
        Spec("contract_funding_add", "commissioner_a", a_url("contract_funding_add"),
             lambda e: {"contract": f(id_text([contract.pk])),
                        "scheme": f(id_text([scheme.pk])), "source": f(id_text([source().pk])),
                        "basis": f(choice(AllocationBasis.values)), "amount": money,
                        "share_percent": f(PERCENT)}),
        Spec("actual_record", "commissioner_a", a_url("actual_record", scheme.pk),
             lambda e: {"month": f(months), "actual": money, "forecast_outturn": money}),
        Spec("months", "finance_officer_a", a_url("months"), lambda e: {
            "month": f(months), "action": f(choice(("close", "reopen")))}),
        Spec("year_end", "finance_officer_a", a_url("year_end", 2025), lambda e: {},
             examples=10),
        Spec("import_preview", "commissioner_a", a_url("import_preview", finance_import.pk),
             lambda e: {"action": f(choice(("confirm", "cancel")))}, examples=20),
        Spec("wrong_agreement_edit", "commissioner_a",
             lambda e: reverse("funding:agreement_edit", args=[other.pk]),
             lambda e: agreement_fields, examples=15),
    ]
    run_group(specs, None, client_for, world)


# --- Monitoring ------------------------------------------------------------------------------

def test_fuzz_monitoring_forms(world, client_for, quiet):
    contract = contract_for(world, reference="DH-1")
    count = kpi_with_target(contract, code="DH1", name="Referrals")
    pct = percentage_kpi(contract, code="DH2", name="Contacted")
    yes_no = kpi_with_target(contract, code="DH3", name="Open", data_type=DataType.YES_NO,
                             target=None)
    period = quarter()
    reviewed = contract_for(world, reference="RV-1")
    rv_kpi = kpi_with_target(reviewed, code="RV1", name="People")
    submitted = fill_and_submit(reviewed, period, world.provider_x_user)
    assessment = assessment_services.assessment_draft(contract=reviewed, financial_year="2025/26",
                                                      drafted_by=world.commissioner_a)
    figure = st.one_of(st.integers(0, 200).map(str), MONEY)
    return_args = [contract.pk, period.code]
    kpi_fields = {
        "code": f(st.integers(1, 10 ** 4).map(lambda n: f"K{n}")), "name": f(TEXT),
        "definition": f(TEXT), "service_line": f(id_text([], [1])),
        "quadrant": f(choice(Quadrant.values)), "data_type": f(choice(DataType.values)),
        "unit": f(TEXT), "direction": f(choice(Direction.values)),
        "frequency": f(choice(Frequency.values)), "baseline": f(figure),
        "evidence_required": f(checkbox()), "is_s52": f(checkbox()),
    }

    def return_version():
        ret = PerformanceReturn.objects.filter(contract=contract, period=period).first()
        return str(ret.version) if ret else ""

    template_sets = list(KPITemplateSet.objects.values_list("pk", flat=True)[:3])
    specs = [
        Spec("return_form", "provider_x_user",
             lambda e: reverse("monitoring:return_form", args=return_args), lambda e: {
                 f"kpi-{count.pk}-value": f(figure), f"kpi-{count.pk}-commentary": f(TEXT),
                 f"kpi-{pct.pk}-numerator": f(figure), f"kpi-{pct.pk}-denominator": f(figure),
                 f"kpi-{yes_no.pk}-yes_no": f(choice(("yes", "no"))),
                 "overall_commentary": f(TEXT), "version": f(current(return_version)),
                 "action": f(choice(("save", "continue")))},
             # "Continue" saves the draft first, then shows what is missing: by design.
             allowed_on_error=("monitoring.PerformanceReturn", "monitoring.ReturnValue",
                               "monitoring.HistoricalPerformanceReturn",
                               "monitoring.HistoricalReturnValue")),
        Spec("return_check", "provider_x_user",
             lambda e: reverse("monitoring:return_check", args=return_args), lambda e: {
                 "declaration": f(checkbox()), "version": f(current(return_version))}),
        Spec("evidence_upload", "provider_x_user",
             lambda e: reverse("monitoring:evidence_upload", args=return_args), lambda e: {
                 "kpi": f(id_text([count.pk], [rv_kpi.pk])),
                 "file": f(st.tuples(st.sampled_from(("e.pdf", "e.csv", "e.exe", "e.xlsx")),
                                     st.one_of(st.just(b"%PDF-1.4\n"), st.binary(max_size=200)))
                           .map(lambda t: SimpleUploadedFile(*t)))}),
        Spec("return_review", "commissioner_a",
             lambda e: reverse("monitoring:return_review", args=[submitted.pk]), lambda e: {
                 "decision": f(choice(("accept", "query"))), "comment": f(TEXT),
                 "version": f(version_of(PerformanceReturn, submitted.pk)),
                 f"query-{rv_kpi.pk}": f(TEXT)}),
        Spec("kpi_create", "commissioner_a",
             lambda e: reverse("monitoring:kpi_create", args=[contract.pk]),
             lambda e: kpi_fields),
        Spec("kpi_edit", "commissioner_a",
             lambda e: reverse("monitoring:kpi_edit", args=[count.pk]), lambda e: kpi_fields),
        Spec("target_set", "commissioner_a",
             lambda e: reverse("monitoring:target_set", args=[count.pk]), lambda e: {
                 "valid_from": f(id_text([period.pk], [999999])), "target_value": f(figure),
                 "upper_value": f(figure), "amber_tolerance": f(figure)}),
        Spec("templates_copy", "commissioner_a",
             lambda e: reverse("monitoring:templates_copy", args=[contract.pk]),
             lambda e: {"template_set": f(id_text(template_sets))}, examples=20),
        Spec("assessment_start", "commissioner_a",
             lambda e: reverse("monitoring:assessment_start", args=[reviewed.pk]),
             lambda e: {"financial_year": f(st.sampled_from(("2025/26", "2024/25", "2025",
                                                             "2025/27", "9999/00")))},
             examples=20),
        Spec("assessment", "commissioner_a",
             lambda e: reverse("monitoring:assessment", args=[assessment.pk]), lambda e: {
                 "summary": f(TEXT), "finalise": f(st.just("")),
                 f"rating-{rv_kpi.pk}": f(choice(Rating.values)),
                 f"explanation-{rv_kpi.pk}": f(TEXT)}),
    ]
    run_group(specs, None, client_for, world)
    assert KPI.objects.exists()


# --- Reports ---------------------------------------------------------------------------------

def test_fuzz_report_forms(world, client_for, quiet, monkeypatch):
    # The monthly report is produced by a worker; here only the request is under test.
    monkeypatch.setattr(tasks.generate_monthly_report, "apply_async",
                        lambda *args, **kwargs: None)
    contract = contract_for(world)
    report = committee_reports.committee_report_create(
        partnership=world.partnership_a, report_type=CommitteeReportType.values[0],
        meta=committee_reports.Meta(
            title="Carers", decision_maker=DecisionMakerChoice.values[0], meeting_name="PDS",
            meeting_date=date(2027, 7, 4), is_key_decision=False, is_urgent=False,
            contact_name="Rita", contact_phone="", contact_email="", chief_officer="Chief",
            ward="Borough-wide", report_reference=""),
        created_by=world.report_officer_a, contract=contract)
    keys = [s["key"] for s in report.sections]
    specs = [
        Spec("report_request", "report_officer_a", lambda e: reverse("monitoring:report_list"),
             lambda e: {"partnership": f(id_text(ids(world.partnership_a),
                                                 ids(world.partnership_b))),
                        "month": f(st.integers(0, 13).map(str)),
                        "year": f(st.integers(2010, 2030).map(str))}),
        Spec("committee_report_new", "report_officer_a",
             lambda e: reverse("monitoring:committee_report_new") + f"?contract={contract.pk}",
             lambda e: {
                 "report_type": f(choice(CommitteeReportType.values)), "title": f(TEXT),
                 "decision_maker": f(choice(DecisionMakerChoice.values)),
                 "meeting_name": f(TEXT), "meeting_date": f(ANY_DATE),
                 "is_key_decision": f(checkbox()), "is_urgent": f(checkbox()),
                 "contact_name": f(TEXT), "contact_phone": f(TEXT),
                 "contact_email": f(st.sampled_from(("a@b.gov.uk", "x"))),
                 "chief_officer": f(TEXT), "ward": f(TEXT), "report_reference": f(TEXT),
                 "contract": f(id_text([contract.pk]))}),
        Spec("committee_report_edit", "report_officer_a",
             lambda e: reverse("monitoring:committee_report_detail", args=[report.pk]),
             lambda e: {
                 **{f"body-{k}": f(TEXT) for k in keys[:4]},
                 **{f"exempt-{k}": f(checkbox()) for k in keys[:2]},
                 "version": f(version_of(CommitteeReport, report.pk))}),
        Spec("committee_report_export", "report_officer_a",
             lambda e: reverse("monitoring:committee_report_export", args=[report.pk]),
             lambda e: {"part": f(choice(("part_1", "part_2", "part_3")))}, examples=6),
    ]
    run_group(specs, None, client_for, world)
