"""Adding a contract with its CPV codes and Find a Tender identifiers, in a real browser
(issue 16): the "Procurement" page of the add-a-contract journey shows the same fields as
"Change details", refuses a bad code or notice next to its field (the same checks), reads the
notice as a notice's page shows it (2025/S 000-012345), and the contract is added with them."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from commissioning.tests.browser import (
    Scanner,
    expect_heading,
    press,
    sign_in_verified,
    type_into,
)
from contracts.models import Contract

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pick(page: Page, label: str, option: str) -> None:
    """Choose ``option`` in a picker as it is shown: a plain select, or the accessible
    autocomplete it is enhanced into (type part of it, choose the suggestion)."""
    field = page.get_by_label(label, exact=True)
    if field.evaluate("element => element.tagName") == "SELECT":
        field.select_option(label=option)
        return
    field.fill("")
    field.press_sequentially(option[:14], delay=20)
    page.get_by_role("option", name=option, exact=True).click()
    expect(field).to_have_value(option)


def check_row(page: Page, key: str):
    return page.locator(".govuk-summary-list__row").filter(
        has=page.locator(".govuk-summary-list__key", has_text=key))


@pytest.mark.covers("contracts:create_step", "contracts:create_check")
def test_it_adds_a_contract_with_its_cpv_codes_and_find_a_tender_notice(
        page: Page, live_server, world):
    base = live_server.url
    sign_in_verified(page, base, world.commissioner_a)
    page.goto(base + "/contracts/")
    page.get_by_role("button", name="Add a contract").click()

    expect_heading(page, "Contract details")
    type_into(page, "Contract reference", "BR-2026-031")
    type_into(page, "Title", "Residential respite for carers")
    page.get_by_label("Carers", exact=True).check()
    press(page, "Continue")

    expect_heading(page, "Who is involved")
    pick(page, "Partnership", world.partnership_a.name)
    pick(page, "Contract holder", world.council_a.name)
    pick(page, "Lead commissioner", world.icb_a.name)
    pick(page, "Provider", world.provider_y.name)
    press(page, "Continue")

    expect_heading(page, "Procurement")
    page.get_by_label("Procurement Act 2023", exact=True).check()
    page.get_by_label("Procurement route", exact=True).select_option(
        value="pa_competitive_flexible")
    page.get_by_label("Yes", exact=True).check()
    page.get_by_label("Live", exact=True).check()
    pick(page, "Main CPV code (optional)", "85311000 Social work services with accommodation")
    type_into(page, "Additional CPV codes (optional)", "85312000-9, 85399999")
    type_into(page, "Find a Tender notice identifier (optional)", "12345/2025")
    type_into(page, "Find a Tender procedure identifier (optional)", "ocds-h6vhtk-04f3a1")
    press(page, "Continue")

    # The same checks as "Change details", each next to its field; nothing is kept yet.
    expect_heading(page, "Procurement")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("85399999 is not a code in the CPV 2008 list")
    expect(summary).to_contain_text(
        "Enter the Find a Tender notice identifier in the right format, like 012345-2025")
    expect(page.locator(".govuk-form-group--error")).to_have_count(2)
    scanner = Scanner(page)
    scanner.scan("add a contract: procurement with CPV and notice errors")
    scanner.check()

    codes = page.get_by_label("Additional CPV codes (optional)", exact=True)
    codes.fill("")
    type_into(page, "Additional CPV codes (optional)", "85312000-9, 85323000")
    notice = page.get_by_label("Find a Tender notice identifier (optional)", exact=True)
    notice.fill("")
    type_into(page, "Find a Tender notice identifier (optional)", "2025/S 000-012345")
    press(page, "Continue")

    expect_heading(page, "Dates and extension options")
    type_into(page, "Start date", "01/04/2026")
    type_into(page, "End date of the initial term", "31/03/2029")
    type_into(page, "Notice period, in months", "6")
    press(page, "Continue")
    expect_heading(page, "Value")
    type_into(page, "Annual value", "£180,000")
    press(page, "Continue")
    expect_heading(page, "Service lines")
    press(page, "Continue")
    expect_heading(page, "Commissioning partners' shares")
    type_into(page, f"{world.council_a.name}: share of the cost (%)", "100")
    press(page, "Continue")

    expect_heading(page, "Check your answers before adding the contract")
    expect(check_row(page, "CPV codes")).to_contain_text(
        "85311000 Social work services with accommodation (main); 85312000 Social work "
        "services without accommodation; 85323000 Community health services")
    expect(check_row(page, "Find a Tender notice")).to_contain_text("012345-2025")
    expect(check_row(page, "Find a Tender procedure")).to_contain_text("ocds-h6vhtk-04f3a1")
    press(page, "Add contract")

    expect_heading(page, "Residential respite for carers")
    main = page.locator("main")
    expect(main).to_contain_text("85311000 Social work services with accommodation (main)")
    expect(main).to_contain_text("Notice 012345-2025; procedure ocds-h6vhtk-04f3a1")
    contract = Contract.objects.get(reference="BR-2026-031")
    assert (contract.cpv_code, contract.additional_cpv_codes) == (
        "85311000", ["85312000", "85323000"])
    assert (contract.find_a_tender_notice_id, contract.find_a_tender_procedure_id) == (
        "012345-2025", "ocds-h6vhtk-04f3a1")
