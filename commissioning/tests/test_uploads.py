"""The one upload module: size, type by content, archives, and spreadsheets read with their
limits enforced while the file is read. Every hostile file is built here, in the test."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time

import pytest
from openpyxl import Workbook, load_workbook

from commissioning import uploads
from commissioning.tests import hostile_files as hostile
from commissioning.tests import strategies as fz

SHEETS = {".xlsx": (uploads.XLSX_CONTENT_TYPE, uploads.XLSX), ".csv": ("text/csv", uploads.TEXT)}
DOCUMENTS = {".docx": ("application/msword", uploads.DOCX), **SHEETS}


def check(data: bytes, name: str = "upload.xlsx", allowed=DOCUMENTS) -> uploads.CheckedFile:
    return uploads.check_file(io.BytesIO(data), name=name, allowed=allowed,
                              description="a CSV, XLSX or DOCX file")


def read(data: bytes, limits: uploads.Limits, family: str = uploads.XLSX) -> list:
    return list(uploads.read_rows(io.BytesIO(data), family, limits))


def test_it_refuses_a_zip_bomb_from_the_zip_directory():
    data = hostile.zip_bomb_xlsx(150)
    assert len(data) < 1024 * 1024
    with pytest.raises(uploads.UploadRefused, match="too large when uncompressed"):
        check(data)
    with pytest.raises(uploads.UploadRefused, match="too large when uncompressed"):
        check(hostile.zip_bomb_docx(150), name="report.docx")


def test_it_stops_reading_a_sheet_at_its_row_limit():
    # The garbage after row 1,002 is never reached: the limit is checked as rows are read.
    data = hostile.rows_then_garbage_xlsx(["kpi_code", "value"], ["DH1", 4], rows=1_001)
    with pytest.raises(uploads.UploadRefused, match=r"more than 1,000 rows\. Use the template"):
        read(data, uploads.Limits(rows=1_000, advice="Use the template"))
    with pytest.raises(uploads.UploadRefused, match="not a readable XLSX file"):
        read(data, uploads.Limits(rows=2_000))


def test_it_does_not_count_blank_rows_towards_the_row_limit():
    rows = [["Code", "Amount"]] + [["A", 1], [None, None]] * 6
    limits = uploads.Limits(rows=6)
    assert len(read(fz.xlsx_from_rows(rows), limits)) == 7
    csv = b"Code,Amount\r\n" + b"A,1\r\n,\r\n" * 6
    assert len(read(csv, limits, uploads.TEXT)) == 7


def test_it_refuses_a_row_wider_than_the_column_limit_while_reading_it():
    with pytest.raises(uploads.UploadRefused, match="more than 200 columns"):
        read(hostile.wide_row_xlsx(1_000_000), uploads.Limits(rows=10))


def test_it_refuses_a_csv_with_too_many_columns():
    with pytest.raises(uploads.UploadRefused, match="more than 200 columns"):
        read(hostile.wide_csv(5_000), uploads.Limits(rows=10), uploads.TEXT)


def test_it_counts_every_cell_read_towards_the_cell_limit():
    data = hostile.rows_then_garbage_xlsx(["a", "b", "c"], [1, 2, 3], rows=500)
    with pytest.raises(uploads.UploadRefused, match="more than 1,000 cells"):
        read(data, uploads.Limits(rows=10_000, cells=1_000))


def test_it_refuses_a_cell_longer_than_excel_allows():
    with pytest.raises(uploads.UploadRefused, match="more than 32,767 characters"):
        read(hostile.long_cell_xlsx(["Title"], 40_000), uploads.Limits(rows=10))
    with pytest.raises(uploads.UploadRefused, match="more than 32,767 characters"):
        read(b"Title\r\n" + b"x" * 40_000 + b"\r\n", uploads.Limits(rows=10), uploads.TEXT)


def test_it_refuses_a_csv_line_longer_than_the_limit():
    with pytest.raises(uploads.UploadRefused, match="longer than 1,000 characters"):
        read(b"a," * 2_000, uploads.Limits(rows=10, line_chars=1_000), uploads.TEXT)


def test_it_reads_cells_as_openpyxl_does():
    book = Workbook()
    sheet = book.active
    sheet.append(["Text", "Whole", "Decimal", "Date", "Date and time", "Yes/no", "Time"])
    sheet.append(["café £5", 181, 90.5, date(2025, 4, 1), datetime(2026, 3, 31, 17, 30), True,
                  time(9, 30)])
    sheet.append([None, None, None, None, None, None, None])
    sheet.append(["<b>&amp;", -3, 1e-7, date(1900, 3, 1), None, False, None])
    buffer = io.BytesIO()
    book.save(buffer)
    expected = [list(row) for row in load_workbook(io.BytesIO(buffer.getvalue()), read_only=True,
                                                   data_only=True).active.iter_rows(values_only=True)]
    got = read(buffer.getvalue(), uploads.Limits(rows=10))
    assert [number for number, _cells in got] == [1, 2, 4]
    for number, cells in got:
        assert cells == expected[number - 1][:len(cells)]
        assert all(v is None for v in expected[number - 1][len(cells):])


def test_it_reads_a_csv_in_the_callers_encodings():
    data = "Name;Amount\r\nCafé;£5\r\n".encode("cp1252")
    with pytest.raises(uploads.UploadRefused, match="UTF-8"):
        read(data, uploads.Limits(rows=10), uploads.TEXT)
    rows = list(uploads.read_rows(io.BytesIO(data), uploads.TEXT, uploads.Limits(rows=10),
                                  encodings=("utf-8-sig", "cp1252"), delimiters=",;"))
    assert rows == [(1, ["Name", "Amount"]), (2, ["Café", "£5"])]


def _rezip(data: bytes, extra: dict[str, bytes], *, encrypted: bool = False) -> bytes:
    """The workbook with ``extra`` parts added last; ``encrypted`` marks the last part as
    encrypted (zipfile cannot write one, so the flag is set in its two headers)."""
    original = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in original.infolist():
            archive.writestr(info.filename, original.read(info))
        for name, content in extra.items():
            archive.writestr(name, content)
    packed = bytearray(buffer.getvalue())
    if encrypted:
        packed[packed.rindex(b"PK\x03\x04") + 6] |= 0x1  # local header: general purpose flag
        packed[packed.rindex(b"PK\x01\x02") + 8] |= 0x1  # central directory: the same flag
    return bytes(packed)


@pytest.mark.parametrize("extra,encrypted,message", [
    ({"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0"}, False, "contains macros"),
    ({"xl/activeX/activeX1.bin": b"control"}, False, "contains macros"),
    ({"xl/embeddings/oleObject1.bin": b"\xd0\xcf\x11\xe0"}, False, "embedded"),
    ({"xl/media/inner.zip": b"PK\x03\x04"}, False, "embedded"),
    ({"xl/secret.xml": b"<x/>"}, True, "password-protected"),
])
def test_it_refuses_macros_embedded_files_and_encrypted_parts(extra, encrypted, message):
    data = _rezip(fz.xlsx_from_rows([["a"], ["b"]]), extra, encrypted=encrypted)
    with pytest.raises(uploads.UploadRefused, match=message):
        check(data)


def test_it_refuses_a_macro_enabled_content_type_whatever_the_name():
    data = fz.xlsx_from_rows([["a"], ["b"]])
    original = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info in original.infolist():
            content = original.read(info)
            if info.filename == "[Content_Types].xml":
                content = content.replace(b"sheet.main+xml", b"sheet.macroEnabled.main+xml")
            archive.writestr(info.filename, content)
    with pytest.raises(uploads.UploadRefused, match="contains macros"):
        check(buffer.getvalue())


@pytest.mark.parametrize("data", [fz.xml_bomb(), fz.external_entity()])
def test_it_refuses_a_worksheet_with_a_dtd(data):
    with pytest.raises(uploads.UploadRefused, match="not a readable XLSX file"):
        read(data, uploads.Limits(rows=10))


@pytest.mark.parametrize("name,data,message", [
    ("a.xlsx", b"", "The selected file is empty"),
    ("a.xlsm", b"PK\x03\x04", "macro-enabled workbook"),
    ("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Excel 97-2003"),
    ("a.pdf", b"%PDF-1.7", "must be a CSV, XLSX or DOCX file"),
    ("a.xlsx", b"Code,Amount\r\n", "not a real XLSX file"),
    ("a.docx", b"%PDF-1.7", "not a real DOCX file"),
    ("a.csv", b"\x00\x01binary", "not a CSV file"),
    ("a.xlsx", b"PK\x03\x04 truncated", "not a readable XLSX file"),
])
def test_it_judges_the_type_by_content(name, data, message):
    with pytest.raises(uploads.UploadRefused, match=message):
        check(data, name=name)


def test_it_refuses_a_file_over_the_upload_limit(settings):
    settings.MAX_UPLOAD_BYTES = 2048
    with pytest.raises(uploads.UploadRefused, match="must be smaller than"):
        check(b"a,b\r\n" * 1000, name="a.csv")
