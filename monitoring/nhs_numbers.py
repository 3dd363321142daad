"""NHS numbers: validation (modulus 11) and pseudonymisation (keyed HMAC-SHA256).

The clear number is never stored or logged. The key comes from the environment
(``settings.PSEUDONYMISATION_KEY``), never the database, so a copy of the database alone
cannot be used to test guesses against the stored hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings

_SEPARATORS = re.compile(r"[\s\-]")
WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


class InvalidNHSNumber(ValueError):
    pass


def normalise(raw: str) -> str:
    """Digits only: spaces and dashes are allowed between digits ("943 476 5919")."""
    return _SEPARATORS.sub("", str(raw or ""))


def check_digit(first_nine: str) -> int | None:
    """The modulus 11 check digit for nine digits, or None when it would be 10 (invalid)."""
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, WEIGHTS, strict=True))
    digit = 11 - (total % 11)
    if digit == 11:
        return 0
    if digit == 10:
        return None
    return digit


def validate(raw: str) -> str:
    """Return the 10-digit number or raise ``InvalidNHSNumber`` with a message for people."""
    number = normalise(raw)
    if not number:
        raise InvalidNHSNumber("Enter an NHS number")
    if not (number.isascii() and number.isdigit()):  # "²" and "٣" are digits to isdigit()
        raise InvalidNHSNumber("An NHS number must only include numbers 0 to 9")
    if len(number) != 10:
        raise InvalidNHSNumber("An NHS number must be 10 digits")
    expected = check_digit(number[:9])
    if expected is None or expected != int(number[9]):
        raise InvalidNHSNumber("This is not a valid NHS number: check the digits")
    return number


def is_valid(raw: str) -> bool:
    try:
        validate(raw)
    except InvalidNHSNumber:
        return False
    return True


def pseudonymise(raw: str) -> str:
    """HMAC-SHA256 of the validated number under the environment key, as 64 hex digits."""
    number = validate(raw)
    key = settings.PSEUDONYMISATION_KEY.encode()
    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()


def format_number(number: str) -> str:
    """3-3-4 for display in tests and help text (never for stored numbers: there are none)."""
    digits = normalise(number)
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
