"""Monthly joint monitoring reports and committee reports."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.template import engines
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from commissioning.tests.factories import CouncilFactory, ICBFactory, PartnershipFactory
from contracts.tests.factories import ShareFactory, contract_for
from funding.models import AgreementPartner, SchemeBudget
from funding.tests.factories import AgreementFactory, actual, agreement_for, contribute, scheme_for
from monitoring.reports import services as report_services
from monitoring.reports.data import monthly_report_data
from monitoring.reports.models import (
    CommitteeReport,
    CommitteeReportExport,
    MonthlyReport,
    ReportStatus,
)
from monitoring.selectors import assessment_due
from monitoring.tests.factories import fill_and_submit, kpi_with_target, quarter

pytestmark = pytest.mark.django_db

MONTH = date(2025, 7, 1)  # the month after 2025/26 Q1 ended


def pdf_text(content: bytes) -> str:
    """The PDF's text with line wrapping undone (table cells wrap words onto new lines)."""
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.split())


def build(world, *, contracts: int, kpis: int, start: int = 0, budget: bool = True) -> list:
    made = []
    for n in range(start, start + contracts):
        contract = contract_for(world, title=f"Carers support service {n}",
                                reference=f"CS-{n:04d}")
        # Held by the council and monitored jointly with the ICB: in the joint report.
        ShareFactory(contract=contract, organisation=world.council_a, share_percent=100)
        ShareFactory(contract=contract, organisation=world.icb_a, share_percent=0)
        for k in range(kpis):
            kpi_with_target(contract, code=f"K{k}", name=f"Carers supported {k}", target="100")
        fill_and_submit(contract, quarter(), world.provider_x_user,
                        values={"K0": "55"}, today=date(2025, 7, 10))
        made.append(contract)
    if not budget:
        return made
    agreement = agreement_for(world, title="Bromley Section 75 agreement",
                              start_date=date(2024, 4, 1), end_date=date(2029, 3, 31))
    scheme = scheme_for(agreement, code="S75-01", name="Intermediate Care", budget="1200000")
    contribute(scheme, world.council_a, "600000")
    contribute(scheme, world.icb_a, "600000", code="nhs-baseline")
    for month in (4, 5, 6, 7):
        actual(scheme, date(2025, month, 1), "110000", forecast="1320000")
    return made


def test_it_gathers_the_report_in_a_fixed_number_of_queries(world):
    build(world, contracts=2, kpis=2)
    # The first report ever creates its reporting periods (once); measure after that.
    monthly_report_data(partnership=world.partnership_a, month=MONTH)
    with CaptureQueriesContext(connection) as small:
        data = monthly_report_data(partnership=world.partnership_a, month=MONTH)
    assert len(data.sections) == 2
    build(world, contracts=12, kpis=8, start=2, budget=False)
    with CaptureQueriesContext(connection) as large:
        data = monthly_report_data(partnership=world.partnership_a, month=MONTH)
    assert len(data.sections) == 14
    assert sum(len(s.kpis) for s in data.sections) == 2 * 2 + 12 * 8
    assert len(large.captured_queries) == len(small.captured_queries)


def test_it_produces_a_pdf_with_the_partnership_month_kpis_and_budget(world,
                                                                      django_capture_on_commit_callbacks):
    build(world, contracts=2, kpis=3)
    with django_capture_on_commit_callbacks(execute=True):
        result = report_services.monthly_report_request(
            partnership=world.partnership_a, month=MONTH, requested_by=world.report_officer_a)
    report = MonthlyReport.objects.get(pk=result.report.pk)
    assert report.status == ReportStatus.DONE, report.error
    assert report.page_count >= 3 and report.size_bytes > 5000
    content = report.file.read()
    text = pdf_text(content)
    for expected in ("Joint monitoring report", world.partnership_a.name, "July 2025",
                     "Carers support service 0", "Carers support service 1",
                     "Carers supported 0", "55", "Red", "Intermediate Care",
                     "Bromley Section 75 agreement", "£1,200,000", "£1,320,000", "£120,000",
                     "London Borough of Bromley", "Page 2 of"):
        assert expected in text, expected
    reader = PdfReader(io.BytesIO(content))
    assert reader.metadata.title.startswith("Joint monitoring report")
    assert reader.trailer["/Root"]["/Lang"] == "en-GB"
    assert "/StructTreeRoot" in reader.trailer["/Root"]
    # Members with the report officer or commissioner role get a link, not the file.
    assert "/reports/monthly/" in mail.outbox[-1].body
    assert not mail.outbox[-1].attachments
    assert set(mail.outbox[-1].to) >= {"reports.a@example.org", "commissioner.a@example.org"}
    assert "submitter.x@example.org" not in mail.outbox[-1].to


def test_a_long_report_is_rendered_in_parts_and_reads_as_one_document(world, monkeypatch):
    """Parts keep WeasyPrint's memory bounded (bench/RESULTS.md); the reader still gets one
    document: every contract, one page sequence, contents with the right page numbers."""
    build(world, contracts=7, kpis=3)
    monkeypatch.setattr(report_services, "KPI_ROWS_PER_PART", 8)  # two contracts a part
    data = monthly_report_data(partnership=world.partnership_a, month=MONTH)
    parts = report_services.monthly_report_parts(data)
    assert len([p for p in parts if "performance" in p.context["parts"]]) == 4
    rendered = report_services.render_monthly_report(data)
    pages = [" ".join(page.extract_text().split())
             for page in PdfReader(io.BytesIO(rendered.content)).pages]
    total = rendered.page_count
    assert total == len(pages)
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {total}" in text
        assert ("Joint monitoring report, July 2025" in text) == (number > 1)
    text = " ".join(pages)
    for n in range(7):
        # Each contract once (its heading; its KPI table names it again on each page).
        assert text.count(f"Carers support service {n} (CS-{n:04d}) Provider:") == 1
    # The contents gives the page each section starts on.
    budgets = next(n for n, t in enumerate(pages, start=1) if "4. Pooled budgets" in t)
    appendix = next(n for n, t in enumerate(pages, start=1)
                    if "Appendix: contracts in this report Reference" in t)
    contents = re.sub(r"[ .]+", " ", pages[0])  # leader dots out
    assert f"Pooled budgets {budgets} " in contents
    assert f"Appendix: contracts in this report {appendix} " in contents


def test_it_never_makes_two_reports_for_a_partnership_and_month(world):
    first = report_services.monthly_report_request(
        partnership=world.partnership_a, month=MONTH, requested_by=world.report_officer_a)
    MonthlyReport.objects.filter(pk=first.report.pk).update(status=ReportStatus.RUNNING,
                                                            task_id="task-1")
    again = report_services.monthly_report_request(
        partnership=world.partnership_a, month=MONTH, requested_by=world.commissioner_a)
    assert again.already_running and again.report.pk == first.report.pk
    assert MonthlyReport.objects.count() == 1
    # A duplicate delivery (another task id) cannot take a running report...
    assert report_services.monthly_report_generate(report_id=first.report.pk,
                                                   task_id="task-2") is None
    # ...but the same task, redelivered after its worker died, may.
    assert report_services.claim(report_id=first.report.pk, task_id="task-1")


def test_the_beat_job_runs_on_the_first_working_day_only_and_twice_is_harmless(world):
    # 1 September 2025 was a Monday; 1 June 2025 a Sunday (first working day the 2nd).
    assert report_services.start_monthly_reports(today=date(2025, 9, 2)) == []
    created = report_services.start_monthly_reports(today=date(2025, 9, 1))
    assert {r.partnership for r in created} == {world.partnership_a, world.partnership_b}
    assert {r.month for r in created} == {date(2025, 8, 1)}
    assert report_services.start_monthly_reports(today=date(2025, 9, 1)) == []
    assert MonthlyReport.objects.count() == 2
    assert report_services.start_monthly_reports(today=date(2025, 6, 1)) == []
    assert len(report_services.start_monthly_reports(today=date(2025, 6, 2))) == 2


def test_a_weasyprint_failure_marks_the_report_failed_and_can_be_rerun(
        world, settings, tmp_path, django_capture_on_commit_callbacks):
    templates = tmp_path / "templates" / "pdf"
    templates.mkdir(parents=True)
    # A report template that asks WeasyPrint for a file on disk: the fetcher refuses it and
    # the render fails for real.
    (templates / "monthly_report.html").write_text(
        "{% extends 'pdf/base.html' %}{% block body %}<img src='file:///etc/passwd'>"
        "{% endblock %}")
    original = settings.TEMPLATES
    settings.TEMPLATES = [{**original[0], "DIRS": [tmp_path / "templates", *original[0]["DIRS"]]}]

    engines._engines = {}
    try:
        with django_capture_on_commit_callbacks(execute=True):
            result = report_services.monthly_report_request(
                partnership=world.partnership_a, month=MONTH,
                requested_by=world.report_officer_a)
        report = MonthlyReport.objects.get(pk=result.report.pk)
    finally:
        settings.TEMPLATES = original
        engines._engines = {}
    assert report.status == ReportStatus.FAILED
    assert "file:///etc/passwd" in report.error
    assert not report.file
    with django_capture_on_commit_callbacks(execute=True):
        rerun = report_services.monthly_report_request(
            partnership=world.partnership_a, month=MONTH, requested_by=world.report_officer_a)
    rerun.report.refresh_from_db()
    assert rerun.report.pk == report.pk and rerun.report.status == ReportStatus.DONE


class TestReportPages:
    def test_it_refuses_a_month_that_has_not_ended(self, world, client_for):
        client = client_for(world.report_officer_a)
        today = date.today()
        response = client.post("/reports/", {"partnership": world.partnership_a.pk,
                                              "month": today.month, "year": today.year})
        assert response.status_code == 200
        assert "Choose a month that has ended" in response.content.decode()
        assert not MonthlyReport.objects.exists()

    def test_it_refuses_a_partnership_the_user_is_not_in(self, world, client_for):
        response = client_for(world.report_officer_a).post(
            "/reports/", {"partnership": world.partnership_b.pk, "month": 7, "year": 2025})
        assert "Select a partnership you belong to" in response.content.decode()
        assert not MonthlyReport.objects.exists()

    def test_it_shows_and_lets_only_partnership_members_download(
            self, world, client_for, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            result = report_services.monthly_report_request(
                partnership=world.partnership_a, month=MONTH,
                requested_by=world.report_officer_a)
        detail = f"/reports/monthly/{result.report.pk}/"
        download = detail + "download/"
        for user in (world.report_officer_a, world.commissioner_a, world.read_only_a,
                     world.icb_commissioner_a):
            client = client_for(user)
            assert client.get(detail).status_code == 200
            response = client.get(download)
            assert response.status_code == 200
            assert response["Content-Type"] == "application/pdf"
            assert b"".join(response.streaming_content).startswith(b"%PDF")
        for user in (world.commissioner_b, world.provider_x_user, world.outsider):
            assert client_for(user).get(detail).status_code == 404
            assert client_for(user).get(download).status_code == 404

    def test_a_read_only_user_cannot_request(self, world, client_for):
        response = client_for(world.read_only_a).post(
            "/reports/", {"partnership": world.partnership_a.pk, "month": 7, "year": 2025})
        assert response.status_code == 404

    def test_a_running_report_page_refreshes_until_done(self, world, client_for):
        report = MonthlyReport.objects.create(partnership=world.partnership_a, month=MONTH)
        client = client_for(world.commissioner_a)
        html = client.get(f"/reports/monthly/{report.pk}/").content.decode()
        # It checks every 5 seconds without a timed refresh (which fails WCAG 2.2.1).
        assert 'http-equiv="refresh"' not in html
        assert 'data-finished="false"' in html and "setTimeout(check, 5000)" in html
        MonthlyReport.objects.filter(pk=report.pk).update(status=ReportStatus.DONE)
        html = client.get(f"/reports/monthly/{report.pk}/").content.decode()
        assert 'data-finished="true"' in html and "setTimeout(check" not in html


class TestCommitteeReports:
    def start(self, world, client_for, contract) -> CommitteeReport:
        response = client_for(world.report_officer_a).post(
            "/reports/committee/new/", {
                "contract": contract.pk, "report_type": "performance",
                "title": "Carers support: performance update",
                "decision_maker": "pds", "meeting_name": "Care Services PDS Committee",
                "meeting_date": "04/07/2027", "is_key_decision": "on",
                "contact_name": "Josepha Reynolds", "contact_phone": "020 8461 7395",
                "contact_email": "josepha.reynolds@bromley.example.org",
                "chief_officer": "Ade Adetosoye, Executive Director, ECHS",
                "ward": "Borough-wide", "report_reference": "CS27001"})
        assert response.status_code == 302, response.content.decode()[:2000]
        return CommitteeReport.objects.get()

    def test_it_drafts_edits_and_exports_part_1_and_part_2(self, world, client_for):
        contract = build(world, contracts=1, kpis=2)[0]
        report = self.start(world, client_for, contract)
        bodies = {s["key"]: s["body"] for s in report.sections}
        assert "Carers support service 0" in bodies["reason"]
        assert "£100,000" in bodies["financial"]
        assert "Performance:" in bodies["commentary"]
        assert report.decision_type == "Non-Urgent Policy Development and Scrutiny " \
                                       "Committee Key"
        client = client_for(world.report_officer_a)
        post = {f"body-{s['key']}": s["body"] for s in report.sections}
        post["body-commentary"] = "Officers met the provider on 3 March; recovery plan agreed."
        post["body-financial"] = "The negotiated price is £93,250 per year."
        post["exempt-financial"] = "on"
        post["version"] = str(report.version)
        assert client.post(report.get_absolute_url(), post).status_code == 302
        stale = client.post(report.get_absolute_url(), post)  # the old version again
        assert stale.status_code == 400
        assert ("Someone else changed this report since you opened it. Your changes have not "
                "been saved. Reload to see their changes.") in stale.content.decode()
        # A version the page never sent (Python refuses to read a 10,000-digit number) is no
        # error page and changes nothing.
        for forged in ("9" * 10_000, "-1", "two", ""):
            assert client.post(report.get_absolute_url(),
                               {**post, "version": forged}).status_code == 404
        report.refresh_from_db()
        assert report.version == 2

        for part in ("part1", "part2"):
            client.post(f"/reports/committee/{report.pk}/export/", {"part": part})
        part1, part2 = (CommitteeReportExport.objects.get(part=p) for p in ("part1", "part2"))
        text1, text2 = pdf_text(part1.file.read()), pdf_text(part2.file.read())
        assert "recovery plan agreed" in text1 and "recovery plan agreed" in text2
        assert "£93,250" not in text1 and "exempt information" in text1
        assert "£93,250" in text2
        assert "Non-Urgent Policy Development and Scrutiny Committee Key" in text1
        assert part1.version == 2 and part1.exported_by == world.report_officer_a
        download = client.get(f"/reports/committee/exports/{part1.pk}/")
        assert download.status_code == 200
        assert client_for(world.commissioner_b).get(
            f"/reports/committee/exports/{part1.pk}/").status_code == 404

    def test_it_refuses_other_partnerships_and_providers(self, world, client_for):
        contract = contract_for(world)
        for user in (world.commissioner_b, world.provider_x_user, world.read_only_a):
            response = client_for(user).get(f"/reports/committee/new/?contract={contract.pk}")
            assert response.status_code == 404
        assert client_for(world.report_officer_a).get(
            "/reports/committee/new/?contract=abc").status_code == 404

    def test_it_refuses_a_section_that_is_too_long_and_saves_nothing(self, world, client_for):
        report = self.start(world, client_for, contract_for(world))
        post = {f"body-{s['key']}": s["body"] for s in report.sections}
        post["body-legal"] = "x" * 20_001
        post["version"] = str(report.version)
        response = client_for(world.report_officer_a).post(report.get_absolute_url(), post)
        assert response.status_code == 400
        assert "Legal implications must be 20,000 characters or fewer" in \
            response.content.decode()
        report.refresh_from_db()
        assert report.version == 1

    def test_part_2_needs_an_exempt_section(self, world, client_for):
        report = self.start(world, client_for, contract_for(world))
        client = client_for(world.report_officer_a)
        page = client.post(f"/reports/committee/{report.pk}/export/", {"part": "part2"},
                           follow=True)
        assert "no exempt sections" in page.content.decode()
        assert not CommitteeReportExport.objects.exists()


def test_budget_figures_are_exact_decimals(world):
    build(world, contracts=1, kpis=1)
    data = monthly_report_data(partnership=world.partnership_a, month=MONTH)
    assert data.budget_totals["budget"] == Decimal("1200000.00")
    assert data.budget_totals["variance"] == Decimal("120000.00")


def test_the_contract_page_links_to_performance_funding_and_committee_reports(world,
                                                                              client_for):
    contract = contract_for(world)
    url = f"/contracts/{contract.pk}/"
    page = client_for(world.report_officer_a).get(url).content.decode()
    assert f"/monitoring/contracts/{contract.pk}/" in page
    assert f"/reports/committee/new/?contract={contract.pk}" in page
    assert "Funding" in page
    provider = client_for(world.provider_x_user).get(url).content.decode()
    assert "/reports/committee/new/" not in provider and "/returns/" in provider
    assert "not linked to any funding scheme" not in provider
    reader = client_for(world.read_only_a).get(url).content.decode()
    assert "/reports/committee/new/" not in reader


def test_the_s52_assessment_is_due_on_the_same_day_on_the_contract_page_and_in_the_report(
        world):
    """A contract over £5 million that started on 31 March is due its first assessment on
    31 March a year later, wherever the date is shown (the report once clamped it to the 28th).
    """

    contract = contract_for(world, title="Integrated community equipment", reference="ICE-1",
                            start_date=date(2025, 3, 31), initial_end_date=date(2030, 3, 30),
                            annual_value=Decimal("6000000.00"))
    ShareFactory(contract=contract, organisation=world.council_a, share_percent=Decimal("50"))
    ShareFactory(contract=contract, organisation=world.icb_a, share_percent=Decimal("50"))
    data = monthly_report_data(partnership=world.partnership_a, month=date(2026, 3, 1))
    assert [(c.reference, due) for c, due in data.assessments_due] == [("ICE-1", "31 March 2026")]
    assert assessment_due(contract, today=date(2026, 3, 31)) == (
        "The annual Procurement Act performance assessment is due by 31 March 2026.")


def test_the_joint_report_shows_only_what_every_partner_is_party_to(world):
    """Every partner's people open the partnership's monthly report, so a contract or pooled
    budget that two of three partners commission together stays out of it."""

    county = CouncilFactory(name="Cambridgeshire County Council")
    city = CouncilFactory(name="Peterborough City Council")
    icb = ICBFactory(name="NHS Cambridgeshire and Peterborough ICB")
    partnership = PartnershipFactory(name="Cambridgeshire and Peterborough",
                                     organisations=[county, city, icb])

    def contract(reference: str, *parties) -> None:
        made = contract_for(world, partnership=partnership, holder=county,
                            lead_commissioner=county, reference=reference,
                            title=f"Service {reference}")
        for organisation in parties:
            ShareFactory(contract=made, organisation=organisation, share_percent=0)

    contract("ALL-3", county, city, icb)
    contract("CCC-ICB", county, icb)  # a call-off the County Council and the ICB made
    contract("CCC-ONLY", county)

    def agreement(title: str, *partners) -> None:
        made = AgreementFactory(partnership=partnership, host_partner=county, title=title,
                                start_date=date(2025, 4, 1), end_date=date(2028, 3, 31))
        for organisation in partners:
            AgreementPartner.objects.create(agreement=made, organisation=organisation)

    agreement("Better Care Fund pooled budget", county, city, icb)
    agreement("Cambridgeshire community equipment pool", county, icb)

    data = monthly_report_data(partnership=partnership, month=MONTH)
    assert [c.reference for c in data.contracts] == ["ALL-3"]
    assert [row.agreement.title for row in data.budgets] == ["Better Care Fund pooled budget"]


def test_it_drafts_an_agreement_review_with_the_figures_of_its_meeting_date(world, client_for):
    """A paper for a meeting on 10 February 2026 reports 2025/26 as at February 2026, even when
    it is drafted later (the suite's clock is in 2026/27)."""
    agreement = agreement_for(world, title="Bromley Section 75 agreement")
    scheme = scheme_for(agreement, code="S75-01", name="Intermediate Care", budget="1200000")
    SchemeBudget.objects.create(scheme=scheme, year=2026, amount=Decimal("900000"))
    actual(scheme, date(2026, 2, 1), "100000")
    actual(scheme, date(2026, 3, 1), "50000")  # after the meeting's month
    response = client_for(world.report_officer_a).post("/reports/committee/new/", {
        "agreement": agreement.pk, "report_type": "section75_review",
        "title": "Section 75 annual review", "decision_maker": "pds",
        "meeting_name": "Health and Wellbeing Board", "meeting_date": "10/02/2026",
        "contact_name": "Josepha Reynolds", "contact_phone": "020 8461 7395",
        "contact_email": "josepha.reynolds@bromley.example.org",
        "chief_officer": "Ade Adetosoye, Executive Director, ECHS",
        "ward": "Borough-wide", "report_reference": "HWB26001"})
    assert response.status_code == 302, response.content.decode()[:2000]
    financial = {s["key"]: s["body"] for s in CommitteeReport.objects.get().sections}["financial"]
    assert "Total budget for 2025/26: £1,200,000" in financial
    assert "Actual to date: £100,000" in financial
