"""A commissioner's everyday work on the register, in a real browser (headless Chromium).

Each step goes through the page a person sees: a link from the contract or framework page, the
form's fields found by their labels, its button pressed. One journey covers many POST views
(declared with ``covers``; the browser's own requests prove each was posted through its page):
changing a contract's details, shares, review dates, decisions and extensions; importing a
register from a CSV file; setting up a framework, changing it, adding, changing and
withdrawing a lot.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from commissioning.tests.browser import expect_heading, press, sign_in_verified, type_into
from contracts.frameworks.models import Framework, LotStatus
from contracts.models import Contract
from contracts.tests.factories import (
    ExtensionOptionFactory,
    ShareFactory,
    contract_for,
)
from contracts.tests.test_imports import csv_bytes, good_row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def retype(page: Page, label: str, text: str) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill("")
    type_into(page, label, text)


def expect_success(page: Page, text: str) -> None:
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(text)


@pytest.mark.covers("contracts:edit", "contracts:shares", "contracts:review_date",
                    "contracts:decision", "contracts:extension", "contracts:import",
                    "contracts:import_map", "contracts:import_detail")
def test_it_lets_a_commissioner_change_a_contract_and_import_a_register(page: Page,
                                                                        live_server, world):
    base = live_server.url
    contract = contract_for(world, reference="BR-2021-007", title="Carers support hub")
    ShareFactory(contract=contract, organisation=world.council_a, share_percent=Decimal("60"))
    ShareFactory(contract=contract, organisation=world.icb_a, share_percent=Decimal("40"))
    ExtensionOptionFactory(contract=contract, sequence=1)

    sign_in_verified(page, base, world.commissioner_a)
    page.goto(base + contract.get_absolute_url())
    expect_heading(page, "Carers support hub")

    page.get_by_role("link", name="Change details").click()
    expect_heading(page, "Change contract details")
    retype(page, "Title", "Carers support hub (all ages)")
    press(page, "Save changes")
    expect_heading(page, "Carers support hub (all ages)")

    page.get_by_role("link", name="Change shares").click()
    expect_heading(page, "Commissioning partners' shares")
    retype(page, f"{world.council_a.name}: share of the cost (%)", "70")
    retype(page, f"{world.icb_a.name}: share of the cost (%)", "30")
    press(page, "Save shares")
    expect(page.get_by_role("table", name="Commissioning partners and their shares")
           ).to_contain_text("70%")

    page.get_by_role("link", name="Add a review date").click()
    expect_heading(page, "Add a review date")
    type_into(page, "Review date", "01/10/2026")
    type_into(page, "What will be reviewed", "Mid-term review of outcomes")
    press(page, "Add review date")
    expect(page.locator("main")).to_contain_text("Mid-term review of outcomes")

    page.get_by_role("link", name="Record a decision").click()
    expect_heading(page, "Record a decision")
    page.get_by_label("Variation", exact=True).check()
    page.get_by_label("Committee", exact=True).check()
    type_into(page, "Date of decision", "12/03/2026")
    type_into(page, "What was decided", "Agreed to add a young carers pathway")
    press(page, "Record decision")
    expect(page.locator("main")).to_contain_text("Agreed to add a young carers pathway")

    page.get_by_role("link", name="Exercise an extension").click()
    expect_heading(page, "Exercise an extension")
    page.get_by_label("Option 1: 12 months", exact=True).check()
    page.get_by_label("Delegated officer", exact=True).check()
    type_into(page, "Date of decision", "15/01/2027")
    type_into(page, "What was decided", "Extended for twelve months")
    press(page, "Exercise extension")
    expect(page.locator("main")).to_contain_text("Extended for twelve months")

    contract.refresh_from_db()
    assert contract.title == "Carers support hub (all ages)"
    assert contract.review_dates.count() == 1
    assert contract.extension_options.get().exercised

    # Import a register: upload, match the columns, check every row, import.
    page.goto(base + "/contracts/")
    page.get_by_role("link", name="Import a register from CSV or Excel").click()
    expect_heading(page, "Import a contract register")
    page.get_by_label("Partnership", exact=True).select_option(label=world.partnership_a.name)
    page.get_by_label("Upload the register", exact=True).set_input_files({
        "name": "register.csv", "mimeType": "text/csv",
        "buffer": csv_bytes([good_row(1), good_row(2)])})
    press(page, "Upload and continue")
    expect_heading(page, "Match the columns")
    expect(page.get_by_label("Title", exact=True)).to_have_value("Title")
    press(page, "Check every row")
    expect_heading(page, "Check the import")
    press(page, "Import 2 contracts")
    expect(page.locator(".govuk-panel")).to_contain_text("2 contracts added")
    assert Contract.objects.filter(reference__startswith="IMP-").count() == 2


@pytest.mark.covers("contracts:framework_create", "contracts:framework_edit",
                    "contracts:framework_windows", "contracts:lot_create", "contracts:lot_edit",
                    "contracts:lot_withdraw")
def test_it_lets_a_commissioner_set_up_a_framework_and_its_lots(page: Page, live_server,
                                                                world):
    base = live_server.url
    sign_in_verified(page, base, world.commissioner_a)
    page.goto(base + "/frameworks/new/")
    expect_heading(page, "Set up a framework")
    page.get_by_label("Partnership", exact=True).select_option(label=world.partnership_a.name)
    type_into(page, "Framework reference", "FW-2026-01")
    type_into(page, "Title", "Early intervention and prevention")
    parties = page.get_by_role("group", name="Parties to the Inter Authority Agreement")
    parties.get_by_label(world.council_a.name, exact=True).check()
    parties.get_by_label(world.icb_a.name, exact=True).check()
    page.get_by_role("group", name="Lead party").get_by_label(
        world.council_a.name, exact=True).check()
    type_into(page, "Start date", "01/04/2026")
    type_into(page, "Initial term, in months", "48")
    type_into(page, "Estimated total value", "£4,000,000")
    page.get_by_label("Direct award or mini-competition", exact=True).check()
    page.get_by_role("group", name="Status").get_by_label("Planned", exact=True).check()
    press(page, "Set up framework")
    framework = Framework.objects.get(reference="FW-2026-01")
    expect_heading(page, "Early intervention and prevention")

    page.get_by_role("link", name="Change details").click()
    expect_heading(page, "Change framework details")
    retype(page, "Title", "Early intervention and prevention services")
    press(page, "Save changes")
    expect_heading(page, "Early intervention and prevention services")

    page.get_by_role("link", name="Procurement windows").click()
    expect_heading(page, "Procurement windows")
    type_into(page, "Opens on", "04/05/2026")
    type_into(page, "Closes on", "12/06/2026")
    press(page, "Add window")
    expect_success(page, "Procurement window added")
    page.get_by_role("link", name="FW-2026-01", exact=True).click()  # the back link

    page.get_by_role("link", name="Add a lot").click()
    expect_heading(page, "Add a lot")
    page.get_by_label("Lot number", exact=True).fill("1")  # it offers the next number
    type_into(page, "Title", "Carers")
    type_into(page, "Description", "Support for unpaid carers")
    type_into(page, "Required provider skills", "Carers assessments")
    type_into(page, "High-level outcomes", "Carers feel supported")
    page.get_by_label("Active", exact=True).check()
    press(page, "Add lot")
    expect_success(page, "Lot 1 added")
    lot = framework.lots.get(number=1)

    page.locator("main").get_by_text("Change lot", exact=True).click()
    expect_heading(page, "Change lot 1")
    retype(page, "Title", "Carers and young carers")
    press(page, "Save changes")
    page.goto(f"{base}/frameworks/{framework.pk}/lots/{lot.pk}/")
    expect_heading(page, "Lot 1: Carers and young carers")

    page.locator("main").get_by_text("Withdraw this lot", exact=True).click()
    expect_heading(page, "Withdraw lot 1: Carers and young carers?")
    press(page, "Withdraw lot")
    lot.refresh_from_db()
    framework.refresh_from_db()
    assert framework.title == "Early intervention and prevention services"
    assert lot.status == LotStatus.WITHDRAWN
