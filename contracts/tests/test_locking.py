"""The one optimistic lock (commissioning/locking.py) under two real, simultaneous saves."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from commissioning.locking import ConcurrentEditError
from contracts import services
from contracts.models import Contract
from contracts.tests.factories import contract_for


@pytest.mark.django_db(transaction=True)
def test_it_lets_exactly_one_of_two_simultaneous_saves_from_the_same_version_win(world):
    contract = contract_for(world, title="Original")
    version = contract.version
    start = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def save(title: str, user) -> None:
        try:
            start.wait()
            services.contract_update(contract=Contract.objects.get(pk=contract.pk),
                                     expected_version=version, updated_by=user, title=title)
            outcomes[title] = "saved"
        except ConcurrentEditError as error:
            outcomes[title] = str(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=("First", world.commissioner_a)),
               threading.Thread(target=save, args=("Second", world.icb_commissioner_a))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert list(outcomes.values()).count("saved") == 1, outcomes
    refused = next(v for v in outcomes.values() if v != "saved")
    assert refused.startswith("Someone else changed this contract since you opened it")
    contract.refresh_from_db()
    winner = next(title for title, v in outcomes.items() if v == "saved")
    assert contract.title == winner and contract.version == version + 1
