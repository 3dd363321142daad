"""The CPV reader (contracts/cpv.py): codes as registers, notices and officers write them, with
their published check digits (Regulation 213/2008), labels and typos."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from contracts import cpv


@pytest.mark.parametrize(("written", "codes"), [
    ("85311000", ["85311000"]),
    ("85311000-2", ["85311000"]),
    ("85311000-2 Social work services with accommodation", ["85311000"]),
    ("85312000-9; 85323000-9", ["85312000", "85323000"]),
    ("85312000 85323000", ["85312000", "85323000"]),
    ("03000000-1 Agricultural, farming, fishing, forestry and related products, 72000000-5",
     ["03000000", "72000000"]),
    ("85311000, 85311000-2", ["85311000"]),  # no repeats
    ("", []),
])
def test_it_reads_cpv_codes_as_they_are_written(written, codes):
    assert cpv.check_list(written) == codes


@pytest.mark.parametrize(("written", "message"), [
    ("85311009", "85311009 is not a code in the CPV 2008 list. Did you mean 85311000 (Social "
                 "work services with accommodation)?"),
    ("85311000-3", "85311000-3 has the wrong check digit: 85311000 (Social work services with "
                   "accommodation) is 85311000-2"),
    ("45000000-1", "45000000-1 has the wrong check digit: 45000000 (Construction work) is "
                   "45000000-7"),
    ("8531100", "Enter a CPV code as 8 digits, like 85311200 (not “8531100”)"),
    ("Social work services", "Enter a CPV code as 8 digits, like 85311200 (not “Social work "
                             "services”)"),
    ("85312000, 85399999", "85399999 is not a code in the CPV 2008 list"),
])
def test_it_says_what_is_wrong_with_a_code_and_what_is_expected(written, message):
    with pytest.raises(ValidationError) as error:
        cpv.check_list(written)
    assert error.value.messages == [message]


def test_every_code_has_its_published_check_digit():
    digits = cpv.check_digits()
    assert set(digits) == set(cpv.codes()) and len(digits) == 9454
    assert all(len(d) == 1 and d.isdigit() for d in digits.values())
    # As published independently of the list we ship (EU and national publishers' rules).
    assert {code: digits[code] for code in ("03000000", "09134000", "45000000", "72000000",
                                            "85311000", "85311200", "85323000", "98000000")} \
        == {"03000000": "1", "09134000": "7", "45000000": "7", "72000000": "5",
            "85311000": "2", "85311200": "4", "85323000": "9", "98000000": "3"}
