"""The return form and the inbox run a fixed number of queries whatever their size."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contracts.tests.factories import contract_for
from monitoring.tests.factories import (
    KPIFactory,
    fill_and_submit,
    kpi_with_target,
    percentage_kpi,
    quarter,
)


def _count(client, url, method="get", data=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, data or {})
    assert response.status_code in (200, 302), response.status_code
    return len(queries)


def _contract_with_kpis(world, size: int, reference: str):
    contract = contract_for(world, reference=reference)
    for index in range(size):
        if index % 2:
            percentage_kpi(contract, code=f"P{index}")
        else:
            kpi_with_target(contract, code=f"C{index}")
    return contract


def _form_queries(world, client_for, size):
    contract = _contract_with_kpis(world, size, f"Q-{size}")
    period = quarter()
    fill_and_submit(contract, quarter(period.start_date.replace(year=2025, month=2)),
                    world.provider_x_user)
    client = client_for(world.provider_x_user)
    url = reverse("monitoring:return_form", args=[contract.pk, period.code])
    client.get(url)  # warm the session and period rows
    return _count(client, url)


def test_the_return_form_runs_the_same_queries_for_5_and_40_kpis(world, client_for):
    small = _form_queries(world, client_for, 5)
    large = _form_queries(world, client_for, 40)
    assert small == large, (small, large)
    assert large <= 20


def _save_queries(world, client_for, size):
    contract = _contract_with_kpis(world, size, f"S-{size}")
    period = quarter()
    kpis = list(contract.kpis.all())
    data = {"overall_commentary": "", "version": "", "action": "save"}
    for kpi in kpis:
        if kpi.is_percentage:
            data[f"kpi-{kpi.pk}-numerator"] = "5"
            data[f"kpi-{kpi.pk}-denominator"] = "8"
        else:
            data[f"kpi-{kpi.pk}-value"] = "12"
    client = client_for(world.provider_x_user)
    url = reverse("monitoring:return_form", args=[contract.pk, period.code])
    client.get(url)
    first = _count(client, url, "post", data)
    data["version"] = str(contract.returns.get().version)
    second = _count(client, url, "post", data)
    return first, second


def test_saving_a_draft_runs_the_same_queries_for_5_and_40_kpis(world, client_for):
    assert _save_queries(world, client_for, 5) == _save_queries(world, client_for, 40)


def _inbox_queries(world, client_for, size):
    for index in range(size):
        contract = contract_for(world, reference=f"IN-{size}-{index}")
        KPIFactory(contract=contract)
        kpi_with_target(contract)
        fill_and_submit(contract, quarter(), world.provider_x_user)
    client = client_for(world.commissioner_a)
    url = reverse("monitoring:inbox")
    client.get(url)
    return _count(client, url)


def test_the_inbox_runs_the_same_queries_for_3_and_30_returns(world, client_for):
    small = _inbox_queries(world, client_for, 3)
    large = _inbox_queries(world, client_for, 30)
    assert small == large, (small, large)


def _overview_queries(world, client_for, size):
    for index in range(size):
        contract = contract_for(world, reference=f"OV-{size}-{index}")
        kpi_with_target(contract)
        percentage_kpi(contract)
        fill_and_submit(contract, quarter(), world.provider_x_user)
    client = client_for(world.commissioner_a)
    url = reverse("monitoring:overview")
    client.get(url)
    return _count(client, url)


def test_the_overview_runs_the_same_queries_for_3_and_30_contracts(world, client_for):
    assert _overview_queries(world, client_for, 3) == _overview_queries(world, client_for, 30)
