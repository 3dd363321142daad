"""Who may be a contract's provider (issue 13, findings 1 (a) and 3).

A provider the partnership knows (it delivers one of the partnership's contracts, or applied to
one of its frameworks), or a provider new to the service added with the contract; never any
provider on the service. A call-off's provider must be admitted to the call-off's lot. The rule
is in the service (``contracts.services._validate_provider``), whichever form calls it.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from commissioning.models import Organisation
from commissioning.tests.factories import ProviderFactory
from commissioning.tests.page_forms import rendered_form
from contracts import services
from contracts.frameworks.tests.factories import admit, framework_for, quick_call_off
from contracts.imports import Table, check_rows
from contracts.models import Contract
from contracts.tests.factories import contract_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def providers(world):
    """Provider X delivers A's contract; Z applied to A's framework (not yet decided); Y works
    only for partnership B."""
    contract_for(world, partnership=world.partnership_b, holder=world.council_b,
                 lead_commissioner=world.council_b, provider=world.provider_y)
    framework = framework_for(world)
    applicant = ProviderFactory(name="Zephyr Community Care")
    admit(applicant, framework.lots.get(number=2), decision="pending")
    return applicant


def test_it_offers_on_the_change_details_page_only_providers_the_partnership_knows(
        world, client_for, providers):
    contract = contract_for(world)
    client = client_for(world.commissioner_a)
    url = reverse("contracts:edit", args=[contract.pk])
    form = rendered_form(client.get(url).content.decode())
    assert sorted(form.offered("provider")) == [world.provider_x.name, providers.name]
    # Tampering with the select to name Y: refused next to the field, nothing saved.
    response = client.post(url, form.with_changes(provider=str(world.provider_y.pk)))
    assert response.status_code == 200
    page = response.content.decode()
    assert "govuk-error-summary" in page and "Select a provider from the list" in page
    contract.refresh_from_db()
    assert contract.provider == world.provider_x
    # A provider the partnership knows is accepted.
    response = client.post(url, form.with_changes(
        provider=form.value_for("provider", providers.name)))
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.provider == providers


def test_it_refuses_an_unknown_provider_in_the_service_whichever_form_calls_it(
        world, providers):
    contract = contract_for(world)
    with pytest.raises(ValidationError) as refused:
        services.contract_update(contract=contract, expected_version=contract.version,
                                 updated_by=world.commissioner_a, provider=world.provider_y)
    assert "does not work for" in refused.value.message_dict["provider"][0]
    # A platform administrator (the service desk) may name any provider.
    services.contract_update(contract=contract, expected_version=contract.version,
                             updated_by=world.staff_admin, provider=world.provider_y)
    assert Contract.objects.get(pk=contract.pk).provider == world.provider_y


def _journey(client, world, parties):
    steps = {
        "details": {"reference": "NEW-1", "title": "New service", "service_area": "carers"},
        "parties": {"partnership": world.partnership_a.pk, "holder": world.council_a.pk,
                    "lead_commissioner": world.council_a.pk} | parties,
        "procurement": {"procurement_regime": "grant", "procurement_route": "grant",
                        "tendered": "no", "status": "planned"},
        "dates": {"start_date": "1/4/2026", "initial_end_date": "31/3/2027",
                  "notice_period_months": "0", "extension_options": ""},
        "values": {"annual_value": "5000", "vat_not_recoverable": "0"},
        "service-lines": {"service_lines": ""},
        "shares": {f"share_{world.council_a.pk}": "100"},
    }
    client.get(reverse("contracts:create"))
    for step, data in steps.items():
        url = reverse("contracts:create_step", args=[step])
        form = rendered_form(client.get(url).content.decode())
        response = client.post(url, form.with_changes(**{k: str(v) for k, v in data.items()}))
        if response.status_code != 302:
            return response
    return client.post(reverse("contracts:create_check"))


def test_it_offers_in_the_create_journey_only_known_providers_or_a_new_one(
        world, client_for, providers):
    contract_for(world)
    client = client_for(world.commissioner_a)
    client.get(reverse("contracts:create"))
    for step in ("details",):
        client.post(reverse("contracts:create_step", args=[step]),
                    {"reference": "NEW-1", "title": "New service", "service_area": "carers"})
    form = rendered_form(client.get(reverse("contracts:create_step",
                                            args=["parties"])).content.decode())
    assert sorted(form.offered("provider")) == [world.provider_x.name, providers.name]
    assert "new_provider_name" in form.data and "new_provider_kind" in form.options

    response = _journey(client, world, {"provider": world.provider_y.pk})
    assert "Select a provider from the list, or add a new provider" in \
        response.content.decode()
    # A provider already on the service cannot be "added" under its name either.
    response = _journey(client, world, {"new_provider_name": "age uk cambridgeshire",
                                        "new_provider_kind": "vcse"})
    assert "already on the service" in response.content.decode()
    assert not Contract.objects.filter(reference="NEW-1").exists()

    response = _journey(client, world, {"new_provider_name": "Brand New Care CIC",
                                        "new_provider_kind": "vcse"})
    assert response.status_code == 302
    added = Contract.objects.get(reference="NEW-1").provider
    assert added.name == "Brand New Care CIC" and added.is_vcse and not added.is_commissioner


def test_it_refuses_in_the_import_a_provider_that_works_only_for_another_partnership(
        world, providers):
    table = Table(kind="csv", headers=["Reference", "Title", "Provider", "Holder"],
                  rows=[["IMP-1", "Service", world.provider_y.name, world.council_a.name],
                        ["IMP-2", "Service", providers.name, world.council_a.name]])
    result = check_rows(table, {"reference": "Reference", "title": "Title",
                                "provider": "Provider", "holder": "Holder"},
                        partnership=world.partnership_a)
    first, second = result.rows
    assert any("does not work for" in message for _column, message in first.errors), \
        first.errors
    assert not [m for _column, m in second.errors if "provider" in m.lower()], second.errors
    assert not result.new_providers  # Y was not taken for a new provider either


def test_it_refuses_on_change_details_a_call_off_provider_not_admitted_to_its_lot(
        world, client_for):
    """Finding 3: "Change details" put a provider not admitted to the lot on its call-off, and
    the framework page then listed it under the lot."""
    framework = framework_for(world)
    lot_1, lot_2 = framework.lots.get(number=1), framework.lots.get(number=2)
    admit(world.provider_x, lot_1)
    elsewhere = ProviderFactory(name="Lot Two Only Ltd")
    admit(elsewhere, lot_2)  # known to the partnership, but not admitted to lot 1
    also_admitted = ProviderFactory(name="Lot One Too Ltd")
    admit(also_admitted, lot_1)
    call_off = quick_call_off(world, lot_1, world.provider_x)
    client = client_for(world.commissioner_a)
    url = reverse("contracts:edit", args=[call_off.contract.pk])
    form = rendered_form(client.get(url).content.decode())
    response = client.post(url, form.with_changes(
        provider=form.value_for("provider", elsewhere.name)))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Lot Two Only Ltd is not admitted to lot 1" in page
    assert 'id="id_provider-error"' in page or "govuk-error-message" in page
    call_off.contract.refresh_from_db()
    assert call_off.contract.provider == world.provider_x
    framework_page = client.get(reverse("contracts:framework_detail", args=[framework.pk]))
    assert "Lot Two Only Ltd" not in _lot_call_offs(framework_page.content.decode())
    # A provider admitted to the lot is accepted.
    response = client.post(url, form.with_changes(
        provider=form.value_for("provider", also_admitted.name)))
    assert response.status_code == 302
    assert Organisation.objects.get(contracts_provided=call_off.contract) == also_admitted


def _lot_call_offs(page: str) -> str:
    """The framework page's call-offs section (the admitted providers are listed elsewhere)."""
    start = page.find("Call-offs by lot")
    return page[start:] if start >= 0 else page
