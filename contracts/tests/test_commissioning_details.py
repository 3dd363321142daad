"""A contract page shows the commissioners' side (funding, decisions, committee-paper details,
the KPI pages, the framework a call-off came from) to its parties only, as decided by
commissioning.access.can_see_commissioning_details; its provider sees the contract without it."""

from __future__ import annotations

from django.urls import reverse

from commissioning import access
from contracts.frameworks.models import ProviderApplication
from contracts.frameworks.tests.factories import admit, framework_for, quick_call_off
from contracts.tests.factories import contract_for

COMMISSIONERS_ONLY = ["For committee papers", "id=\"decisions\">Decisions</h2>",
                      "KPIs, returns and performance"]


def test_it_shows_the_commissioners_side_to_parties_and_not_to_the_provider(world, client_for):
    contract = contract_for(world)
    url = reverse("contracts:detail", args=[contract.pk])
    party = client_for(world.commissioner_a).get(url).content.decode()
    provider = client_for(world.provider_x_user).get(url)
    assert provider.status_code == 200
    for text in COMMISSIONERS_ONLY:
        assert text in party
        assert text not in provider.content.decode()
    assert "Your returns" in provider.content.decode() and "Your returns" not in party
    assert access.can_see_commissioning_details(world.staff_admin, contract)
    assert not access.can_see_commissioning_details(world.provider_x_user, contract)


def test_a_provider_reads_the_framework_of_its_call_off_without_a_link_to_it(world, client_for):
    framework = framework_for(world, lots=1)
    lot = framework.lots.get()
    admit(world.provider_x, lot)
    call_off = quick_call_off(world, lot, world.provider_x)
    url = reverse("contracts:detail", args=[call_off.contract_id])
    link = reverse("contracts:framework_detail", args=[framework.pk])
    assert link in client_for(world.commissioner_a).get(url).content.decode()
    provider_page = client_for(world.provider_x_user).get(url).content.decode()
    assert framework.title in provider_page and link not in provider_page


def test_applications_are_seen_by_their_provider_and_the_framework_parties_only(world):
    framework = framework_for(world, lots=1)
    lot = framework.lots.get()
    mine, theirs = admit(world.provider_x, lot), admit(world.provider_y, lot)
    seen = {name: set(ProviderApplication.objects.for_user(user))
            for name, user in world.personas().items()}
    assert seen["provider_x"] == {mine} and seen["provider_y"] == {theirs}
    assert seen["commissioner_a"] == {mine, theirs} == seen["staff_admin"]
    assert seen["commissioner_b"] == set() == seen["outsider"]
