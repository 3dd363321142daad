"""The dashboard works out what it shows in the database (issue 19): the same queries and the
same handful of contracts loaded with 3x the contracts, the notices and key dates it does not
show counted and listed, a page at a time, behind "See all"."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contracts.models import Contract, ContractStatus, ProcurementRegime, ProcurementRoute
from contracts.tests.factories import contract_for

pytestmark = pytest.mark.django_db


def owing(world, count: int, start: int = 0, **kwargs) -> None:
    """Procurement Act contracts that each owe a contract details notice, deadlines a day
    apart (entered into after the last ended payments period: no payments notice)."""
    today = timezone.localdate()
    for n in range(start, start + count):
        entered = today - timedelta(days=60) + timedelta(days=n)
        contract_for(world, reference=f"OWE-{n:03d}", procurement_regime=ProcurementRegime.PA_2023,
                     procurement_route=ProcurementRoute.PA_OPEN, status=ContractStatus.LIVE,
                     start_date=entered, standstill_end_date=entered,
                     initial_end_date=date(2099, 3, 31),
                     annual_value=Decimal("6000000") if n % 4 == 0 else Decimal("100000"),
                     **kwargs)


class ContractsLoaded:
    """Counts the Contract instances built while it is open."""

    def __enter__(self):
        self.count = 0
        post_init.connect(self.seen, sender=Contract)
        return self

    def seen(self, **kwargs) -> None:
        self.count += 1

    def __exit__(self, *exc) -> None:
        post_init.disconnect(self.seen, sender=Contract)


def test_it_takes_the_same_queries_and_loads_only_the_shown_contracts_at_3x_the_contracts(
        world, client_for):
    client = client_for(world.commissioner_a)
    owing(world, 10)
    with CaptureQueriesContext(connection) as few, ContractsLoaded() as loaded_few:
        first = client.get(reverse("dashboard")).content.decode()
    owing(world, 20, start=10)
    with CaptureQueriesContext(connection) as many, ContractsLoaded() as loaded_many:
        page = client.get(reverse("dashboard")).content.decode()
    assert "OWE-000" in first and "Showing the" not in first
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]
    # The contracts of the twenty notices shown, never the thirty behind them.
    assert loaded_many.count <= 20 and loaded_few.count <= 10
    assert "OWE-019" in page and "OWE-020" not in page
    assert "Showing the 20 soonest of 30" in page
    assert "See all 30 notices to publish" in page


def test_it_lists_every_notice_a_page_at_a_time(world, client_for):
    owing(world, 55)
    contract_for(world, reference="OWE-B", partnership=world.partnership_b,
                 holder=world.council_b, lead_commissioner=world.council_b,
                 procurement_regime=ProcurementRegime.PA_2023,
                 procurement_route=ProcurementRoute.PA_OPEN, status=ContractStatus.LIVE)
    client = client_for(world.commissioner_a)
    url = reverse("monitoring:notices_due")
    assert url in client.get(reverse("dashboard")).content.decode()
    first = client.get(url).content.decode()
    assert "<strong>55</strong> notices not yet recorded as published" in first
    assert "OWE-000" in first and "OWE-049" in first
    assert "OWE-050" not in first and "OWE-B" not in first
    assert 'class="govuk-pagination"' in first and "Page 1 of 2" in first
    second = client.get(url, {"page": 2}).content.decode()
    assert "OWE-054" in second and "OWE-049" not in second and "Page 2 of 2" in second
    assert "overdue by" in first and "due in" in second
    assert client.get(url, {"page": "x"}).status_code == 200
    other = client_for(world.commissioner_b).get(url).content.decode()
    assert "OWE-000" not in other and "OWE-B" in other
    assert client_for(world.provider_x_user).get(url).status_code == 404


def ending(world, count: int, start: int = 0, **kwargs) -> None:
    """Contracts ending within 3 months, a day apart: a key-date alert each (no notices)."""
    today = timezone.localdate()
    for n in range(start, start + count):
        contract_for(world, reference=f"END-{n:03d}", notice_period_months=0,
                     initial_end_date=today + timedelta(days=40 + n), **kwargs)


def test_key_dates_take_the_same_queries_and_load_only_the_shown_contracts_at_3x(
        world, client_for):
    client = client_for(world.commissioner_a)
    ending(world, 10, contract_manager=world.commissioner_a)
    with CaptureQueriesContext(connection) as few, ContractsLoaded() as loaded_few:
        first = client.get(reverse("dashboard")).content.decode()
    ending(world, 20, start=10)
    with CaptureQueriesContext(connection) as many, ContractsLoaded() as loaded_many:
        page = client.get(reverse("dashboard")).content.decode()
    assert "10 key dates need attention, 10 on contracts you manage" in first
    assert "END-009" in first and "Showing the" not in first
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]
    # The contracts of the twenty alerts shown, never the thirty behind them.
    assert loaded_many.count <= 20 and loaded_few.count <= 10
    assert "30 key dates need attention, 10 on contracts you manage" in page
    assert "END-019" in page and "END-020" not in page
    assert "Showing the 20 soonest of 30" in page
    assert reverse("monitoring:key_dates") in page
    assert "See all 30 key dates that need attention" in page


def test_it_lists_every_key_date_a_page_at_a_time(world, client_for):
    ending(world, 55)
    contract_for(world, reference="END-B", partnership=world.partnership_b,
                 holder=world.council_b, lead_commissioner=world.council_b,
                 initial_end_date=timezone.localdate() + timedelta(days=30))
    client = client_for(world.commissioner_a)
    url = reverse("monitoring:key_dates")
    first = client.get(url).content.decode()
    assert "<strong>55</strong> key dates need attention" in first
    assert "END-000" in first and "END-049" in first
    assert "END-050" not in first and "END-B" not in first
    assert 'class="govuk-pagination"' in first and "Page 1 of 2" in first
    assert "Contract ends within 3 months" in first
    second = client.get(url, {"page": 2}).content.decode()
    assert "END-054" in second and "END-049" not in second and "Page 2 of 2" in second
    assert client.get(url, {"page": "x"}).status_code == 200
    other = client_for(world.commissioner_b).get(url).content.decode()
    assert "END-000" not in other and "END-B" in other
    assert "<strong>1</strong> key date needs attention" in other
    assert client_for(world.provider_x_user).get(url).status_code == 404
