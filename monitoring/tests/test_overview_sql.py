"""The performance overview rates KPIs in SQL (monitoring.overview.OVERVIEW_SQL); the same
rule lives in Python (monitoring.rag.rag). On generated data of every data type, direction,
target history and return status, both must give the same counts for every contract."""

import random
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from commissioning.tests.page_forms import rendered_form
from contracts.models import Contract, ExtensionOption
from contracts.tests.factories import contract_for
from monitoring import selectors
from monitoring.models import (
    KPI,
    AssessmentStatus,
    DataType,
    Direction,
    Frequency,
    KPITarget,
    PerformanceAssessment,
    PerformanceReturn,
    ReturnStatus,
    ReturnValue,
)
from monitoring.overview import (
    forget_rag_counts,
    overview_assessments_due,
    overview_rows,
    performance_overview,
    read_rag_counts,
    store_rag_counts,
)
from monitoring.rag import Target, rag, target_in_force
from monitoring.services import kpis as kpi_services
from monitoring.services import returns as return_services
from monitoring.tests.factories import KPIFactory, fill_and_submit, kpi_with_target, quarter

pytestmark = pytest.mark.django_db


def _decimal(rng: random.Random, low: int, high: int) -> Decimal:
    """Small whole numbers (and some halves), so values often sit exactly on a boundary."""
    return Decimal(rng.randint(low * 2, high * 2)) / 2 if rng.random() < 0.2 else \
        Decimal(rng.randint(low, high))


def _build(world, rng: random.Random, contracts: int) -> None:
    periods = [quarter(date(2024, 5, 1)), quarter(date(2024, 8, 1)),
               quarter(date(2024, 11, 1))]
    for n in range(contracts):
        contract = contract_for(world, reference=f"RAG-{n}")
        kpis = []
        for k in range(rng.randint(0, 6)):
            kpi = KPIFactory(contract=contract, code=f"K{n}-{k}",
                             data_type=rng.choice(list(DataType.values)),
                             direction=rng.choice(list(Direction.values)),
                             is_active=rng.random() > 0.1)
            kpis.append(kpi)
            for period in rng.sample(periods, rng.randint(0, 3)):
                target = None if rng.random() < 0.1 else _decimal(rng, 5, 15)
                KPITarget.objects.create(
                    kpi=kpi, valid_from=period, target_value=target,
                    upper_value=None if rng.random() < 0.5 else _decimal(rng, 12, 20),
                    amber_tolerance=_decimal(rng, 0, 3))
        for period in rng.sample(periods, rng.randint(0, 3)):
            ret = PerformanceReturn.objects.create(
                contract=contract, period=period,
                status=rng.choice(list(ReturnStatus.values)))
            for kpi in kpis:
                if rng.random() < 0.15:
                    continue
                ReturnValue.objects.create(
                    performance_return=ret, kpi=kpi,
                    value=None if rng.random() < 0.1 else _decimal(rng, 0, 24),
                    yes_no=None if rng.random() < 0.1 else rng.random() < 0.5)


def _expected(contract: Contract) -> Counter:
    shown = [r for r in contract.returns.select_related("period")
             if r.status in (ReturnStatus.SUBMITTED, ReturnStatus.ACCEPTED)]
    latest = max(shown, key=lambda r: (r.period.start_date, r.pk), default=None)
    counts = Counter()
    for kpi in KPI.objects.filter(contract=contract, is_active=True):
        result = None
        if latest is not None:
            row = ReturnValue.objects.filter(performance_return=latest, kpi=kpi).first()
            chosen = target_in_force(((t.valid_from.start_date, t) for t in
                                      kpi.targets.select_related("valid_from")), latest.period)
            target = None if chosen is None else Target(
                chosen.target_value, chosen.upper_value, chosen.amber_tolerance)
            if row is not None:
                result = rag(data_type=kpi.data_type, direction=kpi.direction,
                             value=row.yes_no if kpi.data_type == "yes_no" else row.value,
                             target=target)
        counts[result or "none"] += 1
    return counts


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_sql_rating_agrees_with_the_python_rule(world, seed):
    _build(world, random.Random(seed), contracts=25)
    rows = performance_overview(contracts=Contract.objects.filter(reference__startswith="RAG-"))
    assert len(rows) == 25
    rated = 0
    for row in rows:
        expected = _expected(row.contract)
        got = {"red": row.red, "amber": row.amber, "green": row.green,
               "none": row.no_target}
        assert got == {k: expected.get(k, 0) for k in got}, row.reference
        assert row.kpi_count == sum(expected.values())
        rated += row.red + row.amber + row.green
        latest = max((r for r in row.contract.returns.select_related("period")
                      if r.status in ("submitted", "accepted")),
                     key=lambda r: (r.period.start_date, r.pk), default=None)
        assert row.latest_period == (latest.period if latest else None)
    assert rated >= 5  # the generated data really exercises the rule
    order = [(-r.red, -r.amber) for r in rows]
    assert order == sorted(order)


def test_stored_counts_are_used_and_forgotten_when_the_data_changes(world, client_for):
    contract = contract_for(world, reference="STORE-1")
    first = kpi_with_target(contract, code="S1", target="100", tolerance="0")
    second = kpi_with_target(contract, code="S2", target="100", tolerance="0")
    ret = fill_and_submit(contract, quarter(), world.provider_x_user,
                          values={"S1": "50", "S2": "150"})
    visible = Contract.objects.filter(pk=contract.pk)

    def counts():
        [row] = performance_overview(contracts=visible)
        return row.red, row.amber, row.green, row.no_target

    assert counts() == (1, 0, 1, 0)
    ret.refresh_from_db()
    assert (ret.rag_red, ret.rag_green, ret.rag_kpis) == (1, 1, 2)  # kept for next time
    # A lower target from this quarter on: S1 turns green.
    kpi_services.target_set(kpi=first, valid_from=quarter(), target_value=Decimal("40"),
                            amber_tolerance=Decimal("0"), set_by=world.commissioner_a)
    assert counts() == (0, 0, 2, 0)
    # A KPI switched off (in the admin, the only place that does it) no longer counts; a new
    # one has no value yet (an annual KPI: the provider reports it in Q4, not in this return).
    admin = client_for(world.staff_admin)
    change = rendered_form(admin.get(f"/admin/monitoring/kpi/{second.pk}/change/")
                           .content.decode())
    response = admin.post(f"/admin/monitoring/kpi/{second.pk}/change/",
                          {k: v for k, v in change.data.items() if k != "is_active"})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert counts() == (0, 0, 1, 0)
    kpi_with_target(contract, code="S3", frequency=Frequency.ANNUAL)
    assert counts() == (0, 0, 1, 1)
    # Queried and resubmitted with another value.
    ret = return_services.return_query(performance_return=ret, expected_version=ret.version,
                                       kpi_comments={first.pk: "Check"}, comment="",
                                       queried_by=world.commissioner_a)
    ret = return_services.return_save_draft(
        contract=contract, period=quarter(), expected_version=ret.version,
        values=[return_services.ValueInput(kpi_id=first.pk, value=Decimal("10"))],
        overall_commentary="", saved_by=world.provider_x_user)
    return_services.return_submit(performance_return=ret, declaration=True,
                                  expected_version=ret.version,
                                  submitted_by=world.provider_x_user)
    assert counts() == (1, 0, 0, 1)


def test_counts_worked_out_before_a_change_are_not_stored_after_it(world):
    """The epoch guard: counts read before a change must not land once it is made."""

    contract = contract_for(world, reference="RACE-1")
    kpi_with_target(contract, code="R1", target="100")
    ret = fill_and_submit(contract, quarter(), world.provider_x_user, values={"R1": "50"})
    before = read_rag_counts([contract.pk])
    forget_rag_counts(pk=ret.pk)  # a change lands between reading and storing
    store_rag_counts(before)
    ret.refresh_from_db()
    assert ret.rag_kpis is None
    store_rag_counts(read_rag_counts([contract.pk]))  # read after the change: kept
    ret.refresh_from_db()
    assert (ret.rag_red, ret.rag_kpis) == (1, 1)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_overview_assessments_due_agree_with_the_contract_rule(world, seed):
    """The overview works the s.52 assessments due out from its own rows (value, term,
    months of options and last final assessment read with the counts); the rule on loaded
    contracts is ``selectors.assessments_due``. Values either side of £5 million, month
    ends, options, draft and final assessments: both must name the same contracts and
    dates."""
    rng = random.Random(seed)
    today = date(2026, 3, 31)
    for n in range(40):
        start = rng.choice([date(2024, 2, 29), date(2025, 1, 31), date(2025, 3, 31)]) \
            if n % 5 == 0 else today - timedelta(days=rng.randint(-30, 1500))
        contract = contract_for(
            world, reference=f"DUE-{n:02d}", start_date=start,
            initial_end_date=start + timedelta(days=rng.randint(200, 1800)),
            annual_value=Decimal(rng.choice([900_000, 1_700_000, 2_500_000, 4_999_999,
                                             5_000_001])) + Decimal("0.50"))
        for sequence in range(1, rng.randint(0, 3) + 1):
            ExtensionOption.objects.create(contract=contract, sequence=sequence,
                                           length_months=rng.choice([6, 12, 24]))
        for year in rng.sample(["2023/24", "2024/25", "2025/26"], rng.randint(0, 2)):
            finalised = datetime(2026, 3, 31, 23, 30) - timedelta(days=rng.randint(0, 800))
            PerformanceAssessment.objects.create(
                contract=contract, financial_year=year, status=rng.choice(
                    [AssessmentStatus.FINAL, AssessmentStatus.FINAL, AssessmentStatus.DRAFT]),
                finalised_at=timezone.make_aware(finalised))
    contracts = Contract.objects.filter(reference__startswith="DUE-")
    expected = selectors.assessments_due(
        contracts=list(contracts.prefetch_related("extension_options")), today=today)
    got = overview_assessments_due(overview_rows(contracts=contracts), today=today)
    assert [(c.pk, c.reference, c.title, due) for c, due in got] == sorted(
        [(c.pk, c.reference, c.title, due) for c, due in expected],
        key=lambda item: (item[3], item[1]))
    assert 3 <= len(got) < 40  # the data really falls on both sides
    assert all(c.performance_url == f"/monitoring/contracts/{c.pk}/" for c, _due in got)


def _overview_page_queries(world, client_for, count: int, data: dict) -> tuple[int, str]:
    """Queries for an overview page over ``count`` more contracts with KPIs, rated returns
    (counts stored, as the services keep them), extension options and assessments, some over
    £5 million and due; and the page's text."""
    for n in range(count):
        contract = contract_for(world, reference=f"QC-{count}-{n:02d}", title=f"Service {n}",
                                annual_value=Decimal("6000000") if n % 3 == 0 else
                                Decimal("900000"), start_date=date(2023, 4, 1),
                                initial_end_date=date(2027, 3, 31))
        ExtensionOption.objects.create(contract=contract, sequence=1, length_months=12)
        kpi_with_target(contract, code=f"Q{n}")
        if n % 4:
            fill_and_submit(contract, quarter(), world.provider_x_user,
                            values={f"Q{n}": "50" if n % 2 else "120"})
        if n % 6 == 3:
            PerformanceAssessment.objects.create(
                contract=contract, financial_year="2025/26", status=AssessmentStatus.FINAL,
                finalised_at=timezone.now())
    client = client_for(world.commissioner_a)
    url = reverse("monitoring:overview")
    client.get(url, data)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, data)
    assert response.status_code == 200
    return len(queries), response.content.decode()


@pytest.mark.parametrize("data", [{}, {"sort": "-period", "page": "2"},
                                  {"sort": "provider", "q": "Service"}])
def test_an_overview_page_runs_the_same_queries_for_6_and_36_contracts(world, client_for,
                                                                       data):
    small, text = _overview_page_queries(world, client_for, 6, data)
    assert "performance assessments due" in text  # the due list is there to be read
    large, text = _overview_page_queries(world, client_for, 30, data)
    assert "36</strong> contracts with KPIs" in text
    assert large == small, (small, large)
