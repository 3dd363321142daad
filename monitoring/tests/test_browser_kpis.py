"""Setting up what a provider reports, and the provider's uploads, in a real browser.

A commissioner adds a KPI, changes it, sets its target, copies KPIs from the library and drafts
and saves a Procurement Act assessment, each from the contract's performance page. A provider
downloads the return template through its link, fills it in and uploads it, and uploads the
NHS numbers of the people supported and a piece of evidence. The journeys declare the POST
views they drive (``covers``); the browser's own requests prove each was posted through its
page.
"""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from commissioning.tests.browser import (
    expect_heading,
    press,
    sign_in_verified,
    sign_out,
    type_into,
)
from contracts.tests.factories import contract_for
from monitoring import reporting_periods
from monitoring.models import (
    KPI,
    Evidence,
    PerformanceAssessment,
    PerformanceReturn,
    ServiceUserList,
)
from monitoring.tests.factories import kpi_with_target

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def expect_success(page: Page, text: str) -> None:
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(text)


@pytest.mark.covers("monitoring:kpi_create", "monitoring:kpi_edit", "monitoring:target_set",
                    "monitoring:templates_copy", "monitoring:assessment_start",
                    "monitoring:assessment")
def test_it_lets_a_commissioner_set_up_kpis_and_assess_a_contract(page: Page, live_server,
                                                                  world):
    base = live_server.url
    contract = contract_for(world, reference="DH-001", title="Dementia Hub")
    sign_in_verified(page, base, world.commissioner_a)
    page.goto(base + contract.get_absolute_url())
    page.get_by_role("link", name=re.compile("^KPIs, returns and performance")).click()
    expect(page.locator("h1")).to_contain_text("performance")

    page.locator("main").get_by_text("Add a KPI", exact=True).click()
    expect_heading(page, "Add a KPI")
    type_into(page, "Code", "DH1")
    type_into(page, "Name", "People referred")
    type_into(page, "Definition", "New referrals to the hub in the quarter")
    page.get_by_label("How much did we do?", exact=True).check()
    page.get_by_label("Count", exact=True).check()
    type_into(page, "Unit", "people")
    page.get_by_label("Higher is better", exact=True).check()
    page.get_by_label("Quarterly", exact=True).check()
    press(page, "Save KPI")
    expect_success(page, "KPI DH1 added")

    # The target page follows the new KPI.
    expect(page.locator("h1")).to_contain_text("Set a target for DH1")
    page.get_by_label("From which period?", exact=True).select_option(index=1)
    type_into(page, "Target", "150")
    type_into(page, "Amber tolerance", "10")
    press(page, "Save target")
    expect_success(page, "Target for DH1 set")

    page.get_by_role("link", name=re.compile("^Change DH1")).click()
    expect_heading(page, "Change KPI DH1")
    page.get_by_label("Name", exact=True).fill("People referred to the hub")
    press(page, "Save changes")

    page.locator("main").get_by_text("Copy KPIs from the library", exact=True).click()
    expect_heading(page, "Copy KPIs from the library")
    page.get_by_label("Dementia Hub", exact=True).check()
    press(page, "Copy KPIs")
    expect_success(page, "copied")

    page.get_by_label("Financial year", exact=True).fill("2025/26")
    press(page, "Draft an assessment from the year's returns")
    expect(page.locator("h1")).to_contain_text("Procurement Act performance assessment 2025/26")
    type_into(page, "Summary for the contract performance notice",
              "The provider met its targets for the year.")
    press(page, "Save assessment")

    kpi = KPI.objects.get(contract=contract, code="DH1")
    assert kpi.name == "People referred to the hub"
    assert kpi.targets.filter(target_value=150).exists()
    assert KPI.objects.filter(contract=contract).count() > 1
    assessment = PerformanceAssessment.objects.get(contract=contract)
    assert assessment.summary == "The provider met its targets for the year."


@pytest.mark.covers("monitoring:return_upload", "monitoring:service_users_upload",
                    "monitoring:evidence_upload")
def test_it_lets_a_provider_upload_a_return_nhs_numbers_and_evidence(page: Page, live_server,
                                                                     world):
    base = live_server.url
    contract = contract_for(world, reference="DH-001", title="Dementia Hub")
    kpi = kpi_with_target(contract, code="DH1", name="People referred", target="150")
    period = reporting_periods.recent_periods(kind="quarter", today=timezone.localdate(),
                                              count=1)[-1]

    sign_in_verified(page, base, world.provider_x_user)
    page.goto(base + "/returns/")
    page.locator(".govuk-task-list").get_by_role(
        "link", name=f"DH-001 Dementia Hub: {period.label}").click()
    expect_heading(page, f"{period.label} return")

    with page.expect_download() as download:
        page.get_by_role("link", name="download the template (CSV)").click()
    template = download.value.path().read_text(encoding="utf-8-sig").splitlines()
    header, row = template[0].split(","), template[1].split(",")
    row[header.index("value")] = "163"
    page.get_by_role("link", name="upload it").click()
    expect_heading(page, "Upload the return as a spreadsheet")
    page.get_by_label("Upload the completed template", exact=True).set_input_files({
        "name": "return.csv", "mimeType": "text/csv",
        "buffer": "\r\n".join([template[0], ",".join(row)]).encode()})
    press(page, "Upload")
    expect_heading(page, f"{period.label} return")
    expect(page.get_by_label("Figure (people)")).to_have_value("163")

    page.get_by_role("link", name="Upload NHS numbers of people supported").click()
    expect_heading(page, "Upload the NHS numbers of people supported")
    page.get_by_label("Upload a list of NHS numbers", exact=True).set_input_files({
        "name": "people.csv", "mimeType": "text/csv",
        "buffer": b"NHS number\r\n943 476 5919\r\n4010232137\r\n"})
    press(page, "Upload")
    expect_heading(page, f"{period.label} return")

    page.get_by_role("link", name="Upload evidence", exact=True).click()
    expect_heading(page, "Upload evidence")
    page.get_by_label("Which KPI is it evidence for?", exact=True).select_option(
        label=str(kpi))
    page.get_by_label("Upload a file", exact=True).set_input_files({
        "name": "referrals.pdf", "mimeType": "application/pdf", "buffer": PDF})
    press(page, "Upload evidence")
    expect(page.locator("main").get_by_role("link", name="referrals.pdf")).to_be_visible()
    sign_out(page)

    performance_return = PerformanceReturn.objects.get(contract=contract, period=period)
    assert performance_return.values.get(kpi=kpi).value == 163
    assert ServiceUserList.objects.get().count == 2
    assert Evidence.objects.get(kpi=kpi).original_name == "referrals.pdf"
