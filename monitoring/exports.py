"""Monitoring's tables (the overview, a contract's KPIs, the return template, an assessment)
as CSV or XLSX downloads, written by the one spreadsheet writer, commissioning/spreadsheets.py
(formula-like text neutralised, UTF-8 with a byte order mark, streamed)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.http import FileResponse, StreamingHttpResponse

from commissioning.spreadsheets import csv_response, xlsx_response


def table_response(fmt: str, basename: str, header: Sequence[str],
                   rows: Iterable[Sequence[object]]) -> StreamingHttpResponse | FileResponse:
    """``fmt`` "xlsx" gives a workbook with one sheet named after the file; anything else CSV."""
    if fmt == "xlsx":
        return xlsx_response(f"{basename}.xlsx", header, rows, sheet_title=basename)
    return csv_response(f"{basename}.csv", header, rows)
