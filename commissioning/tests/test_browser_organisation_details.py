"""Browser journey: a partnership administrator opens a council from the partnership page,
mistypes its PPON, reads the error next to the field, corrects it and saves (axe on each page)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from commissioning.models import Organisation
from commissioning.tests.browser import Scanner, expect_heading, press, sign_in_verified, type_into

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.covers("organisation_details")
def test_it_lets_a_partnership_administrator_keep_a_councils_identifiers(page: Page,
                                                                         live_server, world):
    base = live_server.url
    scanner = Scanner(page)
    sign_in_verified(page, base, world.partnership_admin_a)
    page.goto(base + world.partnership_a.get_absolute_url())
    page.get_by_role("link", name=f"Change details of {world.council_a.name}").click()
    expect_heading(page, "Organisation details")
    scanner.scan("organisation details")

    type_into(page, "PPON (optional)", "PABC-12")
    type_into(page, "Local authority code (optional)", "cam")
    type_into(page, "Postcode (optional)", "cb3 0ap")
    press(page, "Save details")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the PPON in the right format, like PABC-1234-DEFG")
    scanner.scan("organisation details with errors")
    summary.get_by_role("link").first.click()
    expect(page.get_by_label("PPON (optional)")).to_be_focused()

    page.get_by_label("PPON (optional)").fill("PABC-1234-DEFG")
    press(page, "Save details")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("details saved")
    council = Organisation.objects.get(pk=world.council_a.pk)
    assert (council.ppon, council.local_authority_code, council.postal_code) == (
        "PABC-1234-DEFG", "CAM", "CB3 0AP")
    assert not scanner.problems, "\n".join(scanner.problems)
