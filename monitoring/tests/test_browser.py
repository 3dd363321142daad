"""Monitoring and reports in a real browser (headless Chromium through Playwright).

A report officer writes a committee report from a contract, edits it, marks a section exempt
and exports Part 1 and Part 2, reading the downloaded PDFs; asks for last month's joint
monitoring report and downloads it; a provider sends a return that a commissioner accepts.
Every monitoring and report page is scanned with axe, with one <h1> and a unique title.

Tasks run in-process (CELERY_TASK_ALWAYS_EAGER), so a requested report is ready when the
request returns.
"""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from commissioning.tests.browser import (
    Scanner,
    expect_heading,
    press,
    sign_in_verified,
    sign_out,
    type_into,
)
from contracts.tests.factories import contract_for
from monitoring import reporting_periods
from monitoring.models import PerformanceReturn, ReturnStatus
from monitoring.reports import services as report_services
from monitoring.reports.models import CommitteeReport, MonthlyReport, ReportStatus
from monitoring.reports.tests.test_reports import build
from monitoring.tests.factories import kpi_with_target, percentage_kpi

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


# --- Helpers --------------------------------------------------------------------------------

def pdf_text(content: bytes) -> str:
    """The PDF's text with line wrapping undone."""
    assert content.startswith(b"%PDF"), content[:20]
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.split())


def download(page: Page, link) -> bytes:
    with page.expect_download() as info:
        link.click()
    return info.value.path().read_bytes()


def retype(field, page: Page, text: str) -> None:
    """Select what is in a field and type over it."""
    field.focus()
    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    page.keyboard.type(text)


def expect_error(page: Page, message: str) -> None:
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary).to_contain_text(message)
    assert page.title().startswith("Error: "), page.title()


def latest_quarter():
    return reporting_periods.recent_periods(kind="quarter", today=timezone.localdate(), count=1)[-1]


def last_month() -> date:
    return report_services.previous_month(date.today())


def start_committee_report(page: Page, *, meeting_date: str = "04/07/2027") -> None:
    """Fill the start form (everything but the title and contact, which are pre-filled)."""
    page.get_by_label("Performance update", exact=True).check()
    page.get_by_label("Decision maker", exact=True).select_option(
        label="Policy Development and Scrutiny Committee")
    type_into(page, "Meeting", "Care Services PDS Committee")
    type_into(page, "Meeting date", meeting_date)
    page.get_by_label("This is a key decision", exact=True).check()
    type_into(page, "Chief officer", "Ade Adetosoye, Executive Director, ECHS")


# --- a. A committee report from a contract, with Part 1 and Part 2 exports --------------------

COMMENTARY = "Officers met the provider on 3 March and agreed a recovery plan for carers."
EXEMPT = "The negotiated price is £93,250 per year for the next three years."


@pytest.mark.covers("monitoring:committee_report_new", "monitoring:committee_report_detail",
                    "monitoring:committee_report_export")
def test_report_officer_writes_edits_and_exports_a_committee_report(page: Page, live_server,
                                                                    world):
    base = live_server.url
    contract = build(world, contracts=1, kpis=2)[0]
    sign_in_verified(page, base, world.report_officer_a)

    page.goto(base + contract.get_absolute_url())
    expect_heading(page, contract.title)
    page.get_by_role("link", name=re.compile("^Write a committee report")).click()
    expect_heading(page, "Start a committee report")
    expect(page.get_by_label("Title", exact=True)).to_have_value(contract.title)
    expect(page.get_by_label("Contact officer", exact=True)).to_have_value(
        world.report_officer_a.full_name)
    start_committee_report(page)
    page.get_by_label("This is an urgent decision", exact=True).check()
    retype(page.get_by_label("Ward", exact=True), page, "Bromley Town")
    press(page, "Create draft")

    report = CommitteeReport.objects.get()
    expect(page).to_have_url(base + report.get_absolute_url())
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Draft created from the register")
    row = page.locator(".govuk-summary-list__row", has_text="Ward")
    expect(row).to_contain_text("Bromley Town")
    expect(page.locator(".govuk-summary-list__row", has_text="Decision type")).to_contain_text(
        "Key")
    commentary = page.locator("#body-commentary")
    expect(commentary).to_contain_text("Performance:")  # drafted from the KPIs
    retype(commentary, page, COMMENTARY)
    retype(page.locator("#body-financial"), page, EXEMPT)
    page.locator("#exempt-financial").check()
    expect(page.locator("#exempt-financial")).to_be_checked()
    press(page, "Save draft")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Draft saved")
    expect(page.locator("#body-commentary")).to_have_value(COMMENTARY)
    expect(page.locator("#exempt-financial")).to_be_checked()

    press(page, "Export Part 1 PDF")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Part 1 (public) PDF of version 2 exported")
    exports = page.get_by_role("table", name="Exported PDFs")
    part1 = pdf_text(download(page, exports.get_by_role(
        "link", name=re.compile(r"^Download version 2 Part 1 \(public\)"))))
    assert COMMENTARY in part1
    assert "£93,250" not in part1 and "negotiated price" not in part1
    assert "This section contains exempt information" in part1
    assert "Care Services PDS Committee" in part1

    press(page, "Export Part 2 (exempt) PDF")
    exports = page.get_by_role("table", name="Exported PDFs")
    expect(exports.locator("tbody tr")).to_have_count(2)
    part2 = pdf_text(download(page, exports.get_by_role(
        "link", name=re.compile(r"^Download version 2 Part 2 \(exempt\)"))))
    assert EXEMPT in part2 and COMMENTARY in part2


# --- b. Monthly report on request --------------------------------------------------------------

@pytest.mark.covers("monitoring:report_list")
def test_report_officer_asks_for_last_months_report_and_downloads_it(page: Page, live_server,
                                                                     world):
    base = live_server.url
    build(world, contracts=1, kpis=1)
    month = last_month()
    sign_in_verified(page, base, world.report_officer_a)
    page.goto(base + "/reports/")
    expect_heading(page, "Reports")
    ask = page.locator("form", has=page.get_by_role("button", name="Produce report"))

    # A month that has not ended is refused.
    today = date.today()
    ask.get_by_label("Partnership", exact=True).select_option(label=world.partnership_a.name)
    ask.get_by_label("Month", exact=True).select_option(label=f"{today:%B}")
    retype(ask.get_by_label("Year", exact=True), page, str(today.year))
    press(page, "Produce report")
    expect_error(page, "Choose a month that has ended")
    assert not MonthlyReport.objects.exists()

    ask = page.locator("form", has=page.get_by_role("button", name="Produce report"))
    ask.get_by_label("Partnership", exact=True).select_option(label=world.partnership_a.name)
    ask.get_by_label("Month", exact=True).select_option(label=f"{month:%B}")
    retype(ask.get_by_label("Year", exact=True), page, str(month.year))
    press(page, "Produce report")

    report = MonthlyReport.objects.get()
    expect(page).to_have_url(base + report.get_absolute_url())
    expect_heading(page, f"Joint monitoring report, {month:%B %Y}")
    expect(page.locator(".govuk-summary-list__row", has_text="Status")).to_contain_text("Ready")
    content = download(page, page.get_by_role("button", name="Download the report (PDF)"))
    text = pdf_text(content)
    assert world.partnership_a.name in text
    assert f"{month:%B %Y}" in text

    page.get_by_role("link", name="All reports").click()
    expect(page.get_by_role("table", name="1 report")).to_contain_text(f"{month:%B %Y}")


# --- c. Provider portal: send a return; the commissioner accepts it -----------------------------

def monitored_contract(world):
    contract = contract_for(world, reference="BW-001", title="Bromley Well single point of access")
    count = kpi_with_target(contract, code="K1", name="People supported", target="100")
    pct = percentage_kpi(contract, code="K2", name="Seen within 5 days", target="90")
    return contract, count, pct


@pytest.mark.covers("monitoring:return_form", "monitoring:return_check",
                    "monitoring:return_review")
def test_provider_sends_a_return_and_the_commissioner_accepts_it(page: Page, live_server,
                                                                 world):
    base = live_server.url
    contract, count, pct = monitored_contract(world)
    period = latest_quarter()

    assert sign_in_verified(page, base, world.provider_x_user) is None  # no two-factor
    page.goto(base + "/returns/")
    expect_heading(page, "Your performance returns")
    page.locator(".govuk-task-list").get_by_role(
        "link", name=f"BW-001 {contract.title}: {period.label}").click()
    expect_heading(page, f"{period.label} return")

    block_count, block_pct = page.locator(f"#kpi-{count.pk}"), page.locator(f"#kpi-{pct.pk}")
    block_count.get_by_label("Figure (people)").focus()
    page.keyboard.type("118")
    block_pct.get_by_label("Number achieving it").focus()
    page.keyboard.type("45")
    block_pct.get_by_label("Out of (total)").focus()
    page.keyboard.type("40")
    block_pct.get_by_label(re.compile("^Commentary")).focus()
    page.keyboard.type("Two new staff started in August.")
    press(page, "Save as draft")
    message = "The number achieving it for K2 must not be more than the total: 45 is more than 40"
    expect_error(page, message)
    numerator = page.locator(f"#kpi-{pct.pk}").get_by_label("Number achieving it")
    expect(page.locator(f"#kpi-{pct.pk} .govuk-error-message")).to_contain_text(message)
    expect(numerator).to_have_attribute("aria-describedby", re.compile("error"))
    assert not PerformanceReturn.objects.exists()
    page.locator(".govuk-error-summary").get_by_role("link", name=message).click()
    expect(numerator).to_be_focused()
    retype(numerator, page, "38")
    press(page, "Save as draft")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Draft saved")
    expect(page.locator(f"#kpi-{pct.pk}").get_by_label("Number achieving it")).to_have_value("38")
    assert PerformanceReturn.objects.get().status == ReturnStatus.DRAFT

    type_into(page, "Overall commentary", "A steady quarter.")
    press(page, "Continue to check your answers")
    expect_heading(page, f"Check your answers before submitting the {period.label} return")
    expect(page.locator("main")).to_contain_text("38 of 40")
    expect(page.locator("main")).to_contain_text("A steady quarter.")
    press(page, "Submit the return")  # without the declaration
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    page.get_by_role("checkbox").check()
    press(page, "Submit the return")
    expect_heading(page, "Return submitted")
    ret = PerformanceReturn.objects.get()
    assert ret.status == ReturnStatus.SUBMITTED
    assert ret.values.get(kpi=pct).numerator == Decimal("38")
    sign_out(page)

    sign_in_verified(page, base, world.commissioner_a)
    page.get_by_role("link", name="1 return waiting for review").click()
    expect_heading(page, "Returns to review")
    page.get_by_role("table", name="Returns waiting for review").get_by_role(
        "link", name=f"BW-001 {contract.title}").click()
    expect_heading(page, f"BW-001 {contract.title}: {period.label}")
    expect(page.get_by_role("table", name="Figures")).to_contain_text("Two new staff")
    page.get_by_label("Accept it: the figures are locked", exact=True).check()
    press(page, "Save decision")
    expect_heading(page, "Returns to review")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        f"BW-001 {period.label} return accepted")
    expect(page.locator("main")).to_contain_text("There are no returns waiting for review")
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.ACCEPTED and ret.reviewed_by == world.commissioner_a


# --- d. Accessibility of every monitoring and report page ---------------------------------------

def test_every_monitoring_page_passes_axe_with_one_h1_and_a_unique_title(page: Page,
                                                                         live_server, world):
    base = live_server.url
    scanner = Scanner(page)
    contract, count, pct = monitored_contract(world)
    other = contract_for(world, reference="BW-002", title="Carers' breaks")
    kpi_with_target(other, code="C1", name="Breaks given", target="40")
    period = latest_quarter()
    month = last_month()
    queued = MonthlyReport.objects.create(partnership=world.partnership_a, month=month)
    failed = MonthlyReport.objects.create(
        partnership=world.partnership_a, month=date(month.year - 2, month.month, 1),
        status=ReportStatus.FAILED, finished_at=timezone.now(),
        error="The PDF could not be made: a chart was too large. Try again.")
    done = report_services.monthly_report_request(
        partnership=world.partnership_a, month=date(month.year - 1, month.month, 1),
        requested_by=world.report_officer_a).report
    done.refresh_from_db()
    assert done.status == ReportStatus.DONE, done.error
    base_return = f"{base}/returns/{contract.pk}/{period.code}/"

    # The provider's pages.
    sign_in_verified(page, base, world.provider_x_user)
    page.goto(base + "/returns/")
    expect_heading(page, "Your performance returns")
    scanner.scan("provider task list")
    page.goto(base_return)
    expect_heading(page, f"{period.label} return")
    scanner.scan("return form")
    page.locator(f"#kpi-{pct.pk}").get_by_label("Number achieving it").fill("12")
    page.locator(f"#kpi-{pct.pk}").get_by_label("Out of (total)").fill("10")
    page.locator(f"#kpi-{count.pk}").get_by_label("Figure (people)").fill("lots")
    press(page, "Save as draft")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    scanner.scan("return form with errors")

    for path, heading, name in [("evidence/", "Upload evidence", "Upload evidence"),
                                ("upload/", "Upload the return as a spreadsheet", "Upload"),
                                ("service-users/", "Upload the NHS numbers of people supported",
                                 "Upload")]:
        page.goto(base_return + path)
        expect_heading(page, heading)
        scanner.scan(heading)
        press(page, name)
        expect(page.locator(".govuk-error-summary")).to_be_visible()
        scanner.scan(f"{heading} with errors")
    page.get_by_label("Upload a list of NHS numbers").set_input_files(
        {"name": "people.csv", "mimeType": "text/csv", "buffer": b"943 476 5919\n"})
    press(page, "Upload")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "1 NHS number recorded")

    page.locator(f"#kpi-{pct.pk}").get_by_label("Number achieving it").fill("9")
    page.locator(f"#kpi-{pct.pk}").get_by_label("Out of (total)").fill("10")
    page.locator(f"#kpi-{count.pk}").get_by_label("Figure (people)").fill("120")
    press(page, "Continue to check your answers")
    expect_heading(page, f"Check your answers before submitting the {period.label} return")
    scanner.scan("check your answers")
    press(page, "Submit the return")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    scanner.scan("check your answers with errors")
    page.get_by_role("checkbox").check()
    press(page, "Submit the return")
    expect_heading(page, "Return submitted")
    scanner.scan("return submitted")
    page.goto(base_return)
    scanner.scan("return form (submitted)", same_page_as="return form")
    sign_out(page)

    # The commissioner's pages.
    sign_in_verified(page, base, world.commissioner_a)
    page.goto(base + "/monitoring/")
    expect_heading(page, "Performance overview")
    scanner.scan("performance overview")
    page.get_by_label("Search", exact=True).fill("BW-001")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("table", name="Contracts by performance").locator("tbody tr")
           ).to_have_count(1)
    scanner.scan("performance overview (filtered)", same_page_as="performance overview")
    page.goto(base + "/monitoring/inbox/")
    expect_heading(page, "Returns to review")
    scanner.scan("inbox")
    page.get_by_role("link", name=f"BW-001 {contract.title}").click()
    scanner.scan("return review")
    press(page, "Save decision")  # no decision chosen
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    scanner.scan("return review with errors")

    page.goto(f"{base}/monitoring/contracts/{contract.pk}/")
    expect_heading(page, f"BW-001 {contract.title}: performance")
    scanner.scan("contract performance")
    for path, heading in [
        (f"/monitoring/contracts/{contract.pk}/kpis/new/", "Add a KPI"),
        (f"/monitoring/kpis/{count.pk}/edit/", "Change KPI K1"),
        (f"/monitoring/kpis/{count.pk}/targets/new/", "Set a target for K1 People supported"),
        (f"/monitoring/contracts/{contract.pk}/kpis/copy/", "Copy KPIs from the library"),
    ]:
        page.goto(base + path)
        expect_heading(page, heading)
        scanner.scan(heading)
    page.goto(f"{base}/monitoring/contracts/{contract.pk}/kpis/new/")
    press(page, "Save KPI")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    scanner.scan("add a KPI with errors")

    page.goto(f"{base}/monitoring/contracts/{contract.pk}/")
    press(page, "Draft an assessment from the year's returns")
    expect(page.locator("h1")).to_contain_text("Procurement Act performance assessment")
    scanner.scan("assessment")
    page.goto(base + "/monitoring/service-users/")
    expect(page.get_by_role("table", name=re.compile("^People supported in"))).to_contain_text(
        "BW-001")
    scanner.scan("service users report")

    # Reports.
    page.goto(base + "/reports/")
    expect_heading(page, "Reports")
    scanner.scan("reports list")
    page.goto(base + queued.get_absolute_url())
    status = page.locator(".govuk-summary-list__row", has_text="Status")
    expect(status).to_contain_text("Queued")
    scanner.scan("monthly report (queued)")
    # The page checks again by itself and shows the new status, without a timed refresh.
    MonthlyReport.objects.filter(pk=queued.pk).update(
        status=ReportStatus.FAILED, finished_at=timezone.now(), error="Stopped for the test.")
    expect(status).to_contain_text("Failed", timeout=8000)
    expect(page.get_by_role("status")).to_have_text("Status: Failed")
    expect(page.get_by_role("button", name="Try again")).to_be_visible()
    page.goto(base + done.get_absolute_url())
    expect(page.get_by_role("button", name="Download the report (PDF)")).to_be_visible()
    scanner.scan("monthly report (done)")
    page.goto(base + failed.get_absolute_url())
    # A person is told what happened in plain words; the exception is for staff and the log.
    expect(page.locator("main")).to_contain_text("The report could not be produced")
    expect(page.locator("main")).not_to_contain_text("a chart was too large")
    scanner.scan("monthly report (failed)")
    page.goto(base + "/reports/")
    press(page, "Produce report")  # no partnership chosen
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    scanner.scan("reports list with errors")

    page.goto(f"{base}/reports/committee/new/?contract={contract.pk}")
    expect_heading(page, "Start a committee report")
    scanner.scan("committee report: start")
    start_committee_report(page, meeting_date="31/02/2027")
    press(page, "Create draft")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the meeting date")
    scanner.scan("committee report: start with errors")
    retype(page.get_by_label("Meeting date", exact=True), page, "04/07/2027")
    press(page, "Create draft")
    expect_heading(page, contract.title)
    scanner.scan("committee report")
    page.locator("#body-legal").fill("x" * 20_001)
    press(page, "Save draft")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Legal implications must be")
    scanner.scan("committee report with errors")
    press(page, "Export Part 1 PDF")
    expect(page.get_by_role("table", name="Exported PDFs")).to_be_visible()
    scanner.scan("committee report (exported)", same_page_as="committee report")

    scanner.check()
