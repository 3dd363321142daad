"""A commissioner imports the council's Transparency Code register as it is, in a real browser
(headless Chromium): the file's one organisation column for the holder, the ICB as lead
commissioner for every row, the good rows imported, the rest downloaded, fixed and uploaded
again. Every page state is scanned with axe."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from commissioning.tests.browser import Scanner, expect_heading, press, sign_in_verified
from contracts.models import Contract
from contracts.tests.test_import_register import LGTC, council_register, register_csv

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _upload(page: Page, world, data: bytes) -> None:
    page.get_by_label("Partnership", exact=True).select_option(label=world.partnership_a.name)
    page.get_by_label("Upload the register", exact=True).set_input_files({
        "name": "contracts-register-2025.csv", "mimeType": "text/csv", "buffer": data})
    press(page, "Upload and continue")
    expect_heading(page, "Match the columns")


def _icb_leads_every_row(page: Page, world) -> None:
    page.get_by_label("Lead commissioner", exact=True).select_option("")
    page.get_by_label("Lead commissioner: or the same for every row (optional)",
                      exact=True).select_option(label=world.icb_a.name)


@pytest.mark.covers("contracts:import", "contracts:import_map", "contracts:import_detail")
def test_it_imports_a_council_register_and_hands_back_the_rows_with_problems(
        page: Page, live_server, world, tmp_path):
    base = live_server.url
    scanner = Scanner(page)
    sign_in_verified(page, base, world.commissioner_a)
    page.goto(base + "/contracts/import/")
    expect_heading(page, "Import a contract register")
    scanner.scan("import: upload")
    _upload(page, world, register_csv(council_register()))
    expect(page.get_by_label("Contract reference", exact=True)).to_have_value(
        "Contract reference number")
    expect(page.get_by_label("Contract holder", exact=True)).to_have_value("Organisation label")
    expect(page.get_by_label("Lead commissioner", exact=True)).to_have_value(
        "Organisation label")
    expect(page.get_by_label("Extension options (months) (optional)", exact=True)
           ).to_have_value("Extension period (months)")
    expect(page.get_by_label("VAT not recoverable (optional)", exact=True)).to_have_value(
        "VAT that cannot be recovered")
    scanner.scan("import: match the columns")

    # Both a column and one value for every row: refused next to the field.
    page.get_by_label("Lead commissioner: or the same for every row (optional)",
                      exact=True).select_option(label=world.icb_a.name)
    press(page, "Check every row")
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Choose a column or one value for every row for the lead commissioner, not both")
    scanner.scan("import: match the columns, with errors")
    _icb_leads_every_row(page, world)
    press(page, "Check every row")

    expect_heading(page, "Check the import")
    main = page.locator("main")
    expect(main).to_contain_text("There are problems in 5 rows: they will not be imported")
    expect(main).to_contain_text("Row 5, column ‘Annual value’: Enter the annual value as an "
                                 "amount in pounds written in full")
    expect(main).to_contain_text("Did you mean 'Negotiated without notice'?")
    expect(main).to_contain_text("Check 1 cell that starts like a formula")
    expect(main).to_contain_text("5 of 10 rows can be imported")
    scanner.scan("import: check")
    page.get_by_label("Create these 2 providers", exact=True).check()
    press(page, "Import 5 contracts")
    expect(page.locator(".govuk-panel")).to_contain_text("5 contracts added")
    expect(main).to_contain_text("5 rows with problems were not imported")
    scanner.scan("import: imported")
    assert Contract.objects.filter(lead_commissioner=world.icb_a).count() == 5

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the 5 rows with problems").first.click()
    download = download_info.value
    assert download.suggested_filename == "contracts-register-2025 - rows with problems.csv"
    saved = tmp_path / "problems.csv"
    download.save_as(saved)
    table = list(csv.reader(io.StringIO(Path(saved).read_text(encoding="utf-8-sig"))))
    assert table[0] == [*LGTC, "Problems"]
    assert [row[3] for row in table[1:]] == ["BR-0004", "BR-0005", "BR-0006", "BR-0007",
                                             "BR-0010"]

    # The officer fixes the register and uploads all of it again.
    fixed = council_register()
    fixed[3]["Annual value"] = "£75,000"
    fixed[4]["Annual value"] = "£5,000"
    fixed[5]["Contract end date"] = "31/03/2030"
    fixed[6]["Procurement process"] = "Negotiated without notice"
    fixed[9]["VAT that cannot be recovered"] = "£1,500"
    page.goto(base + "/contracts/import/")
    _upload(page, world, register_csv(fixed))
    _icb_leads_every_row(page, world)
    press(page, "Check every row")
    expect_heading(page, "Check the import")
    expect(main).to_contain_text("5 rows are in the register already")
    scanner.scan("import: check, second upload", same_page_as="import: check")
    press(page, "Import 5 contracts")
    expect(page.locator(".govuk-panel")).to_contain_text("5 contracts added")
    assert Contract.objects.count() == 10
    scanner.check()
