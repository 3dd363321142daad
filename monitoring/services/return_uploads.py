"""Files sent with a return: evidence, and the figures themselves from the CSV/XLSX template."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from commissioning import inputs, uploads
from commissioning.locking import ConcurrentEditError
from commissioning.models import User
from contracts.models import Contract
from monitoring.models import (
    KPI,
    DataType,
    Evidence,
    PerformanceReturn,
    ReportingPeriod,
)
from monitoring.selectors import kpis_for_period
from monitoring.services.returns import ValueInput, check_editable, return_save_draft

EVIDENCE_EXTENSIONS = (".pdf", ".docx", ".xlsx", ".csv")
EVIDENCE_TYPES = uploads.file_types(*EVIDENCE_EXTENSIONS)
EVIDENCE_DESCRIPTION = uploads.described(*EVIDENCE_EXTENSIONS)


@transaction.atomic
def evidence_upload(*, performance_return: PerformanceReturn, upload: UploadedFile,
                    kpi: KPI | None, uploaded_by: User) -> Evidence:
    """Store evidence under a random name after checking its size and content signature."""
    check_editable(performance_return)
    if kpi is not None and kpi.contract_id != performance_return.contract_id:
        raise ValidationError({"kpi": "Select a KPI of this contract"})
    checked = uploads.check_for_field(upload, EVIDENCE_TYPES, EVIDENCE_DESCRIPTION)
    evidence = Evidence(performance_return=performance_return, kpi=kpi,
                        original_name=checked.name, size=upload.size,
                        content_type=checked.content_type, uploaded_by=uploaded_by)
    evidence.file.save(checked.name, upload, save=False)
    evidence._history_user = uploaded_by
    try:
        evidence.save()
    except Exception:
        evidence.file.delete(save=False)
        raise
    return evidence


MAX_RETURN_ROWS = 1_000  # one row a KPI: far more than any contract has
RETURN_LIMITS = uploads.Limits(rows=MAX_RETURN_ROWS, columns=50, cells=50_000,
                               advice="Use the template: one row for each KPI")
TEMPLATE_COLUMNS = ["kpi_code", "kpi_name", "value", "numerator", "denominator", "commentary"]
SPREADSHEET_TYPES = uploads.file_types(".csv", ".xlsx")


@dataclass
class ImportResult:
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (row, column, message)
    performance_return: PerformanceReturn | None = None
    rows: int = 0


def return_import(*, contract: Contract, period: ReportingPeriod, upload: UploadedFile,
                  imported_by: User, today: date | None = None) -> ImportResult:
    """Fill a return's draft from the CSV/XLSX template. Any error, anywhere: nothing saved,
    and every error is reported with its row and column."""
    result = ImportResult()
    try:
        kind = uploads.check_for_field(upload, SPREADSHEET_TYPES, "a CSV or XLSX file").family
        rows = [(number, ["" if c is None else str(c) for c in cells])
                for number, cells in uploads.read_rows(upload, kind, RETURN_LIMITS)]
    except ValidationError as error:
        result.errors.append((0, "file", "; ".join(error.messages)))
        return result
    except uploads.UploadRefused as error:
        message = str(error)  # the row limit's advice already names the template
        result.errors.append((0, "file", message if "Use the template" in message
                              else f"{message}. Use the template"))
        return result
    if not rows:
        result.errors.append((1, "file", "The file is empty"))
        return result
    if len(rows) == 1:
        result.errors.append((1, "file", "The file has no rows of figures under the column "
                                         "headings. Use the template"))
        return result
    header = [h.strip().lower() for h in rows[0][1]]
    missing = [c for c in ("kpi_code", "value", "numerator", "denominator") if c not in header]
    if missing:
        result.errors.append((1, ", ".join(missing),
                              f"Missing column{'s' if len(missing) > 1 else ''}: "
                              f"{', '.join(missing)}. Use the template"))
        return result
    col = {name: header.index(name) for name in header if name}
    kpis = {k.code.upper(): k for k in kpis_for_period(contract, period)}
    seen: set[str] = set()
    values: list[ValueInput] = []

    def cell(row: list[str], name: str) -> str:
        index = col.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    for number, row in rows[1:]:
        code = cell(row, "kpi_code").upper()
        if not code:
            result.errors.append((number, "kpi_code", "Enter a KPI code"))
            continue
        kpi = kpis.get(code)
        if kpi is None:
            result.errors.append((number, "kpi_code",
                                  f"{code} is not a KPI of this contract for {period.label}"))
            continue
        if code in seen:
            result.errors.append((number, "kpi_code", f"{code} appears more than once"))
            continue
        seen.add(code)
        item = ValueInput(kpi_id=kpi.pk, commentary=cell(row, "commentary"))
        parts = ("numerator", "denominator") if kpi.is_percentage else (
            ("value",) if kpi.is_numeric else ())
        for part in parts:
            text = cell(row, part)
            if not text:
                continue
            try:
                number_value = inputs.parse_figure(text)
            except inputs.FigureError as error:
                result.errors.append((number, part, f"{text!r} is not a number"
                                      if error.reason == "format"
                                      else inputs.figure_message(part.capitalize(), error)))
                continue
            if number_value < 0:
                result.errors.append((number, part, "Enter 0 or more"))
                continue
            setattr(item, part, number_value)
        if kpi.data_type == DataType.YES_NO:
            answer = cell(row, "value").lower()
            if answer in ("yes", "y", "1", "true"):
                item.yes_no = True
            elif answer in ("no", "n", "0", "false"):
                item.yes_no = False
            elif answer:
                result.errors.append((number, "value", "Enter yes or no"))
        elif kpi.data_type == DataType.TEXT:
            item.text = cell(row, "value")
        if kpi.is_percentage and item.numerator is not None and item.denominator is not None \
                and item.numerator > item.denominator:
            result.errors.append((number, "numerator",
                                  "The numerator must not be more than the denominator"))
        values.append(item)
    result.rows = len(rows) - 1
    if result.errors:
        return result
    existing = PerformanceReturn.objects.filter(contract=contract, period_id=period.pk).first()
    try:
        result.performance_return = return_save_draft(
            contract=contract, period=period, values=values,
            overall_commentary=existing.overall_commentary if existing else "",
            expected_version=existing.version if existing else None, saved_by=imported_by,
            today=today,
        )
    except ConcurrentEditError as error:
        result.errors.append((0, "file", str(error)))
    except ValidationError as error:
        for key, messages in error.message_dict.items():
            for message in messages:
                result.errors.append((0, "file" if key == "__all__" else key, message))
    return result
