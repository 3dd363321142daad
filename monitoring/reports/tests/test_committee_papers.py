"""Committee papers from the register (issue 15): the award, extension and performance reports
take the cover's figures from the contract, and every report exports as PDF and as Word with
the same Part 1 / Part 2 split. The .docx is read back with python-docx."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone
from docx import Document

from commissioning.periods import financial_year_start
from commissioning.word import DOCX_CONTENT_TYPE
from contracts.tests.factories import contract_for
from funding.models import AllocationBasis, ContractFunding, TopSlice, year_label
from funding.tests.factories import agreement_for, scheme_for, source
from monitoring.reports import committee
from monitoring.reports.cover import NOT_RECORDED
from monitoring.reports.models import CommitteeReportExport, CommitteeReportType
from monitoring.reports.tests.test_reports import pdf_text

pytestmark = pytest.mark.django_db

MEETING = committee.Meta(
    title="Contract award for Primary and Secondary Intervention Services",
    decision_maker="executive", meeting_name="Care Services PDS Committee",
    meeting_date=date(2017, 7, 4), is_key_decision=True, is_urgent=False,
    contact_name="Josepha Reynolds, Joint Commissioning Development Lead, LBB and CCG",
    contact_phone="020 8461 7395", contact_email="josepha.reynolds@bromley.gov.uk",
    chief_officer="Ade Adetosoye, Executive Director, ECHS", ward="Borough-wide",
)
EXEMPT_TEXT = "The evaluated price of the preferred bidder is £2,695,120 per year."


def bromley_well(world, **kwargs):
    """The contract of seed 000 as the register holds it."""
    values = {
        "reference": "LBB-PSIS-2017", "title": "Primary and Secondary Intervention Services",
        "start_date": date(2017, 10, 1), "initial_end_date": date(2020, 9, 30),
        "annual_value": Decimal("2700000.00"), "funding_sources_text": "Core LBB/CCG/BCF",
        "ongoing_costs": "recurring", "budget_head": "Various",
        "total_current_budget": Decimal("2751000.00"), "estimated_users": 5000,
    }
    return contract_for(world, **(values | kwargs))


def facts(report, key: str) -> dict[str, str]:
    section = next(s for s in report.sections if s["key"] == key)
    return dict(section.get("facts", []))


def create(world, contract, report_type=CommitteeReportType.CONTRACT_AWARD):
    return committee.committee_report_create(
        partnership=contract.partnership, report_type=report_type, meta=MEETING,
        created_by=world.report_officer_a, contract=contract)


@pytest.mark.parametrize("report_type", [CommitteeReportType.CONTRACT_AWARD,
                                         CommitteeReportType.EXTENSION,
                                         CommitteeReportType.PERFORMANCE])
def test_it_fills_the_financial_and_customer_impact_boxes_from_the_register(world, report_type):
    report = create(world, bromley_well(world), report_type)
    financial = facts(report, "financial")
    assert financial["Cost of proposal"].startswith("£2,700,000 per year")
    assert financial["Ongoing costs"] == "Recurring cost: £2,700,000 per year"
    assert financial["Budget head/performance centre"] == "Various"
    assert financial["Total current budget for this head"] == "£2,751,000"
    assert financial["Source of funding"] == "Core LBB/CCG/BCF"
    assert facts(report, "customer_impact") == {
        "Estimated number of users/beneficiaries (current and projected)": "5,000"}
    assert facts(report, "procurement")["Procurement regime"] == \
        "Public Contracts Regulations 2015"
    everything = repr(report.sections)
    assert "Not yet linked" not in everything and "to be added by the report author" not in \
        everything


def test_it_names_the_funding_sources_and_top_slice_of_the_schemes_that_fund_it(world):
    # A live contract: the paper speaks about the financial year we are in.
    year = financial_year_start(timezone.localdate())
    contract = bromley_well(world, funding_sources_text="", total_current_budget=None,
                            start_date=date(year - 1, 10, 1),
                            initial_end_date=date(year + 2, 9, 30))
    agreement = agreement_for(world, title="Bromley Section 75 agreement",
                              start_date=date(year - 1, 4, 1), end_date=date(year + 3, 3, 31))
    scheme = scheme_for(agreement, code="BW-01", name="Bromley Well", budget="2751000",
                        year=year)
    for code, amount in (("council-core", "1200000"), ("nhs-baseline", "900000"),
                         ("bcf-nhs-minimum", "600000")):
        ContractFunding.objects.create(contract=contract, scheme=scheme, source=source(code),
                                       basis=AllocationBasis.AMOUNT, amount=Decimal(amount))
    TopSlice.objects.create(agreement=agreement, scheme=scheme, year=year,
                            name="Innovation fund", percent=Decimal("15"))
    financial = facts(create(world, contract), "financial")
    assert financial["Source of funding"] == (
        "Council core budget (BW-01 Bromley Well); NHS/ICB baseline (BW-01 Bromley Well); "
        "BCF NHS minimum contribution (BW-01 Bromley Well)")
    assert financial["Total current budget for this head"] == \
        f"£2,700,000 allocated from the pooled budget ({year_label(year)})"
    assert financial["Top-slice"] == (f"Innovation fund: 15% of the {year_label(year)} budget "
                                      "of BW-01 Bromley Well (£412,650) is held back")


def test_it_says_what_the_register_does_not_hold_instead_of_a_placeholder(world):
    report = create(world, contract_for(world))
    financial = facts(report, "financial")
    assert financial["Source of funding"] == NOT_RECORDED
    assert facts(report, "customer_impact")[
        "Estimated number of users/beneficiaries (current and projected)"] == \
        NOT_RECORDED


def _mark_financial_exempt(report):
    return committee.committee_report_save(
        report=report, expected_version=report.version,
        sections={"financial": (EXEMPT_TEXT, True)})


def _docx(export: CommitteeReportExport) -> Document:
    with export.file.open("rb") as handle:
        return Document(io.BytesIO(handle.read()))


def _all_text(document: Document) -> str:
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_it_exports_word_with_the_cover_and_without_part_2_in_part_1(world):
    report = _mark_financial_exempt(create(world, bromley_well(world)))
    part1 = committee.committee_report_export(report=report, part="part1",
                                              exported_by=world.report_officer_a, fmt="docx")
    part2 = committee.committee_report_export(report=report, part="part2",
                                              exported_by=world.report_officer_a, fmt="docx")
    assert (part1.file_format, part1.version, part1.exported_by) == \
        ("docx", 2, world.report_officer_a)
    assert part1.file.name.endswith(".docx") and part1.page_count is None
    one, two = _docx(part1), _docx(part2)

    cover = {row.cells[0].text: row.cells[1].text for row in one.tables[0].rows}
    assert cover == {
        "Decision maker": "Executive",
        "Date": "Care Services PDS Committee, 4 July 2017",
        "Decision type": "Non-Urgent Executive Key",
        "Title": "CONTRACT AWARD FOR PRIMARY AND SECONDARY INTERVENTION SERVICES",
        "Contact officer": "Josepha Reynolds, Joint Commissioning Development Lead, LBB and "
                           "CCG\nTel: 020 8461 7395\nE-mail: josepha.reynolds@bromley.gov.uk",
        "Chief officer": "Ade Adetosoye, Executive Director, ECHS",
        "Ward": "Borough-wide",
    }
    headings = [p.text for p in one.paragraphs if p.style.name == "Heading 1"]
    assert headings == [title for _key, title in committee.SECTIONS]
    # The customer-impact box carries the register's estimate in Part 1.
    impact = [t for t in one.tables
              if t.rows[0].cells[0].text.startswith("Estimated number of users")]
    assert impact and impact[0].rows[0].cells[1].text == "5,000"
    # Numbered paragraphs under numbered headings (Word's own list, "3.1").
    numbered = [p for p in one.paragraphs
                if p._p.pPr is not None and p._p.pPr.numPr is not None]
    assert {p._p.pPr.numPr.ilvl.val for p in numbered} == {0, 1}

    text1, text2 = _all_text(one), _all_text(two)
    assert EXEMPT_TEXT not in text1 and "Core LBB/CCG/BCF" not in text1
    assert "included only in the Part 2 report" in text1
    assert EXEMPT_TEXT in text2 and "Core LBB/CCG/BCF" in text2
    assert "NOT FOR PUBLICATION" in text2 and "NOT FOR PUBLICATION" not in text1


def test_the_pdf_carries_the_same_register_figures(world):
    report = create(world, bromley_well(world))
    export = committee.committee_report_export(report=report, part="part1",
                                               exported_by=world.report_officer_a)
    assert export.file_format == "pdf" and export.file.name.endswith(".pdf")
    text = pdf_text(export.file.read())
    for shown in ("Source of funding Core LBB/CCG/BCF", "£2,751,000", "Various",
                  "Recurring cost: £2,700,000 per year", "5,000"):
        assert shown in text, shown


class TestExportPages:
    def test_it_exports_and_downloads_word_beside_pdf(self, world, client_for):
        report = _mark_financial_exempt(create(world, bromley_well(world)))
        client = client_for(world.report_officer_a)
        for fmt in ("pdf", "docx"):
            for part in ("part1", "part2"):
                response = client.post(f"/reports/committee/{report.pk}/export/",
                                       {"part": part, "format": fmt})
                assert response.status_code == 302
        exports = {(e.part, e.file_format): e for e in CommitteeReportExport.objects.all()}
        assert len(exports) == 4
        word = exports["part1", "docx"]
        download = client.get(f"/reports/committee/exports/{word.pk}/")
        assert download["Content-Type"] == DOCX_CONTENT_TYPE
        assert download["Content-Disposition"].endswith('Part 1 (public).docx"')
        assert download["Cache-Control"] == "private, no-store"
        assert EXEMPT_TEXT not in _all_text(Document(io.BytesIO(b"".join(download))))
        page = client.get(report.get_absolute_url()).content.decode()
        assert "Export Part 1 Word (.docx)" in page and "(Word document," in page

        # Same rules as the PDF: a partner outside the report sees nothing, and a role that
        # does not open exempt information cannot export or download Part 2 in Word either.
        part2 = exports["part2", "docx"]
        assert client_for(world.commissioner_b).get(
            f"/reports/committee/exports/{word.pk}/").status_code == 404
        assert client_for(world.finance_officer_a).get(
            f"/reports/committee/exports/{part2.pk}/").status_code == 404
        assert client.post(f"/reports/committee/{report.pk}/export/",
                           {"part": "part1", "format": "odt"}).status_code == 404
        # Nor does that role read the exempt section's register figures on the report page.
        reader = client_for(world.finance_officer_a).get(report.get_absolute_url())
        assert reader.status_code == 200
        assert "Core LBB/CCG/BCF" not in reader.content.decode()
        assert "5,000" in reader.content.decode()  # the public customer-impact box
