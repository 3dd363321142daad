"""Finance system imports: every row checked, errors by row and column, all or nothing."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from commissioning.tests import hostile_files as hostile
from funding import imports, services
from funding.models import FinanceImport, ImportStatus, MonthlyActual
from funding.tests.factories import actual, agreement_for, close, scheme_for

D = Decimal


@pytest.fixture
def setup(world):
    agreement = agreement_for(world)
    scheme_for(agreement, code="BCF-01", budget="120000")
    scheme_for(agreement, code="BCF-07", budget="60000")
    return agreement


def _csv(*lines: str) -> bytes:
    return ("\r\n".join(["Scheme code,Month,Actual,Forecast", *lines]) + "\r\n").encode()


def _xlsx(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Scheme code", "Month", "Actual", "Forecast"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _preview(agreement, world, data: bytes, name: str = "actuals.csv") -> FinanceImport:
    return services.finance_import_preview(agreement=agreement, name=name, data=data,
                                           user=world.finance_officer_a)


@pytest.mark.parametrize("text,expected", [
    ("£1,234.50", "1234.50"), ("(1,234.50)", "-1234.50"), ("-£12", "-12"), ("1234.5", "1234.5"),
    ("0.99", "0.99"), ("£-3.10", "-3.10"), ("(£1,000)", "-1000"),
])
def test_it_reads_amounts_as_finance_systems_write_them(text, expected):
    assert imports.parse_money(text) == D(expected)


@pytest.mark.parametrize("text", ["12,34x", "12,34", "1.234", "£", "1e5", "--1", "(12", "abc"])
def test_it_refuses_malformed_amounts(text):
    with pytest.raises(ValueError):
        imports.parse_money(text)


@pytest.mark.parametrize("text,expected", [
    ("01/04/2025", date(2025, 4, 1)), ("15/05/2025", date(2025, 5, 1)),
    ("04/2025", date(2025, 4, 1)), ("2025-06-01", date(2025, 6, 1)), ("2025-07", date(2025, 7, 1)),
    ("Apr 2025", date(2025, 4, 1)), ("September 2025", date(2025, 9, 1)),
    ("Jan-26", date(2026, 1, 1)),
])
def test_it_reads_uk_months(text, expected):
    assert imports.parse_month(text) == expected


def test_it_previews_and_confirms_a_good_csv_in_one_go(world, setup):
    finance_import = _preview(setup, world, _csv(
        "BCF-01,01/04/2025,\"£10,000.00\",\"£125,000.00\"",
        "bcf-07,May 2025,\"(1,234.50)\",",
    ))
    assert finance_import.status == ImportStatus.READY
    assert finance_import.errors == []
    assert not MonthlyActual.objects.exists()  # nothing saved before confirmation
    assert services.finance_import_confirm(finance_import=finance_import,
                                           user=world.finance_officer_a) == 2
    saved = {(a.scheme.code, a.month): (a.actual, a.forecast_outturn)
             for a in MonthlyActual.objects.select_related("scheme")}
    assert saved == {("BCF-01", date(2025, 4, 1)): (D("10000.00"), D("125000.00")),
                     ("BCF-07", date(2025, 5, 1)): (D("-1234.50"), None)}
    assert MonthlyActual.objects.first().history.count() == 1


def test_it_reports_every_bad_row_with_its_row_number_and_column_and_saves_nothing(world, setup):
    close(setup, date(2025, 6, 1))
    finance_import = _preview(setup, world, _csv(
        "BCF-01,01/04/2025,100.00,1200",          # row 2: fine
        "BCF-99,01/04/2025,100.00,1200",          # row 3: unknown scheme code
        "BCF-07,01/05/2025,\"12,34x\",1200",      # row 4: malformed amount
        "BCF-07,01/03/2025,10,",                  # row 5: before the agreement starts
        "BCF-01,01/06/2025,10,",                  # row 6: closed month
        "BCF-01,01/04/2025,5,",                   # row 7: duplicate of row 2
        "BCF-07,31/02/2025,5,",                   # row 8: not a date
    ))
    assert finance_import.status == ImportStatus.INVALID
    errors = {(e["row"], e["column"]): e["message"] for e in finance_import.errors}
    assert errors[(3, "Scheme code")].startswith("Unknown scheme code “BCF-99”")
    assert errors[(4, "Actual")].startswith("“12,34x” is not an amount")
    assert errors[(5, "Month")].startswith("March 2025 is not in the agreement")
    assert errors[(6, "Month")] == ("June 2025 is closed. To change its figures, reopen it "
                                    "first: go to the agreement and select “Close or reopen "
                                    "months”")
    assert errors[(7, "Scheme code")] == ("Duplicate row: BCF-01 for April 2025 is already on "
                                          "row 2")
    assert errors[(8, "Month")].startswith("“31/02/2025” is not a month")
    assert 2 not in {row for row, _c in errors}
    with pytest.raises(ValidationError):
        services.finance_import_confirm(finance_import=finance_import,
                                        user=world.finance_officer_a)
    assert not MonthlyActual.objects.exists()


def test_it_rechecks_on_confirmation_and_saves_nothing_if_a_month_closed_meanwhile(world, setup):
    finance_import = _preview(setup, world, _csv("BCF-01,01/04/2025,100,", "BCF-01,01/05/2025,1,"))
    close(setup, date(2025, 5, 1))
    with pytest.raises(ValidationError) as error:
        services.finance_import_confirm(finance_import=finance_import,
                                        user=world.finance_officer_a)
    assert "Row 3, Month: May 2025 is closed" in " ".join(error.value.messages)
    assert not MonthlyActual.objects.exists()


def test_it_reads_an_xlsx_export_with_date_cells_and_numbers(world, setup):
    finance_import = _preview(setup, world, _xlsx([
        ["BCF-01", datetime(2025, 4, 1), 10000.5, 125000],
        ["BCF-07", "May 2025", "(1,234.50)", None],
    ]), name="export.xlsx")
    assert finance_import.status == ImportStatus.READY, finance_import.errors
    assert [r["actual"] for r in finance_import.rows] == ["10000.50", "-1234.50"]


@pytest.mark.parametrize("name,data,message", [
    ("actuals.xlsm", b"PK\x03\x04whatever", "Macro-enabled workbooks (.xlsm) are not accepted"),
    ("actuals.xlsx", b"Scheme code,Month\r\n", "is not a real XLSX file"),
    ("actuals.csv", b"PK\x03\x04binary", "is not a CSV file"),
    ("actuals.pdf", b"%PDF-1.7", "must be a CSV or an Excel workbook"),
    ("actuals.csv", b"Code,When\r\nBCF-01,04/2025\r\n",
     "missing the columns Month, Actual, Forecast"),
])
def test_it_refuses_files_that_are_not_what_they_claim(world, setup, name, data, message):
    with pytest.raises(imports.UploadRefused) as error:
        _preview(setup, world, data, name=name)
    assert message in str(error.value)
    assert not FinanceImport.objects.exists()


def test_it_refuses_an_xlsx_with_macros_inside(world, setup):
    buffer = io.BytesIO(_xlsx([["BCF-01", "04/2025", 1, 1]]))
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("xl/vbaProject.bin", b"macro")
    with pytest.raises(imports.UploadRefused, match="Macro-enabled workbooks"):
        _preview(setup, world, buffer.getvalue(), name="actuals.xlsx")


def test_it_refuses_a_file_over_the_upload_limit(world, setup, settings):
    settings.MAX_UPLOAD_BYTES = 2048
    with pytest.raises(imports.UploadRefused, match="must be smaller than"):
        _preview(setup, world, _csv(*["BCF-01,01/04/2025,1,1"] * 200))


def test_it_keeps_the_upload_server_side_between_preview_and_confirm(world, setup, client_for):
    client = client_for(world.finance_officer_a)
    url = reverse("funding:import_upload", args=[setup.pk])
    upload = SimpleUploadedFile("actuals.csv", _csv("BCF-01,01/04/2025,100,1200"),
                                content_type="text/csv")
    response = client.post(url, {"file": upload})
    finance_import = FinanceImport.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("funding:import_preview", args=[setup.pk, finance_import.pk])
    page = client.get(response.url)
    assert "Confirm and save" in page.content.decode()
    assert 'type="hidden" name="rows"' not in page.content.decode()
    response = client.post(response.url, {"action": "confirm"})
    assert response.status_code == 302
    assert MonthlyActual.objects.get().actual == D("100.00")
    # Confirming again does nothing more.
    again = client.post(reverse("funding:import_preview", args=[setup.pk, finance_import.pk]),
                        {"action": "confirm"})
    assert again.status_code == 400
    assert MonthlyActual.objects.count() == 1


def test_it_shows_row_errors_on_the_preview_page(world, setup, client_for):
    client = client_for(world.finance_officer_a)
    upload = SimpleUploadedFile("actuals.csv", _csv("BCF-99,01/04/2025,\"12,34x\","),
                                content_type="text/csv")
    response = client.post(reverse("funding:import_upload", args=[setup.pk]), {"file": upload},
                           follow=True)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Unknown scheme code “BCF-99”" in html
    assert "The file has 2 problems. Nothing has been saved" in html


def test_it_shows_a_refused_file_next_to_the_upload_field(world, setup, client_for):
    client = client_for(world.finance_officer_a)
    upload = SimpleUploadedFile("actuals.xlsm", b"PK\x03\x04", content_type="application/zip")
    response = client.post(reverse("funding:import_upload", args=[setup.pk]), {"file": upload})
    html = response.content.decode()
    assert response.status_code == 400
    assert "govuk-error-summary" in html and "Macro-enabled workbooks" in html
    assert not FinanceImport.objects.exists()


def test_it_refuses_imports_into_a_closed_month_through_the_view(world, setup, client_for):
    scheme = setup.schemes.get(code="BCF-01")
    actual(scheme, date(2025, 4, 1), "50")
    close(setup, date(2025, 4, 1))
    client = client_for(world.finance_officer_a)
    upload = SimpleUploadedFile("a.csv", _csv("BCF-01,01/04/2025,999,"), content_type="text/csv")
    client.post(reverse("funding:import_upload", args=[setup.pk]), {"file": upload})
    assert MonthlyActual.objects.get().actual == D("50.00")


def test_it_refuses_a_hostile_workbook_while_reading_it_next_to_the_upload_field(
        world, setup, client_for):
    client = client_for(world.finance_officer_a)
    url = reverse("funding:import_upload", args=[setup.pk])
    assert 'name="file"' in client.get(url).content.decode()
    for data, message in [
        (hostile.wide_row_xlsx(200_000), "The file has more than 50 columns"),
        (hostile.zip_bomb_xlsx(150), "The selected file is too large when uncompressed"),
        (hostile.long_cell_xlsx(["Scheme code", "Month", "Actual", "Forecast"], 40_000),
         "more than 32,767 characters"),
    ]:
        response = client.post(url, {"file": SimpleUploadedFile("actuals.xlsx", data)})
        html = response.content.decode()
        assert response.status_code == 400
        assert "govuk-error-summary" in html and message in html
    assert not FinanceImport.objects.exists()


def test_it_keeps_every_row_when_blank_rows_separate_them(world, setup):
    # 10,000 rows of figures with a blank row after each: the limit counts rows of figures.
    months = [date(2025, 4, 1), date(2025, 5, 1), date(2025, 6, 1)]
    rows = []
    for number in range(imports.MAX_ROWS):
        rows.append([f"BCF-{number:05d}", months[number % 3], 1, 1])
        rows.append([None, None, None, None])
    _headings, read = imports.read_upload("actuals.xlsx", _xlsx(rows))
    assert len(read) == imports.MAX_ROWS
    assert read[-1][1][0] == f"BCF-{imports.MAX_ROWS - 1:05d}"
