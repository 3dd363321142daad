"""The contract register in a real browser (headless Chromium through Playwright).

A commissioner signs in through the real sign-in and two-factor pages, records a contract
through the multi-page journey (mostly with the keyboard), fixes the errors it is shown,
changes an answer from "Check your answers", then works on the contract. A provider sees only
its own contracts. Every contract page is scanned with axe, with one <h1> and a unique title.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from commissioning.tests.browser import Scanner, expect_heading, pick, sign_in_verified, type_into
from contracts.models import Contract, ContractStatus
from contracts.tests.factories import contract_for, full_contract

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


# --- Helpers --------------------------------------------------------------------------------

def retype(page: Page, label: str, text: str) -> None:
    """Select what is in a field and type over it, as a person correcting it would."""
    field = page.get_by_label(label, exact=True)
    field.focus()
    field.select_text()
    page.keyboard.press("Backspace")
    page.keyboard.type(text)


def choose(page: Page, label: str) -> None:
    """Pick a radio or tick a box with the keyboard: focus it, press Space."""
    page.get_by_label(label, exact=True).focus()
    page.keyboard.press("Space")
    expect(page.get_by_label(label, exact=True)).to_be_checked()


def press_button(page: Page, name: str) -> None:
    """Move focus to a button and press Enter."""
    button = page.locator("main").get_by_role("button", name=name, exact=True)
    button.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")


def expect_error(page: Page, message: str) -> None:
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()  # GOV.UK Frontend moves focus there for screen readers
    expect(summary).to_contain_text(message)
    assert page.title().startswith("Error: "), page.title()


def summary_row(page: Page, key: str):
    """A row of the page's detail lists (not the at-a-glance summary at the top of a contract
    page, which repeats some keys: see glance_row)."""
    return page.locator(".govuk-summary-list:not(.app-contract-summary) "
                        ".govuk-summary-list__row").filter(
        has=page.locator(".govuk-summary-list__key", has_text=re.compile(f"^{re.escape(key)}$"))
    )


# --- The create journey and changes to the new contract --------------------------------------

@pytest.mark.covers("contracts:create_step", "contracts:create_check", "contracts:status",
                    "contracts:variation", "contracts:document_upload")
def test_commissioner_records_a_contract_and_works_on_it(page: Page, live_server, world):
    base = live_server.url
    sign_in_verified(page, base, world.commissioner_a)

    page.locator("header, nav").get_by_role("link", name="Contracts").first.click()
    expect_heading(page, "Contract register")
    expect(page.locator("main")).to_contain_text("There are no contracts in the register yet")
    page.get_by_role("button", name="Add a contract").click()

    # 1. Details
    expect_heading(page, "Contract details")
    type_into(page, "Contract reference", "BR-2026-014")
    type_into(page, "Title", "Carers support hub")
    type_into(page, "Description", "Information, advice and breaks for unpaid carers")
    choose(page, "Carers")
    press_button(page, "Continue")

    # 2. Who is involved
    expect_heading(page, "Who is involved")
    page.get_by_label("Partnership", exact=True).select_option(label=world.partnership_a.name)
    pick(page, "Contract holder", world.council_a.name)
    pick(page, "Lead commissioner", world.icb_a.name)
    pick(page, "Provider", world.provider_y.name)
    page.get_by_label("Contract manager (optional)", exact=True).select_option(
        label=world.contract_manager_a.full_name
    )
    press_button(page, "Continue")

    # 3. Procurement
    expect_heading(page, "Procurement")
    choose(page, "Procurement Act 2023")
    page.get_by_label("Procurement route", exact=True).select_option(
        value="pa_competitive_flexible"
    )
    choose(page, "Yes")
    choose(page, "Planned")
    press_button(page, "Continue")

    # 4. Dates: an end before the start is refused, and the summary links to the field.
    expect_heading(page, "Dates and extension options")
    type_into(page, "Start date", "01/04/2026")
    type_into(page, "End date of the initial term", "31/03/2025")
    type_into(page, "Notice period, in months", "6")
    type_into(page, "Extension options (optional)", "12, 12")
    page.keyboard.press("Enter")
    expect_error(page, "The end date must be the same as or after the start date")
    page.locator(".govuk-error-summary").get_by_role(
        "link", name="The end date must be the same as or after the start date"
    ).click()
    expect(page.get_by_label("End date of the initial term", exact=True)).to_be_focused()
    retype(page, "End date of the initial term", "31/03/2029")
    page.keyboard.press("Enter")

    # 5. Value
    expect_heading(page, "Value")
    type_into(page, "Annual value", "£250,000")
    page.keyboard.press("Enter")

    # 6. Service lines, one a line
    expect_heading(page, "Service lines")
    page.get_by_label("Service lines or pathways (optional)", exact=True).focus()
    page.keyboard.type("Young carers")
    page.keyboard.press("Enter")
    page.keyboard.type("Adult carers")
    press_button(page, "Continue")

    # 7. Shares that do not add up to 100% are refused.
    expect_heading(page, "Commissioning partners' shares")
    council_share = f"{world.council_a.name}: share of the cost (%)"
    icb_share = f"{world.icb_a.name}: share of the cost (%)"
    type_into(page, council_share, "60")
    type_into(page, icb_share, "30")
    choose(page, f"{world.icb_a.display_name} jointly monitors the contract")
    press_button(page, "Continue")
    expect_error(page, "The shares must add up to 100%. They add up to 90%")
    retype(page, icb_share, "40")
    press_button(page, "Continue")

    # Check your answers, and change one of them.
    expect_heading(page, "Check your answers before adding the contract")
    expect(summary_row(page, "Title")).to_contain_text("Carers support hub")
    expect(summary_row(page, "Provider")).to_contain_text(world.provider_y.name)
    expect(summary_row(page, "Annual value")).to_contain_text("£250,000.00")
    expect(summary_row(page, "Whole-life value (including all options)")).to_contain_text(
        "£1,250,000.00"
    )
    expect(summary_row(page, "Shares")).to_contain_text("60%")
    page.get_by_role("link", name="Change title").click()
    expect_heading(page, "Contract details")
    expect(page.get_by_label("Title", exact=True)).to_have_value("Carers support hub")
    retype(page, "Title", "Carers support hub (all ages)")
    press_button(page, "Continue")
    expect_heading(page, "Check your answers before adding the contract")
    expect(summary_row(page, "Title")).to_contain_text("Carers support hub (all ages)")
    press_button(page, "Add contract")

    # The contract page
    contract = Contract.objects.get(reference="BR-2026-014")
    expect(page).to_have_url(f"{base}/contracts/{contract.pk}/")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Contract BR-2026-014 added to the register"
    )
    expect_heading(page, "Carers support hub (all ages)")
    expect(page.locator("main .govuk-tag").first).to_have_text("Planned")
    expect(summary_row(page, "Provider")).to_contain_text(world.provider_y.name)
    glance = page.locator(".app-contract-summary")
    expect(glance).to_contain_text(world.provider_y.name)
    expect(glance).to_contain_text("1 Apr 2026 to 31 Mar 2029")
    expect(summary_row(page, "Start date")).to_contain_text("1 Apr 2026")
    expect(summary_row(page, "End of initial term")).to_contain_text("31 Mar 2029")
    expect(summary_row(page, "Latest possible end date")).to_contain_text("31 Mar 2031")
    expect(summary_row(page, "Annual value")).to_contain_text("£250,000.00")
    expect(page.get_by_role("table", name="Commissioning partners and their shares")
           ).to_contain_text("40%")
    expect(page.locator("main")).to_contain_text("Adult carers")
    assert contract.annual_value == Decimal("250000.00")
    assert contract.contract_manager == world.contract_manager_a

    # Status: planned -> in procurement
    page.get_by_role("link", name="Change status").click()
    expect_heading(page, "Change status")
    choose(page, "In procurement")
    press_button(page, "Change status")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Contract status changed"
    )
    expect(page.locator("main .govuk-tag").first).to_have_text("In procurement")

    # A variation
    page.get_by_role("link", name="Record a variation").click()
    expect_heading(page, "Record a variation")
    type_into(page, "Date of the variation", "01/05/2026")
    type_into(page, "What changed", "An extra pathway for young carers")
    type_into(page, "Change in whole-life value", "£30,000")
    press_button(page, "Record variation")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Variation recorded"
    )
    variations = page.get_by_role("table", name="Variations")
    expect(variations).to_contain_text("An extra pathway for young carers")
    expect(variations).to_contain_text("£30,000.00")

    # A document
    page.get_by_role("link", name="Upload a document").click()
    expect_heading(page, "Upload a document")
    choose(page, "Specification")
    page.get_by_label("Upload a file", exact=True).set_input_files(
        {"name": "carers-specification.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    press_button(page, "Upload")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Document uploaded"
    )
    expect(page.locator("main").get_by_role("link", name="carers-specification.pdf")
           ).to_be_visible()
    contract.refresh_from_db()
    assert contract.status == ContractStatus.IN_PROCUREMENT
    assert contract.documents.get().original_name == "carers-specification.pdf"


def test_a_provider_sees_only_its_own_contracts(page: Page, live_server, world):
    own = contract_for(world, reference="BW-001", title="Bromley Well single point of access")
    contract_for(world, reference="AGE-777", title="Carers support hub",
                 provider=world.provider_y)
    user = world.provider_x_user

    app = sign_in_verified(page, live_server.url, user)
    assert app is None  # no two-factor requirement for this provider
    page.goto(live_server.url + "/contracts/")
    expect_heading(page, "Contract register")
    table = page.get_by_role("table", name="Contracts")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("BW-001")
    expect(page.locator("main")).not_to_contain_text("AGE-777")
    expect(page.locator("main")).not_to_contain_text("Carers support hub")
    expect(page.get_by_role("button", name="Add a contract")).to_have_count(0)
    table.get_by_role("link", name="BW-001").click()
    expect_heading(page, own.title)
    expect(page.get_by_role("link", name="Change status")).to_have_count(0)
    other = Contract.objects.get(reference="AGE-777")
    response = page.goto(f"{live_server.url}/contracts/{other.pk}/")
    assert response.status == 404


# --- Accessibility of every contract page ----------------------------------------------------

def test_every_contract_page_passes_axe_with_one_h1_and_a_unique_title(
    page: Page, live_server, world
):
    base = live_server.url
    scanner = Scanner(page)
    sign_in_verified(page, base, world.commissioner_a)

    page.goto(base + "/contracts/")
    expect(page.locator("main")).to_contain_text("There are no contracts in the register yet")
    scanner.scan("register (empty)")

    contract = full_contract(world, reference="BR-0001", title="Carers' support service")
    contract_for(world, reference="BR-0002", title="Young people's advocacy",
                 status=ContractStatus.PLANNED, provider=world.provider_y)
    contract_for(world, reference="BR-0003", title="Home care framework",
                 status=ContractStatus.IN_PROCUREMENT)
    contract_for(world, reference="BR-0004", title="Day opportunities",
                 status=ContractStatus.TERMINATED, start_date=date(2020, 4, 1),
                 initial_end_date=date(2022, 3, 31))
    page.goto(base + "/contracts/")
    expect(page.get_by_role("table", name="Contracts").locator("tbody tr")).to_have_count(4)
    scanner.scan("register", same_page_as="register (empty)")
    page.get_by_label("Status", exact=True).select_option(label="Live")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("main")).to_contain_text("1 contract match your filters")
    scanner.scan("register (filtered)", same_page_as="register (empty)")
    page.get_by_label("Search", exact=True).fill("no such contract")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("main")).to_contain_text("No contracts match your filters")
    scanner.scan("register (no matches)", same_page_as="register (empty)")

    page.goto(base + contract.get_absolute_url())
    expect_heading(page, contract.title)
    scanner.scan("contract page")
    page.get_by_role("link", name=re.compile("^View history of changes")).click()
    expect_heading(page, "History of changes")
    scanner.scan("contract history")

    # Changes to the contract: each page, and one error state of the shared form page.
    for path, heading in [
        ("edit/", "Change contract details"),
        ("status/", "Change status"),
        ("extension/", "Exercise an extension"),
        ("variations/new/", "Record a variation"),
        ("decisions/new/", "Record a decision"),
        ("review-dates/new/", "Add a review date"),
        ("shares/", "Commissioning partners' shares"),
        ("documents/new/", "Upload a document"),
    ]:
        page.goto(f"{base}/contracts/{contract.pk}/{path}")
        expect_heading(page, heading)
        scanner.scan(heading.lower())
        if path in ("extension/", "documents/new/", "variations/new/"):
            press_button(page, page.locator("main button[type=submit]").inner_text())
            expect(page.locator(".govuk-error-summary")).to_be_visible()
            scanner.scan(f"{heading.lower()} with errors")

    # The create journey, with an error state on each page that has one.
    page.goto(base + "/contracts/new/")
    expect_heading(page, "Contract details")
    scanner.scan("create: details")
    press_button(page, "Continue")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    scanner.scan("create: details with errors")
    type_into(page, "Contract reference", "BR-0001")  # already used: refused at the end
    type_into(page, "Title", "Shared lives")
    choose(page, "Adult social care")
    press_button(page, "Continue")

    expect_heading(page, "Who is involved")
    scanner.scan("create: who is involved")
    press_button(page, "Continue")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    scanner.scan("create: who is involved with errors")
    page.get_by_label("Partnership", exact=True).select_option(label=world.partnership_a.name)
    pick(page, "Contract holder", world.council_a.name)
    pick(page, "Lead commissioner", world.council_a.name)
    pick(page, "Provider", world.provider_x.name)
    press_button(page, "Continue")

    expect_heading(page, "Procurement")
    scanner.scan("create: procurement")
    choose(page, "Public Contracts Regulations 2015")
    page.get_by_label("Procurement route", exact=True).select_option(value="pa_direct_award")
    choose(page, "No")
    choose(page, "Awarded (standstill)")
    press_button(page, "Continue")
    expect_error(page, "is not a route under")
    scanner.scan("create: procurement with errors")
    page.get_by_label("Procurement route", exact=True).select_option(value="pcr_light_touch")
    type_into(page, "Award date", "01/03/2026")
    press_button(page, "Continue")

    expect_heading(page, "Dates and extension options")
    scanner.scan("create: dates")
    type_into(page, "Start date", "01/04/2026")
    type_into(page, "End date of the initial term", "31/03/2025")
    type_into(page, "Notice period, in months", "3")
    page.keyboard.press("Enter")
    expect_error(page, "The end date must be the same as or after the start date")
    scanner.scan("create: dates with errors")
    retype(page, "End date of the initial term", "31/03/2028")
    page.keyboard.press("Enter")

    expect_heading(page, "Value")
    scanner.scan("create: value")
    type_into(page, "Annual value", "2.7m")
    page.keyboard.press("Enter")
    expect_error(page, "Enter the annual value as an amount in pounds")
    scanner.scan("create: value with errors")
    retype(page, "Annual value", "80000")
    page.keyboard.press("Enter")

    expect_heading(page, "Service lines")
    scanner.scan("create: service lines")
    press_button(page, "Continue")

    expect_heading(page, "Commissioning partners' shares")
    scanner.scan("create: shares")
    type_into(page, f"{world.council_a.name}: share of the cost (%)", "70")
    press_button(page, "Continue")
    expect_error(page, "The shares must add up to 100%")
    scanner.scan("create: shares with errors")
    type_into(page, f"{world.icb_a.name}: share of the cost (%)", "30")
    press_button(page, "Continue")

    expect_heading(page, "Check your answers before adding the contract")
    scanner.scan("create: check your answers")
    press_button(page, "Add contract")
    expect(page.locator(".govuk-error-summary")).to_contain_text("BR-0001")
    scanner.scan("create: check your answers with errors")

    scanner.check()
