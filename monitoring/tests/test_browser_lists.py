"""The review inbox and the performance overview in a real browser (issue 19), as a
commissioner works through them: filter, click a column header and see the order change and
the header say so, go to page 2 by its number, remove one filter by its tag, hide and show the
filter panel. Each state is scanned with axe."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from commissioning.tests.browser import Scanner, expect_heading, press, sign_in_verified
from monitoring.tests.factories import quarter
from monitoring.tests.test_list_patterns import rated_contracts, submitted_returns

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def header(page: Page, name: str):
    # The sorted column's link ends in an arrow drawn by CSS, part of its accessible name.
    return page.get_by_role("columnheader", name=re.compile(rf"^{name}( [▲▼])?$"))


def column(page: Page, table: str, index: int) -> list[str]:
    """The text of one column of a table's body, top to bottom (0 is the row header)."""
    rows = page.get_by_role("table", name=table).locator("tbody tr")
    return [rows.nth(n).locator("th, td").nth(index).inner_text().strip()
            for n in range(rows.count())]


def click_and_wait(page: Page, locator) -> None:
    with page.expect_navigation():
        locator.click()


def hide_and_show_the_filters(page: Page) -> None:
    panel = page.locator("#filter-panel")
    toggle = page.get_by_role("button", name="Hide filters")
    expect(panel).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    toggle.click()
    expect(panel).to_be_hidden()
    shown = page.get_by_role("button", name="Show filters")
    expect(shown).to_have_attribute("aria-expanded", "false")
    shown.click()
    expect(panel).to_be_visible()
    expect(page.get_by_role("button", name="Hide filters")).to_have_attribute(
        "aria-expanded", "true")


def test_a_commissioner_sorts_pages_and_filters_the_review_inbox(page: Page, live_server,
                                                                  world):
    submitted_returns(world, 30)
    period = quarter()
    base = live_server.url
    scanner = Scanner(page)
    sign_in_verified(page, base, world.commissioner_a)
    page.goto(base + "/monitoring/inbox/")
    expect_heading(page, "Returns to review")
    hide_and_show_the_filters(page)

    page.get_by_label("Period").select_option(label=period.label)
    press(page, "Apply filters")
    tag = page.get_by_role("link", name=f"Remove this filter: Period: {period.label}")
    expect(tag).to_be_visible()
    expect(page.locator("p[role=status]")).to_contain_text("27 returns")
    expect(header(page, "Submitted")).to_have_attribute("aria-sort", "ascending")

    click_and_wait(page, header(page, "Provider").get_by_role("link"))
    assert re.search(r"[?&]sort=provider(&|$)", page.url) and f"period={period.pk}" in page.url
    expect(header(page, "Provider")).to_have_attribute("aria-sort", "ascending")
    expect(header(page, "Submitted")).to_have_attribute("aria-sort", "none")
    expect(tag).to_be_visible()  # the filter is kept
    providers = column(page, "Returns waiting for review", 1)
    assert providers == sorted(providers) and providers[0] == "Age UK", providers
    scanner.scan("inbox sorted by provider")

    click_and_wait(page, page.get_by_role("link", name="Page 2", exact=True))
    expect(page.get_by_role("link", name="Page 2", exact=True)).to_have_attribute(
        "aria-current", "page")
    expect(header(page, "Provider")).to_have_attribute("aria-sort", "ascending")
    expect(tag).to_be_visible()
    assert set(column(page, "Returns waiting for review", 1)) == {"Bromley Well"}

    click_and_wait(page, header(page, "Provider").get_by_role("link"))
    expect(header(page, "Provider")).to_have_attribute("aria-sort", "descending")
    assert set(column(page, "Returns waiting for review", 1)) == {"Age UK"}

    click_and_wait(page, tag)
    expect(page.get_by_role("link", name=re.compile("^Remove this filter"))).to_have_count(0)
    expect(page.locator("p[role=status]")).to_contain_text("30 returns")
    expect(header(page, "Provider")).to_have_attribute("aria-sort", "descending")
    assert "page=" not in page.url and "sort=-provider" in page.url
    hide_and_show_the_filters(page)
    scanner.scan("inbox, filter removed", same_page_as="inbox sorted by provider")
    scanner.check()


def test_a_commissioner_sorts_pages_and_filters_the_performance_overview(page: Page,
                                                                         live_server, world):
    rated_contracts(world, 30)
    base = live_server.url
    scanner = Scanner(page)
    sign_in_verified(page, base, world.commissioner_a)
    page.goto(base + "/monitoring/")
    expect_heading(page, "Performance overview")
    hide_and_show_the_filters(page)

    page.get_by_label("Search", exact=True).fill("Service")
    press(page, "Apply filters")
    tag = page.get_by_role("link", name="Remove this filter: Search: Service")
    expect(tag).to_be_visible()
    expect(header(page, "Overall")).to_have_attribute("aria-sort", "descending")
    assert column(page, "Contracts by performance", 7)[0] == "Red"

    click_and_wait(page, header(page, "Contract").get_by_role("link"))
    assert "sort=reference" in page.url and "q=Service" in page.url
    expect(header(page, "Contract")).to_have_attribute("aria-sort", "ascending")
    expect(header(page, "Overall")).to_have_attribute("aria-sort", "none")
    expect(tag).to_be_visible()
    assert [c.split()[0] for c in column(page, "Contracts by performance", 0)] == [
        f"OV-{n:03d}" for n in range(25)]
    scanner.scan("overview sorted by contract")

    click_and_wait(page, page.get_by_role("link", name="Page 2", exact=True))
    expect(page.get_by_role("link", name="Page 2", exact=True)).to_have_attribute(
        "aria-current", "page")
    assert [c.split()[0] for c in column(page, "Contracts by performance", 0)] == [
        f"OV-{n:03d}" for n in range(25, 30)]
    expect(tag).to_be_visible()

    click_and_wait(page, header(page, "Red").get_by_role("link"))
    expect(header(page, "Red")).to_have_attribute("aria-sort", "descending")
    assert column(page, "Contracts by performance", 3) == ["0"] * 5  # page 2: the reds first

    click_and_wait(page, tag)
    expect(page.get_by_role("link", name=re.compile("^Remove this filter"))).to_have_count(0)
    expect(header(page, "Red")).to_have_attribute("aria-sort", "descending")
    assert "q=" not in page.url and "page=" not in page.url and "sort=-red" in page.url
    hide_and_show_the_filters(page)
    scanner.scan("overview, filter removed", same_page_as="overview sorted by contract")
    scanner.check()
