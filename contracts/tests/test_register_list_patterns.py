"""The register as a long list (issue 19): GOV.UK numbered pagination, sortable column headers
with ``aria-sort`` that keep the filters and page, the filters in use as removable tags, and a
``th scope="row"`` first cell. Read from the page a person gets."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse

from commissioning.templatetags.lists import page_numbers
from contracts.models import ServiceArea
from contracts.tests.factories import contract_for

CHILDREN = ServiceArea.CHILDRENS_SERVICES

pytestmark = pytest.mark.django_db


def hrefs(html: str, pattern: str) -> list[str]:
    return [unescape(h) for h in re.findall(pattern, html, re.S)]


def query_of(href: str) -> dict[str, list[str]]:
    return parse_qs(urlparse(href).query)


@pytest.fixture
def register(world, client_for):
    for n in range(130):
        contract_for(world, reference=f"REG-{n:03d}", title=f"Service {n:03d}",
                     service_area=ServiceArea.ADULT_SOCIAL_CARE if n % 2 else
                     CHILDREN, annual_value=Decimal(1000 + n))
    return client_for(world.commissioner_a)


def test_it_numbers_pages_with_ellipses_and_keeps_the_filters(register):
    page = register.get(reverse("contracts:list"),
                        {"service_area": ServiceArea.ADULT_SOCIAL_CARE, "page": "2"})
    html = page.content.decode()
    # 65 contracts, 25 a page: 1 [2] 3, and the links keep the filter.
    items = re.findall(r'aria-label="Page (\d+)"', html)
    assert items == ["1", "2", "3"]
    assert 'aria-current="page">2<' in html
    for href in hrefs(html, r'class="govuk-link govuk-pagination__link" href="([^"]+)"'):
        assert query_of(href)["service_area"] == [ServiceArea.ADULT_SOCIAL_CARE]


def test_it_shows_first_last_and_neighbours_with_ellipses():
    assert page_numbers(1, 1) == [1]
    assert page_numbers(1, 6) == [1, 2, None, 6]
    assert page_numbers(5, 20) == [1, None, 4, 5, 6, None, 20]
    assert page_numbers(3, 6) == [1, 2, 3, 4, 5, 6]  # a one-page gap shows the page
    assert page_numbers(3, 7) == [1, 2, 3, 4, None, 7]
    assert page_numbers(6, 6) == [1, None, 5, 6]


def test_it_sorts_by_a_column_header_that_says_its_order_and_keeps_filters_and_page(register):
    url = reverse("contracts:list")
    html = register.get(url, {"service_area": CHILDREN}).content.decode()
    states = {label: state for state, label in re.findall(
        r'aria-sort="(\w+)"><a class="govuk-link app-sort-link" href="[^"]+">([^<]+)</a>', html)}
    assert states == {"Reference": "ascending", "Title": "none", "Provider": "none",
                      "End date": "none", "Annual value": "none"}
    value_link = hrefs(html, r'href="([^"]+)">Annual value</a>')[0]
    assert query_of(value_link)["sort"] == ["-value"]  # highest first, as the "Sort by" says
    assert query_of(value_link)["service_area"] == [CHILDREN]

    sorted_page = register.get(url + value_link + "&page=2").content.decode()
    assert 'aria-sort="descending"><a class="govuk-link app-sort-link"' in sorted_page
    assert re.search(r'aria-sort="descending">[^\n]*>Annual value<', sorted_page)
    rows = re.findall(r'<th scope="row" class="govuk-table__header"><a [^>]+>(REG-\d+)<',
                      sorted_page)
    # Children are the even numbers; highest value first; page 2 starts at the 26th.
    assert rows[0] == "REG-078" and len(rows) == 25
    again = hrefs(sorted_page, r'href="([^"]+)">Annual value</a>')[0]
    assert query_of(again)["sort"] == ["value"] and query_of(again)["page"] == ["2"]


def test_it_shows_each_filter_in_use_as_a_tag_that_removes_only_that_filter(register, world):
    url = reverse("contracts:list")
    html = register.get(url, {"service_area": CHILDREN, "q": "Service",
                              "sort": "-end", "page": "2"}).content.decode()
    assert "Selected filters" in html
    tags = {unescape(text): unescape(href) for href, text in re.findall(
        r'class="app-filter-tag" href="([^"]+)"><span class="govuk-visually-hidden">'
        r'Remove this filter: </span>([^<]+)</a>', html)}
    assert set(tags) == {"Search: Service", "Service area: Children's services"}
    removed = query_of(tags["Search: Service"])
    assert "q" not in removed and "page" not in removed
    assert removed["service_area"] == [CHILDREN] and removed["sort"] == ["-end"]
    clear = hrefs(html, r'href="([^"]+)">Clear filters</a>')[0]
    assert query_of(clear) == {"sort": ["-end"]}

    assert "Selected filters" not in register.get(url).content.decode()
