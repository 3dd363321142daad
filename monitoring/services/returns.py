"""Writes for providers' returns: drafts, submission with its declaration, and the
commissioner's review (accept or query). Keyword-only, typed, one transaction each.

A service refuses bad input with ``ValidationError({field: message})`` so the view can show the
message next to the field; nothing partial is saved when it does."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from commissioning.locking import check_version
from commissioning.models import User
from contracts.models import Contract
from monitoring.models import (
    KPI,
    DataType,
    PerformanceReturn,
    ReportingPeriod,
    ReturnReview,
    ReturnStatus,
    ReturnValue,
    ReturnVersion,
    ReviewDecision,
)
from monitoring.overview import rag_counts_refresh
from monitoring.reporting_periods import period_saved
from monitoring.selectors import kpis_for_period
from monitoring.services.notify import notify_commissioners, provider_emails, queue_mail

PERCENT_PLACES = Decimal("0.01")
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


def check_period_ended(period: ReportingPeriod, today: date | None = None) -> None:
    today = today or timezone.localdate()
    if period.end_date >= today:
        raise ValidationError({"__all__": (
            f"You cannot send figures for {period.label} until the period has ended on "
            f"{period.end_date:%-d %B %Y}"
        )})


def check_editable(performance_return: PerformanceReturn) -> None:
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
        check_editable(performance_return)
    except ValidationError as error:
        return error.messages[0]
    return None


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
    check_period_ended(period, today)
    period = period_saved(period)
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
    check_period_ended(period, today)
    period = period_saved(period)
    performance_return, created = PerformanceReturn.objects.select_for_update().get_or_create(
        contract=contract, period=period
    )
    performance_return.period = period
    check_editable(performance_return)
    if not created:
        # None: an import, which read the row it changes (the row is locked above).
        check_version(performance_return, expected_version, "this return")
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
    fields = ["value", "numerator", "denominator", "yes_no", "text", "commentary"]
    if to_create:
        bulk_create_with_history(to_create, ReturnValue, default_user=saved_by)
    if to_update:
        bulk_update_with_history(to_update, ReturnValue, fields, default_user=saved_by)
    performance_return.overall_commentary = overall_commentary.strip()
    performance_return._history_user = saved_by
    performance_return.save(update_fields=["overall_commentary", "version", "updated_at"])
    rag_counts_refresh(contract_ids=[contract.pk])
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


@transaction.atomic
def return_submit(*, performance_return: PerformanceReturn, declaration: bool,
                  expected_version: int, submitted_by: User,
                  today: date | None = None) -> ReturnVersion:
    """Submit (or resubmit after a query) with the declaration. Keeps a snapshot of every
    submitted version and tells the commissioners."""
    locked = PerformanceReturn.objects.select_for_update().select_related(
        "period", "contract").get(pk=performance_return.pk)
    check_period_ended(locked.period, today)
    check_editable(locked)
    if not declaration:
        raise ValidationError({"declaration": "Confirm that the figures are correct to the "
                                              "best of your knowledge"})
    kpis = kpis_for_period(locked.contract, locked.period)
    values = {v.kpi_id: v for v in locked.values.all()}
    evidence_kpis = set(locked.evidence.values_list("kpi_id", flat=True))
    errors = completeness_errors(locked, kpis, values, evidence_kpis)
    if errors:
        raise ValidationError(errors)
    check_version(locked, expected_version, "this return")
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
    locked.save(update_fields=["status", "submitted_at", "submitted_by", "version",
                               "updated_at"])
    performance_return.version, performance_return.status = locked.version, locked.status
    rag_counts_refresh(contract_ids=[locked.contract_id])
    notify_commissioners(
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
    check_version(performance_return, expected_version, "this return")


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
    locked.save(update_fields=["status", "reviewed_at", "reviewed_by", "query_comment", "version",
                               "updated_at"])
    ReturnReview.objects.create(
        performance_return=locked, version_number=locked.versions.count(),
        decision=ReviewDecision.ACCEPTED, comment=comment.strip(), reviewed_by=accepted_by,
        reviewed_at=now,
    )
    rag_counts_refresh(contract_ids=[locked.contract_id])
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
    bulk_update_with_history(rows, ReturnValue, ["query_comment"], default_user=queried_by)
    locked.status = ReturnStatus.QUERIED
    locked.query_comment = comment.strip()
    locked.reviewed_at, locked.reviewed_by = now, queried_by
    locked._history_user = queried_by
    locked.save(update_fields=["status", "query_comment", "reviewed_at", "reviewed_by",
                               "version", "updated_at"])
    codes = {row.kpi_id: row.kpi.code for row in rows}
    ReturnReview.objects.create(
        performance_return=locked, version_number=locked.versions.count(),
        decision=ReviewDecision.QUERIED, comment=comment.strip(),
        kpi_comments={codes.get(k, str(k)): v for k, v in kpi_comments.items()},
        reviewed_by=queried_by, reviewed_at=now,
    )
    queue_mail(provider_emails(locked.contract),
               f"Return queried: {locked.contract.reference} {locked.period.label}",
               "monitoring/email/return_queried.txt", locked,
               {"kpi_queries": [(row.kpi, kpi_comments[row.kpi_id]) for row in rows
                                if row.kpi_id in kpi_comments]})
    rag_counts_refresh(contract_ids=[locked.contract_id])
    return locked
