"""The one financial-year type (commissioning/periods.py FinancialYear)."""

from __future__ import annotations

from datetime import date

import pytest

from commissioning.periods import FinancialYear


def test_it_converts_between_the_stored_start_year_and_the_label():
    year = FinancialYear.of(2025)
    assert year.label == str(year) == "2025/26"
    assert FinancialYear.parse("2025/26") == year == FinancialYear.from_slug("2025-26")
    assert year.slug == "2025-26" and year.short_label == "25/26"
    assert FinancialYear.of(1999).label == "1999/00"
    assert FinancialYear.parse("2099/00").bounds() == (date(2099, 4, 1), date(2100, 3, 31))


@pytest.mark.parametrize(("day", "start"), [
    (date(2025, 4, 1), 2025), (date(2026, 3, 31), 2025), (date(2026, 4, 1), 2026),
    (date(2024, 2, 29), 2023),
])
def test_it_finds_the_year_of_a_day_and_contains_it(day, start):
    year = FinancialYear.from_date(day)
    assert year.start == start and day in year
    assert day not in FinancialYear.of(start + 1)


def test_it_gives_quarters_in_april_to_march_order():
    year = FinancialYear.of(2025)
    assert year.quarter(1) == (date(2025, 4, 1), date(2025, 6, 30))
    assert year.quarter(4) == (date(2026, 1, 1), date(2026, 3, 31))
    with pytest.raises(ValueError):
        year.quarter(5)


@pytest.mark.parametrize("text", ["2025/27", "2025-26", "25/26", "", "abcd/ef", "2025/26x"])
def test_it_refuses_a_label_that_is_not_a_financial_year(text):
    with pytest.raises(ValueError):
        FinancialYear.parse(text)


def test_it_orders_years():
    assert FinancialYear.of(2024) < FinancialYear.of(2025)
