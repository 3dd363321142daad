"""Every uploaded file is checked here, and every uploaded spreadsheet is read here.

One module for the rules, used by the register import, the finance import, a provider's
return spreadsheet, evidence and contract documents:

- **Size**: empty files and files over ``MAX_UPLOAD_BYTES`` are refused.
- **Type by content**: the extension must be one the caller allows, and the content must be
  what the extension says (a PDF starts ``%PDF-``; DOCX/XLSX are Office Open XML zips with
  ``[Content_Types].xml`` and a ``word/`` or ``xl/`` part; ODT has its ``mimetype``; text has
  no NUL and decodes). Macro-enabled extensions and old binary Office files are named as such.
- **Archives** (every zip-based upload): judged from the zip directory before anything is
  decompressed — the number of entries, the total uncompressed size, the compression ratio
  (overall and of each entry), nested archives and embedded objects, macros (``vbaProject.bin``,
  a macro-enabled content type, ODF ``Basic/`` or ``Scripts/``) and encrypted entries. The
  directory's sizes can be trusted for reading: Python's zipfile stops at the declared size
  and refuses the entry (CRC) if the data says otherwise.
- **Spreadsheets are streamed**: CSV line by line and an XLSX worksheet element by element
  (expat, no DTDs, no entities), with the caller's row, column and cell limits enforced while
  the file is read, so a hostile file is refused after reading only as much as the limits
  allow, in bounded time and memory. Cell values come back as openpyxl gives them (text,
  int/float, bool, datetime for date-formatted numbers).

Refusals raise ``UploadRefused`` with a GOV.UK error message for the file field.

The module is longer than most (about 750 lines) on purpose: the worksheet reader is here, not
in a module of its own, because its limits are the upload's limits and a reader elsewhere
could be called without them.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO
from xml.parsers import expat

from django.conf import settings
from django.core.exceptions import ValidationError
from openpyxl.styles.numbers import is_date_format, is_timedelta_format
from openpyxl.utils.datetime import (
    CALENDAR_MAC_1904,
    CALENDAR_WINDOWS_1900,
    from_excel,
    from_ISO8601,
)

from commissioning.spreadsheets import XLSX_CONTENT_TYPE

PDF = "pdf"
DOCX = "docx"
XLSX = "xlsx"
ODT = "odt"
TEXT = "text"

# The one table of the documents people may attach: extension -> (content type, family, name).
# Each upload page picks the extensions it takes with ``file_types`` and says which in
# ``described``, so the type checks and their wording are the same on every page.
FILE_TYPES = {
    ".pdf": ("application/pdf", PDF, "PDF"),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", DOCX,
              "Word (DOCX)"),
    ".xlsx": (XLSX_CONTENT_TYPE, XLSX, "Excel (XLSX)"),
    ".odt": ("application/vnd.oasis.opendocument.text", ODT, "OpenDocument text (ODT)"),
    ".csv": ("text/csv", TEXT, "CSV"),
    ".txt": ("text/plain", TEXT, "text"),
}


def file_types(*extensions: str) -> dict[str, tuple[str, str]]:
    """The ``allowed`` table for ``check_file``: extension -> (content type, family)."""
    return {extension: FILE_TYPES[extension][:2] for extension in extensions}


def described(*extensions: str) -> str:
    """'a PDF, Word (DOCX) or CSV file': what an upload page takes, in words."""
    names = [FILE_TYPES[extension][2] for extension in extensions]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    return f"a {listed} file"

ZIP_SIGNATURE = b"PK\x03\x04"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old binary Office files (.xls, .doc)
MACRO_EXTENSIONS = (".xlsm", ".xltm", ".xlsb", ".xlam", ".docm", ".dotm")

MAX_ARCHIVE_ENTRIES = 1_000
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100  # overall, once over 10 MB uncompressed
MAX_ENTRY_RATIO = 1_000  # any one entry, once over 1 MB uncompressed
MAX_XML_PART_BYTES = 5 * 1024 * 1024  # workbook.xml, its relationships, styles, content types
NESTED_ARCHIVE_SUFFIXES = (".zip", ".jar", ".7z", ".rar", ".gz", ".tar", ".cab", ".xlsx",
                           ".xlsm", ".xlsb", ".docx", ".docm", ".pptx", ".pptm", ".odt",
                           ".ods", ".odp")
MACRO_NAMES = ("vbaproject.bin", "vbadata.xml", "vbaprojectsignature.bin")
MACRO_FOLDERS = ("/activex/", "basic/", "scripts/")  # ActiveX controls; ODF Basic and scripts
CHUNK = 64 * 1024
MAX_SHARED_STRING_CHARS = 20_000_000

UNREADABLE_XLSX = ("The selected file is not a readable XLSX file. Open it in Excel and save it "
                   "again")
MACROS = ("The selected file contains macros. Macro-enabled workbooks are not accepted: save it "
          "as an Excel workbook (.xlsx) or Word document (.docx) without macros, or as CSV")
MACRO_EXTENSION = ("The selected file is a macro-enabled workbook. Macro-enabled workbooks "
                   "(.xlsm) are not accepted: save it as an Excel workbook (.xlsx) without "
                   "macros, or as CSV")
TOO_LARGE_UNCOMPRESSED = ("The selected file is too large when uncompressed. Remove unused "
                          "sheets, pictures or attachments, or save it as CSV or PDF")


class UploadRefused(ValueError):
    """The file as a whole cannot be used; the message says why and what to do."""


# How a broken or hostile zip/XML shows itself while it is read (corrupt data, encrypted or
# unsupported compression, a truncated stream, an index or date out of range).
BROKEN = (zipfile.BadZipFile, zlib.error, expat.ExpatError, OSError, KeyError, ValueError,
          IndexError, EOFError, RuntimeError, NotImplementedError, OverflowError)


# --- Size and type ---------------------------------------------------------------------------

def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g}MB"


def check_size(size: int | None) -> None:
    if not size:
        raise UploadRefused("The selected file is empty")
    limit = settings.MAX_UPLOAD_BYTES
    if size > limit:
        raise UploadRefused(f"The selected file must be smaller than {_megabytes(limit)}")


def _size_of(file: IO[bytes]) -> int:
    file.seek(0, io.SEEK_END)
    size = file.tell()
    file.seek(0)
    return size


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start >= len(head) - 4:  # a character cut at the end of the sample
            return True
        try:
            head.decode("cp1252")
        except UnicodeDecodeError:
            return False
    return True


def sniff(file: IO[bytes]) -> str | None:
    """What the content says the file is (PDF, DOCX, XLSX, ODT, text), or None. Reads only
    the first 8 KB and the zip directory; leaves the file at its start."""
    file.seek(0)
    head = file.read(8192)
    file.seek(0)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(ZIP_SIGNATURE):
        try:
            with zipfile.ZipFile(file) as archive:
                infos = {info.filename: info for info in archive.infolist()}
                mimetype = infos.get("mimetype")
                if mimetype is not None and mimetype.file_size < 100 \
                        and archive.read(mimetype).strip() \
                        == b"application/vnd.oasis.opendocument.text":
                    return ODT
        except BROKEN:
            return None
        finally:
            file.seek(0)
        if "[Content_Types].xml" in infos:
            if any(name.startswith("word/") for name in infos):
                return DOCX
            if any(name.startswith("xl/") for name in infos):
                return XLSX
        return None
    if head.startswith(OLE_SIGNATURE):
        return None
    return TEXT if _looks_like_text(head) else None


@dataclass(frozen=True)
class CheckedFile:
    name: str  # the file's own name, without any folder, at most 255 characters
    content_type: str
    family: str


def check_for_field(upload, allowed: Mapping[str, tuple[str, str]], description: str, *,
                    field: str = "file") -> CheckedFile:
    """``check_file`` for a form's upload: no file, or a refused one, is a ValidationError on
    ``field`` (the one way every upload page reports a refused file next to its field)."""
    if upload is None:
        raise ValidationError({field: "The selected file is empty"})
    try:
        return check_file(upload, name=upload.name, allowed=allowed, description=description)
    except UploadRefused as error:
        raise ValidationError({field: str(error)}) from error


def check_file(file: IO[bytes], *, name: str | None,
               allowed: Mapping[str, tuple[str, str]], description: str) -> CheckedFile:
    """Size, extension, type by content and (for zips) the archive checks.

    ``allowed`` maps an extension to (content type, family); ``description`` says what may be
    uploaded, as in "a CSV or XLSX file". Raises ``UploadRefused``.
    """
    check_size(_size_of(file))
    base = PurePath(name or "file").name[:255] or "file"
    extension = PurePath(base).suffix.lower()
    # A macro-enabled or old Office file is named as such where its plain sibling would be
    # accepted; where it would not (a CSV-only upload), the caller's list is the answer.
    sibling = ".docx" if extension.startswith((".do", ".dot")) else ".xlsx"
    if extension in MACRO_EXTENSIONS and sibling in allowed:
        raise UploadRefused(MACRO_EXTENSION)
    if extension in (".xls", ".doc") and sibling in allowed:
        raise UploadRefused(f"The selected file is an old Office 97-2003 file ({extension}), "
                            "like an Excel 97-2003 workbook. Save it as "
                            f"{'.xlsx' if extension == '.xls' else '.docx'} and upload "
                            f"{description}")
    expected = allowed.get(extension)
    if expected is None:
        raise UploadRefused(f"The selected file must be {description}")
    content_type, family = expected
    found = sniff(file)
    if found != family:
        if family == XLSX and found is None and _is_zip(file):
            raise UploadRefused(UNREADABLE_XLSX)
        if family == TEXT:
            raise UploadRefused(f"The selected file is not a {extension[1:].upper()} file. "
                                f"Upload {description}")
        raise UploadRefused(f"The selected file is not a real {extension[1:].upper()} file. "
                            f"Upload {description}")
    if family in (DOCX, XLSX, ODT):
        check_archive(file, family)
    return CheckedFile(base, content_type, family)


def _is_zip(file: IO[bytes]) -> bool:
    file.seek(0)
    head = file.read(4)
    file.seek(0)
    return head == ZIP_SIGNATURE


# --- Archives --------------------------------------------------------------------------------

def check_archive(file: IO[bytes], family: str) -> None:
    """Refuse a zip-based document that is a bomb, nests archives, carries macros or is
    encrypted, judged from its directory (and, for OOXML, its small content-types part)."""
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            members = archive.infolist()
            if len(members) > MAX_ARCHIVE_ENTRIES:
                raise UploadRefused(f"The selected file has more than {MAX_ARCHIVE_ENTRIES:,} "
                                    "parts inside. Save it again as a plain document")
            _check_sizes(members)
            names = [m.filename for m in members]
            lowered = [n.lower() for n in names]
            if any(PurePath(n).name in MACRO_NAMES or n.startswith(MACRO_FOLDERS[1:])
                   or MACRO_FOLDERS[0] in n for n in lowered):
                raise UploadRefused(MACROS)
            if any(m.flag_bits & 0x1 for m in members):
                raise UploadRefused("The selected file is password-protected. Remove the "
                                    "password and upload it again")
            if any(n.endswith(NESTED_ARCHIVE_SUFFIXES) or "/embeddings/" in n
                   for n in lowered):
                raise UploadRefused("The selected file has other files or objects embedded in "
                                    "it. Remove them, or upload them separately")
            if family in (DOCX, XLSX):
                types = archive.getinfo("[Content_Types].xml")
                if types.file_size > MAX_XML_PART_BYTES:
                    raise UploadRefused(TOO_LARGE_UNCOMPRESSED)
                if b"macroenabled" in archive.read(types).lower():
                    raise UploadRefused(MACROS)
            if family == XLSX and "xl/workbook.xml" not in names:
                raise UploadRefused("The selected file is not a real XLSX file. Upload a CSV "
                                    "or XLSX file")
    except UploadRefused:
        raise
    except BROKEN as error:
        raise UploadRefused(UNREADABLE_XLSX if family == XLSX else
                            "The selected file cannot be read. Open it and save it again") \
            from error
    finally:
        file.seek(0)


def _check_sizes(members: list[zipfile.ZipInfo]) -> None:
    total = sum(m.file_size for m in members)
    compressed = sum(m.compress_size for m in members) or 1
    if total > MAX_UNCOMPRESSED_BYTES or (
        total > 10 * 1024 * 1024 and total / compressed > MAX_COMPRESSION_RATIO
    ) or any(m.file_size > 1024 * 1024 and m.file_size / max(m.compress_size, 1) > MAX_ENTRY_RATIO
             for m in members):
        raise UploadRefused(TOO_LARGE_UNCOMPRESSED)


# --- Spreadsheets: limits enforced while reading ----------------------------------------------

@dataclass(frozen=True)
class Limits:
    """How much of a spreadsheet a reader accepts. ``rows`` counts data rows (non-blank rows
    after the header row); ``cells`` counts every cell read, blank or not, so that time is
    bounded too; ``advice`` finishes the "too many rows" message."""

    rows: int
    columns: int = 200
    cells: int = 1_000_000
    cell_chars: int = 32_767  # Excel's own limit for one cell
    line_chars: int = 1_000_000  # one CSV line
    advice: str = "Split it into smaller files"


def _too_many_rows(limits: Limits) -> UploadRefused:
    return UploadRefused(f"The file has more than {limits.rows:,} rows. {limits.advice}")


def _too_many_columns(limits: Limits) -> UploadRefused:
    return UploadRefused(f"The file has more than {limits.columns:,} columns. Remove the "
                         "columns that are not needed")


def _too_many_cells(limits: Limits) -> UploadRefused:
    return UploadRefused(f"The file has more than {limits.cells:,} cells. Remove the rows and "
                         "columns that are not needed, or split it into smaller files")


def _cell_too_long(limits: Limits, row: int) -> UploadRefused:
    return UploadRefused(f"Row {row}: a cell has more than {limits.cell_chars:,} characters")


def is_blank(row: list[object]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def _binary(file):
    """The binary file object under a Django ``File`` (io needs read1/readable)."""
    inner = getattr(file, "file", None)
    return inner if inner is not None and hasattr(inner, "read") else file


def read_rows(file: IO[bytes], family: str, limits: Limits, *,
              encodings: tuple[str, ...] = ("utf-8-sig",),
              delimiters: str | None = None,
              formulas: bool = False) -> Iterator[tuple[int, list[object]]]:
    """(row number, cells) for every non-blank row of a CSV or the first worksheet of an XLSX,
    the header row first, refusing (``UploadRefused``) as soon as a limit is passed.

    CSV: ``encodings`` are tried in turn (the whole file must decode in one of them);
    ``delimiters`` (e.g. ",;\\t") are sniffed from the first 8 KB, otherwise a comma. Row
    numbers are the file's own (the CSV line on which a record ends; the worksheet's row).
    ``formulas``: an XLSX cell holding a formula is read as its text ("=HYPERLINK(...)"), as
    the same cell reads in a CSV, not as the value Excel last worked out (which a file
    written by a program other than Excel leaves blank).
    """
    file = _binary(file)
    if family == XLSX:
        return _xlsx_rows(file, limits, formulas=formulas)
    return _csv_rows(file, limits, encodings, delimiters)


def _counted(rows: Iterator[tuple[int, list[object]]], limits: Limits
             ) -> Iterator[tuple[int, list[object]]]:
    data_rows = -1  # the first non-blank row is the header
    for number, cells in rows:
        if is_blank(cells):
            continue
        data_rows += 1
        if data_rows > limits.rows:
            raise _too_many_rows(limits)
        yield number, cells


# CSV ------------------------------------------------------------------------------------------

def _encoding_of(file: IO[bytes], encodings: tuple[str, ...]) -> str:
    """The first encoding the whole file decodes in, checked chunk by chunk (no copy)."""
    for encoding in encodings:
        decoder = codecs.getincrementaldecoder(encoding)()
        file.seek(0)
        try:
            while chunk := file.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        file.seek(0)
        return encoding
    file.seek(0)
    if "cp1252" in encodings:
        raise UploadRefused("The selected file is not a CSV file in UTF-8. Save it from Excel "
                            "as 'CSV UTF-8'")
    raise UploadRefused("The file must be a CSV file saved as UTF-8. Save it from Excel as "
                        "'CSV UTF-8'")


def _csv_rows(file: IO[bytes], limits: Limits, encodings: tuple[str, ...],
              delimiters: str | None) -> Iterator[tuple[int, list[object]]]:
    encoding = _encoding_of(file, encodings)
    text = io.TextIOWrapper(file, encoding=encoding, newline="")
    try:
        delimiter = ","
        if delimiters:
            sample = text.read(8192)
            text.seek(0)
            try:
                delimiter = csv.Sniffer().sniff(sample, delimiters=delimiters).delimiter
            except csv.Error:
                delimiter = ","

        def lines() -> Iterator[str]:
            while line := text.readline(limits.line_chars + 1):
                if len(line) > limits.line_chars:
                    raise UploadRefused(f"A line of the file is longer than "
                                        f"{limits.line_chars:,} characters. Check that it is a "
                                        "CSV file with one row on each line")
                yield line

        reader = csv.reader(lines(), delimiter=delimiter, strict=True)
        cells_read = 0

        def records() -> Iterator[tuple[int, list[object]]]:
            nonlocal cells_read
            try:
                for record in reader:
                    width = len(record)
                    while width and not record[width - 1].strip():
                        width -= 1
                    if width > limits.columns:
                        raise _too_many_columns(limits)
                    cells_read += len(record)
                    if cells_read > limits.cells:
                        raise _too_many_cells(limits)
                    if any(len(cell) > limits.cell_chars for cell in record):
                        raise _cell_too_long(limits, reader.line_num)
                    yield reader.line_num, record
            except csv.Error as error:
                raise UploadRefused(f"Row {reader.line_num}: the file is not valid CSV "
                                    f"({error}). Check for a missing closing quote") from error

        yield from _counted(records(), limits)
    finally:
        text.detach()  # leave the caller's file open
        file.seek(0)


# XLSX -----------------------------------------------------------------------------------------

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_BUILTIN_DATES = set(range(14, 23)) | {45, 46, 47}
_BUILTIN_TIMEDELTA = {46}


def _parser(*, namespaces: bool = True) -> expat.XMLParserType:
    """An expat parser that refuses DTDs and entities (OOXML has neither). Without
    namespaces (the worksheet, for speed) element names keep any prefix (``x:c``)."""
    parser = expat.ParserCreate(namespace_separator="}") if namespaces else expat.ParserCreate()

    def refuse(*_args) -> None:
        raise UploadRefused(UNREADABLE_XLSX)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True
    return parser


def _feed(parser: expat.XMLParserType, stream: IO[bytes]) -> None:
    while chunk := stream.read(CHUNK):
        parser.Parse(chunk, False)
    parser.Parse(b"", True)


def _small_part(archive: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > MAX_XML_PART_BYTES:
        raise UploadRefused(TOO_LARGE_UNCOMPRESSED)
    return archive.read(info)


def _first_sheet(archive: zipfile.ZipFile) -> tuple[str, bool]:
    """The first worksheet's part name, and whether the workbook uses the 1904 date system."""
    first: list[str] = []
    date1904 = [False]
    parser = _parser()

    def start(tag: str, attrs: dict[str, str]) -> None:
        local = tag.rpartition("}")[2]
        if local == "workbookPr":
            date1904[0] = attrs.get("date1904", "").lower() in ("1", "true")
        elif local == "sheet" and not first:
            first.append(attrs.get(f"{_REL}}}id", ""))

    parser.StartElementHandler = start
    workbook = _small_part(archive, "xl/workbook.xml")
    if workbook is None:
        raise UploadRefused(UNREADABLE_XLSX)
    parser.Parse(workbook, True)
    if not first:
        raise UploadRefused("The selected file has no worksheet")
    targets: dict[str, str] = {}
    rels = _small_part(archive, "xl/_rels/workbook.xml.rels")
    if rels:
        rel_parser = _parser()

        def rel(tag: str, attrs: dict[str, str]) -> None:
            if tag.rpartition("}")[2] == "Relationship":
                targets[attrs.get("Id", "")] = attrs.get("Target", "")

        rel_parser.StartElementHandler = rel
        rel_parser.Parse(rels, True)
    target = targets.get(first[0], "worksheets/sheet1.xml")
    path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return path, date1904[0]


def _date_styles(archive: zipfile.ZipFile) -> tuple[set[int], set[int]]:
    """Indexes of the cell styles that format numbers as dates (and as durations)."""
    data = _small_part(archive, "xl/styles.xml")
    if not data:
        return set(), set()
    custom: dict[int, str] = {}
    formats: list[int] = []
    state = {"in_xfs": False}
    parser = _parser()

    def start(tag: str, attrs: dict[str, str]) -> None:
        local = tag.rpartition("}")[2]
        if local == "numFmt":
            with contextlib.suppress(ValueError):
                custom[int(attrs.get("numFmtId", "-1"))] = attrs.get("formatCode", "")
        elif local == "cellXfs":
            state["in_xfs"] = True
        elif local == "xf" and state["in_xfs"]:
            try:
                formats.append(int(attrs.get("numFmtId", "0")))
            except ValueError:
                formats.append(0)

    def end(tag: str) -> None:
        if tag.rpartition("}")[2] == "cellXfs":
            state["in_xfs"] = False

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.Parse(data, True)
    dates: set[int] = set()
    durations: set[int] = set()
    for index, format_id in enumerate(formats):
        code = custom.get(format_id)
        if code is None:
            if format_id in _BUILTIN_DATES:
                dates.add(index)
                if format_id in _BUILTIN_TIMEDELTA:
                    durations.add(index)
        elif is_date_format(code):
            dates.add(index)
            if is_timedelta_format(code):
                durations.add(index)
    return dates, durations


def _shared_strings(archive: zipfile.ZipFile, limits: Limits) -> list[str]:
    try:
        info = archive.getinfo("xl/sharedStrings.xml")
    except KeyError:
        return []
    strings: list[str] = []
    parts: list[str] = []
    state = {"depth_t": 0, "skip": 0, "chars": 0, "total": 0}
    parser = _parser()

    def start(tag: str, _attrs: dict[str, str]) -> None:
        local = tag.rpartition("}")[2]
        if local == "t":
            state["depth_t"] += 1
        elif local in ("rPh", "phoneticPr"):
            state["skip"] += 1

    def end(tag: str) -> None:
        local = tag.rpartition("}")[2]
        if local == "t":
            state["depth_t"] -= 1
        elif local in ("rPh", "phoneticPr"):
            state["skip"] -= 1
        elif local == "si":
            strings.append("".join(parts))
            parts.clear()
            state["chars"] = 0
            if len(strings) > limits.cells:
                raise _too_many_cells(limits)

    def text(data: str) -> None:
        if state["depth_t"] and not state["skip"]:
            state["chars"] += len(data)
            state["total"] += len(data)
            if state["chars"] > limits.cell_chars:
                raise UploadRefused(f"A cell of the file has more than {limits.cell_chars:,} "
                                    "characters")
            if state["total"] > MAX_SHARED_STRING_CHARS:
                raise UploadRefused(TOO_LARGE_UNCOMPRESSED)
            parts.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    with archive.open(info) as stream:
        _feed(parser, stream)
    return strings


_COLUMNS: dict[str, int] = {}


def _column_index(reference: str) -> int:
    """1 for "A7", 28 for "AB7"; the letters' index is cached (a sheet has few columns)."""
    letters = reference.rstrip("0123456789")
    index = _COLUMNS.get(letters)
    if index is None:
        if not (0 < len(letters) <= 3 and letters.isascii() and letters.isalpha()):
            raise ValueError(reference)
        index = 0
        for letter in letters.upper():
            index = index * 26 + ord(letter) - 64
        if len(_COLUMNS) < 20_000:
            _COLUMNS[letters] = index
    return index


def _number(text: str) -> int | float:
    text = text.strip()
    if "." in text or "E" in text or "e" in text:
        return float(text)
    return int(text)


def _local(tag: str) -> str:
    return tag.rpartition(":")[2]


def _xlsx_rows(file: IO[bytes], limits: Limits, *,
               formulas: bool = False) -> Iterator[tuple[int, list[object]]]:
    file.seek(0)
    try:
        archive = zipfile.ZipFile(file)
    except BROKEN as error:
        raise UploadRefused(UNREADABLE_XLSX) from error
    try:
        try:
            sheet, date1904 = _first_sheet(archive)
            dates, durations = _date_styles(archive)
            shared = _shared_strings(archive, limits)
            info = archive.getinfo(sheet)
        except UploadRefused:
            raise
        except BROKEN as error:
            raise UploadRefused(UNREADABLE_XLSX) from error
        epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
        max_columns, max_cells, max_chars = limits.columns, limits.cells, limits.cell_chars
        max_rows, rows_seen = limits.rows, 0
        element_budget = 4 * limits.cells + 10 * limits.rows + 10_000

        # The worksheet is read element by element; these are the parser's whole state, kept
        # in plain local variables because the handlers run for every element of the sheet.
        ready: list[tuple[int, list[object]]] = []
        cells: dict[int, object] = {}
        parts: list[str] = []
        formula: list[str] = []
        in_formula = False
        row_number = column = cell_count = elements = chars = skip = 0
        in_cell = False
        cell_type, cell_style = "n", 0

        def value_of(raw: str) -> object:
            if cell_type == "s":
                return shared[int(raw)] if raw.strip() else None
            if cell_type in ("inlineStr", "str"):
                return raw
            if not raw:
                return None
            if cell_type == "n":
                number = _number(raw)
                if cell_style in dates:
                    try:
                        return from_excel(number, epoch, timedelta=cell_style in durations)
                    except (OverflowError, ValueError):
                        return "#VALUE!"
                return number
            if cell_type == "b":
                return bool(int(raw))
            if cell_type == "d":
                return from_ISO8601(raw)
            return raw  # an error value such as #N/A

        def start(tag: str, attrs: dict[str, str]) -> None:
            nonlocal elements, cell_count, column, in_cell, cell_type, cell_style, chars
            nonlocal row_number, skip, in_formula
            elements += 1
            if elements > element_budget:
                raise _too_many_cells(limits)
            if ":" in tag:
                tag = _local(tag)
            if tag == "c":
                cell_count += 1
                if cell_count > max_cells:
                    raise _too_many_cells(limits)
                reference = attrs.get("r")
                column = _column_index(reference) if reference else column + 1
                cell_type = attrs.get("t", "n")
                cell_style = int(attrs.get("s") or 0)
                in_cell, chars = True, 0
                parts.clear()
            elif tag == "row":
                number = attrs.get("r")
                row_number = int(number) if number else row_number + 1
                column = 0
                cells.clear()
            elif tag in ("f", "rPh"):
                skip += 1
                if tag == "f" and formulas:
                    in_formula = True

        def end(tag: str) -> None:
            nonlocal in_cell, skip, rows_seen, in_formula
            if ":" in tag:
                tag = _local(tag)
            if tag == "c":
                value = value_of("".join(parts)) if in_cell else None
                if formula:  # a shared formula's other cells carry no text: their value
                    value = "=" + "".join(formula)
                    formula.clear()
                in_cell = False
                if value is not None and value != "":
                    if column > max_columns:
                        raise _too_many_columns(limits)
                    cells[column] = value
            elif tag == "row":
                if cells and not is_blank(list(cells.values())):
                    # Counted here, inside the parser, so that nothing after the row that
                    # passes the limit is even parsed (the header row is the first).
                    rows_seen += 1
                    if rows_seen > max_rows + 1:
                        raise _too_many_rows(limits)
                width = max(cells) if cells else 0
                ready.append((row_number, [cells.get(i) for i in range(1, width + 1)]))
                cells.clear()
            elif tag in ("f", "rPh"):
                skip -= 1
                in_formula = False

        def text(data: str) -> None:
            nonlocal chars
            if in_formula and in_cell:
                chars += len(data)
                if chars > max_chars:
                    raise _cell_too_long(limits, row_number)
                formula.append(data)
            elif in_cell and not skip:
                chars += len(data)
                if chars > max_chars:
                    raise _cell_too_long(limits, row_number)
                parts.append(data)

        parser = _parser(namespaces=False)
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = text

        def rows() -> Iterator[tuple[int, list[object]]]:
            try:
                with archive.open(info) as stream:
                    while chunk := stream.read(CHUNK):
                        parser.Parse(chunk, False)
                        yield from ready
                        ready.clear()
                    parser.Parse(b"", True)
                    yield from ready
                    ready.clear()
            except UploadRefused:
                raise
            except BROKEN as error:
                raise UploadRefused(UNREADABLE_XLSX) from error

        yield from _counted(rows(), limits)
    finally:
        archive.close()
        file.seek(0)
