"""Importing a council's register as it is (issue 15): a Local Government Transparency Code
contracts register as councils publish it, 37 columns, saved by Excel as Windows-1252 CSV or
as a workbook, UK dates in three formats and amounts like "£ 450,000" and "1,234,567.50".

The files are written here the way a council writes them (csv module / openpyxl, their own
headings and order), never with the app's own exporter.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from commissioning.models import Organisation, OrganisationKind
from contracts import imports, procurement_words
from contracts.models import (
    Contract,
    ProcurementRegime,
    ProcurementRoute,
    RegisterImport,
    RegisterImportStatus,
)

pytestmark = pytest.mark.django_db

R, G = ProcurementRoute, ProcurementRegime

# The Transparency Code contracts register, in the order councils publish it.
LGTC = [
    "Organisation label", "Organisation URI", "Effective date", "Contract reference number",
    "Open Contracting ID", "Title of agreement", "Contract type",
    "Description of goods and services", "Service category label", "Service category URI",
    "Department responsible", "Procurement process", "CPV label", "CPV URI",
    "Proclass label", "Proclass URI", "Contract start date", "Contract end date",
    "Review date", "Extension period (months)", "Contract value", "Annual value",
    "VAT that cannot be recovered", "Supplier name", "Supplier registered company number",
    "Supplier registered charity number", "Supplier address", "Supplier postcode",
    "Supplier URI", "SME supplier type", "VCSE supplier type", "Nominated contact point: name",
    "Nominated contact point: email", "Nominated contact point: URL", "Tender document URL",
    "Invitation to tender URL", "Contract document URL",
]
assert len(LGTC) == 37

FORMULA_TITLE = '=HYPERLINK("https://bromley.gov.uk/meals","Meals on wheels")'


def council_row(reference: str, **changes) -> dict[str, object]:
    row = {
        "Organisation label": "London Borough of Bromley",
        "Organisation URI": "http://opendatacommunities.org/id/london-borough-council/bromley",
        "Effective date": "31/03/2025", "Contract reference number": reference,
        "Title of agreement": f"Community support ({reference})", "Contract type": "Services",
        "Description of goods and services": "Information, advice and carers' support",
        "Service category label": "Adult Social Care",
        "Service category URI": "http://id.esd.org.uk/service/1", "Department responsible":
        "Adult Social Care and Health", "Procurement process": "Competitive dialogue (Light "
        "Touch Regime)", "CPV label": "Social work services", "CPV URI": "", "Proclass label":
        "", "Proclass URI": "", "Contract start date": "01/10/2017",
        "Contract end date": "30 September 2020", "Review date": "", "Extension period "
        "(months)": "24", "Contract value": "£ 8,100,000", "Annual value": "£ 2,700,000",
        "VAT that cannot be recovered": "0", "Supplier name": "Bromley Third Sector Enterprise",
        "Supplier registered company number": "", "Supplier registered charity number": "",
        "Supplier address": "Community House, South Street", "Supplier postcode": "BR1 1RH",
        "Supplier URI": "", "SME supplier type": "No", "VCSE supplier type": "Yes",
        "Nominated contact point: name": "Commissioning Team",
        "Nominated contact point: email": "commissioning@bromley.gov.uk",
        "Nominated contact point: URL": "", "Tender document URL": "",
        "Invitation to tender URL": "", "Contract document URL": "",
    }
    row.update(changes)
    return row


def council_register() -> list[dict[str, object]]:
    """Good and bad rows, as a council's register has them."""
    return [
        council_row("BR-0001"),  # row 2
        council_row("BR-0002", **{  # a new limited company, not a VCSE
            "Supplier name": "Orpington Home Care Ltd",
            "Supplier registered company number": "07654321", "SME supplier type": "Yes",
            "VCSE supplier type": "No", "Procurement process": "Negotiated without notice",
            "Contract start date": "1 April 2021", "Contract end date": "31-Mar-24",
            "Annual value": "1,234,567.50", "Contract value": "3,703,702.50",
            "Extension period (months)": ""}),
        council_row("BR-0003", **{  # a new charity, on a framework
            "Supplier name": "Carers Bromley", "Supplier registered charity number": "1123456",
            "SME supplier type": "Yes", "VCSE supplier type": "Yes",
            "Procurement process": "Framework call-off", "Contract start date": "01/06/2025",
            "Contract end date": "31 May 2027", "Annual value": "£ 450,000"}),
        council_row("BR-0004", **{"Annual value": "£75k"}),  # row 5
        council_row("BR-0005", **{"Annual value": "-£5,000"}),  # row 6
        council_row("BR-0006", **{"Contract end date": ""}),  # row 7: open-ended
        council_row("BR-0007", **{"Procurement process": "Negotiated without notise"}),
        council_row("BR-0008", **{"Title of agreement": FORMULA_TITLE}),  # row 9
        council_row("BR-0009", **{"Procurement process": "PSR Direct Award C",
                                  "Contract start date": "01-Apr-25",
                                  "Contract end date": "31/03/2028"}),
        council_row("BR-0010", **{"VAT that cannot be recovered": "£1.5k"}),  # row 11
    ]


PROBLEM_ROWS = {5, 6, 7, 8, 11}


def register_csv(rows: list[dict[str, object]]) -> bytes:
    """As Excel saves "CSV (Comma delimited)" on a UK PC: Windows-1252, CRLF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(LGTC)
    for row in rows:
        writer.writerow([row.get(h, "") for h in LGTC])
    return buffer.getvalue().encode("cp1252")


def register_xlsx(rows: list[dict[str, object]]) -> bytes:
    """A workbook as officers keep it: real dates where Excel recognised them, text where
    they typed a month name, amounts as typed, and a formula in a title cell (openpyxl
    writes the formula without a cached value, as many programs do)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Contracts register"
    sheet.append(LGTC)
    for row in rows:
        values = []
        for heading in LGTC:
            value = row.get(heading, "")
            if heading in ("Contract start date", "Contract end date") and \
                    re.fullmatch(r"\d\d/\d\d/\d{4}", str(value)):
                day, month, year = (int(p) for p in str(value).split("/"))
                value = datetime(year, month, day)
            values.append(value if value != "" else None)
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


FILES = {"csv": (register_csv, "contracts-register-2025.csv"),
         "xlsx": (register_xlsx, "contracts-register-2025.xlsx")}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def shown_choices(html: str) -> dict[str, str]:
    """What the mapping page shows as chosen: each select's selected option, each text box's
    value (a person leaves them as shown unless they change one)."""
    chosen: dict[str, str] = {}
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html,
                                 re.S):
        selected = re.search(r'<option value="([^"]*)"[^>]*selected', body)
        chosen[name] = unescape(selected[1]) if selected else ""
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if name and 'type="text"' in tag:
            value = re.search(r'value="([^"]*)"', tag)
            chosen[name[1]] = unescape(value[1]) if value else ""
    return chosen


def upload(client, world, data: bytes, name: str):
    page = client.get(reverse("contracts:import"))
    assert b"Upload the register" in page.content
    response = client.post(reverse("contracts:import"), {
        "partnership": world.partnership_a.pk, "file": SimpleUploadedFile(name, data)})
    assert response.status_code == 302, response.content.decode()[:2000]
    return RegisterImport.objects.latest("pk")


def match_columns(client, register_import, **changes) -> RegisterImport:
    url = reverse("contracts:import_map", args=[register_import.pk])
    chosen = shown_choices(client.get(url).content.decode())
    chosen.update(changes)
    response = client.post(url, chosen)
    assert response.status_code == 302, response.content.decode()[:3000]
    register_import.refresh_from_db()
    return register_import


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_it_imports_a_transparency_code_register_as_it_is(world, client_for, kind):
    client = client_for(world.commissioner_a)
    build, name = FILES[kind]
    register_import = upload(client, world, build(council_register()), name)
    page = client.get(reverse("contracts:import_map", args=[register_import.pk])).content.decode()
    shown = shown_choices(page)
    # The Transparency Code's own headings are recognised, and its one organisation column
    # feeds both the contract holder and the lead commissioner.
    assert shown["reference"] == "Contract reference number"
    assert shown["title"] == "Title of agreement"
    assert shown["service_area"] == "Service category label"
    assert shown["procurement_route"] == "Procurement process"
    assert shown["extension_options"] == "Extension period (months)"
    assert shown["annual_value"] == "Annual value"
    assert shown["vat_not_recoverable"] == "VAT that cannot be recovered"
    assert shown["provider_registration_number"] == "Supplier registered company number"
    assert shown["provider_charity_number"] == "Supplier registered charity number"
    assert shown["provider_sme"] == "SME supplier type"
    assert shown["provider_vcse"] == "VCSE supplier type"
    assert shown["holder"] == shown["lead_commissioner"] == "Organisation label"

    # The ICB leads every contract in this file: one value for every row, chosen on the page.
    register_import = match_columns(client, register_import, lead_commissioner="",
                                    lead_commissioner__fixed=world.icb_a.name)
    assert register_import.status == RegisterImportStatus.VALIDATED
    errors = {(e["row"], e["column"]): e["message"] for e in register_import.errors}
    assert errors == {
        (5, "Annual value"): "Enter the annual value as an amount in pounds written in full, "
                             "like £75,000: amounts shortened with k or m (like £75k or "
                             "£2.7m) are not read",
        (6, "Annual value"): "The annual value must be £0 or more",
        (7, "Contract end date"): "Enter the end date. A contract with no end date (an "
                                  "open-ended contract) cannot be added: the register works "
                                  "out notice, extension and expiry alerts from it. Enter the "
                                  "date the contract can first be ended or must be reviewed "
                                  "(its break or review date)",
        (8, "Procurement process"): "'Negotiated without notise' is not a procurement route "
                                    "we know. Did you mean 'Negotiated without notice'? Use "
                                    "one such as Open procedure, Light touch regime, "
                                    "Negotiated without notice, Framework call-off, Direct "
                                    "Award C or Grant",
        (11, "VAT that cannot be recovered"): "Enter the VAT not recoverable as an amount in "
                                              "pounds written in full, like £75,000: amounts "
                                              "shortened with k or m (like £75k or £2.7m) "
                                              "are not read",
    }
    # The formula-like title is flagged, read the same from the CSV and the workbook.
    row_9 = next(r for r in register_import.preview if r["row"] == 9)
    assert row_9["title"] == FORMULA_TITLE
    assert row_9["warnings"] == [{"column": "Title of agreement", "message": (
        "Starts with '=', so a spreadsheet may treat it as a formula. It is imported as text "
        "exactly as shown: check it is what you meant")}]
    detail_url = reverse("contracts:import_detail", args=[register_import.pk])
    detail = client.get(detail_url).content.decode()
    assert "Check 1 cell that starts like a formula" in detail
    assert "Row 9, column ‘Title of agreement’" in detail
    assert "5 rows: they will not be imported" in detail
    assert "Import 5 contracts" in detail
    # Every new provider says in its own row whether it is a VCSE: nothing more to ask.
    assert 'name="provider_kind"' not in detail
    assert not Contract.objects.exists()

    response = client.post(detail_url, {"create_providers": "on"})
    assert response.status_code == 302
    register_import.refresh_from_db()
    assert register_import.status == RegisterImportStatus.IMPORTED
    assert register_import.imported_count == 5
    contracts = {c.reference: c for c in Contract.objects.select_related("provider")}
    assert sorted(contracts) == ["BR-0001", "BR-0002", "BR-0003", "BR-0008", "BR-0009"]
    for contract in contracts.values():
        assert contract.holder == world.council_a and contract.lead_commissioner == world.icb_a
    first = contracts["BR-0001"]
    assert first.provider == world.provider_x
    assert (first.procurement_regime, first.procurement_route) == (G.PCR_2015,
                                                                   R.PCR_LIGHT_TOUCH)
    assert first.annual_value == Decimal("2700000.00")
    assert (first.start_date, first.initial_end_date) == (date(2017, 10, 1),
                                                          date(2020, 9, 30))
    assert [o.length_months for o in first.extension_options.all()] == [24]
    second = contracts["BR-0002"]
    assert (second.procurement_regime, second.procurement_route) == (
        G.PCR_2015, R.PCR_NEGOTIATED_WITHOUT_NOTICE)
    assert second.annual_value == Decimal("1234567.50")
    assert second.initial_end_date == date(2024, 3, 31)
    company = second.provider
    assert (company.name, company.kind, company.is_sme, company.is_vcse,
            company.registration_number) == ("Orpington Home Care Ltd",
                                             OrganisationKind.INDEPENDENT_PROVIDER, True, False,
                                             "07654321")
    charity = contracts["BR-0003"].provider
    assert (charity.kind, charity.is_sme, charity.is_vcse, charity.registration_number) == (
        OrganisationKind.VCSE, True, True, "1123456")
    assert (contracts["BR-0003"].procurement_regime,
            contracts["BR-0003"].procurement_route) == (G.PA_2023, R.PA_FRAMEWORK_CALL_OFF)
    assert contracts["BR-0003"].annual_value == Decimal("450000.00")
    assert contracts["BR-0008"].title == FORMULA_TITLE
    assert (contracts["BR-0009"].procurement_regime,
            contracts["BR-0009"].procurement_route) == (G.PSR, R.PSR_DIRECT_AWARD_C)

    # The rows with problems come back in the file's own layout, with a Problems column.
    done = client.get(detail_url).content.decode()
    assert "5 rows with problems were not imported" in done
    download = client.get(reverse("contracts:import_problems", args=[register_import.pk]))
    assert download.status_code == 200
    header, rows = _read_back(download, kind)
    assert header == [*LGTC, "Problems"]
    assert [r[3] for r in rows] == ["BR-0004", "BR-0005", "BR-0006", "BR-0007", "BR-0010"]
    assert rows[0][21] == "£75k" and "£75k" in rows[0][37]
    assert rows[2][37].startswith("Contract end date: Enter the end date.")

    # Fixed and uploaded again: the fixed rows are added, the good ones not twice.
    fixed = council_register()
    fixed[3]["Annual value"] = "£75,000"
    fixed[4]["Annual value"] = "£5,000"
    fixed[5]["Contract end date"] = "31/03/2030"
    fixed[6]["Procurement process"] = "Negotiated without notice"
    fixed[9]["VAT that cannot be recovered"] = "£1,500"
    again = match_columns(client, upload(client, world, build(fixed), name),
                          lead_commissioner="", lead_commissioner__fixed=world.icb_a.name)
    assert again.errors == []
    assert sum(1 for r in again.preview if r["existing"]) == 5
    client.post(reverse("contracts:import_detail", args=[again.pk]), {})
    again.refresh_from_db()
    assert again.imported_count == 5
    assert Contract.objects.count() == 10
    assert Contract.objects.get(reference="BR-0004").annual_value == Decimal("75000.00")
    before = {c.pk: c.version for c in Contract.objects.all()}

    # The same file a second time changes nothing.
    third = match_columns(client, upload(client, world, build(fixed), name),
                          lead_commissioner="", lead_commissioner__fixed=world.icb_a.name)
    assert all(r["existing"] for r in third.preview)
    page = client.get(reverse("contracts:import_detail", args=[third.pk])).content.decode()
    assert "There are no rows to import" in page
    response = client.post(reverse("contracts:import_detail", args=[third.pk]), {})
    assert "There are no rows to import" in response.content.decode()
    assert {c.pk: c.version for c in Contract.objects.all()} == before
    assert Organisation.objects.filter(name="Carers Bromley").count() == 1


def _read_back(response, kind: str) -> tuple[list[str], list[list[str]]]:
    data = b"".join(response.streaming_content) if response.streaming else response.content
    if kind == "csv":
        assert response["Content-Type"].startswith("text/csv")
        table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        return table[0], table[1:]
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    table = [["" if v is None else v if isinstance(v, str) else str(v) for v in row]
             for row in workbook.active.iter_rows(values_only=True)]
    return table[0], table[1:]


def test_it_reads_a_formula_cell_of_a_workbook_as_its_text_like_the_csv(world):
    rows = [council_row("BR-0008", **{"Title of agreement": FORMULA_TITLE})]
    from_csv = imports.read_table("register.csv", register_csv(rows))
    from_xlsx = imports.read_table("register.xlsx", register_xlsx(rows))
    position = LGTC.index("Title of agreement")
    assert from_csv.rows[0][position] == from_xlsx.rows[0][position] == FORMULA_TITLE


@pytest.mark.parametrize("written,regime,route", [
    ("PCR 2015 light touch", G.PCR_2015, R.PCR_LIGHT_TOUCH),
    ("Light Touch Regime", G.PCR_2015, R.PCR_LIGHT_TOUCH),
    ("Competitive dialogue (Light Touch Regime)", G.PCR_2015, R.PCR_LIGHT_TOUCH),
    ("Competitive dialogue", G.PCR_2015, R.PCR_COMPETITIVE_DIALOGUE),
    ("Negotiated without prior publication", G.PCR_2015, R.PCR_NEGOTIATED_WITHOUT_NOTICE),
    ("Negotiated without notice", G.PCR_2015, R.PCR_NEGOTIATED_WITHOUT_NOTICE),
    ("negotiated procedure without prior notice", G.PCR_2015,
     R.PCR_NEGOTIATED_WITHOUT_NOTICE),
    ("Framework call-off", G.PA_2023, R.PA_FRAMEWORK_CALL_OFF),
    ("Mini-competition", G.PA_2023, R.PA_FRAMEWORK_CALL_OFF),
    ("Competitive flexible procedure", G.PA_2023, R.PA_COMPETITIVE_FLEXIBLE),
    ("Open procedure (Procurement Act 2023)", G.PA_2023, R.PA_OPEN),
    ("PSR Direct Award C", G.PSR, R.PSR_DIRECT_AWARD_C),
    ("Most suitable provider process", G.PSR, R.PSR_MOST_SUITABLE_PROVIDER),
    ("PSR competitive process", G.PSR, R.PSR_COMPETITIVE_PROCESS),
    ("Grant funding", G.GRANT, R.GRANT),
    ("Spot purchase", G.SPOT_PURCHASE, R.SPOT_PURCHASE),
])
def test_it_reads_procurement_routes_as_councils_write_them(written, regime, route):
    read = procurement_words.read_procurement(written, started=date(2025, 6, 1))
    assert (read.regime, read.route) == (regime, route)


def test_a_route_under_both_regimes_is_decided_by_the_start_date():
    before = procurement_words.read_procurement("Direct award", started=date(2024, 5, 1))
    after = procurement_words.read_procurement("Direct award", started=date(2025, 5, 1))
    assert (before.regime, before.route) == (G.PCR_2015, R.PCR_NEGOTIATED_WITHOUT_NOTICE)
    assert (after.regime, after.route) == (G.PA_2023, R.PA_DIRECT_AWARD)
    read = procurement_words.read_procurement("Open procedure", regime_text="PCR 2015",
                                              started=date(2026, 1, 1))
    assert read.route == R.PCR_OPEN


def test_an_unknown_route_is_answered_with_a_suggestion():
    with pytest.raises(procurement_words.UnknownWords) as unknown:
        procurement_words.read_procurement("Competetive dialog")
    assert "Did you mean 'Competitive dialogue'?" in str(unknown.value)
    with pytest.raises(procurement_words.UnknownWords) as unknown:
        procurement_words.read_procurement("Direct Award C", regime_text="PCR 2015")
    assert str(unknown.value) == "Direct Award C is not a route under Public Contracts " \
                                 "Regulations 2015"
