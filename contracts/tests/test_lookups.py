"""The autocomplete's suggestions (contracts/lookups.py, issue 19): CPV codes for what is typed,
and provider names only from the contracts the person may see."""

from __future__ import annotations

import pytest
from django.urls import reverse

from contracts.tests.factories import contract_for

pytestmark = pytest.mark.django_db


def _suggestions(client, name: str, query: str) -> list[str]:
    response = client.get(reverse(name), {"q": query})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return [row["label"] for row in response.json()["results"]]


def test_it_suggests_cpv_codes_by_code_start_and_by_words(world, client_for):
    client = client_for(world.commissioner_a)
    assert _suggestions(client, "contracts:cpv_search", "85323") == [
        "85323000 Community health services"]
    by_words = _suggestions(client, "contracts:cpv_search", "mental health")
    assert "85121270 Psychiatrist or psychologist services" in by_words
    assert len(by_words) == 20  # a page of suggestions, never the whole list
    assert _suggestions(client, "contracts:cpv_search", "8") == []  # too short to ask


def test_it_suggests_only_providers_of_contracts_the_person_can_see(world, client_for):
    contract_for(world)  # partnership A's, provider X
    contract_for(world, partnership=world.partnership_b, holder=world.council_b,
                 lead_commissioner=world.council_b, provider=world.provider_y)
    x, y = world.provider_x.name, world.provider_y.name
    for query in (x[:4], y[:4]):
        assert y not in _suggestions(client_for(world.commissioner_a),
                                     "contracts:provider_names", query)
        assert x not in _suggestions(client_for(world.commissioner_b),
                                     "contracts:provider_names", query)
    assert _suggestions(client_for(world.commissioner_a), "contracts:provider_names",
                        x[:4].lower()) == [x]
    assert _suggestions(client_for(world.commissioner_b), "contracts:provider_names",
                        y[-5:]) == [y]
    # A provider sees its own name only.
    assert _suggestions(client_for(world.provider_y_user), "contracts:provider_names",
                        x[:4]) == []


def test_it_answers_no_one_who_is_not_signed_in(client):
    response = client.get(reverse("contracts:provider_names"), {"q": "age"})
    assert response.status_code == 302 and "/sign-in/" in response["Location"]
