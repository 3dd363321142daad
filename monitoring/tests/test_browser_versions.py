"""An earlier version of a return, opened in a real browser (issue 20, item 3), with axe."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from commissioning.tests.browser import Scanner, expect_heading, sign_in_verified, sign_out
from contracts.tests.factories import ShareFactory, contract_for
from monitoring import services
from monitoring.tests.factories import kpi_with_target, percentage_kpi, quarter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_commissioner_and_provider_open_the_first_version_of_a_resubmitted_return(
        page: Page, live_server, world):
    base = live_server.url
    contract = contract_for(world, reference="BW-001", title="Bromley Well")
    ShareFactory(contract=contract, organisation=world.council_a)
    count = kpi_with_target(contract, code="BW1", name="People supported")
    pct = percentage_kpi(contract, code="BW2", name="Improved quality of life")
    period = quarter()
    ret = services.return_save_draft(
        contract=contract, period=period, values=[
            services.ValueInput(kpi_id=count.pk, value=Decimal("120"), commentary="Busy"),
            services.ValueInput(kpi_id=pct.pk, numerator=Decimal("9"), denominator=Decimal("10"))],
        overall_commentary="Steady quarter", expected_version=None,
        saved_by=world.provider_x_user)
    services.return_submit(performance_return=ret, declaration=True,
                           expected_version=ret.version, submitted_by=world.provider_x_user)
    services.return_query(performance_return=ret, expected_version=ret.version,
                          kpi_comments={count.pk: "Seems high"}, comment="",
                          queried_by=world.commissioner_a)
    ret.refresh_from_db()
    ret = services.return_save_draft(
        contract=contract, period=period, values=[
            services.ValueInput(kpi_id=count.pk, value=Decimal("95"), commentary="Corrected"),
            services.ValueInput(kpi_id=pct.pk, numerator=Decimal("9"), denominator=Decimal("10"))],
        overall_commentary="Corrected", expected_version=ret.version,
        saved_by=world.provider_x_user)
    services.return_submit(performance_return=ret, declaration=True,
                           expected_version=ret.version, submitted_by=world.provider_x_user)
    scanner = Scanner(page)

    sign_in_verified(page, base, world.commissioner_a)
    page.goto(f"{base}/monitoring/returns/{ret.pk}/")
    page.get_by_role("link", name="Version 1", exact=True).click()
    expect_heading(page, "Version 1 of the return")
    figures = page.get_by_role("table", name="Figures in version 1")
    expect(figures.get_by_role("row", name="BW1 People supported")).to_contain_text("120 people")
    expect(figures.get_by_role("row", name="BW1 People supported")).to_contain_text("Busy")
    expect(figures.get_by_role("row", name="BW2 Improved quality of life")).to_contain_text(
        "9 of 10")
    expect(page.locator("main")).to_contain_text("BW1: Seems high")
    scanner.scan("return version (commissioner)")
    sign_out(page)

    sign_in_verified(page, base, world.provider_x_user)
    page.goto(f"{base}/returns/{contract.pk}/{period.code}/")
    page.get_by_role("link", name="Version 1", exact=True).click()
    expect_heading(page, "Version 1 of the return")
    expect(page.get_by_role("table", name="Figures in version 1")).to_contain_text("120 people")
    page.get_by_role("link", name="Back to the return").click()
    expect_heading(page, f"{period.label} return")
