"""Commissioning shares through the page, in a real browser (headless Chromium): a partner
that pays nothing but jointly monitors the contract is recorded with 0% and joint monitoring,
as the page's hint promises ("Leave a partner blank if it pays nothing")."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from commissioning.tests.browser import Scanner, sign_in_verified
from contracts.models import CommissioningShare
from contracts.tests.factories import ShareFactory, contract_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.covers("contracts:shares")
def test_it_records_a_partner_that_only_monitors_with_a_blank_share_as_0_percent(
        page: Page, live_server, world):
    base = live_server.url
    scanner = Scanner(page)
    contract = contract_for(world, title="Carers support")
    ShareFactory(contract=contract, organisation=world.council_a,
                 share_percent=Decimal("100"), joint_monitoring=True)

    sign_in_verified(page, base, world.commissioner_a)
    page.goto(f"{base}{contract.get_absolute_url()}")
    page.get_by_role("link", name="Change shares").click()
    expect(page.locator("h1")).to_have_text("Commissioning partners' shares")
    expect(page.locator("main")).to_contain_text("Leave a partner blank if it pays nothing")
    icb_share = page.get_by_label(f"{world.icb_a.name}: share of the cost (%)", exact=True)
    expect(icb_share).to_have_value("")
    page.get_by_label(f"{world.icb_a.display_name} jointly monitors the contract",
                      exact=True).check()
    scanner.scan("shares")
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name="Save shares").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Commissioning shares saved")
    shares = {s.organisation: (s.share_percent, s.joint_monitoring)
              for s in CommissioningShare.objects.filter(contract=contract)}
    assert shares == {world.council_a: (Decimal("100.00"), True),
                      world.icb_a: (Decimal("0.00"), True)}
    expect(page.locator("main")).to_contain_text(world.icb_a.name)
    scanner.scan("contract page")
    scanner.check()
