"""Factories for the contract register, built on the core factories and the `world` personas."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory

from commissioning.tests.factories import ICBFactory, ProviderFactory
from contracts.models import (
    CommissioningShare,
    Contract,
    ContractStatus,
    Decision,
    DecisionMaker,
    DecisionPurpose,
    ExtensionOption,
    ProcurementRegime,
    ProcurementRoute,
    ReviewDate,
    ServiceArea,
    ServiceLine,
    Variation,
)


class ContractFactory(factory.django.DjangoModelFactory):
    """Pass partnership=..., holder=..., lead_commissioner=... from the `world` fixture."""

    class Meta:
        model = Contract

    reference = factory.Sequence(lambda n: f"CON-{n:05d}")
    title = factory.Sequence(lambda n: f"Community support service {n}")
    description = "Information, advice and support"
    service_area = ServiceArea.ADULT_SOCIAL_CARE
    provider = factory.SubFactory(ProviderFactory)
    holder = factory.SubFactory(ICBFactory)
    lead_commissioner = factory.SelfAttribute("holder")
    partnership = None
    procurement_regime = ProcurementRegime.PCR_2015
    procurement_route = ProcurementRoute.PCR_LIGHT_TOUCH
    tendered = True
    start_date = date(2024, 4, 1)
    initial_end_date = date(2027, 3, 31)
    notice_period_months = 6
    annual_value = Decimal("100000.00")
    status = ContractStatus.LIVE


def contract_for(world, **kwargs) -> Contract:
    """A contract of partnership A held and led by council A, provided by provider X."""
    kwargs.setdefault("partnership", world.partnership_a)
    kwargs.setdefault("holder", world.council_a)
    kwargs.setdefault("lead_commissioner", world.council_a)
    kwargs.setdefault("provider", world.provider_x)
    return ContractFactory(**kwargs)


class ServiceLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceLine

    name = factory.Sequence(lambda n: f"Pathway {n}")
    order = factory.Sequence(int)


class ShareFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommissioningShare

    share_percent = Decimal("50.00")
    joint_monitoring = True


class ExtensionOptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExtensionOption

    sequence = factory.Sequence(lambda n: n + 1)
    length_months = 12


class DecisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Decision

    purpose = DecisionPurpose.AWARD
    decision_maker = DecisionMaker.EXECUTIVE
    body_name = "Care Services PDS Committee"
    meeting_date = date(2024, 2, 1)
    report_reference = "CS17033"
    is_key = True
    outcome = "Approved"


class VariationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Variation

    date = date(2025, 1, 1)
    description = "Extra pathway"
    value_change = Decimal("1000.00")


class ReviewDateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReviewDate

    date = date(2026, 1, 1)
    description = "Annual review"


def full_contract(world, **kwargs) -> Contract:
    """A contract with something in every section of its page."""
    contract = contract_for(world, **kwargs)
    for _ in range(3):
        ServiceLineFactory(contract=contract)
    ShareFactory(contract=contract, organisation=world.council_a, share_percent=Decimal("60"))
    ShareFactory(contract=contract, organisation=world.icb_a, share_percent=Decimal("40"))
    decision = DecisionFactory(contract=contract)
    ExtensionOptionFactory(contract=contract, sequence=1, exercised=True,
                           exercised_decision=decision)
    ExtensionOptionFactory(contract=contract, sequence=2)
    VariationFactory(contract=contract, decision=decision)
    VariationFactory(contract=contract)
    ReviewDateFactory(contract=contract)
    return contract
