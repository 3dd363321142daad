"""One set of rules for a contract, whichever way it comes in: the pages' forms,
``services.contract_create`` and the register import all ask ``contracts.validation``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from commissioning.models import Organisation
from contracts import imports, services, validation
from contracts.forms import ContractDatesForm
from contracts.models import Contract, ProcurementRegime, ProcurementRoute, RegisterImport
from contracts.tests.test_imports import HEADER, csv_bytes, good_row, upload_and_check

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def new_input(world, **overrides) -> services.ContractInput:
    values = dict(  # noqa: C408 - reads like the keyword arguments it becomes
        reference="BW-2017", title="Bromley Well", service_area="adult_social_care",
        provider=world.provider_x, holder=world.council_a, lead_commissioner=world.icb_a,
        partnership=world.partnership_a, procurement_regime=ProcurementRegime.PCR_2015,
        procurement_route=ProcurementRoute.PCR_LIGHT_TOUCH, start_date=date(2017, 10, 1),
        initial_end_date=date(2020, 9, 30), annual_value=Decimal("2700000"),
    )
    values.update(overrides)
    return services.ContractInput(**values)


def _import_messages(world, client, **changes) -> list[str]:
    register_import = upload_and_check(client, world, csv_bytes([good_row(1, **changes)]))
    return [e["message"] for e in register_import.errors]


@pytest.mark.parametrize("changes,field,message", [
    ({"notice_period_months": 61}, "notice_period_months",
     "The notice period must be 60 months or fewer"),
    ({"extension_option_months": (12, 121)}, "extension_options",
     "Each extension option must be between 1 and 120 months long"),
    ({"reference": "R" * 51}, "reference",
     "The contract reference must be 50 characters or fewer"),
    ({"title": "T" * 251}, "title", "The title must be 250 characters or fewer"),
])
def test_it_refuses_in_the_service_what_the_import_refuses(world, client_for, changes, field,
                                                           message):
    """The import refused these; contract_create saved the first two and failed with a
    database error on the others. Now both say the same thing."""
    with pytest.raises(ValidationError) as refused:
        services.contract_create(data=new_input(world, **changes),
                                 created_by=world.commissioner_a)
    assert refused.value.message_dict[field] == [message]
    assert not Contract.objects.exists()
    column_changes = {
        "notice_period_months": {"Notice period": "61"},
        "extension_options": {"Extension Options": "12, 121"},
        "reference": {"Contract Ref": "R" * 51},
        "title": {"Title": "T" * 251},
    }[field]
    register_import = upload_and_check(
        client_for(world.commissioner_a), world,
        csv_bytes([good_row(1, **column_changes)], header=[*HEADER, "Notice period"]))
    assert [e["message"] for e in register_import.errors] == [message]


def test_an_end_before_the_start_is_refused_in_the_same_words_by_form_service_and_import(
        world, client_for):
    form = ContractDatesForm(data={"start_date": "01/04/2024", "initial_end_date": "31/03/2021",
                                   "notice_period_months": "3"})
    assert not form.is_valid()
    with pytest.raises(ValidationError) as refused:
        services.contract_create(data=new_input(world, start_date=date(2024, 4, 1),
                                                initial_end_date=date(2021, 3, 31)),
                                 created_by=world.commissioner_a)
    in_import = _import_messages(world, client_for(world.commissioner_a),
                                 **{"Start Date": "01/04/2024", "End Date": "31/03/2021"})
    assert form.errors["initial_end_date"] == refused.value.message_dict["initial_end_date"] \
        == in_import == ["The end date must be the same as or after the start date"]


def test_a_platform_administrator_may_import_any_provider_as_when_adding_one(world, client_for):
    """contract_create lets a platform administrator (the service desk) name any provider;
    the import refused the same provider for the same person ("does not work for")."""
    services.contract_create(data=new_input(world, provider=world.provider_y),
                             created_by=world.staff_admin)
    admin = client_for(world.staff_admin)
    register_import = upload_and_check(admin, world, csv_bytes([good_row(
        2, **{"Supplier Name": world.provider_y.name})]))
    assert register_import.errors == []
    admin.post(reverse("contracts:import_detail", args=[register_import.pk]), {})
    assert Contract.objects.get(reference="IMP-00002").provider == world.provider_y


def test_imported_contracts_and_their_new_providers_have_history_rows(world, client_for):
    client = client_for(world.commissioner_a)
    register_import = upload_and_check(client, world, csv_bytes([
        good_row(1), good_row(2, **{"Supplier Name": "Orpington Carers CIC"})]))
    client.post(reverse("contracts:import_detail", args=[register_import.pk]),
                {"create_providers": "on", "provider_kind": "vcse"})
    for contract in Contract.objects.all():
        assert [h.history_user for h in contract.history.all()] == [world.commissioner_a]
        assert contract.history.get().history_type == "+"
    new = Organisation.objects.get(name="Orpington Carers CIC")
    assert [h.history_user for h in new.history.all()] == [world.commissioner_a]


def test_register_imports_are_scoped_to_their_uploader_by_for_user(world, client_for):
    client = client_for(world.commissioner_a)
    register_import = upload_and_check(client, world, csv_bytes([good_row(1)]))
    assert list(RegisterImport.objects.for_user(world.commissioner_a)) == [register_import]
    for persona in (world.icb_commissioner_a, world.commissioner_b, world.outsider,
                    world.staff_admin):
        assert not RegisterImport.objects.for_user(persona).exists()
        for name in ("contracts:import_detail", "contracts:import_map"):
            response = client_for(persona).get(reverse(name, args=[register_import.pk]))
            assert response.status_code == 404


def test_the_import_checks_rows_with_the_one_validator(world, monkeypatch):
    """A rule added to contracts.validation reaches the import without a copy."""
    original = validation.contract_problems

    def stricter(contract, **kwargs):
        problems = original(contract, **kwargs)
        if contract.title.startswith("Community"):
            problems["title"] = "A new rule"
        return problems

    monkeypatch.setattr(validation, "contract_problems", stricter)
    table = imports.read_table("register.csv", csv_bytes([good_row(1)]))
    result = imports.check_rows(table, imports.auto_mapping(table.headers),
                                partnership=world.partnership_a)
    assert result.errors == [{"row": 2, "column": "Title", "message": "A new rule"}]
