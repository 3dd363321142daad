"""One table of what people type for money and dates, checked against every reader: the form
field used on every page, the register import and the finance import."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from commissioning.inputs import MoneyField, UKDateField
from contracts.imports import CellError, parse_amount
from funding.imports import parse_money as finance_parse

# (typed, amount or None when refused)
AMOUNTS = [
    ("£1,234.50", D("1234.50")), ("1234.5", D("1234.50")), ("2,700,000", D("2700000.00")),
    ("£ 450,000", D("450000.00")), ("1,234,567.50", D("1234567.50")), (".5", D("0.50")),
    ("+12", D("12.00")), ("0", D("0.00")),
    ("-£12", D("-12.00")), ("(1,234.50)", D("-1234.50")), ("£-3.10", D("-3.10")),
    ("(£1,000)", D("-1000.00")),
    ("£75k", None), ("2.7m", None), ("12,34", None), ("1.234", None), ("1e5", None),
    ("--1", None), ("(12", None), ("abc", None), ("£", None), ("9" * 5000, None),
    ("999,999,999,999.99", D("999999999999.99")), ("1,000,000,000,000", None),
]


@pytest.mark.parametrize("typed,amount", AMOUNTS)
def test_every_reader_of_money_agrees(typed, amount):
    form_field = MoneyField(label="Amount", allow_negative=True)
    if amount is None:
        with pytest.raises(ValidationError):
            form_field.clean(typed)
        with pytest.raises(ValueError):
            finance_parse(typed)
        with pytest.raises(CellError):
            parse_amount(typed, "annual value")
        return
    assert form_field.clean(typed) == amount
    assert finance_parse(typed) == amount
    if amount >= 0:
        assert parse_amount(typed, "annual value") == amount
    else:
        with pytest.raises(CellError, match="must be £0 or more"):
            parse_amount(typed, "annual value")
        with pytest.raises(ValidationError, match="must be £0 or more"):
            MoneyField(label="Amount").clean(typed)


def test_a_trillion_pounds_is_refused_in_the_same_words_on_a_page_and_in_an_import():
    with pytest.raises(ValidationError) as on_page:
        MoneyField(label="Annual value").clean("1,000,000,000,000")
    with pytest.raises(CellError) as in_import:
        parse_amount("1,000,000,000,000", "annual value")
    assert on_page.value.messages == [str(in_import.value)]


@pytest.mark.parametrize("typed,day", [
    ("27/03/2026", date(2026, 3, 27)), ("27/03/26", date(2026, 3, 27)),
    ("27-03-2026", date(2026, 3, 27)), ("27.03.2026", date(2026, 3, 27)),
    ("27 03 2026", date(2026, 3, 27)), ("2026-03-27", date(2026, 3, 27)),
    ("31/02/2026", None), ("03/27/2026", None), ("next Tuesday", None),
])
def test_dates_are_read_the_same_way_on_every_page(typed, day):
    field = UKDateField(label="Start date")
    if day is None:
        with pytest.raises(ValidationError, match="Enter the start date as a real date"):
            field.clean(typed)
    else:
        assert field.clean(typed) == day
