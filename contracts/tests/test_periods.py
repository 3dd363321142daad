from datetime import date

import pytest

from commissioning import periods


def test_it_names_financial_years_from_april_to_march():
    assert periods.financial_year_for(date(2025, 4, 1)) == "2025/26"
    assert periods.financial_year_for(date(2026, 3, 31)) == "2025/26"
    assert periods.financial_year_for(date(2026, 11, 22)) == "2026/27"
    assert periods.financial_year_for(date(1999, 6, 1)) == "1999/00"


def test_it_gives_the_bounds_of_a_financial_year():
    assert periods.financial_year_bounds("2025/26") == (date(2025, 4, 1), date(2026, 3, 31))


@pytest.mark.parametrize("label", ["2025/27", "2025-26", "25/26", "", "abcd/ef"])
def test_it_refuses_a_malformed_financial_year(label):
    with pytest.raises(ValueError):
        periods.financial_year_bounds(label)


@pytest.mark.parametrize(("day", "quarter"), [
    (date(2025, 4, 1), 1), (date(2025, 6, 30), 1), (date(2025, 7, 1), 2),
    (date(2025, 10, 15), 3), (date(2025, 12, 31), 3), (date(2026, 1, 1), 4),
    (date(2026, 3, 31), 4),
])
def test_it_gives_the_financial_quarter(day, quarter):
    assert periods.quarter_for(day) == quarter


def test_it_gives_quarter_labels_and_bounds():
    assert periods.quarter_label(date(2026, 2, 1)) == "2025/26 Q4"
    assert periods.quarter_bounds("2025/26", 4) == (date(2026, 1, 1), date(2026, 3, 31))
    assert periods.quarter_bounds("2025/26", 2) == (date(2025, 7, 1), date(2025, 9, 30))


def test_it_knows_weekends_and_bank_holidays_are_not_working_days():
    assert periods.is_working_day(date(2026, 11, 23))  # Monday
    assert not periods.is_working_day(date(2026, 11, 22))  # Sunday
    assert not periods.is_working_day(date(2026, 4, 3))  # Good Friday 2026
    assert not periods.is_working_day(date(2026, 4, 6))  # Easter Monday 2026
    assert not periods.is_working_day(date(2026, 12, 28))  # Boxing Day substitute


def test_it_adds_working_days_across_easter():
    # Thursday 2 April 2026; Good Friday 3rd and Easter Monday 6th are bank holidays.
    assert periods.add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 7)
    assert periods.add_working_days(date(2026, 4, 2), 8) == date(2026, 4, 16)


def test_it_adds_working_days_across_christmas():
    # Christmas Day 2026 is a Friday; Boxing Day's substitute is Monday 28 December.
    assert periods.add_working_days(date(2026, 12, 23), 2) == date(2026, 12, 29)
    assert periods.add_working_days(date(2026, 12, 18), 8) == date(2027, 1, 4)


def test_it_adds_calendar_months_clamping_to_month_end():
    assert periods.add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert periods.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert periods.add_months(date(2025, 3, 31), -1) == date(2025, 2, 28)
    assert periods.months_between(date(2017, 10, 1), date(2020, 10, 1)) == 36
    assert periods.months_between(date(2017, 10, 15), date(2017, 11, 14)) == 0


def test_it_counts_bank_holidays_after_the_published_list_runs_out():
    # The GOV.UK list shipped with govuk-bank-holidays ends in December 2028; working days in
    # 2029 and later must still skip Good Friday, Easter Monday, the May and August Mondays
    # and Christmas (substitute days included).
    assert not periods.is_working_day(date(2029, 3, 30))  # Good Friday 2029
    assert not periods.is_working_day(date(2029, 4, 2))  # Easter Monday 2029
    assert not periods.is_working_day(date(2029, 8, 27))  # Summer bank holiday 2029
    assert not periods.is_working_day(date(2032, 12, 27))  # Boxing Day 2032 (Sunday) moved
    assert periods.is_working_day(date(2029, 4, 3))
    # Thursday 29 March 2029 + 1 working day skips Good Friday, the weekend and Easter Monday.
    assert periods.add_working_days(date(2029, 3, 29), 1) == date(2029, 4, 3)
    # 8 working days of standstill from Friday 21 December 2029 skip 25, 26 December and 1 January.
    assert periods.add_working_days(date(2029, 12, 21), 8) == date(2030, 1, 7)
