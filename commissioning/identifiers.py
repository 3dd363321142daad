"""Organisation identifiers: the one place that knows each register's format and its
org-id.guide scheme (used by the organisation form and by the OCDS parties).

- GB-PPON: the Public Procurement Organisation Number the Central Digital Platform (Find a
  Tender) gives every supplier and buyer, written ``PXXX-XXXX-XXXX`` (letters and digits).
- GB-COH: Companies House: 8 digits, or 2 letters and 6 digits (SC123456).
- GB-CHC: Charity Commission for England and Wales: 6 or 7 digits, maybe ``-N`` for a linked
  charity.
- GB-NHS: NHS Organisation Data Service codes (3 to 6 letters and digits: ICBs ``QUE``, trusts
  ``RGT``), the identifier NHS publishers use.
- GB-LAE: the register of English local authorities' three- or four-letter codes (``CAM``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models


class RegistrationScheme(models.TextChoices):
    COMPANIES_HOUSE = "GB-COH", "Companies House"
    CHARITY_COMMISSION = "GB-CHC", "Charity Commission (England and Wales)"


@dataclass(frozen=True)
class Scheme:
    code: str
    name: str
    pattern: re.Pattern[str]
    example: str


SCHEMES: dict[str, Scheme] = {s.code: s for s in (
    Scheme("GB-PPON", "PPON", re.compile(r"^P[A-Z0-9]{3}-[A-Z0-9]{4}-[A-Z0-9]{4}$"),
           "PABC-1234-DEFG"),
    Scheme("GB-COH", "Companies House number", re.compile(r"^(?:\d{8}|[A-Z]{2}\d{6})$"),
           "01234567 or SC123456"),
    Scheme("GB-CHC", "charity number", re.compile(r"^\d{6,7}(?:-\d{1,2})?$"), "1123456"),
    Scheme("GB-NHS", "ODS code", re.compile(r"^[A-Z0-9]{3,6}$"), "QUE or RGT"),
    Scheme("GB-LAE", "local authority code", re.compile(r"^[A-Z]{3,4}$"), "CAM"),
)}


def normalise(value: str) -> str:
    """Upper case without spaces: how every identifier here is stored and compared."""
    return re.sub(r"\s+", "", value or "").upper()


def check(scheme: str, value: str) -> str:
    """The identifier in its stored form, or a ValidationError in GOV.UK words."""
    rule = SCHEMES[scheme]
    cleaned = normalise(value)
    if not rule.pattern.match(cleaned):
        raise ValidationError(
            f"Enter the {rule.name} in the right format, like {rule.example}", code="format")
    return cleaned


def validate_ppon(value: str) -> None:
    if value:
        check("GB-PPON", value)


def validate_local_authority_code(value: str) -> None:
    if value:
        check("GB-LAE", value)


# Find a Tender (the Central Digital Platform): a notice is numbered ``NNNNNN-YYYY`` (its number
# in the year it was published) and a procurement (procedure) is identified by its OCID, the
# platform's registered OCDS prefix ``ocds-h6vhtk-`` and six characters.
FIND_A_TENDER_NOTICE = re.compile(r"^\d{6}-\d{4}$")
FIND_A_TENDER_PROCEDURE = re.compile(r"^ocds-h6vhtk-[0-9a-z]{6}$")


def check_find_a_tender_notice(value: str) -> str:
    cleaned = re.sub(r"\s+", "", value or "")
    if not FIND_A_TENDER_NOTICE.match(cleaned):
        raise ValidationError(
            "Enter the Find a Tender notice identifier in the right format, like 012345-2025",
            code="format")
    return cleaned


def check_find_a_tender_procedure(value: str) -> str:
    cleaned = re.sub(r"\s+", "", value or "").lower()
    if not FIND_A_TENDER_PROCEDURE.match(cleaned):
        raise ValidationError(
            "Enter the Find a Tender procedure identifier in the right format, "
            "like ocds-h6vhtk-04f3a1", code="format")
    return cleaned


def identifiers(*, ppon: str, registration_scheme: str, registration_number: str,
                ods_code: str, local_authority_code: str) -> list[tuple[str, str]]:
    """Every (scheme, id) an organisation has, the one Find a Tender uses (PPON) first, then
    the registers' own; blank ones left out."""
    found = [
        ("GB-PPON", ppon),
        (registration_scheme, registration_number) if registration_scheme else ("", ""),
        ("GB-NHS", ods_code),
        ("GB-LAE", local_authority_code),
    ]
    return [(scheme, normalise(value)) for scheme, value in found if scheme and value]
