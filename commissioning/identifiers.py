"""Organisation identifiers: the one place that knows each register's format and its
org-id.guide scheme (used by the organisation form, the register import and the OCDS parties).

Where each format comes from (checked against these sources, not memory):

- GB-PPON: the Public Procurement Organisation Number the Central Digital Platform (Find a
  Tender) gives every supplier and buyer. The platform's own generator
  (cabinetoffice/GCGS-Central-Digital-Platform, Services/CO.CDP.EntityVerification/Ppon/
  PponService.cs) writes ``P`` + 3 letters, 4 digits, 4 letters in groups of four:
  ``PHDQ-2359-NZMP``, ``PBZB-4962-TVLR`` as published in Find a Tender's OCDS (party ids
  ``GB-PPON-PBZB-4962-TVLR``). Its alphabets leave out some letters and the digit 0; we check
  only letters and digits in the right places, so a number issued before the generator changed
  is not refused. ``GB-PPON-`` pasted in front is dropped.
- GB-COH: Companies House numbers are 8 characters: 8 digits in England and Wales (written with
  leading zeros: Excel's ``3914810`` is ``03914810``), or a 2-letter prefix (SC Scotland, NI
  Northern Ireland, OC LLPs, LP, SL, SO, NC, FC, IP, RS ...) and 6 characters, some of which end
  in letters (``IP27702R``, ``NI05123A``), and the old Northern Ireland ``R0000123``. (Companies
  House's prefix list; a pattern tested on 13.6 million real numbers, gist rob-murray/
  01d43581114a6b319034732bcbda29e1.)
- GB-CHC: Charity Commission for England and Wales: a registered charity number of 6 or 7
  digits (``1123456``); a linked (subsidiary) charity adds ``-N`` (the register's
  ``linked_charity_number``: ``1123456-1``).
- GB-SC: the Scottish Charity Register (OSCR): ``SC0`` and 5 digits (``SC012345``); a charity
  registered in both is GB-CHC and GB-SC.
- GB-NHS: NHS Organisation Data Service codes (3 to 6 letters and digits: ICBs ``QUE``, trusts
  ``RGT``), the identifier NHS publishers use.
- GB-LAE: the register of English local authorities' three- or four-letter codes (``CAM``).
- Find a Tender notices and procurements: Find a Tender's API documentation (GET
  ocdsReleasePackages): "Notice IDs are in the form nnnnnn-yyyy where nnnnnn is a zero-padded
  decimal number and yyyy is the publication year"; "Procurement process IDs (ocids) are in the
  form ocds-h6vhtk-hhhhhh, where hhhhhh is a zero-padded hexadecimal number". A notice's page
  also shows it as ``2026/S 000-061906`` (that is ``061906-2026``), and officers paste its
  address (``.../Notice/061906-2026``): both are read as the notice number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models


class RegistrationScheme(models.TextChoices):
    COMPANIES_HOUSE = "GB-COH", "Companies House"
    CHARITY_COMMISSION = "GB-CHC", "Charity Commission (England and Wales)"
    SCOTTISH_CHARITY = "GB-SC", "Scottish Charity Regulator (OSCR)"


@dataclass(frozen=True)
class Scheme:
    code: str
    name: str
    pattern: re.Pattern[str]
    example: str


SCHEMES: dict[str, Scheme] = {s.code: s for s in (
    Scheme("GB-PPON", "PPON", re.compile(r"^P[A-Z]{3}-\d{4}-[A-Z]{4}$"), "PABC-1234-DEFG"),
    Scheme("GB-COH", "Companies House number", re.compile(
        r"^(?:\d{8}|R\d{7}|[A-Z]{2}\d{6}|[A-Z]{2}\d{5}[A-Z]|[A-Z]{2}\d{4}[A-Z]{2}"
        r"|[A-Z]{2}\d{3}[A-Z]{3})$"), "01234567 or SC123456"),
    Scheme("GB-CHC", "charity number", re.compile(r"^\d{6,7}(?:-\d{1,3})?$"), "1123456"),
    Scheme("GB-SC", "Scottish charity number", re.compile(r"^SC0\d{5}$"), "SC012345"),
    Scheme("GB-NHS", "ODS code", re.compile(r"^[A-Z0-9]{3,6}$"), "QUE or RGT"),
    Scheme("GB-LAE", "local authority code", re.compile(r"^[A-Z]{3,4}$"), "CAM"),
)}


def normalise(value: str) -> str:
    """Upper case without spaces: how every identifier here is stored and compared."""
    return re.sub(r"\s+", "", value or "").upper()


def _written(scheme: str, value: str) -> str:
    """How people write it, read into the register's own form: the scheme pasted in front
    dropped ("GB-PPON-PHDQ-2359-NZMP", "GB-COH-03914810"), and an English or Welsh company
    number whose leading zeros a spreadsheet dropped padded back to 8 digits."""
    cleaned = normalise(value)
    for prefix in (f"{scheme}-", f"{scheme}:"):
        if cleaned.startswith(prefix):
            cleaned = cleaned[len(prefix):]
    if scheme == "GB-COH" and cleaned.isdigit() and 5 <= len(cleaned) < 8:
        cleaned = cleaned.zfill(8)
    return cleaned


def check(scheme: str, value: str) -> str:
    """The identifier in its stored form, or a ValidationError in GOV.UK words."""
    rule = SCHEMES[scheme]
    cleaned = _written(scheme, value)
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
# platform's registered OCDS prefix ``ocds-h6vhtk-`` and six hexadecimal digits (sources in the
# module's docstring).
FIND_A_TENDER_NOTICE = re.compile(r"^\d{6}-\d{4}$")
FIND_A_TENDER_PROCEDURE = re.compile(r"^ocds-h6vhtk-[0-9a-f]{6}$")
_NOTICE_REFERENCE = re.compile(r"^(\d{4})/S\d{3}-(\d{6})$", re.IGNORECASE)  # 2026/S 000-061906
_NOTICE_ADDRESS = re.compile(r"/Notice/(\d{6}-\d{4})(?:[/?#].*)?$", re.IGNORECASE)


def check_find_a_tender_notice(value: str) -> str:
    cleaned = re.sub(r"\s+", "", value or "")
    if reference := _NOTICE_REFERENCE.match(cleaned):
        cleaned = f"{reference[2]}-{reference[1]}"
    elif address := _NOTICE_ADDRESS.search(cleaned):
        cleaned = address[1]
    if not FIND_A_TENDER_NOTICE.match(cleaned):
        raise ValidationError(
            "Enter the Find a Tender notice identifier in the right format, like 012345-2025",
            code="format")
    return cleaned


def check_find_a_tender_procedure(value: str) -> str:
    cleaned = re.sub(r"\s+", "", value or "").lower()
    if address := re.search(r"(ocds-h6vhtk-[0-9a-z]+)/?$", cleaned):
        cleaned = address[1]  # pasted from an address ending in the procurement's OCID
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
