"""Writes for KPIs, their targets and the KPI template library. Keyword-only, one
transaction each."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from commissioning.models import User
from contracts.models import Contract
from monitoring.models import (
    KPI,
    KPITarget,
    KPITemplateSet,
    PeriodKind,
    ReportingPeriod,
)
from monitoring.overview import rag_counts_refresh
from monitoring.reporting_periods import period_get, periods_open


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
    rag_counts_refresh(contract_ids=[kpi.contract_id])
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
    periods_open(today=timezone.localdate())  # the quarters the next target may start from
    rag_counts_refresh(contract_ids=[kpi.contract_id])
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
