"""Factories for frameworks, lots, windows, admissions and call-offs (on the `world` personas)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory

from contracts.frameworks.models import (
    ApplicationDecision,
    AwardMethod,
    CallOff,
    EvaluationResult,
    Framework,
    FrameworkParty,
    FrameworkStatus,
    FundingArrangement,
    Lot,
    LotStatus,
    ProcurementWindow,
    ProviderApplication,
)
from contracts.models import ProcurementRegime, ProcurementRoute
from contracts.tests.factories import ShareFactory, contract_for


class FrameworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Framework

    reference = factory.Sequence(lambda n: f"FW-{n:04d}")
    title = "Early Intervention and Prevention"
    start_date = date(2021, 4, 1)
    initial_term_months = 60
    extension_months = 24
    estimated_total_value = Decimal("4303852.00")
    open_to_new_providers = True
    status = FrameworkStatus.LIVE


class LotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lot

    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Lot title {n}")
    description = "Services which deliver information and advice"
    provider_skills = "Able to assess and manage risk effectively\nSignposting"
    outcomes = "Information is easy to access and understand"
    status = LotStatus.ACTIVE


class WindowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProcurementWindow

    opens = date(2021, 1, 4)
    closes = date(2021, 2, 12)


def framework_for(world, *, lots: int = 4, **kwargs) -> Framework:
    """A live framework of partnership A: council A (lead) and ICB A, with ``lots`` lots and
    the initial procurement window."""
    kwargs.setdefault("partnership", world.partnership_a)
    framework = FrameworkFactory(**kwargs)
    FrameworkParty.objects.create(framework=framework, organisation=world.council_a,
                                  is_lead=True)
    FrameworkParty.objects.create(framework=framework, organisation=world.icb_a)
    for number in range(1, lots + 1):
        LotFactory(framework=framework, number=number, title=f"Lot {number} services")
    WindowFactory(framework=framework)
    return framework


def admit(provider, lot: Lot, *, decision: str = ApplicationDecision.ADMITTED):
    window = lot.framework.windows.order_by("opens").first()
    admitted = decision == ApplicationDecision.ADMITTED
    return ProviderApplication.objects.create(
        provider=provider, lot=lot, window=window, submitted_on=window.opens,
        decision=decision,
        evaluation="" if decision == ApplicationDecision.PENDING else (
            EvaluationResult.CRITERIA_MET if admitted else EvaluationResult.CRITERIA_NOT_MET),
        evaluated_on=None if decision == ApplicationDecision.PENDING else date(2021, 3, 1),
        framework_agreement_date=date(2021, 4, 1) if admitted else None,
    )


def quick_call_off(world, lot: Lot, provider, *, value: str = "50000") -> CallOff:
    """A call-off written straight to the database (for page tests at size); the service's
    rules are tested through ``call_off_create``."""
    contract = contract_for(
        world, provider=provider, annual_value=Decimal(value),
        procurement_regime=ProcurementRegime.PA_2023,
        procurement_route=ProcurementRoute.PA_FRAMEWORK_CALL_OFF,
        start_date=date(2022, 4, 1), initial_end_date=date(2025, 3, 31),
    )
    ShareFactory(contract=contract, organisation=world.council_a)
    ShareFactory(contract=contract, organisation=world.icb_a)
    return CallOff.objects.create(
        lot=lot, contract=contract, award_method=AwardMethod.DIRECT_AWARD,
        direct_award_justification="Incumbent", called_off_on=date(2022, 2, 1),
        funding_arrangement=FundingArrangement.SECTION_75,
    )
