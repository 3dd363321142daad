"""A council's register with CPV codes, Find a Tender notices and supplier identifiers, imported
as it is (issue 16): the columns are recognised by the headings councils use, every value is
checked by the same rules as the contract's "Change details" page (contracts/cpv.py,
commissioning/identifiers.py through contracts/validation.py), a row with a bad code comes
back in the Problems column with what is wrong and is not imported, and the imported contracts
carry their codes into their OCDS release.

The file is written here as Excel saves "CSV (Comma delimited)" on a UK PC: Windows-1252, CRLF,
the Transparency Code's headings and the council's own extra columns.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.urls import reverse

from commissioning.models import Organisation
from contracts import imports
from contracts.models import Contract, RegisterImportStatus
from contracts.tests.ocds_checker import problems
from contracts.tests.test_import_register import (
    LGTC,
    _read_back,
    council_row,
    match_columns,
    shown_choices,
    upload,
)

pytestmark = pytest.mark.django_db

# The council's register: the Transparency Code's columns, then its own.
HEADINGS = [*LGTC, "CPV Code(s)", "FTS notice", "Find a Tender procurement identifier",
            "Supplier PPON"]


def row(reference: str, **changes) -> dict[str, object]:
    return council_row(reference, **{"CPV Code(s)": "", "FTS notice": "",
                                     "Find a Tender procurement identifier": "",
                                     "Supplier PPON": "", **changes})


def register() -> list[dict[str, object]]:
    return [
        row("BR-0101", **{  # row 2: a code with its check digit and label, the notice as shown
            "CPV Code(s)": "85311000-2 Social work services with accommodation",
            "FTS notice": "2025/S 000-012345",
            "Find a Tender procurement identifier": "ocds-h6vhtk-04f3a1",
            "Description of goods and services": "Carers’ breaks – residential respite"}),
        row("BR-0102", **{  # row 3: several codes, a new company and its PPON
            "CPV Code(s)": "85312000-9; 85323000",
            "Supplier name": "Orpington Home Care Ltd",
            "Supplier registered company number": "3914810",  # Excel dropped the 0
            "Supplier PPON": "PHDQ-2359-NZMP", "SME supplier type": "Yes",
            "VCSE supplier type": "No"}),
        row("BR-0103", **{  # row 4: a typo in the code
            "CPV Code(s)": "85311009"}),
        row("BR-0104", **{  # row 5: a notice written as the OJEU-era reference's half
            "CPV Code(s)": "85311000", "FTS notice": "12345/2025"}),
        row("BR-0105", **{  # row 6: a Scottish charity new to the service
            "CPV Code(s)": "85320000-8",
            "Supplier name": "Borders Carers Centre", "Supplier registered charity number":
            "SC012345", "SME supplier type": "Yes", "VCSE supplier type": "Yes"}),
        row("BR-0106", **{  # row 7: a PPON missing its P
            "Supplier name": "Penge Homecare Ltd", "Supplier PPON": "HDQ2-2359-NZMP",
            "SME supplier type": "Yes", "VCSE supplier type": "No"}),
        row("BR-0107", **{  # row 8: a procurement identifier from another publisher
            "Find a Tender procurement identifier": "ocds-b5fd17-0184e13d"}),
        row("BR-0108", **{  # row 9: the right code with the wrong check digit
            "CPV Code(s)": "85311000-2, 85312000-3"}),
    ]


def register_csv(rows: list[dict[str, object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADINGS)
    for values in rows:
        writer.writerow([values.get(h, "") for h in HEADINGS])
    return buffer.getvalue().encode("cp1252")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_it_imports_cpv_codes_and_find_a_tender_identifiers_and_hands_back_bad_ones(
        world, client_for, settings):
    settings.OCDS_PREFIX = "ocds-a1b2c3"
    client = client_for(world.commissioner_a)
    register_import = upload(client, world, register_csv(register()), "register-2025.csv")
    page = client.get(reverse("contracts:import_map", args=[register_import.pk])).content
    shown = shown_choices(page.decode())
    # The councils' headings are recognised; "CPV label" (words, not codes) is not taken.
    assert shown["cpv_codes"] == "CPV Code(s)"
    assert shown["find_a_tender_notice_id"] == "FTS notice"
    assert shown["find_a_tender_procedure_id"] == "Find a Tender procurement identifier"
    assert shown["provider_ppon"] == "Supplier PPON"

    register_import = match_columns(client, register_import, lead_commissioner="",
                                    lead_commissioner__fixed=world.icb_a.name)
    assert register_import.status == RegisterImportStatus.VALIDATED
    errors = {(e["row"], e["column"]): e["message"] for e in register_import.errors}
    assert errors == {
        (4, "CPV Code(s)"): "85311009 is not a code in the CPV 2008 list. Did you mean "
                            "85311000 (Social work services with accommodation)?",
        (5, "FTS notice"): "Enter the Find a Tender notice identifier in the right format, "
                           "like 012345-2025",
        (7, "Supplier PPON"): "Enter the PPON in the right format, like PABC-1234-DEFG",
        (8, "Find a Tender procurement identifier"): (
            "Enter the Find a Tender procedure identifier in the right format, like "
            "ocds-h6vhtk-04f3a1"),
        (9, "CPV Code(s)"): "85312000-3 has the wrong check digit: 85312000 (Social work "
                            "services without accommodation) is 85312000-9",
    }

    detail_url = reverse("contracts:import_detail", args=[register_import.pk])
    assert client.post(detail_url, {"create_providers": "on"}).status_code == 302
    register_import.refresh_from_db()
    assert register_import.imported_count == 3
    contracts = {c.reference: c for c in Contract.objects.select_related("provider")}
    assert sorted(contracts) == ["BR-0101", "BR-0102", "BR-0105"]
    first = contracts["BR-0101"]
    assert (first.cpv_code, first.additional_cpv_codes) == ("85311000", [])
    assert (first.find_a_tender_notice_id, first.find_a_tender_procedure_id) == (
        "012345-2025", "ocds-h6vhtk-04f3a1")
    assert first.description == "Carers’ breaks – residential respite"
    second = contracts["BR-0102"]
    assert (second.cpv_code, second.additional_cpv_codes) == ("85312000", ["85323000"])
    company = second.provider
    assert (company.registration_scheme, company.registration_number, company.ppon) == (
        "GB-COH", "03914810", "PHDQ-2359-NZMP")
    assert company.identifiers == [("GB-PPON", "PHDQ-2359-NZMP"), ("GB-COH", "03914810")]
    charity = contracts["BR-0105"].provider
    assert (charity.registration_scheme, charity.registration_number) == ("GB-SC", "SC012345")
    assert not Organisation.objects.filter(name="Penge Homecare Ltd").exists()

    # The rows with problems come back in the file's own layout, with what is wrong.
    download = client.get(reverse("contracts:import_problems", args=[register_import.pk]))
    header, rows = _read_back(download, "csv")
    assert header == [*HEADINGS, "Problems"]
    assert [r[3] for r in rows] == ["BR-0103", "BR-0104", "BR-0106", "BR-0107", "BR-0108"]
    assert rows[0][-1] == ("CPV Code(s): 85311009 is not a code in the CPV 2008 list. Did you "
                           "mean 85311000 (Social work services with accommodation)?")

    # The imported contract's OCDS release carries its classification, and passes the checker.
    response = client.get(reverse("contracts:ocds", args=[second.pk]))
    package = json.loads(response.content)
    tender = package["releases"][0]["tender"]
    assert tender["items"][0]["classification"] == {
        "scheme": "CPV", "id": "85312000",
        "description": "Social work services without accommodation"}
    assert tender["items"][0]["additionalClassifications"] == [{
        "scheme": "CPV", "id": "85323000", "description": "Community health services"}]
    assert problems(package) == {}


@pytest.mark.parametrize(("written", "read"), [
    ("1123456", ("GB-CHC", "1123456")),  # a charity number in a "registration number" column
    ("1123456-1", ("GB-CHC", "1123456-1")),
    ("07654321", ("GB-COH", "07654321")),
    ("SC305103", ("GB-COH", "SC305103")),
    ("", None),
])
def test_it_tells_a_company_number_from_a_charity_number_by_its_shape(written, read):
    assert imports.parse_registration(written) == read


@pytest.mark.parametrize("written", ["SC12345", "123456789", "Charity 1123456"])
def test_it_refuses_a_registration_number_of_neither_shape(written):
    with pytest.raises(imports.CellError, match=r"Companies House number .* or charity number"):
        imports.parse_registration(written)


@pytest.mark.parametrize(("cell", "codes"), [
    ("85311000-2 Social work services with accommodation", ["85311000"]),
    ("85311000; 85312000-9", ["85311000", "85312000"]),
    ("03000000-1 Agricultural, farming, fishing, forestry and related products, 85311000",
     ["03000000", "85311000"]),
    (3000000, ["03000000"]),  # a workbook's number lost its leading zero
    (85311000.0, ["85311000"]),
    (None, []),
])
def test_it_reads_a_cpv_cell_as_councils_write_it(cell, codes):
    assert imports.parse_cpv_codes(cell) == codes
