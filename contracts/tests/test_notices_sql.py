"""The notices rules in SQL (``notices.unpublished_notice_rows``, built on
``regimes.regime_sql``, ``thresholds.over_s52_threshold_q`` and ``whole_life_value_sql``) owe
exactly the notices the Python rules do (``notices.outstanding``), over hundreds of generated
contracts: every regime and route, status, term, value near the £5m line, options, variations,
assessments, call-offs and recorded publications."""

from __future__ import annotations

import calendar
import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from commissioning.periods import add_months
from contracts import notices
from contracts.frameworks.tests.factories import framework_for, quick_call_off
from contracts.models import (
    ROUTES_BY_REGIME,
    Contract,
    ContractStatus,
    ExtensionOption,
    NoticeKind,
    NoticePublication,
    Variation,
)
from contracts.regimes import regime, regime_sql
from contracts.tests.factories import contract_for
from contracts.thresholds import contract_over_s52_threshold, over_s52_threshold_q

pytestmark = pytest.mark.django_db

VALUES = [Decimal("90000.00"), Decimal("999999.99"), Decimal("1250000.00"),
          Decimal("1666666.67"), Decimal("1666666.66"), Decimal("2500000.01"),
          Decimal("4999999.99"), Decimal("5000000.00"), Decimal("5000000.01"),
          Decimal("7000000.00"), Decimal("0.00")]


def generate(world, rng: random.Random, count: int) -> list[Contract]:
    """``count`` contracts with every shape the notices rules look at."""
    frameworks = [framework_for(world, reference=f"FW-OLD-{count}", start_date=date(2024, 6, 1)),
                  framework_for(world, reference=f"FW-NEW-{count}", start_date=date(2025, 6, 1))]
    today = timezone.localdate()
    made = []
    for n in range(count):
        if n % 9 == 0:
            call_off = quick_call_off(world, frameworks[n % 2].lots.first(), world.provider_x,
                                      value=str(rng.choice(VALUES)))
            contract = call_off.contract
        else:
            regime_name = rng.choice(list(ROUTES_BY_REGIME))
            contract = contract_for(world, reference=f"GEN-{n:04d}",
                                    procurement_regime=regime_name,
                                    procurement_route=rng.choice(ROUTES_BY_REGIME[regime_name]),
                                    annual_value=rng.choice(VALUES))
        start = today + timedelta(days=rng.randrange(-1400, 400))
        # Month ends and leap days, where month arithmetic goes wrong.
        if n % 5 == 0:
            year, month = rng.choice([2024, 2025, 2026]), rng.choice([1, 2, 8, 12])
            day = min(rng.choice([28, 29, 30, 31]), calendar.monthrange(year, month)[1])
            start = date(year, month, day) if n % 3 else date(2024, 2, 29)
        months = rng.choice([6, 11, 12, 24, 36, 37, 60])
        contract.start_date = start
        contract.initial_end_date = add_months(start, months) - timedelta(
            days=rng.choice([1, 1, 1, 0, 15, -10]))
        contract.status = rng.choice(ContractStatus.values)
        contract.works = rng.random() < 0.2
        contract.awarded_on = rng.choice([None, start - timedelta(days=rng.randrange(0, 90))])
        contract.standstill_end_date = rng.choice(
            [None, (contract.awarded_on or start) + timedelta(days=8)])
        contract.save()
        for sequence in range(1, rng.choice([0, 1, 2, 3]) + 1):
            ExtensionOption.objects.create(contract=contract, sequence=sequence,
                                           length_months=rng.choice([6, 12, 24]),
                                           exercised=rng.random() < 0.3)
        for _ in range(rng.choice([0, 0, 1, 2])):
            Variation.objects.create(
                contract=contract, date=start + timedelta(days=rng.randrange(0, 700)),
                description="Change", term_change_months=rng.choice([0, 0, 0, 6, -3]),
                value_change=rng.choice([Decimal("0"), Decimal("10000"), Decimal("-250000"),
                                         Decimal("600000.00"), Decimal("1500000")]))
        for year in rng.sample(["2024-25", "2025-26", "2026-27"], rng.choice([0, 0, 1, 2])):
            contract.performance_assessments.create(
                financial_year=year, status=rng.choice(["draft", "final"]),
                finalised_at=rng.choice([None, timezone.now() - timedelta(
                    days=rng.randrange(0, 400), hours=rng.randrange(0, 24))]))
        made.append(contract)
    return made


def publish_some(world, rng: random.Random) -> None:
    """Record about a third of what is owed as published (and one notice for nothing owed)."""
    for notice in notices.outstanding(Contract.objects.with_term()):
        if rng.random() < 0.35:
            NoticePublication.objects.create(
                contract=notice.contract, organisation=notice.organisation, kind=notice.kind,
                event=notice.event, notice_identifier="X", published_on=date(2026, 1, 1))
    NoticePublication.objects.create(contract=None, organisation=world.council_a,
                                     kind=NoticeKind.PAYMENTS, event="1999-04-01/1999-09-30",
                                     notice_identifier="Y", published_on=date(2026, 1, 1))


def python_form(contracts, today: date) -> list[tuple]:
    return sorted((n.contract.pk if n.contract else 0, n.organisation.pk, n.kind, n.event,
                   n.due) for n in notices.outstanding(contracts.with_term(), today=today))


def sql_form(contracts, today: date) -> list[tuple]:
    return sorted((row[0] or 0, *row[1:5])
                  for row in notices.unpublished_notice_rows(contracts, today=today))


@pytest.mark.parametrize("seed", [1, 2])
def test_it_owes_the_same_notices_in_sql_as_in_python(world, seed):
    rng = random.Random(seed)
    made = generate(world, rng, 160)
    publish_some(world, rng)
    today = timezone.localdate()
    contracts = Contract.objects.all()
    expected = python_form(contracts, today)
    assert len({row[2] for row in expected}) >= 6, "the generated contracts owe too few kinds"
    assert sql_form(contracts, today) == expected
    # The parts the SQL form is built on, contract by contract.
    loaded = {c.pk: c for c in notices.notice_queryset(Contract.objects.with_term())}
    over = set(Contract.objects.filter(over_s52_threshold_q()).values_list("pk", flat=True))
    assert over == {pk for pk, c in loaded.items() if contract_over_s52_threshold(c)}
    regimes = dict(Contract.objects.annotate(r=regime_sql()).values_list("pk", "r"))
    assert regimes == {pk: regime(c) for pk, c in loaded.items()}
    # A page of rows gives the Python rules' own notices (contract, kind, event, deadline),
    # in the SQL order.
    rows = notices.unpublished_notice_rows(contracts, today=today)
    page = notices.notices_for_rows(rows[:40])
    assert [(n.kind, n.event, n.due) for n in page] == [r[2:5] for r in rows[:40]]
    owed = {(n.contract.pk, n.kind, n.event, n.due) for c in loaded.values()
            for n in notices.notices_for_contract(c) if n.published is None}
    assert {(n.contract.pk, n.kind, n.event, n.due) for n in page if n.contract} <= owed
    assert rows.count() == len(expected) and len(made) == 160


def test_it_counts_only_the_given_contracts(world):
    rng = random.Random(7)
    generate(world, rng, 60)
    some = Contract.objects.filter(pk__in=list(
        Contract.objects.order_by("pk").values_list("pk", flat=True)[:25]))
    today = timezone.localdate()
    assert sql_form(some, today) == python_form(some, today)
