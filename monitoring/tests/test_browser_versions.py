"""An earlier version of a return, opened in a real browser (issue 20, item 3), with axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from commissioning.tests.browser import Scanner, expect_heading, sign_in_verified, sign_out
from contracts.tests.factories import ShareFactory
from monitoring.tests.factories import queried_then_resubmitted

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_commissioner_and_provider_open_the_first_version_of_a_resubmitted_return(
        page: Page, live_server, world):
    base = live_server.url
    contract, period, ret = queried_then_resubmitted(world)
    ShareFactory(contract=contract, organisation=world.council_a)
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
