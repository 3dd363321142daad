"""Factories for funding, built on the core factories and the `world` personas."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from importlib import import_module

import factory

from funding.models import (
    AgreementPartner,
    ArrangementType,
    BudgetType,
    Commissioner,
    Contribution,
    FundingSource,
    MonthClose,
    MonthlyActual,
    RiskShareRule,
    Scheme,
    SchemeBudget,
    SchemeType,
    Section75Agreement,
    UnderspendRule,
)


class AgreementFactory(factory.django.DjangoModelFactory):
    """Pass partnership=... and host_partner=...; add partners with ``with_partners``."""

    class Meta:
        model = Section75Agreement

    title = factory.Sequence(lambda n: f"Section 75 agreement {n}")
    arrangement_type = ArrangementType.POOLED_FUND
    start_date = date(2025, 4, 1)
    end_date = date(2028, 3, 31)
    governance_board = "Integrated Commissioning Board"
    risk_share_rule = RiskShareRule.FIXED_SPLIT
    underspend_rule = UnderspendRule.RETURN_TO_PARTNERS


class SchemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Scheme

    code = factory.Sequence(lambda n: f"S-{n:03d}")
    name = factory.Sequence(lambda n: f"Scheme {n}")
    scheme_type = SchemeType.COMMUNITY_BASED
    budget_type = BudgetType.POOLED
    commissioner = Commissioner.LA


def source(code: str = "council-core") -> FundingSource:
    """The funding source seeded by migration (re-created after a transactional test's flush
    has emptied the table)."""
    seeds = import_module("funding.migrations.0002_seed_funding_sources").SOURCES
    seeded = {c: (n, b) for c, n, b in seeds}
    name, is_bcf = seeded[code]
    return FundingSource.objects.get_or_create(
        code=code, defaults={"name": name, "is_bcf": is_bcf})[0]


def agreement_for(world, *, shares: tuple[str, str] | None = ("50", "50"),
                  **kwargs) -> Section75Agreement:
    """An agreement of partnership A between council A and ICB A (50/50 by default)."""
    kwargs.setdefault("partnership", world.partnership_a)
    kwargs.setdefault("host_partner", world.council_a)
    agreement = AgreementFactory(**kwargs)
    council_share, icb_share = shares or (None, None)
    AgreementPartner.objects.create(
        agreement=agreement, organisation=world.council_a,
        risk_share_percent=Decimal(council_share) if council_share else None)
    AgreementPartner.objects.create(
        agreement=agreement, organisation=world.icb_a,
        risk_share_percent=Decimal(icb_share) if icb_share else None)
    return agreement


def scheme_for(agreement: Section75Agreement, *, lead=None, budget: str | None = None,
               year: int = 2025, **kwargs) -> Scheme:
    scheme = SchemeFactory(agreement=agreement, lead_partner=lead or agreement.host_partner,
                           **kwargs)
    if budget is not None:
        SchemeBudget.objects.create(scheme=scheme, year=year, amount=Decimal(budget))
    return scheme


def contribute(scheme: Scheme, partner, amount: str, *, year: int = 2025,
               code: str = "council-core") -> Contribution:
    return Contribution.objects.create(scheme=scheme, partner=partner, year=year,
                                       source=source(code), amount=Decimal(amount))


def actual(scheme: Scheme, month: date, amount: str, forecast: str | None = None
           ) -> MonthlyActual:
    return MonthlyActual.objects.create(
        scheme=scheme, month=month, actual=Decimal(amount),
        forecast_outturn=Decimal(forecast) if forecast is not None else None)


def close(agreement: Section75Agreement, month: date) -> MonthClose:
    return MonthClose.objects.create(agreement=agreement, month=month, is_closed=True)
