"""Spreadsheet downloads (CSV and XLSX) that are safe to open in Excel.

- Text that starts like a formula (= + - @, a tab or a carriage return) gets a leading
  apostrophe, so a spreadsheet shows it instead of running it (CSV/formula injection).
  Numbers, dates and booleans are data, not text, and are written as such.
- CSV is UTF-8 with a byte order mark, so Excel reads £ signs and accents correctly, and it
  is streamed row by row: a large register never sits in memory as one string.
- XLSX is written with openpyxl's write-only mode (rows go straight to a temporary file) with
  real number and date formats, so totals and sorting work in Excel.

Any app may use these; they know nothing about the models they export.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal

from django.http import FileResponse, StreamingHttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from commissioning.downloads import as_download
from commissioning.downloads import sheet_title as safe_sheet_title

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "dd/mm/yyyy"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_BATCH_ROWS = 500


def safe_cell(value: object) -> object:
    """A value ready for a spreadsheet cell: text neutralised, other types kept.

    None → "", booleans → "Yes"/"No", numbers and dates unchanged, anything else → text with
    a leading apostrophe if it could be read as a formula.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float | Decimal | date):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_text(value: object) -> str:
    value = safe_cell(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()  # unambiguous, and Excel reads it as a date
    return str(value)


class _Echo:
    """A file-like object whose write() returns what it was given (for csv.writer)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[bytes]:
    """The CSV as UTF-8 byte chunks: BOM and header first, then rows in small batches."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield (BOM + writer.writerow([_csv_text(h) for h in header])).encode("utf-8")
    batch: list[str] = []
    for row in rows:
        batch.append(writer.writerow([_csv_text(v) for v in row]))
        if len(batch) >= CSV_BATCH_ROWS:
            yield "".join(batch).encode("utf-8")
            batch = []
    if batch:
        yield "".join(batch).encode("utf-8")


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> StreamingHttpResponse:
    """A streamed CSV download (UTF-8 with BOM, formula-like text neutralised)."""
    response = StreamingHttpResponse(csv_lines(header, rows),
                                     content_type="text/csv; charset=utf-8")
    return as_download(response, filename)


def write_xlsx(
    handle, *, sheet_title: str, header: Sequence[str], rows: Iterable[Sequence[object]],
    column_widths: Sequence[int] | None = None,
) -> None:
    """Write a one-sheet workbook to ``handle`` with openpyxl's write-only mode.

    Decimals get a money format (#,##0.00), dates dd/mm/yyyy; every text cell is stored as a
    string (never a formula), after the same neutralisation as CSV.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=safe_sheet_title(sheet_title))
    for index, width in enumerate(column_widths or (), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    heading_cells = []
    for heading in header:
        cell = WriteOnlyCell(sheet, value=str(safe_cell(heading)))
        cell.font = bold
        heading_cells.append(cell)
    sheet.append(heading_cells)
    for row in rows:
        cells = []
        for raw in row:
            value = safe_cell(raw)
            if isinstance(value, datetime):
                value = value.replace(tzinfo=None)
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, Decimal):
                cell.number_format = MONEY_FORMAT
            elif isinstance(value, date):
                cell.number_format = DATE_FORMAT
            elif isinstance(value, str):
                cell.data_type = "s"  # text is text, whatever it starts with
            cells.append(cell)
        sheet.append(cells)
    workbook.save(handle)


def xlsx_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[object]], *,
    sheet_title: str = "Sheet1", column_widths: Sequence[int] | None = None,
) -> FileResponse:
    """An XLSX download. The workbook is built in a temporary file (spilled to disk past
    a few MB) and streamed from there, so memory stays flat for large registers."""
    # Closed by the response when it has been sent, hence no context manager here.
    handle = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    write_xlsx(handle, sheet_title=sheet_title, header=header, rows=rows,
               column_widths=column_widths)
    handle.seek(0)
    response = FileResponse(handle, content_type=XLSX_CONTENT_TYPE)
    return as_download(response, filename)
