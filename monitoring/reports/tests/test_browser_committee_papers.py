"""The Bromley Well contract award paper (seed 000) made from the register in a real browser.

A commissioner enters the contract through the create journey, records on its page what the
paper's financial and customer-impact boxes need (fixing the errors the page shows), writes
the award report, marks the personnel section exempt, and exports Part 1 as PDF and Part 1
and Part 2 as Word. The PDF is read back with pypdf and the .docx files with python-docx: the
cover carries the annual cost, the sources of funding and the estimated users without anyone
typing them into the report, and Part 2 text is absent from Part 1.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from docx import Document
from playwright.sync_api import Page, expect

from commissioning.tests.browser import (
    Scanner,
    expect_heading,
    pick,
    press,
    sign_in_verified,
    type_into,
)
from contracts.models import Contract
from monitoring.reports.models import CommitteeReport, CommitteeReportExport
from monitoring.reports.tests.test_reports import pdf_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXEMPT = "Number of staff: 14 posts transfer to the provider under TUPE."


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def choose(page: Page, label: str) -> None:
    page.get_by_label(label, exact=True).check()


def retype(page: Page, label: str, text: str) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill("")
    field.focus()
    page.keyboard.type(text)


def download(page: Page, link) -> bytes:
    with page.expect_download() as info:
        link.click()
    return info.value.path().read_bytes()


def summary_value(page: Page, key: str):
    return page.locator(".govuk-summary-list__row").filter(
        has=page.locator(".govuk-summary-list__key", has_text=re.compile(f"^{re.escape(key)}$"))
    ).locator(".govuk-summary-list__value")


def enter_bromley_well(page: Page, base: str, world) -> Contract:
    """The create journey with the seed paper's figures."""
    page.goto(base + "/contracts/new/")
    expect_heading(page, "Contract details")
    type_into(page, "Contract reference", "LBB-PSIS-2017")
    type_into(page, "Title", "Primary and Secondary Intervention Services")
    type_into(page, "Description", "Bromley Well: eight preventative pathways")
    choose(page, "Adult social care")
    press(page, "Continue")
    expect_heading(page, "Who is involved")
    page.get_by_label("Partnership", exact=True).select_option(label=world.partnership_a.name)
    pick(page, "Contract holder", world.council_a.name)
    pick(page, "Lead commissioner", world.council_a.name)
    pick(page, "Provider", world.provider_x.name)
    press(page, "Continue")
    expect_heading(page, "Procurement")
    choose(page, "Public Contracts Regulations 2015")
    page.get_by_label("Procurement route", exact=True).select_option(value="pcr_light_touch")
    choose(page, "Yes")
    choose(page, "In procurement")
    press(page, "Continue")
    expect_heading(page, "Dates and extension options")
    type_into(page, "Start date", "01/10/2017")
    type_into(page, "End date of the initial term", "30/09/2020")
    type_into(page, "Notice period, in months", "6")
    type_into(page, "Extension options (optional)", "12, 12")
    press(page, "Continue")
    expect_heading(page, "Value")
    type_into(page, "Annual value", "£2,700,000")
    press(page, "Continue")
    expect_heading(page, "Service lines")
    type_into(page, "Service lines or pathways (optional)", "Single Point of Access")
    press(page, "Continue")
    expect_heading(page, "Commissioning partners' shares")
    type_into(page, f"{world.council_a.name}: share of the cost (%)", "60")
    type_into(page, f"{world.icb_a.name}: share of the cost (%)", "40")
    choose(page, f"{world.icb_a.display_name} jointly monitors the contract")
    press(page, "Continue")
    expect_heading(page, "Check your answers before adding the contract")
    press(page, "Add contract")
    contract = Contract.objects.get(reference="LBB-PSIS-2017")
    expect(page).to_have_url(base + contract.get_absolute_url())
    return contract


@pytest.mark.covers("contracts:create_step", "contracts:create_check", "contracts:cover",
                    "monitoring:committee_report_new", "monitoring:committee_report_detail",
                    "monitoring:committee_report_export")
def test_it_builds_the_bromley_well_award_paper_from_the_register_in_pdf_and_word(
        page: Page, live_server, world):
    base = live_server.url
    scanner = Scanner(page)
    sign_in_verified(page, base, world.commissioner_a)
    contract = enter_bromley_well(page, base, world)
    expect(summary_value(page, "Estimated users or beneficiaries")).to_have_text("Not recorded")

    # What the paper's boxes need, typed on the contract's page; bad input is named.
    page.get_by_role("link", name="Change funding details for committee papers").click()
    expect_heading(page, "Change funding details for committee papers")
    scanner.scan("committee paper details")
    type_into(page, "Sources of funding (optional)", "Core LBB/CCG/BCF")
    type_into(page, "Ongoing annual cost (optional)", "£2,700,000")
    type_into(page, "Budget head or performance centre (optional)", "Various")
    type_into(page, "Total current budget for this head (optional)", "£2.751m")
    type_into(page, "Estimated number of users or beneficiaries (optional)", "about 5000")
    press(page, "Save funding details")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text(
        "Enter the total current budget for this head as an amount in pounds written in full, "
        "like £75,000: amounts shortened with k or m (like £75k or £2.7m) are not read")
    expect(summary).to_contain_text(
        "Enter the estimated number of users or beneficiaries as a whole number")
    scanner.scan("committee paper details with errors")
    contract.refresh_from_db()
    assert contract.budget_head == "" and contract.version == 1  # nothing saved
    retype(page, "Total current budget for this head (optional)", "£2,751,000")
    retype(page, "Estimated number of users or beneficiaries (optional)", "5000")
    press(page, "Save funding details")
    # The ongoing cost has an amount but is neither recurring nor one-off: the service says so.
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Select whether the ongoing annual cost is recurring or non-recurring")
    expect(page.get_by_label("Sources of funding (optional)", exact=True)).to_have_value(
        "Core LBB/CCG/BCF")
    choose(page, "Recurring cost")
    press(page, "Save funding details")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Funding details for committee papers saved")
    expect(summary_value(page, "Sources of funding")).to_have_text("Core LBB/CCG/BCF")
    expect(summary_value(page, "Ongoing costs")).to_have_text(
        "Recurring cost, £2,700,000.00 per year")
    expect(summary_value(page, "Total current budget for this head")).to_have_text(
        "£2,751,000.00")
    expect(summary_value(page, "Estimated users or beneficiaries")).to_have_text("5,000")
    contract.refresh_from_db()
    assert (contract.total_current_budget, contract.estimated_users, contract.ongoing_costs) \
        == (Decimal("2751000.00"), 5000, "recurring")

    # The award report: only the meeting is typed; the figures come from the register.
    page.get_by_role("link", name=re.compile("^Write a committee report")).click()
    expect_heading(page, "Start a committee report")
    choose(page, "Contract award")
    page.get_by_label("Decision maker", exact=True).select_option(label="Executive")
    type_into(page, "Meeting", "Care Services PDS Committee")
    type_into(page, "Meeting date", "04/07/2017")
    choose(page, "This is a key decision")
    retype(page, "Contact officer", "Josepha Reynolds")
    type_into(page, "Chief officer", "Ade Adetosoye, Executive Director, ECHS")
    press(page, "Create draft")
    report = CommitteeReport.objects.get()
    expect(page).to_have_url(base + report.get_absolute_url())
    financial = page.get_by_role("table", name="Financial: from the register")
    expect(financial).to_contain_text("Core LBB/CCG/BCF")
    expect(financial).to_contain_text("£2,751,000")
    expect(page.get_by_role("table", name="Customer impact: from the register")
           ).to_contain_text("5,000")
    scanner.scan("committee report with register figures")

    page.locator("#body-personnel").fill(EXEMPT)
    page.locator("#exempt-personnel").check()
    press(page, "Save draft")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Draft saved")

    press(page, "Export Part 1 PDF")
    press(page, "Export Part 1 Word (.docx)")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Part 1 (public) Word document of version 2 exported")
    press(page, "Export Part 2 (exempt) Word (.docx)")
    exports = page.get_by_role("table", name="Exported PDFs and Word documents")
    expect(exports.locator("tbody tr")).to_have_count(3)
    scanner.scan("committee report (exported)", same_page_as="committee report with register "
                                                            "figures")

    pdf = pdf_text(download(page, exports.get_by_role(
        "link", name=re.compile(r"^Download version 2 Part 1 \(public\) \(PDF"))))
    for shown in ("Non-Urgent Executive Key", "PRIMARY AND SECONDARY INTERVENTION SERVICES",
                  "Josepha Reynolds",
                  "Source of funding Core LBB/CCG/BCF", "£2,700,000 per year", "5,000"):
        assert shown in pdf, shown
    assert "TUPE" not in pdf

    word = Document(io.BytesIO(download(page, exports.get_by_role(
        "link", name=re.compile(r"^Download version 2 Part 1 \(public\) \(Word")))))
    cover = {row.cells[0].text: row.cells[1].text for row in word.tables[0].rows}
    assert cover["Decision maker"] == "Executive"
    assert cover["Date"] == "Care Services PDS Committee, 4 July 2017"
    assert cover["Decision type"] == "Non-Urgent Executive Key"
    assert cover["Title"] == "PRIMARY AND SECONDARY INTERVENTION SERVICES"
    assert cover["Contact officer"].startswith("Josepha Reynolds")
    assert cover["Chief officer"] == "Ade Adetosoye, Executive Director, ECHS"
    assert cover["Ward"] == "Borough-wide"
    boxes = {row.cells[0].text: row.cells[1].text
             for table in word.tables[1:] for row in table.rows}
    assert boxes["Source of funding"] == "Core LBB/CCG/BCF"
    assert boxes["Cost of proposal"].startswith("£2,700,000 per year")
    assert boxes["Total current budget for this head"] == "£2,751,000"
    assert boxes["Estimated number of users/beneficiaries (current and projected)"] == "5,000"
    part1_text = "\n".join(p.text for p in word.paragraphs)
    assert "TUPE" not in part1_text and "included only in the Part 2 report" in part1_text

    part2 = Document(io.BytesIO(download(page, exports.get_by_role(
        "link", name=re.compile(r"^Download version 2 Part 2 \(exempt\) \(Word")))))
    assert EXEMPT in "\n".join(p.text for p in part2.paragraphs)
    assert {e.file_format for e in CommitteeReportExport.objects.all()} == {"pdf", "docx"}
    scanner.check()
