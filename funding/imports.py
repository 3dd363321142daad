"""Reading finance system exports (CSV or XLSX) of monthly actuals and forecasts.

The file is checked and read by ``commissioning.uploads`` (size, type by content, archive
checks, the sheet streamed with row, column and cell limits).

Every row is validated and every problem is reported with
its spreadsheet row number, column and a message, so the user can fix the file in one go.
Nothing here writes to the database.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal

from commissioning import uploads
from commissioning.inputs import parse_money
from commissioning.uploads import UploadRefused
from funding.models import month_label

MAX_ROWS = 10_000
MAX_COLUMNS = 50
MAX_CELLS = 300_000
FINANCE_FILE_TYPES = uploads.file_types(".csv", ".xlsx")
FINANCE_FILES = "a CSV or an Excel workbook (.xlsx)"

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

_MONTHS = {name: index for index, name in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}


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

def read_upload(name: str, data: bytes) -> tuple[list[str], list[tuple[int, list]]]:
    """Headings and (row number, cells) of the non-blank rows of a CSV or XLSX file's bytes.
    Raises ``UploadRefused``."""
    file = io.BytesIO(data)
    kind = uploads.check_file(file, name=name, allowed=FINANCE_FILE_TYPES,
                              description=FINANCE_FILES).family
    limits = uploads.Limits(rows=MAX_ROWS, columns=MAX_COLUMNS, cells=MAX_CELLS,
                            advice="Split it into smaller files")
    rows = [(number, ["" if v is None else v for v in cells]) for number, cells in
            uploads.read_rows(file, kind, limits, encodings=("utf-8-sig", "cp1252"))]
    if not rows:
        raise UploadRefused("The selected file is empty")
    return [str(c) for c in rows[0][1]], rows[1:]


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
