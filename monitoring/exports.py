"""CSV and XLSX downloads. CSV has a UTF-8 byte order mark (so Excel reads £ and accents)
and any cell that a spreadsheet would run as a formula is neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from django.http import HttpResponse

from commissioning.downloads import as_download, sheet_title

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value) -> object:
    """Text that starts like a formula gets a leading apostrophe; numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    return as_download(response, filename)


def xlsx_response(filename: str, sheet: str, header: Sequence[str],
                  rows: Iterable[Sequence]) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook(write_only=False)
    worksheet = workbook.active
    worksheet.title = sheet_title(sheet)
    worksheet.append(list(header))
    for cell in worksheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        worksheet.append([safe_cell(v) for v in row])
    worksheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    return as_download(response, filename)


def table_response(fmt: str, basename: str, header, rows) -> HttpResponse:
    rows = list(rows)
    if fmt == "xlsx":
        return xlsx_response(f"{basename}.xlsx", basename, header, rows)
    return csv_response(f"{basename}.csv", header, rows)
