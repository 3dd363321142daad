"""Reading finance system exports (CSV or XLSX) of monthly actuals and forecasts.

The file is checked by content, not only by name: an XLSX must be a real Office Open XML zip
without macros, a CSV must be text. Every row is validated and every problem is reported with
its spreadsheet row number, column and a message, so the user can fix the file in one go.
Nothing here writes to the database.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import PurePath

from django.conf import settings

from commissioning.spreadsheets import workbook_problem
from funding.models import month_label

MAX_ROWS = 10_000
ZIP_SIGNATURE = b"PK\x03\x04"

# Column heading (normalised) -> field. Finance systems name them in many ways.
COLUMNS = {
    "schemecode": "scheme_code", "scheme": "scheme_code", "schemeid": "scheme_code",
    "code": "scheme_code",
    "month": "month", "period": "month", "date": "month",
    "actual": "actual", "actuals": "actual", "actualspend": "actual", "spend": "actual",
    "forecast": "forecast", "forecastoutturn": "forecast", "outturn": "forecast",
}
COLUMN_LABELS = {"scheme_code": "Scheme code", "month": "Month", "actual": "Actual",
                 "forecast": "Forecast"}
REQUIRED = ("scheme_code", "month", "actual", "forecast")

_AMOUNT = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?$|^\.\d{1,2}$")
_MONTHS = {name: index for index, name in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}


class UploadRefused(ValueError):
    """The file as a whole cannot be read (wrong type, too big, not what it claims)."""


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ParsedRow:
    row: int
    scheme_code: str
    month: date
    actual: Decimal
    forecast: Decimal | None

    def as_json(self) -> dict:
        return {"row": self.row, "scheme_code": self.scheme_code,
                "month": self.month.isoformat(), "actual": str(self.actual),
                "forecast": None if self.forecast is None else str(self.forecast)}


# --- Values ----------------------------------------------------------------------------------

def parse_money(value: object) -> Decimal:
    """"£1,234.50", "1234.5", "-£12", "(1,234.50)" (a negative) or a number from a
    spreadsheet cell. Raises ValueError for anything else, such as "12,34x"."""
    if isinstance(value, bool):
        raise ValueError("not an amount")
    if isinstance(value, int | float | Decimal):
        try:
            amount = Decimal(str(value))
        except InvalidOperation as error:
            raise ValueError("not an amount") from error
        if not amount.is_finite():
            raise ValueError("not an amount")
        return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = str(value).strip().replace(" ", "")
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    if text.startswith("-"):
        negative, text = not negative, text[1:]
    if text.startswith("£"):
        text = text[1:]
    if text.startswith("-") and not negative:
        negative, text = True, text[1:]
    if not _AMOUNT.match(text):
        raise ValueError("not an amount")
    amount = Decimal(text.replace(",", ""))
    if amount >= Decimal("1000000000000"):
        raise ValueError("too large")
    return -amount if negative else amount


def parse_month(value: object) -> date:
    """A month as a date cell, "01/04/2025" (UK day first), "04/2025", "2025-04-01",
    "2025-04", "Apr 2025", "April 2025" or "Apr-25". Returns the first of the month."""
    if isinstance(value, datetime):
        return value.date().replace(day=1)
    if isinstance(value, date):
        return value.replace(day=1)
    text = str(value).strip()
    match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return date(year, month, day).replace(day=1)
    match = re.fullmatch(r"(\d{1,2})[/.-](\d{4})", text)
    if match:
        return date(int(match.group(2)), int(match.group(1)), 1)
    match = re.fullmatch(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?", text)
    if match:
        day = int(match.group(3) or 1)
        return date(int(match.group(1)), int(match.group(2)), day).replace(day=1)
    match = re.fullmatch(r"([A-Za-z]+)[\s-]+(\d{2}|\d{4})", text)
    if match and match.group(1)[:3].lower() in _MONTHS:
        name = match.group(1).lower()
        full = date(2000, _MONTHS[name[:3]], 1).strftime("%B").lower()
        if name not in (name[:3], full) and not (name == "sept"):
            raise ValueError("not a month")
        year = int(match.group(2))
        return date(year + 2000 if year < 100 else year, _MONTHS[name[:3]], 1)
    raise ValueError("not a month")


# --- Files -----------------------------------------------------------------------------------

def _check_size(size: int) -> None:
    limit = settings.MAX_UPLOAD_BYTES
    if size > limit:
        raise UploadRefused(f"The selected file must be smaller than {limit // (1024 * 1024)} MB"
                            if limit >= 1024 * 1024 else
                            f"The selected file must be smaller than {limit:,} bytes")


def read_upload(name: str, data: bytes) -> tuple[list[str], list[tuple[int, list]]]:
    """Headings and (row number, cells) from a CSV or XLSX file's bytes."""
    _check_size(len(data))
    suffix = PurePath(name or "").suffix.lower()
    if suffix == ".xlsm":
        raise UploadRefused("Macro-enabled workbooks (.xlsm) are not accepted. Save the file "
                            "as an Excel workbook (.xlsx) or CSV")
    if suffix not in (".csv", ".xlsx"):
        raise UploadRefused("The selected file must be a CSV or an Excel workbook (.xlsx)")
    if not data:
        raise UploadRefused("The selected file is empty")
    if suffix == ".xlsx":
        return _read_xlsx(data)
    return _read_csv(data)


def _read_csv(data: bytes) -> tuple[list[str], list[tuple[int, list]]]:
    if data.startswith(ZIP_SIGNATURE) or b"\x00" in data[:4096]:
        raise UploadRefused("The selected file is not a CSV file. Export it from the finance "
                            "system as CSV or XLSX")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = list(reader)
    except csv.Error as error:
        raise UploadRefused(f"Row {reader.line_num}: the file is not valid CSV ({error}). "
                            "Export it from the finance system again") from error
    if not rows:
        raise UploadRefused("The selected file is empty")
    return rows[0], [(index, row) for index, row in enumerate(rows[1:], start=2)]


def _read_xlsx(data: bytes) -> tuple[list[str], list[tuple[int, list]]]:
    if not data.startswith(ZIP_SIGNATURE):
        raise UploadRefused("The selected file is not an Excel workbook (.xlsx)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        unpacked = sum(info.file_size for info in archive.infolist())
        content_types = archive.read("[Content_Types].xml") \
            if "[Content_Types].xml" in names else b""
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, RuntimeError, ValueError,
            NotImplementedError, zlib.error) as error:  # a corrupt or encrypted zip
        raise UploadRefused("The selected file is not an Excel workbook (.xlsx)") from error
    if "xl/workbook.xml" not in names:
        raise UploadRefused("The selected file is not an Excel workbook (.xlsx)")
    if "xl/vbaProject.bin" in names or b"macroEnabled" in content_types:
        raise UploadRefused("Macro-enabled workbooks are not accepted. Save the file as an "
                            "Excel workbook (.xlsx) or CSV")
    if unpacked > 10 * settings.MAX_UPLOAD_BYTES:
        raise UploadRefused("The selected file is too large when unpacked")
    problem = workbook_problem(data)  # a zip bomb, judged before anything is decompressed
    if problem:
        raise UploadRefused(problem)

    from openpyxl import load_workbook  # defusedxml is installed, so openpyxl parses safely

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:
        raise UploadRefused("The selected file could not be read as an Excel workbook") \
            from error
    try:
        sheet = workbook.worksheets[0]
        rows: list[tuple[int, list]] = []
        headings: list[str] | None = None
        for index, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = ["" if v is None else v for v in values]
            if headings is None:
                headings = [str(c) for c in cells]
                continue
            rows.append((index, cells))
            if len(rows) > MAX_ROWS:
                break
    finally:
        workbook.close()
    if headings is None:
        raise UploadRefused("The selected file is empty")
    return headings, rows


# --- Rows ------------------------------------------------------------------------------------

def _normalise(heading: object) -> str:
    return re.sub(r"[^a-z]", "", str(heading).lower())


def parse_rows(headings: list[str], rows: Iterable[tuple[int, list]], *,
               scheme_codes: set[str], agreement_start: date, agreement_end: date,
               closed_months: Mapping[date, str]) -> tuple[list[ParsedRow], list[RowError]]:
    """Validate every row; return the good rows and every error (row, column, message).
    ``closed_months`` gives each closed month the message for the person importing."""
    positions: dict[str, int] = {}
    for position, heading in enumerate(headings):
        column = COLUMNS.get(_normalise(heading))
        if column and column not in positions:
            positions[column] = position
    missing = [COLUMN_LABELS[c] for c in REQUIRED if c not in positions]
    if missing:
        raise UploadRefused(
            f"The file is missing the column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}. The first row must name the columns Scheme code, Month, "
            "Actual and Forecast")
    codes_upper = {code.upper(): code for code in scheme_codes}
    parsed: list[ParsedRow] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, date], int] = {}
    count = 0
    for number, cells in rows:
        def cell(column: str, cells=cells) -> object:
            position = positions[column]
            return cells[position] if position < len(cells) else ""

        if all(str(c).strip() == "" for c in cells):
            continue
        count += 1
        if count > MAX_ROWS:
            raise UploadRefused(f"The file has more than {MAX_ROWS:,} rows. Split it into "
                                "smaller files")
        row_errors: list[RowError] = []
        raw_code = str(cell("scheme_code")).strip()
        code = codes_upper.get(raw_code.upper())
        if not raw_code:
            row_errors.append(RowError(number, "Scheme code", "Enter a scheme code"))
        elif code is None:
            row_errors.append(RowError(
                number, "Scheme code",
                f"Unknown scheme code “{raw_code}”: it is not a scheme in this agreement"))
        month: date | None = None
        raw_month = cell("month")
        if str(raw_month).strip() == "":
            row_errors.append(RowError(number, "Month", "Enter the month"))
        else:
            try:
                month = parse_month(raw_month)
            except ValueError:
                row_errors.append(RowError(
                    number, "Month",
                    f"“{raw_month}” is not a month. Use a date like 01/04/2025 or April 2025"))
        if month is not None:
            if not (agreement_start.replace(day=1) <= month <= agreement_end):
                row_errors.append(RowError(
                    number, "Month",
                    f"{month_label(month)} is not in the agreement, which runs from "
                    f"{agreement_start:%d/%m/%Y} to {agreement_end:%d/%m/%Y}"))
            elif month in closed_months:
                row_errors.append(RowError(number, "Month", closed_months[month]))
        amounts: dict[str, Decimal | None] = {}
        for column in ("actual", "forecast"):
            raw = cell(column)
            label = COLUMN_LABELS[column]
            if str(raw).strip() == "":
                if column == "actual":
                    row_errors.append(RowError(number, label, "Enter the actual spend"))
                amounts[column] = None
                continue
            try:
                amounts[column] = parse_money(raw)
            except ValueError:
                amounts[column] = None
                row_errors.append(RowError(
                    number, label,
                    f"“{raw}” is not an amount. Use pounds and pence like 1,234.50, "
                    "£1,234.50 or (1,234.50) for a negative"))
        if code is not None and month is not None:
            first = seen.get((code, month))
            if first is not None:
                row_errors.append(RowError(
                    number, "Scheme code",
                    f"Duplicate row: {code} for {month_label(month)} is already on row "
                    f"{first}"))
            else:
                seen[(code, month)] = number
        if row_errors:
            errors.extend(row_errors)
        else:
            parsed.append(ParsedRow(row=number, scheme_code=code, month=month,
                                    actual=amounts["actual"], forecast=amounts["forecast"]))
    if not parsed and not errors:
        raise UploadRefused("The file has no rows of figures under the column headings")
    return parsed, errors
