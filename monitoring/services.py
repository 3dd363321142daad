"""Writes for performance monitoring. Keyword-only, typed, one transaction each.

Every rule about returns lives here: the views and forms only parse input. A service refuses
bad input with ``ValidationError({field: message})`` so the view can show the message next to
the field; nothing partial is saved when it does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from commissioning import uploads
from commissioning.email import email_queue, render_plain_text
from commissioning.models import PROVIDER_ROLES, Membership, Role, User
from commissioning.periods import (
    FinancialYear,
    add_months,
    add_working_days,
    quarter_for,
)
from contracts.models import Contract
from monitoring import nhs_numbers
from monitoring.models import (
    KPI,
    AssessmentRating,
    AssessmentStatus,
    DataType,
    Evidence,
    Frequency,
    KPITarget,
    KPITemplateSet,
    PerformanceAssessment,
    PerformanceReturn,
    PeriodKind,
    PseudonymisedServiceUser,
    Rating,
    ReminderKind,
    ReminderSent,
    ReportingPeriod,
    ReturnReview,
    ReturnStatus,
    ReturnValue,
    ReturnVersion,
    ReviewDecision,
    ServiceUserList,
)

DUE_WORKING_DAYS = 20
REMINDER_BEFORE_WORKING_DAYS = 5
PERCENT_PLACES = Decimal("0.01")


# --- Reporting periods -----------------------------------------------------------------------

def _period_values(kind: str, day: date) -> dict:
    year = FinancialYear.from_date(day)
    fy, fy_slug = year.label, year.slug
    if kind == PeriodKind.QUARTER:
        quarter = quarter_for(day)
        start, end = year.quarter(quarter)
        return {"code": f"{fy_slug}-q{quarter}", "label": f"{fy} Q{quarter}",
                "financial_year": fy, "quarter": quarter, "month": None,
                "start_date": start, "end_date": end,
                "due_date": add_working_days(end, DUE_WORKING_DAYS)}
    start = date(day.year, day.month, 1)
    end = add_months(start, 1) - timedelta(days=1)
    month = (day.month - 4) % 12 + 1
    return {"code": f"{fy_slug}-m{month:02d}", "label": f"{start:%B %Y}",
            "financial_year": fy, "quarter": quarter_for(day), "month": month,
            "start_date": start, "end_date": end,
            "due_date": add_working_days(end, DUE_WORKING_DAYS)}


def period_get(*, kind: str, day: date) -> ReportingPeriod:
    """The quarter or month containing ``day``, created the first time it is needed.

    The due date is 20 working days after the period ends (England and Wales bank holidays
    excluded), e.g. 2025/26 Q3 (October–December 2025) is due on 29 January 2026.
    """
    values = _period_values(kind, day)
    period = ReportingPeriod.objects.filter(kind=kind, start_date=values["start_date"]).first()
    if period is not None:
        return period
    try:
        with transaction.atomic():
            return ReportingPeriod.objects.create(kind=kind, **values)
    except IntegrityError:
        return ReportingPeriod.objects.get(kind=kind, start_date=values["start_date"])


def period_from_code(code: str) -> ReportingPeriod | None:
    """"2025-26-q3" or "2025-26-m07" -> the period (created if needed), None if malformed."""
    try:
        fy, _, part = code.rpartition("-")
        start = FinancialYear.from_slug(fy).first_day
        number = int(part[1:])
    except (ValueError, IndexError):
        return None
    if part.startswith("q") and 1 <= number <= 4:
        return period_get(kind=PeriodKind.QUARTER, day=add_months(start, 3 * (number - 1)))
    if part.startswith("m") and 1 <= number <= 12:
        return period_get(kind=PeriodKind.MONTH, day=add_months(start, number - 1))
    return None


def previous_period(period: ReportingPeriod) -> ReportingPeriod:
    return period_get(kind=period.kind, day=period.start_date - timedelta(days=1))


def recent_periods(*, kind: str, today: date, count: int) -> list[ReportingPeriod]:
    """The last ``count`` periods that have ended by ``today``, oldest first."""
    day = today
    current = _period_values(kind, day)
    if current["end_date"] >= today:
        day = current["start_date"] - timedelta(days=1)
    periods = []
    for _ in range(count):
        period = period_get(kind=kind, day=day)
        periods.append(period)
        day = period.start_date - timedelta(days=1)
    return list(reversed(periods))


# --- KPIs, targets and templates ---------------------------------------------------------------

@dataclass
class KPIInput:
    code: str
    name: str
    quadrant: str
    data_type: str
    direction: str
    frequency: str
    definition: str = ""
    unit: str = ""
    baseline: Decimal | None = None
    evidence_required: bool = False
    is_s52: bool = False
    service_line_id: int | None = None
    order: int = 0


def _check_kpi_code(contract: Contract, code: str, exclude_pk: int | None = None) -> None:
    clash = KPI.objects.filter(contract=contract, code__iexact=code)
    if exclude_pk:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError({"code": f"This contract already has a KPI with the code {code}"})


@transaction.atomic
def kpi_create(*, contract: Contract, data: KPIInput, target: Decimal | None = None,
               tolerance: Decimal = Decimal("0"), upper: Decimal | None = None,
               valid_from: ReportingPeriod | None = None, created_by: User | None) -> KPI:
    """Add a KPI to a contract, with its first target from ``valid_from`` (default: the
    quarter the contract starts in)."""
    code = data.code.strip().upper()
    _check_kpi_code(contract, code)
    if data.service_line_id and not contract.service_lines.filter(pk=data.service_line_id).exists():
        raise ValidationError({"service_line": "Select a pathway of this contract"})
    kpi = KPI(contract=contract, **{**data.__dict__, "code": code})
    kpi._history_user = created_by
    kpi.save()
    valid_from = valid_from or period_get(kind=PeriodKind.QUARTER, day=contract.start_date)
    target_set(kpi=kpi, valid_from=valid_from, target_value=target, upper_value=upper,
               amber_tolerance=tolerance, set_by=created_by)
    return kpi


@transaction.atomic
def kpi_update(*, kpi: KPI, data: KPIInput, updated_by: User) -> KPI:
    """Change a KPI's definition. Its targets are versioned separately (``target_set``)."""
    code = data.code.strip().upper()
    _check_kpi_code(kpi.contract, code, exclude_pk=kpi.pk)
    if kpi.values.exists() and data.data_type != kpi.data_type:
        raise ValidationError({"data_type": "You cannot change the data type of a KPI that "
                                            "already has returns. Add a new KPI instead"})
    for name, value in {**data.__dict__, "code": code}.items():
        setattr(kpi, name, value)
    kpi._history_user = updated_by
    kpi.save()
    return kpi


@transaction.atomic
def target_set(*, kpi: KPI, valid_from: ReportingPeriod, target_value: Decimal | None,
               amber_tolerance: Decimal = Decimal("0"), upper_value: Decimal | None = None,
               set_by: User | None) -> KPITarget:
    """Set the target in force from ``valid_from`` onwards. Earlier periods keep the target
    they had, so a return's RAG never changes because a target changed later."""
    if amber_tolerance is None or amber_tolerance < 0:
        raise ValidationError({"amber_tolerance": "The amber tolerance must be 0 or more"})
    if upper_value is not None and target_value is not None and upper_value < target_value:
        raise ValidationError({"upper_value": "The top of the range must be at least the "
                                              "bottom of the range"})
    values = {"target_value": target_value, "upper_value": upper_value,
              "amber_tolerance": amber_tolerance}
    target = KPITarget.objects.filter(kpi=kpi, valid_from=valid_from).first()
    if target is not None and all(getattr(target, k) == v for k, v in values.items()):
        return target  # the same target again changes nothing, not even the history
    target, _ = KPITarget.objects.update_or_create(
        kpi=kpi, valid_from=valid_from, defaults={**values, "set_by": set_by},
    )
    return target


@transaction.atomic
def templates_copy(*, contract: Contract, template_set: KPITemplateSet,
                   copied_by: User) -> list[KPI]:
    """Copy a library set onto a contract; KPIs whose code the contract already has are
    skipped (so copying twice adds nothing)."""
    existing = {code.upper() for code in contract.kpis.values_list("code", flat=True)}
    valid_from = period_get(kind=PeriodKind.QUARTER, day=contract.start_date)
    created = []
    for template in template_set.templates.all():
        if template.code.upper() in existing:
            continue
        data = KPIInput(
            code=template.code, name=template.name, quadrant=template.quadrant,
            data_type=template.data_type, direction=template.direction,
            frequency=template.frequency, definition=template.definition, unit=template.unit,
            baseline=template.baseline, evidence_required=template.evidence_required,
            is_s52=template.is_s52, order=template.order,
        )
        created.append(kpi_create(
            contract=contract, data=data, target=template.default_target,
            tolerance=template.default_tolerance, upper=template.default_upper,
            valid_from=valid_from, created_by=copied_by,
        ))
    return created


# --- Returns -----------------------------------------------------------------------------------

EVIDENCE_PART = "evidence"  # the error key of a KPI's missing evidence (no input of its own)


def field_name(kpi_id: int, part: str) -> str:
    """Form field and error key for one part of one KPI's answer, e.g. ``kpi-12-numerator``."""
    return f"kpi-{kpi_id}-{part}"


@dataclass
class ValueInput:
    kpi_id: int
    value: Decimal | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    yes_no: bool | None = None
    text: str = ""
    commentary: str = ""


def kpis_for_period(contract: Contract, period: ReportingPeriod) -> list[KPI]:
    """The contract's active KPIs reported in ``period``, with targets prefetched."""
    kpis = (contract.kpis.filter(is_active=True).select_related("service_line")
            .prefetch_related("targets__valid_from"))
    return [kpi for kpi in kpis if kpi.applies_to(period)]


def _check_period_ended(period: ReportingPeriod, today: date | None = None) -> None:
    today = today or timezone.localdate()
    if period.end_date >= today:
        raise ValidationError({"__all__": (
            f"You cannot send figures for {period.label} until the period has ended on "
            f"{period.end_date:%-d %B %Y}"
        )})


def _check_editable(performance_return: PerformanceReturn) -> None:
    if performance_return.status == ReturnStatus.ACCEPTED:
        raise ValidationError({"__all__": (
            f"The {performance_return.period.label} return was accepted and is locked. It "
            "cannot be changed"
        )})
    if performance_return.status == ReturnStatus.SUBMITTED:
        raise ValidationError({"__all__": (
            f"The {performance_return.period.label} return has been submitted and is waiting "
            "for review. You can change it only if the commissioner queries it"
        )})


def not_editable_message(performance_return: PerformanceReturn | None) -> str | None:
    """Why a return cannot be changed now (accepted and locked, or waiting for review), in
    the words every service uses; None while it can be. Pages use it to stop offering
    changes, and to refuse an upload before its file is read."""
    if performance_return is None:
        return None
    try:
        _check_editable(performance_return)
    except ValidationError as error:
        return error.messages[0]
    return None


def _bump_version(performance_return: PerformanceReturn, expected_version: int) -> None:
    """Optimistic lock: the update only matches the version the user started from."""
    updated = PerformanceReturn.objects.filter(
        pk=performance_return.pk, version=expected_version
    ).update(version=F("version") + 1, updated_at=timezone.now())
    if not updated:
        raise ValidationError({"__all__": (
            "Someone else changed this return while you were editing it. Your figures are "
            "shown below: check them against the latest version and save again"
        )})
    performance_return.version = expected_version + 1


def _check_values(kpis: dict[int, KPI], values: Sequence[ValueInput]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for item in values:
        kpi = kpis.get(item.kpi_id)
        if kpi is None:
            errors["__all__"] = "The return includes a KPI that is not part of this contract"
            continue
        for part in ("value", "numerator", "denominator"):
            number = getattr(item, part)
            if number is not None and number < 0:
                errors[field_name(kpi.pk, part)] = f"Enter 0 or more for {part_label(kpi, part)}"
        if kpi.data_type == DataType.PERCENTAGE and item.numerator is not None \
                and item.denominator is not None and item.numerator > item.denominator \
                and field_name(kpi.pk, "numerator") not in errors:
            errors[field_name(kpi.pk, "numerator")] = (
                f"{part_label(kpi, 'numerator', sentence=True)} must not be more than the total: "
                f"{_figure(item.numerator)} is more than {_figure(item.denominator)}"
            )
    return errors


def part_label(kpi: KPI, part: str, *, sentence: bool = False) -> str:
    """How messages name one input of a KPI: the input's own label and the KPI's code, so a
    KPI named like "% contacted within 10 days" never reads as "the number achieving %
    contacted…". ``sentence`` for the start of a message."""
    label = {"numerator": f"the number achieving it for {kpi.code}",
             "denominator": f"the total for {kpi.code}"}.get(part, kpi.name)
    return label[:1].upper() + label[1:] if sentence else label


def _figure(number: Decimal) -> str:
    return f"{number.normalize():,f}"


def _percentage(numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return (numerator * 100 / denominator).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)


@transaction.atomic
def return_open(*, contract: Contract, period: ReportingPeriod, opened_by: User,
                today: date | None = None) -> PerformanceReturn:
    """The period's return, created as an empty draft the first time (for evidence uploads
    before any figures are saved)."""
    _check_period_ended(period, today)
    performance_return, _ = PerformanceReturn.objects.get_or_create(contract=contract,
                                                                    period=period)
    return performance_return


@transaction.atomic
def return_save_draft(*, contract: Contract, period: ReportingPeriod,
                      values: Sequence[ValueInput], overall_commentary: str,
                      expected_version: int | None, saved_by: User,
                      today: date | None = None) -> PerformanceReturn:
    """Save a return's figures as a draft (creating the return the first time).

    Refuses, saving nothing: a period not yet ended, a submitted or accepted return, a stale
    version, negative figures, a numerator above its denominator. Percentages are computed
    from numerator and denominator, never typed.
    """
    _check_period_ended(period, today)
    performance_return, created = PerformanceReturn.objects.select_for_update().get_or_create(
        contract=contract, period=period
    )
    performance_return.period = period
    _check_editable(performance_return)
    if not created:
        _bump_version(performance_return, expected_version if expected_version is not None
                      else performance_return.version)
    kpis = {kpi.pk: kpi for kpi in contract.kpis.all()}
    errors = _check_values(kpis, values)
    if errors:
        raise ValidationError(errors)
    existing = {v.kpi_id: v for v in performance_return.values.all()}
    to_create, to_update = [], []
    for item in values:
        kpi = kpis[item.kpi_id]
        row = existing.get(item.kpi_id) or ReturnValue(performance_return=performance_return,
                                                      kpi=kpi)
        row.numerator = item.numerator if kpi.is_percentage else None
        row.denominator = item.denominator if kpi.is_percentage else None
        if kpi.is_percentage:
            row.value = _percentage(item.numerator, item.denominator)
        elif kpi.is_numeric:
            row.value = item.value
        else:
            row.value = None
        row.yes_no = item.yes_no if kpi.data_type == DataType.YES_NO else None
        row.text = item.text.strip() if kpi.data_type == DataType.TEXT else ""
        row.commentary = item.commentary.strip()
        (to_update if row.pk else to_create).append(row)
    # Bulk writes keep a 40-KPI save to a handful of queries; history rows are written in bulk
    # too so the audit trail still has every change.
    from simple_history.utils import bulk_create_with_history, bulk_update_with_history

    fields = ["value", "numerator", "denominator", "yes_no", "text", "commentary"]
    if to_create:
        bulk_create_with_history(to_create, ReturnValue, default_user=saved_by)
    if to_update:
        bulk_update_with_history(to_update, ReturnValue, fields, default_user=saved_by)
    performance_return.overall_commentary = overall_commentary.strip()
    performance_return._history_user = saved_by
    performance_return.save(update_fields=["overall_commentary", "updated_at"])
    return performance_return


def completeness_errors(performance_return: PerformanceReturn, kpis: Iterable[KPI],
                        values: dict[int, ReturnValue], evidence_kpis: set[int | None]
                        ) -> dict[str, str]:
    """What must be filled in before a return can be submitted (checked after the draft is
    saved, so a failed submit never loses what was typed)."""
    errors: dict[str, str] = {}
    for kpi in kpis:
        row = values.get(kpi.pk)
        if kpi.is_percentage:
            if row is None or row.numerator is None:
                errors[field_name(kpi.pk, "numerator")] = (
                    f"Enter {part_label(kpi, 'numerator')}")
            if row is None or row.denominator is None:
                errors[field_name(kpi.pk, "denominator")] = (
                    f"Enter {part_label(kpi, 'denominator')}")
        elif kpi.data_type == DataType.YES_NO:
            if row is None or row.yes_no is None:
                errors[field_name(kpi.pk, "yes_no")] = f"Select yes or no for {kpi.name}"
        elif kpi.data_type == DataType.TEXT:
            if row is None or not row.text:
                errors[field_name(kpi.pk, "text")] = f"Enter {kpi.name}"
        elif row is None or row.value is None:
            errors[field_name(kpi.pk, "value")] = f"Enter a figure for {kpi.name}"
        if kpi.evidence_required and kpi.pk not in evidence_kpis and None not in evidence_kpis:
            # Keyed to the KPI's evidence upload control, not to one of its inputs.
            errors[field_name(kpi.pk, EVIDENCE_PART)] = (
                f"Upload evidence for {kpi.name} before you submit")
    return errors


def _notify_commissioners(performance_return: PerformanceReturn, subject: str,
                          body_template: str, extra: dict | None = None) -> None:
    contract = performance_return.contract
    recipients = set()
    if contract.contract_manager_id and contract.contract_manager.email:
        recipients.add(contract.contract_manager.email)
    recipients.update(
        Membership.objects.filter(
            organisation_id=contract.lead_commissioner_id, is_active=True,
            role__in=[Role.COMMISSIONER, Role.CONTRACT_MANAGER], user__is_active=True,
        ).values_list("user__email", flat=True)
    )
    _queue_mail(recipients, subject, body_template, performance_return, extra)


def _provider_emails(contract: Contract) -> set[str]:
    return set(Membership.objects.filter(
        organisation_id=contract.provider_id, is_active=True, role__in=list(PROVIDER_ROLES),
        user__is_active=True,
    ).values_list("user__email", flat=True))


def _queue_mail(recipients: Iterable[str], subject: str, template: str,
                performance_return: PerformanceReturn | None, extra: dict | None = None) -> None:
    recipients = sorted(r for r in recipients if r)
    if not recipients:
        return
    context = {"return": performance_return, "site_url": settings.SITE_URL, **(extra or {})}
    email_queue(subject=subject, body=render_plain_text(template, context), to=recipients)


@transaction.atomic
def return_submit(*, performance_return: PerformanceReturn, declaration: bool,
                  expected_version: int, submitted_by: User,
                  today: date | None = None) -> ReturnVersion:
    """Submit (or resubmit after a query) with the declaration. Keeps a snapshot of every
    submitted version and tells the commissioners."""
    locked = PerformanceReturn.objects.select_for_update().select_related(
        "period", "contract").get(pk=performance_return.pk)
    _check_period_ended(locked.period, today)
    _check_editable(locked)
    if not declaration:
        raise ValidationError({"declaration": "Confirm that the figures are correct to the "
                                              "best of your knowledge"})
    kpis = kpis_for_period(locked.contract, locked.period)
    values = {v.kpi_id: v for v in locked.values.all()}
    evidence_kpis = set(locked.evidence.values_list("kpi_id", flat=True))
    errors = completeness_errors(locked, kpis, values, evidence_kpis)
    if errors:
        raise ValidationError(errors)
    _bump_version(locked, expected_version)
    now = timezone.now()
    number = locked.versions.count() + 1
    version = ReturnVersion.objects.create(
        performance_return=locked, number=number, submitted_at=now, submitted_by=submitted_by,
        overall_commentary=locked.overall_commentary,
        values={kpi.code: {
            "value": _str(values[kpi.pk].value), "numerator": _str(values[kpi.pk].numerator),
            "denominator": _str(values[kpi.pk].denominator), "yes_no": values[kpi.pk].yes_no,
            "text": values[kpi.pk].text, "commentary": values[kpi.pk].commentary,
        } for kpi in kpis if kpi.pk in values},
    )
    locked.status = ReturnStatus.SUBMITTED
    locked.submitted_at = now
    locked.submitted_by = submitted_by
    locked._history_user = submitted_by
    locked.save(update_fields=["status", "submitted_at", "submitted_by", "updated_at"])
    performance_return.version, performance_return.status = locked.version, locked.status
    _notify_commissioners(
        locked, f"Return submitted: {locked.contract.reference} {locked.period.label}",
        "monitoring/email/return_submitted.txt", {"version": version},
    )
    return version


def _str(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:f}"


def _check_reviewable(performance_return: PerformanceReturn, expected_version: int) -> None:
    if performance_return.status != ReturnStatus.SUBMITTED:
        raise ValidationError({"__all__": (
            "This return is not waiting for review: it is "
            f"{performance_return.get_status_display().lower()}"
        )})
    _bump_version(performance_return, expected_version)


@transaction.atomic
def return_accept(*, performance_return: PerformanceReturn, expected_version: int,
                  accepted_by: User, comment: str = "") -> PerformanceReturn:
    """Accept a submitted return. From now on no service changes it."""
    locked = PerformanceReturn.objects.select_for_update().select_related(
        "contract", "period").get(pk=performance_return.pk)
    _check_reviewable(locked, expected_version)
    now = timezone.now()
    locked.status = ReturnStatus.ACCEPTED
    locked.reviewed_at, locked.reviewed_by = now, accepted_by
    locked.query_comment = ""
    locked._history_user = accepted_by
    locked.save(update_fields=["status", "reviewed_at", "reviewed_by", "query_comment",
                               "updated_at"])
    ReturnReview.objects.create(
        performance_return=locked, version_number=locked.versions.count(),
        decision=ReviewDecision.ACCEPTED, comment=comment.strip(), reviewed_by=accepted_by,
        reviewed_at=now,
    )
    return locked


@transaction.atomic
def return_query(*, performance_return: PerformanceReturn, expected_version: int,
                 kpi_comments: dict[int, str], comment: str, queried_by: User
                 ) -> PerformanceReturn:
    """Send a submitted return back to the provider with comments per KPI."""
    locked = PerformanceReturn.objects.select_for_update().select_related(
        "contract", "period").get(pk=performance_return.pk)
    kpi_comments = {k: v.strip() for k, v in kpi_comments.items() if v and v.strip()}
    if not kpi_comments and not comment.strip():
        raise ValidationError({"comment": "Enter what the provider needs to check or change"})
    _check_reviewable(locked, expected_version)
    now = timezone.now()
    rows = list(locked.values.select_related("kpi"))
    for row in rows:
        row.query_comment = kpi_comments.get(row.kpi_id, "")
    from simple_history.utils import bulk_update_with_history

    bulk_update_with_history(rows, ReturnValue, ["query_comment"], default_user=queried_by)
    locked.status = ReturnStatus.QUERIED
    locked.query_comment = comment.strip()
    locked.reviewed_at, locked.reviewed_by = now, queried_by
    locked._history_user = queried_by
    locked.save(update_fields=["status", "query_comment", "reviewed_at", "reviewed_by",
                               "updated_at"])
    codes = {row.kpi_id: row.kpi.code for row in rows}
    ReturnReview.objects.create(
        performance_return=locked, version_number=locked.versions.count(),
        decision=ReviewDecision.QUERIED, comment=comment.strip(),
        kpi_comments={codes.get(k, str(k)): v for k, v in kpi_comments.items()},
        reviewed_by=queried_by, reviewed_at=now,
    )
    _queue_mail(_provider_emails(locked.contract),
                f"Return queried: {locked.contract.reference} {locked.period.label}",
                "monitoring/email/return_queried.txt", locked,
                {"kpi_queries": [(row.kpi, kpi_comments[row.kpi_id]) for row in rows
                                 if row.kpi_id in kpi_comments]})
    return locked


# --- Evidence ----------------------------------------------------------------------------------

EVIDENCE_TYPES = {
    ".pdf": ("application/pdf", uploads.PDF),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              uploads.DOCX),
    ".xlsx": (uploads.XLSX_CONTENT_TYPE, uploads.XLSX),
    ".csv": ("text/csv", uploads.TEXT),
}
EVIDENCE_DESCRIPTION = "a PDF, Word (DOCX), Excel (XLSX) or CSV file"


def _checked(upload: UploadedFile | None, allowed: dict[str, tuple[str, str]],
             description: str) -> uploads.CheckedFile:
    """``commissioning.uploads.check_file``, its refusal as a ValidationError on ``file``."""
    if upload is None:
        raise ValidationError({"file": "The selected file is empty"})
    try:
        return uploads.check_file(upload, name=upload.name, allowed=allowed,
                                  description=description)
    except uploads.UploadRefused as error:
        raise ValidationError({"file": str(error)}) from error


@transaction.atomic
def evidence_upload(*, performance_return: PerformanceReturn, upload: UploadedFile,
                    kpi: KPI | None, uploaded_by: User) -> Evidence:
    """Store evidence under a random name after checking its size and content signature."""
    _check_editable(performance_return)
    if kpi is not None and kpi.contract_id != performance_return.contract_id:
        raise ValidationError({"kpi": "Select a KPI of this contract"})
    checked = _checked(upload, EVIDENCE_TYPES, EVIDENCE_DESCRIPTION)
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


# --- Returns from a spreadsheet ----------------------------------------------------------------

MAX_RETURN_ROWS = 1_000  # one row a KPI: far more than any contract has
RETURN_LIMITS = uploads.Limits(rows=MAX_RETURN_ROWS, columns=50, cells=50_000,
                               advice="Use the template: one row for each KPI")
MAX_SERVICE_USER_ROWS = 100_000
SERVICE_USER_LIMITS = uploads.Limits(
    rows=MAX_SERVICE_USER_ROWS, columns=20, cells=10 * MAX_SERVICE_USER_ROWS,
    advice=f"A list can have up to {MAX_SERVICE_USER_ROWS:,} NHS numbers")
TEMPLATE_COLUMNS = ["kpi_code", "kpi_name", "value", "numerator", "denominator", "commentary"]
SPREADSHEET_TYPES = {
    ".csv": ("text/csv", uploads.TEXT),
    ".xlsx": (uploads.XLSX_CONTENT_TYPE, uploads.XLSX),
}


@dataclass
class ImportResult:
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (row, column, message)
    performance_return: PerformanceReturn | None = None
    rows: int = 0


def _parse_decimal(text: str) -> Decimal:
    cleaned = text.strip().replace(",", "").replace("£", "").rstrip("%")
    number = Decimal(cleaned)
    if not number.is_finite():
        raise InvalidOperation
    return number


def return_import(*, contract: Contract, period: ReportingPeriod, upload: UploadedFile,
                  imported_by: User, today: date | None = None) -> ImportResult:
    """Fill a return's draft from the CSV/XLSX template. Any error, anywhere: nothing saved,
    and every error is reported with its row and column."""
    result = ImportResult()
    try:
        kind = _checked(upload, SPREADSHEET_TYPES, "a CSV or XLSX file").family
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
                number_value = _parse_decimal(text)
            except (InvalidOperation, ValueError):
                result.errors.append((number, part, f"{text!r} is not a number"))
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
    existing = PerformanceReturn.objects.filter(contract=contract, period=period).first()
    try:
        result.performance_return = return_save_draft(
            contract=contract, period=period, values=values,
            overall_commentary=existing.overall_commentary if existing else "",
            expected_version=existing.version if existing else None, saved_by=imported_by,
            today=today,
        )
    except ValidationError as error:
        for key, messages in error.message_dict.items():
            for message in messages:
                result.errors.append((0, "file" if key == "__all__" else key, message))
    return result


# --- Reminders ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class RemindersSent:
    sent: int
    already_sent: int


def reminders_send(*, today: date | None = None) -> RemindersSent:
    """E-mail providers 5 working days before a return is due and 1 day after it is due if
    it has not been submitted. The ReminderSent row (unique per contract, period and kind) is
    written first; the mail goes after commit, so a second run sends nothing."""
    from monitoring.selectors import returns_needing_reminders

    today = today or timezone.localdate()
    sent = skipped = 0
    for contract, period, kind in returns_needing_reminders(today=today):
        recipients = _provider_emails(contract)
        if not recipients:
            continue
        with transaction.atomic():
            _row, created = ReminderSent.objects.get_or_create(
                contract=contract, period=period, kind=kind,
                defaults={"recipients": ", ".join(sorted(recipients))},
            )
            if not created:
                skipped += 1
                continue
            sent += 1
            overdue = kind == ReminderKind.AFTER_DUE
            subject = (f"{'Overdue' if overdue else 'Due soon'}: {period.label} return for "
                       f"{contract.reference} {contract.title}")
            _queue_mail(recipients, subject, "monitoring/email/return_reminder.txt", None,
                        {"contract": contract, "period": period, "overdue": overdue})
    return RemindersSent(sent=sent, already_sent=skipped)


def reminder_dates(period: ReportingPeriod) -> dict[str, date]:
    """The day each reminder goes: 5 working days before the due date, the day after it."""
    before = period.due_date
    remaining = REMINDER_BEFORE_WORKING_DAYS
    from commissioning.periods import is_working_day

    while remaining:
        before -= timedelta(days=1)
        if is_working_day(before):
            remaining -= 1
    return {ReminderKind.BEFORE_DUE: before,
            ReminderKind.AFTER_DUE: period.due_date + timedelta(days=1)}


# --- Procurement Act 2023 assessments ------------------------------------------------------------

@transaction.atomic
def assessment_draft(*, contract: Contract, financial_year: str,
                     drafted_by: User) -> PerformanceAssessment:
    """Draft (or redraft) the year's assessment, rating each KPI from its returns."""
    from monitoring.rag import suggested_rating
    from monitoring.selectors import kpi_year_rags

    FinancialYear.parse(financial_year)  # raises ValueError for a bad label
    assessment, _ = PerformanceAssessment.objects.get_or_create(
        contract=contract, financial_year=financial_year, defaults={"created_by": drafted_by},
    )
    if assessment.status == AssessmentStatus.FINAL:
        raise ValidationError({"__all__": f"The {financial_year} assessment is final"})
    existing = {r.kpi_id: r for r in assessment.ratings.all()}
    for kpi, rags in kpi_year_rags(contract=contract, financial_year=financial_year):
        suggestion = suggested_rating(rags)
        row = existing.get(kpi.pk)
        if row is None:
            AssessmentRating.objects.create(assessment=assessment, kpi=kpi, rating=suggestion,
                                            suggested_rating=suggestion)
        elif row.suggested_rating != suggestion:
            row.suggested_rating = suggestion
            row.save(update_fields=["suggested_rating"])
    return assessment


@transaction.atomic
def assessment_update(*, assessment: PerformanceAssessment, ratings: dict[int, tuple[str, str]],
                      summary: str, updated_by: User, finalise: bool = False
                      ) -> PerformanceAssessment:
    """Record the commissioner's ratings (kpi id -> (rating, explanation)); optionally
    finalise, after which the assessment cannot change."""
    locked = PerformanceAssessment.objects.select_for_update().get(pk=assessment.pk)
    if locked.status == AssessmentStatus.FINAL:
        raise ValidationError({"__all__": "This assessment is final and cannot be changed"})
    errors = {}
    for row in locked.ratings.select_related("kpi"):
        rating, explanation = ratings.get(row.kpi_id, (row.rating, row.explanation))
        if rating not in Rating.values:
            errors[f"rating-{row.kpi_id}"] = f"Select a rating for {row.kpi.name}"
            continue
        if rating != row.suggested_rating and not explanation.strip():
            errors[f"explanation-{row.kpi_id}"] = (
                f"Explain why {row.kpi.name} is rated differently from the returns"
            )
            continue
        row.rating, row.explanation = rating, explanation.strip()
        row._history_user = updated_by
        row.save(update_fields=["rating", "explanation"])
    if errors:
        raise ValidationError(errors)
    locked.summary = summary.strip()
    if finalise:
        locked.status = AssessmentStatus.FINAL
        locked.finalised_by, locked.finalised_at = updated_by, timezone.now()
    locked._history_user = updated_by
    locked.save()
    return locked


# --- Service users (NHS numbers, pseudonymised) --------------------------------------------------

@dataclass
class ServiceUserImport:
    errors: list[tuple[int, str]] = field(default_factory=list)
    service_user_list: ServiceUserList | None = None
    duplicates: int = 0


def service_users_upload(*, contract: Contract, period: ReportingPeriod, upload: UploadedFile,
                         uploaded_by: User, today: date | None = None) -> ServiceUserImport:
    """Replace the period's list with the keyed hashes of the uploaded NHS numbers.

    One number per line (first column; a header row "NHS number" is allowed). Every invalid
    line is reported by row and nothing is saved; the clear numbers are never stored.
    """
    result = ServiceUserImport()
    hashes: set[str] = set()
    try:
        _check_period_ended(period, today)
        kind = _checked(upload, {".csv": ("text/csv", uploads.TEXT)}, "a CSV file").family
        for index, (number, row) in enumerate(uploads.read_rows(upload, kind,
                                                                 SERVICE_USER_LIMITS)):
            raw = str(row[0]).strip() if row else ""
            if not raw or (index == 0 and not any(ch.isdigit() for ch in raw)):
                continue
            try:
                digest = nhs_numbers.pseudonymise(raw)
            except nhs_numbers.InvalidNHSNumber as error:
                result.errors.append((number, str(error)))
                continue
            if digest in hashes:
                result.duplicates += 1
            hashes.add(digest)
    except ValidationError as error:
        result.errors.append((0, "; ".join(error.messages)))
        return result
    except uploads.UploadRefused as error:
        result.errors.append((0, str(error)))
        return result
    if not hashes and not result.errors:
        result.errors.append((0, "The file has no NHS numbers"))
    if result.errors:
        return result
    with transaction.atomic():
        service_user_list, _ = ServiceUserList.objects.select_for_update().get_or_create(
            contract=contract, period=period, defaults={"uploaded_by": uploaded_by}
        )
        service_user_list.entries.all().delete()
        PseudonymisedServiceUser.objects.bulk_create(
            PseudonymisedServiceUser(service_user_list=service_user_list, nhs_number_hash=h)
            for h in sorted(hashes)
        )
        service_user_list.count = len(hashes)
        service_user_list.uploaded_by = uploaded_by
        service_user_list._history_user = uploaded_by
        service_user_list.save()
    result.service_user_list = service_user_list
    return result


__all__ = [
    "Frequency", "ImportResult", "KPIInput", "ValueInput", "assessment_draft",
    "assessment_update", "evidence_upload", "kpi_create", "kpi_update", "period_from_code",
    "period_get", "reminders_send", "return_accept", "return_import", "return_query",
    "return_save_draft", "return_submit", "service_users_upload", "target_set",
    "templates_copy",
]
