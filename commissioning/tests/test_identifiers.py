"""Identifier formats (commissioning/identifiers.py), with values shaped like real ones: PPONs as
Find a Tender publishes them, Companies House numbers of each kind, charity numbers of both
charity registers, Find a Tender notices and procurements (sources in the module docstring)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from commissioning import identifiers


@pytest.mark.parametrize(("scheme", "written", "stored"), [
    # PPONs in Find a Tender's OCDS (party ids GB-PPON-...)
    ("GB-PPON", "PHDQ-2359-NZMP", "PHDQ-2359-NZMP"),
    ("GB-PPON", "pbzb-4962-tvlr", "PBZB-4962-TVLR"),
    ("GB-PPON", "GB-PPON-PNQG-8433-QXBP", "PNQG-8433-QXBP"),  # pasted with its scheme
    # Companies House: England and Wales, Scotland, Northern Ireland, LLP, societies
    ("GB-COH", "03914810", "03914810"),
    ("GB-COH", "3914810", "03914810"),  # Excel dropped the leading zero
    ("GB-COH", "SC305103", "SC305103"),
    ("GB-COH", "ni 012345", "NI012345"),
    ("GB-COH", "OC301234", "OC301234"),
    ("GB-COH", "IP27702R", "IP27702R"),
    ("GB-COH", "R0000123", "R0000123"),
    ("GB-COH", "GB-COH-07495895", "07495895"),
    # Charity Commission for England and Wales, a linked charity, and OSCR
    ("GB-CHC", "1123456", "1123456"),
    ("GB-CHC", "207238", "207238"),
    ("GB-CHC", "1123456-1", "1123456-1"),
    ("GB-SC", "SC012345", "SC012345"),
    ("GB-NHS", "QUE", "QUE"),
    ("GB-LAE", "cam", "CAM"),
])
def test_it_accepts_real_looking_identifiers_in_their_stored_form(scheme, written, stored):
    assert identifiers.check(scheme, written) == stored


@pytest.mark.parametrize(("scheme", "written"), [
    ("GB-PPON", "12345"),
    ("GB-PPON", "ABCD-1234-EFGH"),  # a PPON starts with P
    ("GB-PPON", "PHDQ-2359-NZM0"),  # a zero where a letter goes
    ("GB-PPON", "PHDQ-235-NZMPX"),
    ("GB-COH", "123456789"),  # 9 digits
    ("GB-COH", "SC12345"),  # a prefixed number is never padded
    ("GB-COH", "S1234567"),
    ("GB-COH", "1234"),
    ("GB-CHC", "12345"),
    ("GB-CHC", "11234567"),
    ("GB-CHC", "SC012345"),  # a Scottish charity: GB-SC, not the Charity Commission
    ("GB-SC", "SC12345"),
    ("GB-SC", "SC112345"),  # OSCR numbers are SC0...
])
def test_it_refuses_identifiers_in_the_wrong_format_in_gov_uk_words(scheme, written):
    with pytest.raises(ValidationError) as error:
        identifiers.check(scheme, written)
    assert error.value.messages[0].startswith("Enter the ")
    assert "in the right format, like " in error.value.messages[0]


@pytest.mark.parametrize(("written", "stored"), [
    ("061906-2026", "061906-2026"),
    ("2026/S 000-061906", "061906-2026"),  # as a notice's page shows it
    ("https://www.find-tender.service.gov.uk/Notice/041267-2026", "041267-2026"),
    ("https://www.find-tender.service.gov.uk/Notice/060190-2025/PDF", "060190-2025"),
])
def test_it_reads_find_a_tender_notice_identifiers_as_officers_copy_them(written, stored):
    assert identifiers.check_find_a_tender_notice(written) == stored


@pytest.mark.parametrize("written", ["12345/2025", "12345-2025", "2025-012345", "2025/S 000-12345",
                                     "ocds-h6vhtk-0443f7"])
def test_it_refuses_a_find_a_tender_notice_in_another_shape(written):
    with pytest.raises(ValidationError, match="like 012345-2025"):
        identifiers.check_find_a_tender_notice(written)


@pytest.mark.parametrize(("written", "stored"), [
    ("ocds-h6vhtk-0443f7", "ocds-h6vhtk-0443f7"),
    ("OCDS-H6VHTK-038632", "ocds-h6vhtk-038632"),
    ("https://www.find-tender.service.gov.uk/api/1.0/ocdsReleasePackages/ocds-h6vhtk-0001b4",
     "ocds-h6vhtk-0001b4"),
])
def test_it_reads_find_a_tender_procurement_identifiers(written, stored):
    assert identifiers.check_find_a_tender_procedure(written) == stored


@pytest.mark.parametrize("written", [
    "ocds-h6vhtk-04g3z1",  # not hexadecimal: Find a Tender's ocids are zero-padded hex
    "ocds-b5fd17-0184e13d",  # Contracts Finder's prefix, not Find a Tender's
    "ocds-h6vhtk-43f7",
    "061906-2026",
])
def test_it_refuses_a_procurement_identifier_that_is_not_find_a_tenders(written):
    with pytest.raises(ValidationError, match="like ocds-h6vhtk-04f3a1"):
        identifiers.check_find_a_tender_procedure(written)
