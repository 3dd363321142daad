"""Register import: file checks, column matching, row-by-row checks, confirm, Celery path."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from commissioning.models import Organisation, OrganisationKind
from commissioning.tests import hostile_files as hostile
from contracts import imports
from contracts.models import (
    Contract,
    ContractStatus,
    ExtensionOption,
    ProcurementRegime,
    ProcurementRoute,
    RegisterImport,
    RegisterImportStatus,
    ReviewDate,
)
from contracts.tasks import sweep_register_imports
from contracts.tests.factories import contract_for

pytestmark = pytest.mark.django_db

HEADER = ["Contract Ref", "Title", "Department", "Supplier Name", "Supplier Registration Number",
          "Contract Holder", "Lead Commissioner", "Procurement Route", "Start Date", "End Date",
          "Extension Options", "Annual Value", "VAT not recoverable", "Review Date",
          "Service Lines"]


def good_row(n: int = 1, **changes) -> dict[str, object]:
    row = {
        "Contract Ref": f"IMP-{n:05d}", "Title": f"Community support {n}",
        "Department": "Adult social care", "Supplier Name": "Bromley Third Sector Enterprise",
        "Supplier Registration Number": "", "Contract Holder": "London Borough of Bromley",
        "Lead Commissioner": "SEL ICB", "Procurement Route": "Light touch regime",
        "Start Date": "01/04/2021", "End Date": "31 March 2024", "Extension Options": "12, 12",
        "Annual Value": "£2,700,000.00", "VAT not recoverable": "", "Review Date": "2099-01-01",
        "Service Lines": "Carers; Information and advice",
    }
    row.update(changes)
    return row


def csv_bytes(rows: list[dict[str, object]], header=HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(h, "") for h in header])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(rows: list[list[object]], header=HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def commissioner(world, client_for):
    return client_for(world.commissioner_a)


def upload(client, world, data: bytes, name: str = "register.csv"):
    return client.post(reverse("contracts:import"), {
        "partnership": world.partnership_a.pk,
        "file": SimpleUploadedFile(name, data),
    })


def upload_and_check(client, world, data: bytes, name: str = "register.csv") -> RegisterImport:
    response = upload(client, world, data, name)
    assert response.status_code == 302, response.content.decode()[:3000]
    register_import = RegisterImport.objects.latest("pk")
    response = client.post(reverse("contracts:import_map", args=[register_import.pk]),
                           register_import.mapping)
    assert response.status_code == 302, response.content.decode()[:3000]
    register_import.refresh_from_db()
    return register_import


def upload_errors(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


# --- Who may import --------------------------------------------------------------------------

@pytest.mark.parametrize("persona", ["provider_x_user", "finance_officer_a", "outsider",
                                     "read_only_a"])
def test_it_refuses_the_import_to_people_who_cannot_add_contracts(world, client_for, persona):
    response = client_for(getattr(world, persona)).get(reverse("contracts:import"))
    assert response.status_code == 404


def test_an_import_is_seen_only_by_its_uploader(world, commissioner, client_for):
    client = commissioner
    register_import = upload_and_check(client, world, csv_bytes([good_row()]))
    for persona in ("icb_commissioner_a", "commissioner_b", "provider_x_user"):
        other = client_for(getattr(world, persona))
        for name in ("contracts:import_detail", "contracts:import_map"):
            assert other.get(reverse(name, args=[register_import.pk])).status_code == 404
            assert other.post(reverse(name, args=[register_import.pk])).status_code == 404
    assert Contract.objects.count() == 0


# --- The happy path --------------------------------------------------------------------------

def test_it_matches_common_column_names_automatically():
    mapping = imports.auto_mapping(HEADER)
    assert mapping["reference"] == "Contract Ref"
    assert mapping["service_area"] == "Department"
    assert mapping["provider"] == "Supplier Name"
    assert mapping["provider_registration"] == "Supplier Registration Number"  # company or charity
    assert mapping["holder"] == "Contract Holder"
    assert mapping["annual_value"] == "Annual Value"
    assert set(imports.REQUIRED_FIELDS) <= set(mapping)


def test_it_previews_every_row_and_saves_nothing_until_confirmed(world, commissioner):
    client = commissioner
    rows = [good_row(n) for n in range(1, 4)]
    register_import = upload_and_check(client, world, csv_bytes(rows))
    assert register_import.status == RegisterImportStatus.VALIDATED
    assert register_import.error_count == 0
    assert [r["reference"] for r in register_import.preview] == ["IMP-00001", "IMP-00002",
                                                                "IMP-00003"]
    page = client.get(reverse("contracts:import_detail", args=[register_import.pk]))
    assert b"IMP-00003" in page.content and b"Import 3 contracts" in page.content
    assert Contract.objects.count() == 0

    response = client.post(reverse("contracts:import_detail", args=[register_import.pk]), {})
    assert response.status_code == 302
    register_import.refresh_from_db()
    assert register_import.status == RegisterImportStatus.IMPORTED
    assert register_import.imported_count == 3
    contract = Contract.objects.get(reference="IMP-00001")
    assert contract.provider == world.provider_x
    assert contract.holder == world.council_a
    assert contract.lead_commissioner == world.icb_a
    assert contract.partnership == world.partnership_a
    assert contract.annual_value == Decimal("2700000.00")
    assert contract.start_date == date(2021, 4, 1)
    assert contract.initial_end_date == date(2024, 3, 31)
    assert contract.procurement_regime == ProcurementRegime.PCR_2015
    assert contract.procurement_route == ProcurementRoute.PCR_LIGHT_TOUCH
    assert contract.status == ContractStatus.EXPIRED or contract.status == ContractStatus.LIVE
    assert [o.length_months for o in contract.extension_options.all()] == [12, 12]
    assert [line.name for line in contract.service_lines.all()] == [
        "Carers", "Information and advice"]
    assert contract.review_dates.get().date == date(2099, 1, 1)
    assert contract.history.count() == 1  # audit trail for imported contracts
    for related in (contract.extension_options.all(), contract.service_lines.all(),
                    contract.review_dates.all()):
        assert [row.history.count() for row in related] == [1] * len(related)
    # Confirming twice does nothing more.
    client.post(reverse("contracts:import_detail", args=[register_import.pk]), {})
    assert Contract.objects.count() == 3


def test_it_reads_an_xlsx_with_real_dates_and_numbers(world, commissioner):
    client = commissioner
    row = list(good_row().values())
    row[8], row[9], row[11] = date(2021, 4, 1), date(2024, 3, 31), 2700000
    register_import = upload_and_check(client, world, xlsx_bytes([row]), "register.xlsx")
    assert register_import.file_kind == "xlsx"
    assert register_import.error_count == 0, register_import.errors
    assert register_import.preview[0]["annual_value"] == "2700000.00"
    assert register_import.preview[0]["start"] == "01/04/2021"


@pytest.mark.parametrize("text,expected", [
    ("01/04/2021", date(2021, 4, 1)), ("1/4/21", date(2021, 4, 1)),
    ("1 April 2021", date(2021, 4, 1)), ("1st Apr 2021", date(2021, 4, 1)),
    ("2021-04-01", date(2021, 4, 1)), ("01-Apr-2021", date(2021, 4, 1)),
    ("01.04.2021", date(2021, 4, 1)),
])
def test_it_reads_uk_dates(text, expected):
    assert imports.parse_date(text, "start date") == expected


@pytest.mark.parametrize("text,expected", [
    ("£2,700,000.00", Decimal("2700000.00")), ("2700000", Decimal("2700000.00")),
    ("2,700,000", Decimal("2700000.00")), ("£614,836", Decimal("614836.00")),
    (614836.5, Decimal("614836.50")),
])
def test_it_reads_pound_amounts(text, expected):
    assert imports.parse_amount(text, "annual value") == expected


# --- Bad files -------------------------------------------------------------------------------

def _zip(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _with_macros() -> bytes:
    original = zipfile.ZipFile(io.BytesIO(xlsx_bytes([list(good_row().values())])))
    members = {n: original.read(n) for n in original.namelist()}
    members["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0 macro"
    return _zip(members)


def _zip_bomb() -> bytes:
    original = zipfile.ZipFile(io.BytesIO(xlsx_bytes([list(good_row().values())])))
    members = {n: original.read(n) for n in original.namelist()}
    members["xl/media/padding.bin"] = b"\0" * (60 * 1024 * 1024)
    return _zip(members)


@pytest.mark.parametrize("name,data,message", [
    ("contracts.pdf", b"%PDF-1.7 not a register", "must be a CSV or XLSX file"),
    ("register.csv", b"", "The selected file is empty"),
    ("register.xlsm", b"PK\x03\x04whatever", "macro-enabled workbook"),
    ("register.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 old", "Excel 97-2003"),
    ("register.xlsx", b"Reference,Title\nA,B\n", "not a real XLSX file"),
    ("register.xlsx", b"PK\x03\x04 truncated zip", "not a readable XLSX file"),
    ("register.xlsx", _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<<<"}),
     "not a readable XLSX file"),
    ("register.csv", b"Reference,Title\n\"A,B\n", "Row 2: the file is not valid CSV"),
    ("register.csv", b"Reference,Title\nA,B,C,D\n", "Row 2: the row has 4 values"),
    ("register.csv", b"Reference,Title\n", "a header row but no contracts"),
    ("register.csv", b"\x00\x01\x02binary", "not a CSV file"),
])
def test_it_refuses_bad_files_with_a_specific_message(world, commissioner, name, data, message):
    client = commissioner
    content = upload_errors(upload(client, world, data, name))
    assert message in content.replace("&#x27;", "'"), content[:2000]
    assert RegisterImport.objects.count() == 0
    assert Contract.objects.count() == 0


def test_it_refuses_a_workbook_with_macros_even_named_xlsx(world, commissioner):
    client = commissioner
    content = upload_errors(upload(client, world, _with_macros(), "register.xlsx"))
    assert "contains macros" in content
    assert RegisterImport.objects.count() == 0


def test_it_refuses_a_zip_bomb_without_decompressing_it(world, commissioner):
    client = commissioner
    data = _zip_bomb()
    assert len(data) < 1024 * 1024
    content = upload_errors(upload(client, world, data, "register.xlsx"))
    assert "too large when uncompressed" in content
    assert RegisterImport.objects.count() == 0


def test_it_refuses_an_oversized_file(world, commissioner, settings):
    client = commissioner
    settings.MAX_UPLOAD_BYTES = 2048
    content = upload_errors(upload(client, world, csv_bytes([good_row(n) for n in range(40)])))
    assert "must be smaller than" in content
    assert RegisterImport.objects.count() == 0


def test_it_refuses_too_many_rows(world, commissioner, monkeypatch):
    client = commissioner
    monkeypatch.setattr(imports, "MAX_ROWS", 5)
    content = upload_errors(upload(client, world, csv_bytes([good_row(n) for n in range(6)])))
    assert "more than 5 rows" in content


# --- Bad rows: each problem named by row and column; the good rows are imported --------------

def test_every_bad_cell_is_reported_by_row_and_column_and_only_good_rows_are_imported(
        world, commissioner):
    client = commissioner
    contract_for(world, reference="EXISTING-1", holder=world.council_a)
    rows = [
        good_row(1),
        good_row(2, **{"Start Date": "31/02/2021"}),
        good_row(3, **{"End Date": "next year"}),
        good_row(4, **{"Annual Value": "£2.7m"}),
        good_row(5, **{"Annual Value": "-£5,000"}),
        good_row(6, **{"Contract Holder": "London Borough of Merton"}),
        good_row(7, **{"Lead Commissioner": "Nowhere ICB"}),
        good_row(8, **{"Contract Ref": "IMP-00001"}),
        good_row(9, **{"Contract Ref": "existing-1"}),
        good_row(10, **{"Start Date": "01/04/2024", "End Date": "31/03/2021"}),
        good_row(11, **{"Department": "Parks"}),
        good_row(12, **{"Procurement Route": "Handshake"}),
        good_row(13, **{"Title": ""}),
        good_row(14, **{"Supplier Name": "SEL ICB"}),
    ]
    register_import = upload_and_check(client, world, csv_bytes(rows))
    errors = {(e["row"], e["column"]): e["message"] for e in register_import.errors}
    assert errors == {
        (3, "Start Date"): "Enter the start date as a real date, like 01/04/2021, "
                           "1 April 2021 or 2021-04-01",
        (4, "End Date"): "Enter the end date as a date, like 01/04/2021, 1 April 2021 or "
                         "2021-04-01",
        (5, "Annual Value"): "Enter the annual value as an amount in pounds written in "
                             "full, like £75,000: amounts shortened with k or m (like £75k "
                             "or £2.7m) are not read",
        (6, "Annual Value"): "The annual value must be £0 or more",
        (7, "Contract Holder"): "'London Borough of Merton' is not a partner in "
                                f"{world.partnership_a.name}. The contract holder must be one "
                                "of the partnership's organisations",
        (8, "Lead Commissioner"): "'Nowhere ICB' is not a partner in "
                                  f"{world.partnership_a.name}. The lead commissioner must be "
                                  "one of the partnership's organisations",
        (9, "Contract Ref"): "Reference IMP-00001 is also used in row 2 for the same contract "
                             "holder",
        (11, "End Date"): "The end date must be the same as or after the start date",
        (12, "Department"): "'Parks' is not a service area. Use one of: Adult social care, "
                            "Children's services, Public health, Mental health, Learning "
                            "disability, Carers, Community health or Other",
        (13, "Procurement Route"): "'Handshake' is not a procurement route we know. Use one "
                                   "such as Open procedure, Light touch regime, Negotiated "
                                   "without notice, Framework call-off, Direct Award C or Grant",
        (14, "Title"): "Enter the contract title",
        (15, "Supplier Name"): "SEL ICB is a commissioning partner, so it cannot be the "
                               "provider",
    }
    # Row 10's reference is in the register already: the reference is the key, so it is
    # left as it is, not reported as a problem and not imported again.
    assert [r["existing"] for r in register_import.preview][8] is True
    page = client.get(reverse("contracts:import_detail", args=[register_import.pk]))
    assert "Row 11, column ‘End Date’" in page.content.decode()
    assert "they will not be imported" in page.content.decode()
    assert b"Import 1 contract" in page.content
    assert Contract.objects.count() == 1  # nothing saved before confirming
    response = client.post(reverse("contracts:import_detail", args=[register_import.pk]), {})
    assert response.status_code == 302
    assert sorted(Contract.objects.values_list("reference", flat=True)) == [
        "EXISTING-1", "IMP-00001"]


def test_unknown_providers_are_offered_for_creation(world, commissioner):
    client = commissioner
    rows = [good_row(1, **{"Supplier Name": "Carers Bromley", "Supplier Registration Number":
                           "1123456"}),
            good_row(2, **{"Supplier Name": "carers  bromley"}),
            good_row(3, **{"Supplier Name": "Dementia Hub Ltd"})]
    register_import = upload_and_check(client, world, csv_bytes(rows))
    assert register_import.error_count == 0
    assert [p["name"] for p in register_import.new_providers] == ["Carers Bromley",
                                                                  "Dementia Hub Ltd"]
    url = reverse("contracts:import_detail", args=[register_import.pk])
    page = client.get(url)
    assert b"Create these 2 providers" in page.content
    response = client.post(url, {})
    assert b"Select to create the 2 new providers" in response.content
    assert Contract.objects.count() == 0
    response = client.post(url, {"create_providers": "on", "provider_kind": "vcse"})
    assert response.status_code == 302
    carers = Organisation.objects.get(name="Carers Bromley")
    assert carers.kind == OrganisationKind.VCSE and carers.registration_number == "1123456"
    assert Contract.objects.filter(provider=carers).count() == 2


def test_the_import_is_all_or_nothing(world, commissioner, monkeypatch):
    client = commissioner
    register_import = upload_and_check(client, world, csv_bytes([good_row(n)
                                                                 for n in range(1, 6)]))

    def fail(*args, **kwargs):
        raise IntegrityError("simulated failure after the contracts were written")

    monkeypatch.setattr(ReviewDate.objects, "bulk_create", fail)
    client.post(reverse("contracts:import_detail", args=[register_import.pk]), {})
    register_import.refresh_from_db()
    assert register_import.status == RegisterImportStatus.VALIDATED
    assert "Nothing was imported" in register_import.failure
    assert Contract.objects.count() == 0
    assert ExtensionOption.objects.count() == 0


def test_a_reference_added_after_the_preview_is_left_as_it_is(world, commissioner):
    """The rows are checked again when the import runs: a contract someone added meanwhile
    with the same reference is kept as it is, and the other rows are imported."""
    client = commissioner
    register_import = upload_and_check(client, world, csv_bytes([good_row(1), good_row(2)]))
    added = contract_for(world, reference="IMP-00002", holder=world.council_a, title="Theirs")
    client.post(reverse("contracts:import_detail", args=[register_import.pk]), {})
    register_import.refresh_from_db()
    assert register_import.status == RegisterImportStatus.IMPORTED
    assert register_import.imported_count == 1
    assert Contract.objects.count() == 2
    added.refresh_from_db()
    assert added.title == "Theirs"


# --- Large files through Celery (eager in tests) ---------------------------------------------

def test_large_files_are_checked_and_imported_by_celery_tasks(world, commissioner, monkeypatch,
                                                               django_capture_on_commit_callbacks):
    client = commissioner
    monkeypatch.setattr(imports, "ASYNC_ROWS", 2)
    response = upload(client, world, csv_bytes([good_row(n) for n in range(1, 6)]))
    register_import = RegisterImport.objects.get()
    url = reverse("contracts:import_detail", args=[register_import.pk])
    map_url = reverse("contracts:import_map", args=[register_import.pk])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(map_url, register_import.mapping)
    register_import.refresh_from_db()
    assert register_import.status == RegisterImportStatus.VALIDATION_QUEUED
    page = client.get(url)
    assert b'http-equiv="refresh"' in page.content
    assert b"0 of 5 rows" in page.content
    for callback in callbacks:
        callback()  # the task runs (eagerly) as it would after the commit
    register_import.refresh_from_db()
    assert register_import.status == RegisterImportStatus.VALIDATED
    assert register_import.processed_rows == 5
    assert b'http-equiv="refresh"' not in client.get(url).content

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {})
    assert response.status_code == 302
    register_import.refresh_from_db()
    assert register_import.status == RegisterImportStatus.IMPORTED
    assert Contract.objects.count() == 5
    # Running the task again (a retry, a second worker) imports nothing more.
    from contracts.tasks import run_register_import, validate_register_import

    run_register_import.delay(register_import.pk)
    validate_register_import.delay(register_import.pk)
    assert Contract.objects.count() == 5


def test_a_5000_row_file_is_checked_in_under_10_seconds(world):
    rows = [good_row(n) for n in range(5000)]
    table = imports.read_table("register.csv", csv_bytes(rows))
    started = time.perf_counter()
    result = imports.check_rows(table, imports.auto_mapping(table.headers),
                                partnership=world.partnership_a)
    elapsed = time.perf_counter() - started
    assert result.error_count == 0
    assert elapsed < 10


def test_it_refuses_a_register_with_more_columns_than_it_can_use(world, commissioner):
    assert 'name="file"' in commissioner.get(reverse("contracts:import")).content.decode()
    content = upload_errors(upload(commissioner, world, hostile.wide_csv(5_000)))
    assert "The file has more than 100 columns" in content
    assert "govuk-error-summary" in content
    content = upload_errors(upload(commissioner, world, hostile.wide_row_xlsx(200_000),
                                   "register.xlsx"))
    assert "The file has more than 100 columns" in content
    assert RegisterImport.objects.count() == 0


def test_an_import_queued_while_the_broker_was_down_is_handed_over_by_the_sweep(
        world, commissioner, monkeypatch, django_capture_on_commit_callbacks):
    """The task was never enqueued (the callbacks after commit are dropped, as when Redis is
    unreachable): the import waits, and the scheduled sweep hands it to a worker."""
    monkeypatch.setattr(imports, "ASYNC_ROWS", 2)
    upload(commissioner, world, csv_bytes([good_row(n) for n in range(1, 6)]))
    register_import = RegisterImport.objects.get()
    with django_capture_on_commit_callbacks(execute=False):
        commissioner.post(reverse("contracts:import_map", args=[register_import.pk]),
                          register_import.mapping)
    register_import.refresh_from_db()
    assert register_import.status == RegisterImportStatus.VALIDATION_QUEUED
    assert sweep_register_imports() == 0  # just queued: its task may still be on its way
    RegisterImport.objects.filter(pk=register_import.pk).update(
        updated_at=timezone.now() - timedelta(minutes=3))
    assert sweep_register_imports() == 1
    register_import.refresh_from_db()
    assert register_import.status == RegisterImportStatus.VALIDATED
    assert register_import.processed_rows == 5


def test_a_number_too_long_for_python_to_read_is_a_cell_error_not_an_error_page(
        world, commissioner):
    """Python refuses to turn more than 4,300 digits into a number (ValueError): such a cell
    is reported next to its row and column like any other bad cell."""
    rows = [good_row(1, **{"Extension Options": "9" * 5000}), good_row(2)]
    register_import = upload_and_check(commissioner, world, csv_bytes(rows))
    assert register_import.error_count == 1
    assert "Extension" in str(register_import.errors)
    assert "between 1 and 120" in str(register_import.errors)
    assert not Contract.objects.exists()


def test_a_contract_imported_as_awarded_gets_its_award_date_and_standstill(world, commissioner):
    """The same award rule as a contract added through the pages: an imported "Awarded"
    contract has its award recorded, so its standstill checks and alerts apply."""
    rows = [good_row(1, **{"Status": "Awarded", "Start Date": "01/04/2030",
                           "End Date": "31/03/2033"})]
    register_import = upload_and_check(commissioner, world,
                                       csv_bytes(rows, header=[*HEADER, "Status"]))
    assert register_import.error_count == 0, register_import.errors
    commissioner.post(reverse("contracts:import_detail", args=[register_import.pk]), {})
    contract = Contract.objects.get(reference="IMP-00001")
    today = timezone.localdate()
    assert contract.status == ContractStatus.AWARDED
    assert contract.awarded_on == today
    assert contract.standstill_end_date == today + timedelta(days=10)  # PCR 2015
