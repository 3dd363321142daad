"""Hostile uploads built in the test (and by ``bench/bench_uploads.py``), never stored files.

Each workbook is a real Office Open XML package (the parts openpyxl and Excel need) whose
worksheet is written to the zip in chunks, so a file that expands to hundreds of megabytes
is built without holding that much in memory.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterable, Iterator

from commissioning.tests.strategies import CONTENT_TYPES, ROOT_RELS, WORKBOOK, WORKBOOK_RELS

SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
              b'openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
SHEET_TAIL = b"</sheetData></worksheet>"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def row_xml(number: int, values: Iterable[object]) -> bytes:
    """One worksheet row: numbers as numbers, anything else as an inline string."""
    cells = []
    for value in values:
        if isinstance(value, int | float) and not isinstance(value, bool):
            cells.append(f"<c><v>{value}</v></c>")
        else:
            cells.append(f'<c t="inlineStr"><is><t>{_escape(str(value))}</t></is></c>')
    return f'<row r="{number}">{"".join(cells)}</row>'.encode()


def workbook(sheet_chunks: Iterable[bytes], *, extra: dict[str, bytes] | None = None,
             compresslevel: int = 6) -> bytes:
    """An XLSX whose first worksheet's XML is the given chunks (head and tail added)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", ROOT_RELS)
        zf.writestr("xl/workbook.xml", WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            member.write(SHEET_HEAD)
            for chunk in sheet_chunks:
                member.write(chunk)
            member.write(SHEET_TAIL)
        for name, content in (extra or {}).items():
            zf.writestr(name, content)
    return buffer.getvalue()


def _batched(rows: Iterator[bytes], size: int = 1000) -> Iterator[bytes]:
    batch: list[bytes] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield b"".join(batch)
            batch = []
    if batch:
        yield b"".join(batch)


def zip_bomb_xlsx(expanded_mb: int = 150) -> bytes:
    """A small workbook whose worksheet expands to ``expanded_mb`` MB of XML."""
    pad = b"<row/>" * (1024 * 1024 // 6)
    return workbook(pad for _ in range(expanded_mb))


def rows_then_garbage_xlsx(header: list[str], row: list[object], rows: int) -> bytes:
    """``rows`` copies of ``row`` under ``header``, then XML that is not well formed: a
    reader that stops at its row limit refuses the file for its rows, one that reads the
    whole sheet first fails on the garbage instead."""
    def chunks() -> Iterator[bytes]:
        yield row_xml(1, header)
        yield from _batched(row_xml(n, row) for n in range(2, rows + 2))
        yield b"<row><c><<<not xml"
    return workbook(chunks())


def many_rows_xlsx(target_bytes: int, *, columns: int = 8) -> bytes:
    """A workbook of about ``target_bytes`` whose rows hold random numbers (which do not
    compress much), so it is as big as an upload may be and has millions of cells."""
    header = [f"Column {i}" for i in range(1, columns + 1)]
    random = os.urandom

    def chunks() -> Iterator[bytes]:
        yield row_xml(1, header)
        number = 2
        written = 0
        while written < target_bytes * 3.1:  # these rows deflate (level 1) to about 1/3.1
            batch = []
            for _ in range(1000):
                values = [int.from_bytes(random(6), "big") for _ in range(columns)]
                batch.append(row_xml(number, values))
                number += 1
            chunk = b"".join(batch)
            written += len(chunk)
            yield chunk
    return workbook(chunks(), compresslevel=1)


def wide_row_xlsx(cells: int, *, random_numbers: bool = False) -> bytes:
    """One row with ``cells`` cells (Excel itself stops at 16,384 columns): the same short
    text in each (compresses well), or random numbers (does not, so the file can be as big as
    an upload may be without looking like a zip bomb)."""
    def chunks() -> Iterator[bytes]:
        yield b'<row r="1">'
        cell = b'<c t="inlineStr"><is><t>x</t></is></c>'
        left = cells
        while left:
            batch = min(left, 10_000)
            if random_numbers:
                yield b"".join(b"<c><v>%d</v></c>" % int.from_bytes(os.urandom(6), "big")
                               for _ in range(batch))
            else:
                yield cell * batch
            left -= batch
        yield b"</row>"
    return workbook(chunks(), compresslevel=1 if random_numbers else 6)


def long_cell_xlsx(header: list[str], chars: int) -> bytes:
    """A header and one row whose first cell holds ``chars`` characters."""
    return workbook([row_xml(1, header), row_xml(2, ["x" * chars] + [""] * (len(header) - 1))])


def wide_csv(columns: int) -> bytes:
    """A header row of ``columns`` columns and one row of values."""
    return (",".join(f"Column {i}" for i in range(columns)) + "\r\n"
            + ",".join("1" for _ in range(columns)) + "\r\n").encode()


def zip_bomb_docx(expanded_mb: int = 150) -> bytes:
    """A Word document whose body expands to ``expanded_mb`` MB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types xmlns="http://schemas.'
                    b'openxmlformats.org/package/2006/content-types"/>')
        with zf.open("word/document.xml", "w", force_zip64=True) as member:
            member.write(b"<w:document>")
            pad = b" " * (1024 * 1024)
            for _ in range(expanded_mb):
                member.write(pad)
            member.write(b"</w:document>")
    return buffer.getvalue()
