"""A finance officer's year on a pooled fund, in a real browser (headless Chromium).

Every step starts from a link on the agreement or scheme page and ends by pressing the form's
button: a commissioner renames a scheme; then a budget, a contribution with an instalment and
a reduction, a top-slice and a drawdown from it, funding a contract from a scheme, an import
of actuals from the finance system, and closing last year with its risk share. The journey
declares the POST views it drives (``covers``); the browser's own requests prove each was
posted through its page.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from commissioning.periods import financial_year_start
from commissioning.tests.browser import (
    expect_heading,
    pick,
    press,
    sign_in_verified,
    sign_out,
    type_into,
)
from contracts.tests.factories import contract_for
from funding.models import (
    ContractFunding,
    Contribution,
    Instalment,
    MonthlyActual,
    RiskShareOutcome,
    SchemeBudget,
    TopSlice,
)
from funding.tests.factories import agreement_for, close, contribute, scheme_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def expect_success(page: Page, text: str) -> None:
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(text)


def months_of(year: int) -> list[date]:
    return [date(year + (m < 4), m, 1) for m in (*range(4, 13), 1, 2, 3)]


@pytest.mark.covers("funding:scheme_edit", "funding:budget_set", "funding:contribution_set",
                    "funding:instalment_add", "funding:contribution_reduce",
                    "funding:top_slice_create", "funding:top_slice_draw",
                    "funding:contract_funding_add", "funding:contract_funding_remove",
                    "funding:import_upload", "funding:import_preview", "funding:year_end")
def test_it_lets_a_finance_officer_run_a_pooled_fund_through_the_pages(page: Page, live_server,
                                                                        world):
    base = live_server.url
    year = financial_year_start(date.today())
    agreement = agreement_for(world, title="Bromley Better Care Fund",
                              start_date=date(year - 1, 4, 1), end_date=date(year + 2, 3, 31))
    scheme = scheme_for(agreement, code="BCF-01", name="Bromley Well", budget="1000000",
                        year=year - 1)
    contribute(scheme, world.council_a, "1000000", year=year - 1)
    for month in months_of(year - 1):
        close(agreement, month)
    contract = contract_for(world, reference="BW-001", title="Single point of access")
    mistake = contract_for(world, reference="BW-099", title="Carers breaks")
    year_label = f"{year}/{str(year + 1)[2:]}"

    # A commissioner renames the scheme; the finance officer does the money.
    sign_in_verified(page, base, world.commissioner_a)
    page.goto(base + scheme.get_absolute_url())
    page.get_by_role("link", name="Change the scheme").click()
    expect_heading(page, "Change the scheme")
    page.get_by_label("Name", exact=True).fill("Bromley Well single point of access")
    press(page, "Save changes")
    expect_success(page, "Scheme updated")
    sign_out(page)

    sign_in_verified(page, base, world.finance_officer_a)
    page.goto(base + "/funding/")
    page.get_by_role("link", name="Bromley Better Care Fund").click()
    expect_heading(page, "Bromley Better Care Fund")
    page.get_by_role("link", name="BCF-01 Bromley Well single point of access").first.click()
    expect_heading(page, "BCF-01 Bromley Well single point of access")

    page.get_by_role("link", name="Set the budget").click()
    expect_heading(page, "Set the budget")
    page.get_by_label("Financial year", exact=True).select_option(label=year_label)
    type_into(page, "Budget", "£1,500,000")
    press(page, "Save budget")
    expect_heading(page, "BCF-01 Bromley Well single point of access")

    page.get_by_role("link", name="Record a contribution").click()
    expect_heading(page, "Record a contribution")
    pick(page, "Partner", world.icb_a.name)
    page.get_by_label("Financial year", exact=True).select_option(label=year_label)
    page.get_by_label("Funding source", exact=True).select_option(index=1)
    type_into(page, "Contribution", "£600,000")
    press(page, "Save contribution")
    expect_heading(page, "BCF-01 Bromley Well single point of access")
    contribution = Contribution.objects.get(scheme=scheme, partner=world.icb_a)

    page.goto(f"{base}{scheme.get_absolute_url()}?year={year}")
    row = page.locator("tr", has_text=world.icb_a.display_name)
    row.get_by_role("link", name=re.compile("^Add instalment")).click()
    expect_heading(page, "Add an instalment")
    type_into(page, "Due date", f"01/07/{year}")
    type_into(page, "Amount", "£150,000")
    press(page, "Save instalment")

    page.goto(f"{base}{scheme.get_absolute_url()}?year={year}")
    row = page.locator("tr", has_text=world.icb_a.display_name)
    row.get_by_role("link", name=re.compile("^Reduce")).click()
    expect_heading(page, "Reduce a contribution")
    type_into(page, "New contribution", "£550,000")
    type_into(page, "Reason", "In-year savings")
    type_into(page, "Decision maker", "Integrated Commissioning Board")
    type_into(page, "Date of decision", f"10/09/{year}")
    type_into(page, "Report or decision reference", "ICB-2026-31")
    press(page, "Reduce contribution")

    page.goto(f"{base}{agreement.get_absolute_url()}?year={year}")
    page.get_by_role("link", name="Hold back a top-slice").click()
    expect_heading(page, "Hold back a top-slice")
    type_into(page, "Name", "Innovation fund")
    page.get_by_label("Taken from scheme", exact=True).select_option(
        label="BCF-01 Bromley Well single point of access")
    page.get_by_label("Financial year", exact=True).select_option(label=year_label)
    type_into(page, "Percentage held back", "10")
    press(page, "Save")
    top_slice = TopSlice.objects.get(agreement=agreement)

    page.goto(f"{base}{agreement.get_absolute_url()}?year={year}")
    page.get_by_role("link", name="Draw down from Innovation fund").click()
    expect_heading(page, "Draw down from Innovation fund")
    type_into(page, "Amount to draw down", "£25,000")
    type_into(page, "Purpose", "Digital front door pilot")
    type_into(page, "Decision maker", "Integrated Commissioning Board")
    type_into(page, "Date of decision", f"01/10/{year}")
    type_into(page, "Report or decision reference", "ICB-2026-40")
    press(page, "Record drawdown")

    page.goto(f"{base}{agreement.get_absolute_url()}?year={year}")
    page.get_by_role("link", name="Fund a contract from a scheme").click()
    expect_heading(page, "Fund a contract from a scheme")
    page.get_by_label("Contract", exact=True).select_option(label=str(contract))
    page.get_by_label("Scheme", exact=True).select_option(
        label="BCF-01 Bromley Well single point of access")
    page.get_by_label("Funding source", exact=True).select_option(index=1)
    page.get_by_label("A fixed amount", exact=True).check()
    type_into(page, "Annual amount", "£80,000")
    press(page, "Save funding")
    assert ContractFunding.objects.get(contract=contract).amount == Decimal("80000")
    # A second allocation, made by mistake, is removed from the scheme's page.
    page.goto(f"{base}{agreement.get_absolute_url()}?year={year}")
    page.get_by_role("link", name="Fund a contract from a scheme").click()
    page.get_by_label("Contract", exact=True).select_option(label=str(mistake))
    page.get_by_label("Scheme", exact=True).select_option(
        label="BCF-01 Bromley Well single point of access")
    page.get_by_label("Funding source", exact=True).select_option(index=1)
    page.get_by_label("A fixed amount", exact=True).check()
    type_into(page, "Annual amount", "£1,000")
    press(page, "Save funding")
    page.goto(base + scheme.get_absolute_url())
    funded = page.get_by_role("table", name="Contracts this scheme funds")
    expect(funded).to_contain_text("BW-099")
    press(page, "Remove funding for BW-099")
    expect_success(page, "Contract funding removed")
    expect(page.get_by_role("table", name="Contracts this scheme funds")).not_to_contain_text(
        "BW-099")

    page.goto(f"{base}{agreement.get_absolute_url()}?year={year}")
    page.get_by_role("link", name="Import actuals and forecasts from the finance system").click()
    expect_heading(page, "Import actuals and forecasts")
    page.get_by_label("Upload a file", exact=True).set_input_files({
        "name": "ledger.csv", "mimeType": "text/csv",
        "buffer": (f"Scheme code,Month,Actual,Forecast\r\n"
                   f"BCF-01,01/04/{year},120000,1450000\r\n").encode()})
    press(page, "Upload and check")
    expect_heading(page, "Check the import")
    press(page, "Confirm and save")

    page.goto(f"{base}{agreement.get_absolute_url()}?year={year - 1}")
    page.get_by_role("link", name=re.compile("^Close .* and record the risk share")).click()
    expect(page.locator("h1")).to_contain_text("and record the risk share")
    press(page, "Close the year")
    expect_success(page, "closed and the risk share recorded")

    assert SchemeBudget.objects.get(scheme=scheme, year=year).amount == Decimal("1500000")
    contribution.refresh_from_db()
    assert contribution.amount == Decimal("550000")
    assert Instalment.objects.filter(contribution=contribution).count() == 1
    assert top_slice.drawdowns.count() == 1
    assert not ContractFunding.objects.filter(contract=mistake).exists()
    assert MonthlyActual.objects.get(scheme=scheme, month=date(year, 4, 1)).actual == Decimal(
        "120000")
    assert RiskShareOutcome.objects.filter(agreement=agreement, year=year - 1).exists()
