"""The review inbox and the performance overview as long lists, like the register (issue 19):
sortable column headers with ``aria-sort`` that keep the filters and the page, the filters in
use as tags that each remove one filter, GOV.UK numbered pagination, ``th scope="row"`` first
cells, no "Sort by" drop-down, and bad sort keys or page numbers never a 500. Read from the page
a person gets."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contracts.tests.factories import contract_for
from monitoring.models import PerformanceReturn
from monitoring.tests.factories import KPIFactory, fill_and_submit, kpi_with_target, quarter

pytestmark = pytest.mark.django_db

EARLIER_DAY = date(2025, 2, 1)  # in 2024/25 Q4, the quarter before factories.quarter()
BAD_SORTS = ["nonsense", "-", "--provider", "provider-", "<script>alert(1)</script>",
             "sort" * 200, "\u00e9"]
BAD_PAGES = ["abc", "0", "-1", "999", "1.5", "99999999999999999999999", ""]


def hrefs(html: str, pattern: str) -> list[str]:
    return [unescape(h) for h in re.findall(pattern, html, re.S)]


def query_of(href: str) -> dict[str, list[str]]:
    return parse_qs(urlparse(href).query)


def header_states(html: str) -> dict[str, str]:
    """Each sortable column header's label -> its aria-sort."""
    return {unescape(label): state for state, label in re.findall(
        r'aria-sort="(\w+)"><a class="govuk-link app-sort-link" href="[^"]+">([^<]+)</a>', html)}


def header_link(html: str, label: str) -> str:
    return hrefs(html, rf'class="govuk-link app-sort-link" href="([^"]+)">{label}</a>')[0]


def row_cells(html: str) -> list[list[str]]:
    """The table body's rows: the row header's text, then each cell's text."""
    body = html.split('<tbody class="govuk-table__body">')[1].split("</tbody>")[0]
    rows = []
    for row in re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", body, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([" ".join(unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in cells])
    return rows


def tags(html: str) -> dict[str, str]:
    return {unescape(text): unescape(href) for href, text in re.findall(
        r'class="app-filter-tag" href="([^"]+)"><span class="govuk-visually-hidden">'
        r'Remove this filter: </span>([^<]+)</a>', html)}


def submitted_returns(world, count: int, *, prefix: str = "IN") -> list[PerformanceReturn]:
    """``count`` returns waiting for review, alternately from Bromley Well (provider X) and
    Age UK (provider Y), submitted a day apart in reverse order of reference (so the oldest
    submission is the last reference); the first three are for the earlier quarter."""
    returns = []
    now = timezone.now()
    for n in range(count):
        provider = world.provider_x if n % 2 == 0 else world.provider_y
        user = world.provider_x_user if n % 2 == 0 else world.provider_y_user
        contract = contract_for(world, reference=f"{prefix}-{n:03d}", title=f"Service {n:03d}",
                                provider=provider)
        KPIFactory(contract=contract)
        ret = fill_and_submit(contract, quarter(EARLIER_DAY) if n < 3 else quarter(), user)
        # When each was sent matters to the order; the service stamps the time it runs.
        PerformanceReturn.objects.filter(pk=ret.pk).update(
            submitted_at=now - timedelta(days=n))
        returns.append(ret)
    return returns


# --- The review inbox ------------------------------------------------------------------------

@pytest.fixture
def inbox(world, client_for):
    submitted_returns(world, 30)
    return client_for(world.commissioner_a)


def test_it_sorts_the_inbox_by_a_column_header_keeping_the_filters_and_the_page(world, inbox):
    url = reverse("monitoring:inbox")
    html = inbox.get(url, {"partnership": world.partnership_a.pk, "page": "2"}).content.decode()
    assert header_states(html) == {"Contract": "none", "Provider": "none", "Period": "none",
                                   "Submitted": "ascending", "Partnership": "none"}
    # Oldest first: page 2 holds the five newest submissions, IN-004 to IN-000.
    assert [r[0].split()[0] for r in row_cells(html)] == [
        "IN-004", "IN-003", "IN-002", "IN-001", "IN-000"]
    provider_link = header_link(html, "Provider")
    assert query_of(provider_link) == {"partnership": [str(world.partnership_a.pk)],
                                       "page": ["2"], "sort": ["provider"]}

    sorted_page = inbox.get(url + provider_link).content.decode()
    assert header_states(sorted_page)["Provider"] == "ascending"
    assert header_states(sorted_page)["Submitted"] == "none"
    # Age UK Cambridgeshire's 15 come before Bromley Third Sector Enterprise's 15.
    assert {r[1] for r in row_cells(sorted_page)} == {"Bromley Well"}
    assert 'aria-current="page">2<' in sorted_page
    again = header_link(sorted_page, "Provider")
    assert query_of(again)["sort"] == ["-provider"] and query_of(again)["page"] == ["2"]
    reversed_page = inbox.get(url + again).content.decode()
    assert header_states(reversed_page)["Provider"] == "descending"
    assert {r[1] for r in row_cells(reversed_page)} == {"Age UK"}

    by_period = inbox.get(url + header_link(html, "Period")).content.decode()
    assert header_states(by_period)["Period"] == "descending"  # latest first


def test_it_keeps_the_order_when_the_inbox_filters_are_applied(world, inbox):
    html = inbox.get(reverse("monitoring:inbox"), {"sort": "-reference"}).content.decode()
    form = html.split('<form method="get"')[1].split("</form>")[0]
    assert '<input type="hidden" name="sort" value="-reference"' in form
    assert "Sort by" not in html and "<select name=\"sort\"" not in html
    assert [r[0].split()[0] for r in row_cells(html)][:2] == ["IN-029", "IN-028"]


def test_it_ignores_an_unknown_sort_key_or_a_bad_page_on_the_inbox(world, inbox):
    url = reverse("monitoring:inbox")
    for sort in BAD_SORTS:
        page = inbox.get(url, {"sort": sort, "provider": "Age UK"})
        assert page.status_code == 200, sort
        html = page.content.decode()
        assert header_states(html)["Submitted"] == "ascending", sort
        # The other filters still apply.
        assert {r[1] for r in row_cells(html)} == {"Age UK"}, sort
        assert "<strong>15</strong> returns" in html
    for number in BAD_PAGES:
        page = inbox.get(url, {"page": number, "sort": "provider"})
        assert page.status_code == 200, number
        html = page.content.decode()
        assert len(row_cells(html)) in (25, 5), number
        assert header_states(html)["Provider"] == "ascending", number


def test_it_shows_each_inbox_filter_as_a_tag_that_removes_only_that_filter(world, inbox):
    url = reverse("monitoring:inbox")
    html = inbox.get(url, {"provider": "Bromley", "period": quarter().pk, "sort": "provider",
                           "page": "1"}).content.decode()
    shown = tags(html)
    assert set(shown) == {"Provider: Bromley", f"Period: {quarter().label}"}
    removed = query_of(shown["Provider: Bromley"])
    assert removed == {"period": [str(quarter().pk)], "sort": ["provider"]}
    html = inbox.get(url + shown["Provider: Bromley"]).content.decode()
    assert set(tags(html)) == {f"Period: {quarter().label}"}
    assert {r[1] for r in row_cells(html)} == {"Bromley Well", "Age UK"}
    assert query_of(hrefs(html, r'href="([^"]+)">Clear filters</a>')[0]) == {"sort": ["provider"]}


def test_it_numbers_the_inbox_pages_and_heads_each_row(world, inbox):
    html = inbox.get(reverse("monitoring:inbox"), {"provider": "", "page": "2"}).content.decode()
    assert re.findall(r'aria-label="Page (\d+)"', html) == ["1", "2"]
    assert 'aria-current="page">2<' in html
    assert len(re.findall(r'<th scope="row" class="govuk-table__header">', html)) == 5
    assert 'aria-controls="filter-panel"' in html and 'id="filter-panel"' in html
    assert "app-width-container--wide" in html and "js/filter-toggle" in html


# --- The performance overview -----------------------------------------------------------------

def rated_contracts(world, count: int = 30) -> None:
    """Contracts OV-000 on with one KPI each (target 100, amber down to 90), a third green
    (120), a third amber (95), a third red (50), the reds' references last. Bromley Well
    provides the even ones, Age UK the odd ones."""
    for n in range(count):
        contract = contract_for(world, reference=f"OV-{n:03d}", title=f"Service {n:03d}",
                                provider=world.provider_x if n % 2 == 0 else world.provider_y)
        kpi = kpi_with_target(contract, code=f"K{n}")
        value = "120" if n < count // 3 else "95" if n < 2 * count // 3 else "50"
        user = world.provider_x_user if n % 2 == 0 else world.provider_y_user
        fill_and_submit(contract, quarter(), user, values={kpi.code: value})


@pytest.fixture
def overview(world, client_for):
    rated_contracts(world)
    return client_for(world.commissioner_a)


def test_it_sorts_the_overview_by_a_column_header_keeping_the_filters_and_the_page(
        world, overview):
    url = reverse("monitoring:overview")
    html = overview.get(url, {"q": "OV-", "page": "2"}).content.decode()
    assert header_states(html) == {
        "Contract": "none", "Provider": "none", "Latest return": "none", "Red": "none",
        "Amber": "none", "Green": "none", "No target or value": "none",
        "Overall": "descending"}
    # Worst first: page 2 holds the last five greens.
    assert [r[0].split()[0] for r in row_cells(html)] == [f"OV-{n:03d}" for n in range(5, 10)]
    contract_link = header_link(html, "Contract")
    assert query_of(contract_link) == {"q": ["OV-"], "page": ["2"], "sort": ["reference"]}
    by_reference = overview.get(url + contract_link).content.decode()
    assert header_states(by_reference)["Contract"] == "ascending"
    assert header_states(by_reference)["Overall"] == "none"
    assert [r[0].split()[0] for r in row_cells(by_reference)] == [
        f"OV-{n:03d}" for n in range(25, 30)]
    assert query_of(tags(by_reference)["Search: OV-"]) == {"sort": ["reference"]}

    green = overview.get(url + header_link(html, "Green")).content.decode()
    assert header_states(green)["Green"] == "descending"  # most first
    assert [r[5] for r in row_cells(green)] == ["0"] * 5
    best = overview.get(url + header_link(html, "Overall")).content.decode()
    assert header_states(best)["Overall"] == "ascending"
    assert {r[7] for r in row_cells(best)} == {"Red"}


def test_it_downloads_the_overview_in_the_order_shown(world, overview):
    url = reverse("monitoring:overview")
    page = overview.get(url, {"sort": "-reference"}).content.decode()
    link = hrefs(page, r'href="([^"]+)">Download CSV</a>')[0]
    assert query_of(link) == {"sort": ["-reference"], "format": ["csv"]}
    response = overview.get(url + link)
    rows = list(csv.reader(io.StringIO(
        b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == [f"OV-{n:03d}" for n in range(29, -1, -1)]


def test_it_ignores_an_unknown_sort_key_or_a_bad_page_on_the_overview(world, overview):
    url = reverse("monitoring:overview")
    for sort in BAD_SORTS:
        page = overview.get(url, {"sort": sort, "provider": "Age UK"})
        assert page.status_code == 200, sort
        html = page.content.decode()
        assert header_states(html)["Overall"] == "descending", sort
        assert {r[1] for r in row_cells(html)} == {"Age UK"}, sort
    for number in BAD_PAGES:
        page = overview.get(url, {"page": number, "sort": "reference"})
        assert page.status_code == 200, number
        assert len(row_cells(page.content.decode())) in (25, 5), number


def test_it_shows_each_overview_filter_as_a_tag_and_numbers_its_pages(world, overview):
    url = reverse("monitoring:overview")
    html = overview.get(url, {"q": "Service", "provider": "Bromley", "sort": "red"}
                        ).content.decode()
    shown = tags(html)
    assert set(shown) == {"Search: Service", "Provider: Bromley"}
    assert query_of(shown["Search: Service"]) == {"provider": ["Bromley"], "sort": ["red"]}
    assert {r[1] for r in row_cells(html)} == {"Bromley Well"}
    html = overview.get(url + shown["Provider: Bromley"]).content.decode()
    assert set(tags(html)) == {"Search: Service"}
    assert re.findall(r'aria-label="Page (\d+)"', html) == ["1", "2"]
    assert len(re.findall(r'<th scope="row" class="govuk-table__header">', html)) == 25
    assert "Sort by" not in html and 'aria-controls="filter-panel"' in html


# --- Queries do not grow with the rows --------------------------------------------------------

def _count(client, url, data) -> int:
    client.get(url, data)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, data)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("data", [
    {"sort": "-provider", "page": "2"},
    {"sort": "period", "provider": "Bromley", "page": "2"},
])
def test_it_reads_a_sorted_inbox_page_in_the_same_queries_for_9_and_27_returns(
        world, client_for, data):
    client = client_for(world.commissioner_a)
    url = reverse("monitoring:inbox")
    submitted_returns(world, 9, prefix="N")
    small = _count(client, url, data)
    submitted_returns(world, 18, prefix="M")
    assert _count(client, url, data) == small


@pytest.mark.parametrize("data", [
    {"sort": "-provider", "page": "2"},
    {"sort": "green", "q": "Service", "page": "2"},
])
def test_it_reads_a_sorted_overview_page_in_the_same_queries_for_9_and_27_contracts(
        world, client_for, data):
    client = client_for(world.commissioner_a)
    url = reverse("monitoring:overview")

    def contracts(count: int, prefix: str) -> None:
        for n in range(count):
            contract = contract_for(world, reference=f"{prefix}-{n}", title=f"Service {n}")
            kpi_with_target(contract)
            fill_and_submit(contract, quarter(), world.provider_x_user)

    contracts(9, "N")
    small = _count(client, url, data)
    contracts(18, "M")
    assert _count(client, url, data) == small
