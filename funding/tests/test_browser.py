"""Pooled funding in a real browser (headless Chromium through Playwright).

A finance officer signs in through the real sign-in and two-factor pages, opens a
Bromley-style Section 75 agreement, records a month's actual spend, closes the month and sees
it locked. Every funding page is scanned with axe, with one <h1> and a unique title.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from commissioning.periods import financial_year_start
from commissioning.tests.browser import (
    Scanner,
    expect_heading,
    press,
    sign_in_verified,
    sign_out,
    type_into,
)
from contracts.tests.factories import contract_for
from funding.models import Instalment, MonthClose, MonthlyActual, TopSlice
from funding.tests.factories import actual, agreement_for, close, contribute, scheme_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV_HEADER = "Scheme code,Month,Actual,Forecast"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def bromley(world):
    """A Bromley-style pooled fund: council and ICB, three schemes with different leads, BCF
    money, monthly actuals up to the last month and the months before it closed."""
    today = date.today()
    year = financial_year_start(today)
    agreement = agreement_for(
        world, title="Bromley Better Care Fund and Section 75 agreement",
        start_date=date(year - 1, 4, 1), end_date=date(year + 2, 3, 31),
        pooled_fund_manager=world.finance_officer_a)
    well = scheme_for(agreement, code="BCF-01", name="Bromley Well", budget="3100000",
                      year=year)
    care = scheme_for(agreement, code="S75-02", name="Intermediate Care", lead=world.icb_a,
                      budget="1200000", year=year)
    equipment = scheme_for(agreement, code="S75-03", name="Community Equipment",
                           budget="900000", year=year)
    contribute(well, world.council_a, "1550000", year=year, code="ibcf")
    contribute(well, world.icb_a, "1550000", year=year, code="bcf-nhs-minimum")
    contribute(care, world.icb_a, "1200000", year=year, code="nhs-baseline")
    contribute(equipment, world.council_a, "900000", year=year)
    month = date(year, 4, 1)
    last = date(today.year, today.month, 1)
    while month < last:
        for scheme, amount in ((well, "258000"), (care, "101000"), (equipment, "79000")):
            actual(scheme, month, amount)
        if (last.year - month.year) * 12 + last.month - month.month > 2:
            close(agreement, month)
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return agreement, well, year


def previous_month() -> date:
    today = date.today()
    return date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)


@pytest.mark.covers("funding:actual_record", "funding:months")
def test_finance_officer_records_a_month_and_closes_it(page: Page, live_server, world):
    base = live_server.url
    agreement, well, year = bromley(world)
    month = previous_month()  # open: only months three or more back are closed
    label = f"{month:%B %Y}"
    MonthlyActual.objects.filter(scheme=well, month=month).delete()

    sign_in_verified(page, base, world.finance_officer_a)
    page.goto(base + "/funding/")
    page.get_by_role("link", name=agreement.title).click()
    expect_heading(page, agreement.title)
    schemes = page.get_by_role("table", name=re.compile("^Schemes with budget"))
    expect(schemes).to_contain_text("Intermediate Care")
    expect(schemes).to_contain_text("£3,100,000")
    schemes.get_by_role("link", name="BCF-01 Bromley Well").click()
    expect_heading(page, "BCF-01 Bromley Well")

    page.get_by_role("link", name="Record actual spend").click()
    expect_heading(page, "Record actual spend and forecast")
    page.get_by_label("Month", exact=True).select_option(label=label)
    type_into(page, "Actual spend in the month", "£261,450.25")
    type_into(page, "Forecast outturn for the year", "£3,150,000")
    press(page, "Save figures")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        f"Figures for {label} saved")
    actuals = page.get_by_role("table", name="Actual spend and forecast outturn by month")
    row = actuals.locator("tr", has_text=label)
    expect(row).to_contain_text("£261,450.25")
    expect(row.get_by_role("link", name=f"Change {label}")).to_be_visible()
    assert MonthlyActual.objects.get(scheme=well, month=month).actual == Decimal("261450.25")

    page.get_by_role("link", name=agreement.title).click()  # the back link
    page.get_by_role("link", name="Close or reopen months").click()
    expect(page.locator("h1")).to_contain_text("Close or reopen months")
    months = page.get_by_role("table", name=re.compile("^Months of"))
    expect(months.locator("tr", has_text=label)).to_contain_text("Open")
    press(page, f"Close {label}")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        f"{label} closed")
    months = page.get_by_role("table", name=re.compile("^Months of"))
    expect(months.locator("tr", has_text=label)).to_contain_text(
        f"Closed by {world.finance_officer_a.full_name}")
    expect(months.get_by_role("button", name=f"Reopen {label}")).to_be_visible()
    assert MonthClose.objects.get(agreement=agreement, month=month).is_closed

    # The month is locked: no "Change" link, and the form refuses it.
    page.goto(f"{base}{well.get_absolute_url()}?year={year}")
    row = page.get_by_role("table", name="Actual spend and forecast outturn by month").locator(
        "tr", has_text=label)
    expect(row).to_contain_text("Closed")
    expect(row.get_by_role("link")).to_have_count(0)
    page.get_by_role("link", name="Record actual spend").click()
    page.get_by_label("Month", exact=True).select_option(label=f"{label} (closed)")
    type_into(page, "Actual spend in the month", "1")
    press(page, "Save figures")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text(f"{label} is closed. To change its figures, reopen it "
                                    "first: go to the agreement and select “Close or reopen "
                                    "months”")
    assert MonthlyActual.objects.get(scheme=well, month=month).actual == Decimal("261450.25")


def test_every_funding_page_passes_axe_with_one_h1_and_a_unique_title(page: Page,
                                                                      live_server, world):
    base = live_server.url
    scanner = Scanner(page)
    agreement, well, year = bromley(world)
    a = f"{base}/funding/agreements/{agreement.pk}/"
    s = f"{a}schemes/{well.pk}/"
    contribution = well.contributions.first()
    top_slice = TopSlice.objects.create(agreement=agreement, scheme=well, year=year,
                                        name="Innovation fund", percent=Decimal("15"))
    contract_for(world, reference="BW-001", title="Bromley Well single point of access")

    sign_in_verified(page, base, world.finance_officer_a)
    page.goto(base + "/funding/")
    expect_heading(page, "Funding agreements")
    scanner.scan("agreement list")
    page.goto(a)
    expect_heading(page, agreement.title)
    scanner.scan("agreement page")
    page.goto(f"{a}?year={year - 1}")
    scanner.scan("agreement page (last year)", same_page_as="agreement page")
    page.goto(s)
    expect_heading(page, "BCF-01 Bromley Well")
    scanner.scan("scheme page")

    for url, heading, button in [
        (f"{s}actuals/", "Record actual spend and forecast", "Save figures"),
        (f"{s}budget/", "Set the budget", None),
        (f"{s}contributions/new/", "Record a contribution", None),
        (f"{a}contributions/{contribution.pk}/instalments/new/", "Add an instalment", None),
        (f"{a}contributions/{contribution.pk}/reduce/", "Reduce a contribution", None),
        (f"{a}top-slices/new/", "Hold back a top-slice", None),
        (f"{a}top-slices/{top_slice.pk}/draw/", "Draw down from Innovation fund", None),
        (f"{a}contract-funding/new/", "Fund a contract from a scheme", None),
        (f"{a}import/", "Import actuals and forecasts", "Upload and check"),
    ]:
        page.goto(url)
        expect_heading(page, heading)
        scanner.scan(heading)
        if button:
            press(page, button)
            expect(page.locator(".govuk-error-summary")).to_be_visible()
            scanner.scan(f"{heading} with errors")

    # The import preview: a good file, then one with problems.
    page.get_by_label("Upload a file", exact=True).set_input_files({
        "name": "actuals.csv", "mimeType": "text/csv",
        "buffer": f"{CSV_HEADER}\r\nBCF-01,01/04/{year + 1},250000,3100000\r\n".encode()})
    press(page, "Upload and check")
    expect_heading(page, "Check the import")
    expect(page.get_by_role("table", name="Figures to import")).to_contain_text("BCF-01")
    scanner.scan("import preview")
    page.goto(f"{a}import/")
    page.get_by_label("Upload a file", exact=True).set_input_files({
        "name": "actuals.csv", "mimeType": "text/csv",
        "buffer": f"{CSV_HEADER}\r\nBCF-99,01/04/{year + 1},\"12,34x\",\r\n".encode()})
    press(page, "Upload and check")
    expect(page.get_by_role("table", name="Problems")).to_be_visible()
    scanner.scan("import preview with problems")

    page.goto(f"{a}months/?year={year}")
    expect(page.locator("h1")).to_contain_text("Close or reopen months")
    scanner.scan("months")
    page.goto(f"{a}year-end/{year - 1}/")
    scanner.scan("year end")
    page.goto(f"{a}statements/{year}/")
    scanner.scan("statement")
    page.goto(f"{a}statements/{year}/?quarter=1")
    scanner.scan("statement (quarter 1)")
    page.goto(f"{a}bcf/{year}/")
    scanner.scan("BCF plan")
    sign_out(page)

    # Setting up agreements and schemes is for commissioners.
    sign_in_verified(page, base, world.commissioner_a)
    for url, heading, button in [
        (f"{base}/funding/agreements/new/", "Record a Section 75 agreement", "Save agreement"),
        (f"{a}edit/", "Change the agreement", None),
        (f"{a}schemes/new/", "Add a scheme", "Save scheme"),
        (f"{s}edit/", "Change the scheme", None),
    ]:
        page.goto(url)
        expect_heading(page, heading)
        scanner.scan(heading)
        if button:
            press(page, button)
            expect(page.locator(".govuk-error-summary")).to_be_visible()
            scanner.scan(f"{heading} with errors")
    assert not Instalment.objects.filter(contribution=contribution).exists()
    scanner.check()
