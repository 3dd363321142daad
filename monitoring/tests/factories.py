"""Factories for monitoring, built on the contract factories and the `world` personas."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory

from contracts.tests.factories import contract_for
from monitoring import reporting_periods, selectors
from monitoring.models import KPI, DataType, Direction, Frequency, Quadrant, ReportingPeriod
from monitoring.services import kpis as kpi_services
from monitoring.services import returns as return_services

# A quarter that has ended (2025/26 Q1, April–June 2025) and the one before it.
PAST_DAY = date(2025, 5, 15)


def quarter(day: date = PAST_DAY) -> ReportingPeriod:
    return reporting_periods.period_get(kind="quarter", day=day)


class KPIFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KPI

    code = factory.Sequence(lambda n: f"K{n}")
    name = factory.Sequence(lambda n: f"People supported {n}")
    quadrant = Quadrant.HOW_MUCH
    data_type = DataType.COUNT
    unit = "people"
    direction = Direction.HIGHER
    frequency = Frequency.QUARTERLY
    order = factory.Sequence(int)


def kpi_with_target(contract, *, target: str | None = "100", tolerance: str = "10",
                    valid_from: ReportingPeriod | None = None, **kwargs) -> KPI:
    kpi = KPIFactory(contract=contract, **kwargs)
    kpi_services.target_set(
        kpi=kpi, valid_from=valid_from or quarter(date(2024, 4, 1)),
        target_value=None if target is None else Decimal(target),
        amber_tolerance=Decimal(tolerance), set_by=None,
    )
    return kpi


def percentage_kpi(contract, **kwargs) -> KPI:
    kwargs.setdefault("quadrant", Quadrant.HOW_WELL)
    return kpi_with_target(contract, data_type=DataType.PERCENTAGE, unit="%",
                           target=kwargs.pop("target", "90"), **kwargs)


def fill_and_submit(contract, period, user, *, values: dict | None = None, today=None):
    """Save a complete draft (count KPIs = 120, percentages 9 of 10) and submit it."""
    inputs = []
    for kpi in selectors.kpis_for_period(contract, period):
        given = (values or {}).get(kpi.code)
        if kpi.is_percentage:
            num, den = given if given else (Decimal("9"), Decimal("10"))
            inputs.append(return_services.ValueInput(kpi_id=kpi.pk, numerator=num, denominator=den))
        else:
            inputs.append(return_services.ValueInput(kpi_id=kpi.pk, value=Decimal(given or "120")))
    ret = return_services.return_save_draft(
        contract=contract, period=period, values=inputs, overall_commentary="Steady quarter",
        expected_version=None, saved_by=user, today=today)
    return_services.return_submit(performance_return=ret, declaration=True,
                                  expected_version=ret.version, submitted_by=user, today=today)
    ret.refresh_from_db()
    return ret


def queried_then_resubmitted(world):
    """Version 1: 120 people, 9 of 10; queried; version 2: 95 people, 7 of 10."""
    contract = contract_for(world, reference="BW-001", title="Bromley Well")
    count = kpi_with_target(contract, code="BW1", name="People supported")
    pct = percentage_kpi(contract, code="BW2", name="Improved quality of life")
    period = quarter()
    ret = return_services.return_save_draft(
        contract=contract, period=period, values=[
            return_services.ValueInput(kpi_id=count.pk, value=Decimal("120"),
                                       commentary="Busy quarter"),
            return_services.ValueInput(kpi_id=pct.pk, numerator=Decimal("9"),
                                       denominator=Decimal("10"))],
        overall_commentary="Steady quarter", expected_version=None,
        saved_by=world.provider_x_user)
    return_services.return_submit(performance_return=ret, declaration=True,
                                  expected_version=ret.version, submitted_by=world.provider_x_user)
    return_services.return_query(performance_return=ret, expected_version=ret.version,
                                 kpi_comments={count.pk: "Seems high"}, comment="Check BW1",
                                 queried_by=world.commissioner_a)
    ret.refresh_from_db()
    ret = return_services.return_save_draft(
        contract=contract, period=period, values=[
            return_services.ValueInput(kpi_id=count.pk, value=Decimal("95"),
                                       commentary="Corrected"),
            return_services.ValueInput(kpi_id=pct.pk, numerator=Decimal("7"),
                                       denominator=Decimal("10"))],
        overall_commentary="Corrected quarter", expected_version=ret.version,
        saved_by=world.provider_x_user)
    return_services.return_submit(performance_return=ret, declaration=True,
                                  expected_version=ret.version, submitted_by=world.provider_x_user)
    ret.refresh_from_db()
    return contract, period, ret
