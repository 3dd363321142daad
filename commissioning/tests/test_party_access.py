"""Access follows the parties (commissioning/access.py), not the partnership.

Finding 2 of issue 13: in a three-partner partnership (Cambridgeshire County Council,
Peterborough City Council and the ICB), a call-off made jointly by the County Council and the
ICB could be opened, edited and re-shared by a Peterborough-only commissioner. Now every page
of that contract is a 404 to Peterborough, while the framework page (Peterborough is a party to
the framework) still shows the call-off's summary row so the framework's totals stay true.

Finding 10: a read-only viewer could download the Part 2 (exempt) committee report.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from commissioning import access
from commissioning.models import Role, User
from commissioning.tests import factories as f
from contracts.frameworks import services as framework_services
from contracts.frameworks.models import CallOff, Framework, FrameworkParty
from contracts.frameworks.tests.factories import FrameworkFactory, LotFactory, WindowFactory, admit
from contracts.models import Contract, ContractDocument, DocumentKind, RegisterImport
from contracts.services import ContractInput, ShareInput, contract_create
from contracts.tests.test_imports import csv_bytes, good_row
from funding.models import AgreementPartner, Section75Agreement
from funding.services import AgreementInput, PartnerInput, agreement_create
from funding.tests.factories import AgreementFactory, SchemeFactory
from monitoring.models import Evidence
from monitoring.reports import committee as committee_reports
from monitoring.reports.models import CommitteeReportExport
from monitoring.tests.factories import fill_and_submit, kpi_with_target, quarter

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% test file\n"
TODAY = date(2024, 6, 1)


@pytest.fixture
def cambs(world, settings, tmp_path):
    """Cambridgeshire and Peterborough: three partners, a framework all three signed, and a
    call-off made jointly by the County Council and the ICB through the real service."""
    settings.MEDIA_ROOT = tmp_path
    county = f.CouncilFactory(name="Cambridgeshire County Council", short_name="County Council")
    peterborough = f.CouncilFactory(name="Peterborough City Council", short_name="Peterborough")
    icb = f.ICBFactory(name="NHS Cambridgeshire and Peterborough ICB", short_name="C&P ICB")
    provider = f.ProviderFactory(name="Age UK Cambridgeshire and Peterborough",
                                 short_name="Age UK C&P")
    partnership = f.PartnershipFactory(name="Cambridgeshire and Peterborough",
                                       organisations=[county, peterborough, icb])
    s = SimpleNamespace(county=county, peterborough=peterborough, icb=icb, provider=provider,
                        partnership=partnership)
    s.county_commissioner = f.user_with_role(county, Role.COMMISSIONER,
                                             email="commissioner@cambs.example.org")
    s.icb_commissioner = f.user_with_role(icb, Role.COMMISSIONER,
                                          email="commissioner@cpicb.example.org")
    s.peterborough_commissioner = f.user_with_role(
        peterborough, Role.COMMISSIONER, email="commissioner@peterborough.example.org")
    s.peterborough_admin = f.user_with_role(
        peterborough, Role.PARTNERSHIP_ADMIN, email="admin@peterborough.example.org")
    s.provider_user = f.user_with_role(provider, Role.PROVIDER_SUBMITTER,
                                       email="submitter@ageuk-cap.example.org")

    s.framework = FrameworkFactory(partnership=partnership, title="Prevention framework",
                                   start_date=date(2021, 4, 1))
    for organisation, lead in ((county, True), (peterborough, False), (icb, False)):
        FrameworkParty.objects.create(framework=s.framework, organisation=organisation,
                                      is_lead=lead)
    s.lot = LotFactory(framework=s.framework, number=1, title="Information and advice")
    WindowFactory(framework=s.framework)
    admit(provider, s.lot)
    s.call_off = framework_services.call_off_create(
        data=framework_services.CallOffInput(
            lot=s.lot, provider=provider, award_method="direct_award",
            direct_award_justification="Incumbent provider", funding_arrangement="section_75",
            called_off_on=date(2024, 3, 1), reference="CAMBS-JOINT-001",
            title="Joint carers hub for Cambridgeshire", service_area="carers",
            start_date=date(2024, 4, 1), initial_end_date=date(2027, 3, 31),
            annual_value=Decimal("240000"), lead_commissioner=county,
            shares=[ShareInput(county, Decimal("60")), ShareInput(icb, Decimal("40"))]),
        created_by=s.county_commissioner, today=TODAY)
    s.contract = s.call_off.contract
    s.document = ContractDocument.objects.create(
        contract=s.contract, kind=DocumentKind.SIGNED_CONTRACT,
        file=ContentFile(PDF, name="signed.pdf"), original_name="signed.pdf", size=len(PDF),
        content_type="application/pdf", uploaded_by=s.county_commissioner)
    s.kpi = kpi_with_target(s.contract)
    s.period = quarter()
    s.performance_return = fill_and_submit(s.contract, s.period, s.provider_user,
                                           today=date(2025, 7, 10))
    s.evidence = Evidence.objects.create(
        performance_return=s.performance_return, kpi=s.kpi,
        file=ContentFile(PDF, name="evidence.pdf"), original_name="evidence.pdf",
        size=len(PDF), content_type="application/pdf", uploaded_by=s.provider_user)
    s.committee_report = committee_reports.committee_report_create(
        partnership=partnership, report_type="performance", contract=s.contract,
        created_by=s.county_commissioner, meta=committee_reports.Meta(
            title="Carers hub performance", decision_maker="pds", meeting_name="Adults Committee",
            meeting_date=date(2026, 7, 4), is_key_decision=False, is_urgent=False,
            contact_name="Officer", contact_phone="", contact_email="", chief_officer="Director",
            ward="County-wide"))
    s.part2 = CommitteeReportExport.objects.create(
        report=s.committee_report, version=1, part="part2",
        file=ContentFile(PDF, name="part2.pdf"), page_count=1, size_bytes=len(PDF),
        exported_by=s.county_commissioner)
    return s


def _contract_pages(s) -> list[tuple[str, str]]:
    """(method, URL) of every page of the call-off's contract and what hangs off it."""
    c, kpi, ret = s.contract.pk, s.kpi.pk, s.performance_return.pk
    pages = [("GET", reverse(name, args=[c])) for name in (
        "contracts:detail", "contracts:edit", "contracts:status", "contracts:extension",
        "contracts:decision", "contracts:variation", "contracts:review_date",
        "contracts:shares", "contracts:document_upload", "contracts:ocds",
        "monitoring:contract_performance", "monitoring:kpi_create", "monitoring:templates_copy",
    )]
    pages += [
        ("GET", reverse("contracts:document_download", args=[c, s.document.pk])),
        ("GET", reverse("contracts:call_off_detail", args=[s.call_off.pk])),
        ("GET", reverse("monitoring:kpi_edit", args=[kpi])),
        ("GET", reverse("monitoring:target_set", args=[kpi])),
        ("GET", reverse("monitoring:return_review", args=[ret])),
        ("GET", reverse("monitoring:evidence_download", args=[s.evidence.pk])),
        ("GET", reverse("monitoring:committee_report_detail", args=[s.committee_report.pk])),
        ("GET", reverse("monitoring:committee_export_download", args=[s.part2.pk])),
        ("GET", reverse("object_history", args=["contracts.contract", c])),
        ("GET", reverse("object_history", args=["contracts.calloff", s.call_off.pk])),
        ("GET", reverse("object_history", args=["monitoring.kpi", kpi])),
        ("GET", reverse("object_history", args=["monitoring.performancereturn", ret])),
        ("POST", reverse("contracts:edit", args=[c])),
        ("POST", reverse("contracts:shares", args=[c])),
        ("POST", reverse("monitoring:return_review", args=[ret])),
        ("POST", reverse("monitoring:assessment_start", args=[c])),
    ]
    return pages


def test_it_keeps_a_joint_call_off_from_a_partner_who_is_not_party_to_it(cambs, client_for):
    """Finding 2: a Peterborough-only commissioner (or administrator) gets a 404 on every page
    of a call-off made by the County Council and the ICB, and changes nothing."""
    s = cambs
    pages = _contract_pages(s)
    for user in (s.peterborough_commissioner, s.peterborough_admin):
        client = client_for(user)
        wrong = []
        for method, url in pages:
            response = client.get(url) if method == "GET" else client.post(url, {
                "title": "Taken over by Peterborough", "version": s.contract.version})
            if response.status_code != 404:
                wrong.append(f"{method} {url}: {response.status_code}")
        assert not wrong, f"{user.email} reached the call-off's pages:\n" + "\n".join(wrong)
        register = client.get(reverse("contracts:list")).content.decode()
        assert "CAMBS-JOINT-001" not in register
        export = client.get(reverse("contracts:export", args=["csv"]))
        assert b"CAMBS-JOINT-001" not in b"".join(export.streaming_content) \
            if export.streaming else b"CAMBS-JOINT-001" not in export.content
    s.contract.refresh_from_db()
    assert s.contract.title == "Joint carers hub for Cambridgeshire"
    assert s.contract.shares.count() == 2
    # Its parties still reach every page, so the 404s above are about who asks.
    for user in (s.county_commissioner, s.icb_commissioner):
        client = client_for(user)
        for method, url in pages[:13]:
            assert client.get(url).status_code == 200, (user.email, url)


def test_it_shows_every_framework_party_a_summary_row_of_each_call_off(cambs, client_for):
    """Peterborough signed the framework: its page shows the call-off's reference, provider,
    commissioning parties and annual value (so the totals add up), but no link to open it
    and nothing else about it."""
    s = cambs
    call_off_url = reverse("contracts:call_off_detail", args=[s.call_off.pk])
    for name in ("contracts:framework_detail",):
        response = client_for(s.peterborough_commissioner).get(
            reverse(name, args=[s.framework.pk]))
        assert response.status_code == 200
        page = response.content.decode()
        assert "CAMBS-JOINT-001" in page and "Age UK C&amp;P" in page
        assert "£240,000" in page and "County Council" in page and "C&amp;P ICB" in page
        assert call_off_url not in page
        assert "Joint carers hub" not in page
    lot_page = client_for(s.peterborough_commissioner).get(
        reverse("contracts:lot_detail", args=[s.framework.pk, s.lot.pk])).content.decode()
    assert "CAMBS-JOINT-001" in lot_page and call_off_url not in lot_page
    assert "Joint carers hub" not in lot_page
    own = client_for(s.county_commissioner).get(
        reverse("contracts:framework_detail", args=[s.framework.pk])).content.decode()
    assert call_off_url in own and "Joint carers hub" in own


def test_it_refuses_a_read_only_viewer_the_exempt_part_of_a_committee_report(cambs, client_for):
    """Finding 10: Part 2 (exempt information) is for the roles that write committee reports;
    a read-only viewer of a party sees Part 1 and the report, never the exempt text or PDF."""
    s = cambs
    report = s.committee_report
    sections = [dict(section) for section in report.sections]
    sections[-1].update(body="The bid prices were 12% below the budget.", exempt=True)
    report.sections = sections
    report.save()
    part1 = CommitteeReportExport.objects.create(
        report=report, version=1, part="part1", file=ContentFile(PDF, name="part1.pdf"),
        page_count=1, size_bytes=len(PDF), exported_by=s.county_commissioner)
    viewer = f.user_with_role(s.county, Role.READ_ONLY, email="viewer@cambs.example.org")
    finance = f.user_with_role(s.county, Role.FINANCE_OFFICER,
                               email="finance@cambs.example.org")
    officer = f.user_with_role(s.county, Role.REPORT_OFFICER, email="reports@cambs.example.org")
    part2_url = reverse("monitoring:committee_export_download", args=[s.part2.pk])
    part1_url = reverse("monitoring:committee_export_download", args=[part1.pk])
    detail_url = reverse("monitoring:committee_report_detail", args=[report.pk])
    history_url = reverse("object_history", args=["monitoring.committeereport", report.pk])
    for user in (viewer, finance):
        client = client_for(user)
        assert client.get(part2_url).status_code == 404, user.email
        assert client.get(part1_url).status_code == 200, user.email
        page = client.get(detail_url)
        assert page.status_code == 200
        assert "12% below the budget" not in page.content.decode()
        assert part2_url not in page.content.decode()
        assert client.get(history_url).status_code == 404
        exported = client.post(reverse("monitoring:committee_report_export", args=[report.pk]),
                               {"part": "part2"})
        assert exported.status_code == 404
    for user in (officer, s.county_commissioner):
        client = client_for(user)
        assert client.get(part2_url).status_code == 200, user.email
        assert "12% below the budget" in client.get(detail_url).content.decode()


def test_it_lets_nobody_create_a_contract_framework_or_agreement_they_could_not_see(
        cambs, world):
    """The creating organisation must be a party; a field error says so and nothing is
    saved."""
    s = cambs
    contract_data = ContractInput(
        reference="PBORO-1", title="County-only service", description="",
        service_area="carers", partnership=s.partnership, holder=s.county,
        lead_commissioner=s.county, provider=s.provider, contract_manager=None,
        procurement_regime="pcr_2015", procurement_route="pcr_open", tendered=True,
        status="live", awarded_on=None, start_date=date(2025, 4, 1),
        initial_end_date=date(2026, 3, 31), notice_period_months=3,
        extension_option_months=(), annual_value=Decimal("1000"),
        vat_not_recoverable=Decimal("0"), service_lines=[],
        shares=[ShareInput(s.county, Decimal("100"))])
    with pytest.raises(ValidationError) as error:
        contract_create(data=contract_data, created_by=s.peterborough_commissioner)
    assert "Your organisation must be the contract holder" in error.value.message_dict["holder"][0]
    assert not Contract.objects.filter(reference="PBORO-1").exists()
    # With a share, Peterborough may add it (and then sees it).
    contract_data.shares = [ShareInput(s.county, Decimal("50")),
                            ShareInput(s.peterborough, Decimal("50"))]
    created = contract_create(data=contract_data, created_by=s.peterborough_commissioner)
    assert Contract.objects.for_user(s.peterborough_commissioner).filter(pk=created.pk).exists()

    framework_data = framework_services.FrameworkInput(
        partnership=s.partnership, reference="FW-PB", title="County framework",
        description="", start_date=date(2025, 4, 1), initial_term_months=48,
        extension_months=0, estimated_total_value=Decimal("100000"),
        open_to_new_providers=False, call_off_rules="direct_award_allowed", status="planned",
        parties=[s.county, s.icb], lead=s.county)
    with pytest.raises(ValidationError) as error:
        framework_services.framework_create(data=framework_data,
                                            created_by=s.peterborough_commissioner)
    assert "Your organisation must be one of the parties" in \
        error.value.message_dict["parties"][0]
    assert not Framework.objects.filter(reference="FW-PB").exists()

    agreement_data = AgreementInput(
        partnership=s.partnership, kind="section_75", title="County and ICB pooled fund",
        host_partner=s.county, arrangement_type="pooled_fund", start_date=date(2025, 4, 1),
        end_date=date(2026, 3, 31), risk_share_rule="proportional",
        underspend_rule="carry_forward",
        partners=[PartnerInput(s.county), PartnerInput(s.icb)])
    with pytest.raises(ValidationError) as error:
        agreement_create(user=s.peterborough_commissioner, data=agreement_data)
    assert "Your organisation must be one of the agreement's partners" in \
        error.value.message_dict["partners"][0]
    assert not Section75Agreement.objects.filter(title="County and ICB pooled fund").exists()


def test_it_keeps_an_agreement_to_its_partners(cambs, client_for):
    """A Section 75 agreement between the County Council and the ICB, and its schemes, are a
    404 to Peterborough; its partners see them."""
    s = cambs
    agreement = AgreementFactory(partnership=s.partnership, host_partner=s.county,
                                 title="Better Care Fund pooled budget",
                                 start_date=date(2025, 4, 1), end_date=date(2028, 3, 31))
    for organisation in (s.county, s.icb):
        AgreementPartner.objects.create(agreement=agreement, organisation=organisation)
    scheme = SchemeFactory(agreement=agreement, lead_partner=s.county)
    urls = [reverse("funding:agreement_detail", args=[agreement.pk]),
            reverse("funding:scheme_detail", args=[agreement.pk, scheme.pk]),
            reverse("funding:statement", args=[agreement.pk, 2025]),
            reverse("object_history", args=["funding.section75agreement", agreement.pk])]
    outsider = client_for(s.peterborough_commissioner)
    assert [outsider.get(url).status_code for url in urls] == [404] * len(urls)
    assert "Better Care Fund pooled budget" not in outsider.get(
        reverse("funding:agreement_list")).content.decode()
    partner = client_for(s.icb_commissioner)
    assert [partner.get(url).status_code for url in urls] == [200] * len(urls)


def test_it_shows_a_report_about_the_partnership_to_every_member(cambs, client_for):
    s = cambs
    report = committee_reports.committee_report_create(
        partnership=s.partnership, report_type="performance", created_by=s.county_commissioner,
        meta=committee_reports.Meta(
            title="Partnership annual review", decision_maker="hwb",
            meeting_name="Health and Wellbeing Board", meeting_date=date(2026, 7, 4),
            is_key_decision=False, is_urgent=False, contact_name="Officer", contact_phone="",
            contact_email="", chief_officer="Director", ward="County-wide"))
    url = reverse("monitoring:committee_report_detail", args=[report.pk])
    assert client_for(s.peterborough_commissioner).get(url).status_code == 200
    assert client_for(s.peterborough_commissioner).get(reverse(
        "monitoring:committee_report_detail", args=[s.committee_report.pk])).status_code == 404


def test_it_answers_the_party_rule_in_a_fixed_number_of_queries(cambs, django_assert_num_queries):
    """The rule is a subquery, not a join: one row per contract however many shares."""
    s = cambs
    access.current_roles(s.county_commissioner)  # the memberships, once per request
    with django_assert_num_queries(1):
        rows = list(Contract.objects.for_user(s.county_commissioner))
    assert [c.reference for c in rows] == ["CAMBS-JOINT-001"]


def test_it_refuses_to_import_a_contract_the_importer_could_not_see(cambs, client_for):
    """The register import is another way to add contracts: a row held and led by other
    partners is refused next to its holder, in the one validator's words, and is not imported
    (the importer's own row is: good rows go in, issue 15)."""
    s = cambs
    client = client_for(s.peterborough_commissioner)
    rows = [good_row(1, **{"Contract Holder": "Peterborough City Council",
                           "Lead Commissioner": "Peterborough City Council",
                           "Supplier Name": "Age UK Cambridgeshire and Peterborough"}),
            good_row(2, **{"Contract Holder": "Cambridgeshire County Council",
                           "Lead Commissioner": "C&P ICB",
                           "Supplier Name": "Age UK Cambridgeshire and Peterborough"})]
    response = client.post(reverse("contracts:import"), {
        "partnership": s.partnership.pk,
        "file": SimpleUploadedFile("register.csv", csv_bytes(rows))})
    assert response.status_code == 302, response.content.decode()[:2000]
    register_import = RegisterImport.objects.latest("pk")
    client.post(reverse("contracts:import_map", args=[register_import.pk]),
                register_import.mapping)
    register_import.refresh_from_db()
    errors = {(e["row"], e["column"]): e["message"] for e in register_import.errors}
    assert errors == {(3, "Contract Holder"): "Your organisation must be the contract holder, "
                                              "the lead commissioner or one of the partners "
                                              "with a share"}
    page = client.get(reverse("contracts:import_detail", args=[register_import.pk]))
    assert "Row 3, column ‘Contract Holder’" in page.content.decode()
    client.post(reverse("contracts:import_detail", args=[register_import.pk]), {})
    imported = set(Contract.objects.filter(reference__startswith="IMP-")
                   .values_list("reference", flat=True))
    assert imported == {"IMP-00001"}


def test_the_demo_personas_see_what_the_readme_says(settings, tmp_path, client_for):
    """README "Who sees what": in the demo, Bromley's commissioners see all of Bromley's
    contracts, the SEL ICB's commissioner those the ICB shares (not the council-only Dementia
    Hub), and the ICB in Cambridgeshire and Peterborough opens every call-off it commissions."""
    settings.MEDIA_ROOT = tmp_path
    call_command("load_demo", stdout=StringIO())

    def seen(email: str) -> set[str]:
        user = User.objects.get(email=email)
        return set(Contract.objects.for_user(user).values_list("reference", flat=True))

    bromley = set(Contract.objects.filter(partnership__name__contains="Bromley")
                  .values_list("reference", flat=True))
    assert {"CS17033-PSIS", "ECHS-DH-01"} <= bromley
    assert seen("josepha.reynolds@bromley.example.org") == bromley
    assert seen("viewer@bromley.example.org") == bromley
    assert seen("paul.feven@selondon-icb.example.org") == bromley - {"ECHS-DH-01"}
    merton = seen("richard.ellis@merton.example.org")
    assert merton and not merton & bromley
    sandra = User.objects.get(email="sandra.pedley@cpicb.example.org")
    call_offs = set(CallOff.objects.values_list("contract__reference", flat=True))
    assert call_offs and seen(sandra.email) >= call_offs
    framework = Framework.objects.get(reference="EIP-2021")
    page = client_for(sandra).get(reverse("contracts:framework_detail", args=[framework.pk]))
    for call_off in CallOff.objects.all():
        assert call_off.get_absolute_url() in page.content.decode()
