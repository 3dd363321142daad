"""The register's status filter picks contracts by the status they show (contracts.models.
status_on, ``with_term``'s ``status_now``), though it is written on the stored status so the
database can narrow by it first (issue 19): for every status, the page lists exactly the
contracts whose shown status it is."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from contracts.models import Contract, ContractStatus, ExtensionOption
from contracts.tests.factories import contract_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def contracts(world):
    """A contract of every recorded status ending in the past and in the future, and live
    ones whose end an exercised extension option moves past today (or not)."""
    today = timezone.localdate()
    made = []
    for status in ContractStatus.values:
        for label, end in (("past", today - timedelta(days=40)),
                           ("future", today + timedelta(days=400)),
                           ("yesterday", today - timedelta(days=1)),
                           ("today", today)):
            made.append(contract_for(world, reference=f"ST-{status}-{label}",
                                     start_date=date(2015, 4, 1), initial_end_date=end,
                                     status=status))
    for label, months in (("extended-on", 12), ("extended-short", 1)):
        contract = contract_for(world, reference=f"ST-live-{label}", start_date=date(2015, 4, 1),
                                initial_end_date=today - timedelta(days=40),
                                status=ContractStatus.LIVE)
        ExtensionOption.objects.create(contract=contract, sequence=1, length_months=months,
                                       exercised=True)
        made.append(contract)
    return made


def _references(client, query: str) -> set[str]:
    html = client.get(reverse("contracts:list") + query).content.decode()
    return set(re.findall(r">(ST-[\w-]+)</a>", html))


@pytest.mark.parametrize("status", ContractStatus.values)
def test_it_lists_for_each_status_exactly_the_contracts_showing_it(world, client_for, contracts,
                                                                   status):
    expected = set(Contract.objects.filter(reference__startswith="ST-").with_term()
                   .filter(status_now=status).values_list("reference", flat=True))
    assert _references(client_for(world.commissioner_a), f"?status={status}") == expected
