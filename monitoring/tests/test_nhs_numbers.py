import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitoring import nhs_numbers


@pytest.mark.parametrize("raw", ["9434765919", "943 476 5919", "943-476-5919", " 9434765919 "])
def test_it_accepts_a_valid_number_with_spaces_or_dashes(raw):
    assert nhs_numbers.validate(raw) == "9434765919"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("9434765918", "not a valid NHS number"),
        ("943476591", "must be 10 digits"),
        ("94347659190", "must be 10 digits"),
        ("94347A5919", "only include numbers"),
        ("", "Enter an NHS number"),
    ],
)
def test_it_refuses_invalid_numbers_with_a_reason(raw, message):
    with pytest.raises(nhs_numbers.InvalidNHSNumber, match=message):
        nhs_numbers.validate(raw)


def test_it_refuses_a_number_whose_check_digit_would_be_10():
    # 1000000060: weighted sum of 100000006 is 10 + 12 = 22? find one independently below.
    nine = next(f"{n:09d}" for n in range(100000000, 100001000)
                if 11 - sum(int(d) * (10 - i) for i, d in enumerate(f"{n:09d}")) % 11 == 10)
    assert nhs_numbers.check_digit(nine) is None
    for last in "0123456789":
        assert not nhs_numbers.is_valid(nine + last)


def _independent_check(number: str) -> bool:
    """Straight from the NHS data dictionary, written separately from the module."""
    total = 0
    for position in range(9):
        total += int(number[position]) * (10 - position)
    remainder = total % 11
    check = 11 - remainder
    if check == 11:
        check = 0
    if check == 10:
        return False
    return check == int(number[9])


@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_it_agrees_with_an_independent_modulus_11_computation(number):
    assert nhs_numbers.is_valid(number) == _independent_check(number)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_every_nine_digits_have_at_most_one_valid_check_digit(nine):
    valid = [d for d in "0123456789" if nhs_numbers.is_valid(nine + d)]
    assert len(valid) <= 1


def test_it_pseudonymises_with_the_environment_key(settings):
    settings.PSEUDONYMISATION_KEY = "test-key"
    expected = hmac.new(b"test-key", b"9434765919", hashlib.sha256).hexdigest()
    assert nhs_numbers.pseudonymise("943 476 5919") == expected
    settings.PSEUDONYMISATION_KEY = "other-key"
    assert nhs_numbers.pseudonymise("9434765919") != expected
