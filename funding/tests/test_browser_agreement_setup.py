"""Setting up a Section 75 agreement through the pages, in a real browser (headless Chromium).

A commissioner records an agreement with its partners, their risk shares, the host partner and
the pooled fund manager, adds its schemes, and then changes the agreement, using only what the
pages show. Every page is scanned with axe (one <h1>, unique titles).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from commissioning.tests.browser import (
    Scanner,
    expect_heading,
    pick,
    press,
    sign_in_verified,
    type_into,
)
from funding.models import AgreementPartner, Scheme, Section75Agreement

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def choose(page: Page, group: str, option: str) -> None:
    """Pick a radio button inside the fieldset whose legend is ``group``."""
    page.get_by_role("group", name=group).get_by_label(option, exact=True).check()


def retype(page: Page, label: str, text: str) -> None:
    page.get_by_label(label, exact=True).fill("")
    type_into(page, label, text)


def add_scheme(page: Page, *, code: str, name: str, lead: str, commissioner: str,
               bcf: str) -> None:
    page.get_by_role("link", name="Add a scheme").click()
    expect_heading(page, "Add a scheme")
    type_into(page, "Scheme ID", code)
    type_into(page, "Name", name)
    pick(page, "Nominated lead", lead)
    page.get_by_label("Scheme type", exact=True).select_option(label="Carers services")
    choose(page, "Pooled or aligned budget", "Pooled")
    choose(page, "Is it funded through the Better Care Fund?", bcf)
    choose(page, "Commissioner", commissioner)
    page.get_by_label("Area of spend", exact=True).select_option(label="Social care")
    choose(page, "New or existing scheme", "Existing")
    press(page, "Save scheme")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Scheme added")


@pytest.mark.covers("funding:agreement_create", "funding:agreement_edit", "funding:scheme_create")
def test_it_lets_a_commissioner_record_an_agreement_its_schemes_and_change_it(
        page: Page, live_server, world):
    base = live_server.url
    scanner = Scanner(page)
    council, icb = world.council_a, world.icb_a

    sign_in_verified(page, base, world.commissioner_a)
    page.goto(base + "/funding/")
    page.get_by_role("link", name="Record an agreement").click()
    expect_heading(page, "Record a Section 75 agreement")
    partners = page.get_by_role("group", name="Partners in the agreement")
    expect(partners.get_by_label(council.name, exact=True)).to_be_visible()
    expect(partners.get_by_label(icb.name, exact=True)).to_be_visible()
    # The percentage is revealed only for a partner that is ticked.
    council_share = f"{council.display_name}'s share of the risk (%)"
    icb_share = f"{icb.display_name}'s share of the risk (%)"
    expect(page.get_by_label(council_share, exact=True)).to_be_hidden()
    scanner.scan("new agreement")

    # Nothing filled in: every error links to a field on the page.
    press(page, "Save agreement")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    links = summary.get_by_role("link")
    for index in range(links.count()):
        target = links.nth(index).get_attribute("href")
        assert page.locator(target).count() == 1, f"{target} is not on the page"
    summary.get_by_role("link", name="Select the partners in the agreement").click()
    expect(partners.get_by_label(council.name, exact=True)).to_be_focused()
    scanner.scan("new agreement with errors")
    assert not Section75Agreement.objects.exists()

    choose(page, "Type of agreement", "Section 75 partnership agreement")
    type_into(page, "Title", "Bromley Better Care Fund Section 75 agreement")
    type_into(page, "Reference", "S75-2026")
    choose(page, "Arrangement", "Pooled fund")
    partners.get_by_label(council.name, exact=True).check()
    partners.get_by_label(icb.name, exact=True).check()
    type_into(page, council_share, "60")
    type_into(page, icb_share, "30")  # adds up to 90: refused
    pick(page, "Host partner", str(council))
    pick(page, "Pooled fund manager", str(world.finance_officer_a))
    type_into(page, "Start date", "01/04/2026")
    type_into(page, "End date", "31/03/2029")
    choose(page, "How are overspends and underspends shared?",
           "Fixed split (each partner's percentage)")
    choose(page, "What happens to an underspend?", "Returned to partners")
    choose(page, "Does a reduction by one partner trigger a parallel reduction by the others?",
           "No")
    press(page, "Save agreement")
    expect(summary).to_contain_text("The partners' shares must add up to 100%")
    summary.get_by_role("link", name="The partners' shares must add up to 100%",
                        exact=False).click()
    expect(partners.get_by_label(council.name, exact=True)).to_be_focused()
    assert not Section75Agreement.objects.exists()

    retype(page, icb_share, "40")
    press(page, "Save agreement")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Agreement recorded")
    expect_heading(page, "Bromley Better Care Fund Section 75 agreement")
    scanner.scan("agreement page")
    agreement = Section75Agreement.objects.get()
    assert agreement.host_partner == council
    assert agreement.pooled_fund_manager == world.finance_officer_a
    assert (agreement.start_date, agreement.end_date) == (date(2026, 4, 1), date(2029, 3, 31))
    assert agreement.risk_share_rule == "fixed_split"
    assert {p.organisation: p.risk_share_percent
            for p in AgreementPartner.objects.filter(agreement=agreement)} == {
        council: Decimal("60.00"), icb: Decimal("40.00")}
    expect(page.locator("main")).to_contain_text(f"{council.name} (host): 60% of the risk")

    add_scheme(page, code="BCF-01", name="Bromley Well", lead=str(council),
               commissioner="Local authority", bcf="Yes")
    scanner.scan("scheme page")
    page.get_by_role("link", name=agreement.title).first.click()
    expect_heading(page, agreement.title)
    add_scheme(page, code="S75-02", name="Intermediate Care", lead=str(icb),
               commissioner="NHS", bcf="No")
    page.get_by_role("link", name=agreement.title).first.click()
    schemes = page.get_by_role("table", name=re.compile("^Schemes"))
    expect(schemes).to_contain_text("BCF-01 Bromley Well")
    expect(schemes).to_contain_text("S75-02 Intermediate Care")
    assert set(Scheme.objects.filter(agreement=agreement).values_list(
        "code", "lead_partner")) == {("BCF-01", council.pk), ("S75-02", icb.pk)}

    # Change it: the page shows what was recorded, ticked and filled in.
    page.get_by_role("link", name="Change the agreement").click()
    expect_heading(page, "Change the agreement")
    expect(partners.get_by_label(council.name, exact=True)).to_be_checked()
    expect(page.get_by_label(icb_share, exact=True)).to_have_value("40.00")
    scanner.scan("change the agreement")
    retype(page, council_share, "55")
    retype(page, icb_share, "45")
    pick(page, "Host partner", str(icb))
    press(page, "Save changes")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Agreement updated")
    agreement.refresh_from_db()
    assert agreement.host_partner == icb
    assert {p.organisation: p.risk_share_percent
            for p in AgreementPartner.objects.filter(agreement=agreement)} == {
        council: Decimal("55.00"), icb: Decimal("45.00")}
    assert agreement.schemes.count() == 2
    scanner.check()
