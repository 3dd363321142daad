"""What committee papers take from a contract: recorded by one service, refused field by field."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from commissioning.locking import ConcurrentEditError
from contracts import services
from contracts.tests.factories import contract_for

pytestmark = pytest.mark.django_db

FIGURES = {"funding_sources_text": "  Core LBB/CCG/BCF ", "ongoing_costs": "recurring",
           "ongoing_annual_cost": None, "budget_head": "Various",
           "total_current_budget": Decimal("2751000.00"), "estimated_users": 5000}


def test_it_records_the_figures_and_bumps_the_version(world):
    contract = contract_for(world)
    saved = services.contract_cover_update(contract=contract, expected_version=1,
                                           updated_by=world.commissioner_a, **FIGURES)
    saved.refresh_from_db()
    assert (saved.funding_sources_text, saved.total_current_budget, saved.estimated_users,
            saved.version) == ("Core LBB/CCG/BCF", Decimal("2751000.00"), 5000, 2)
    assert saved.history.first().history_user == world.commissioner_a


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"ongoing_costs": "", "ongoing_annual_cost": Decimal("10")}, "ongoing_costs",
     "Select whether the ongoing annual cost is recurring or non-recurring"),
    ({"ongoing_costs": "sometimes"}, "ongoing_costs", "Select recurring or non-recurring cost"),
    ({"total_current_budget": Decimal("-1")}, "total_current_budget",
     "The total current budget for this head must be £0 or more"),
    ({"estimated_users": -5}, "estimated_users",
     "The estimated number of users or beneficiaries must be 0 or more"),
])
def test_it_refuses_each_bad_figure_and_saves_nothing(world, change, field, message):
    contract = contract_for(world)
    with pytest.raises(ValidationError) as refused:
        services.contract_cover_update(contract=contract, expected_version=1,
                                       updated_by=world.commissioner_a, **(FIGURES | change))
    assert refused.value.message_dict == {field: [message]}
    contract.refresh_from_db()
    assert contract.version == 1 and contract.budget_head == ""


def test_it_refuses_a_save_from_a_version_someone_else_moved_on(world):
    contract = contract_for(world)
    services.contract_cover_update(contract=contract, expected_version=1,
                                   updated_by=world.commissioner_a, **FIGURES)
    with pytest.raises(ConcurrentEditError):
        services.contract_cover_update(contract=contract, expected_version=1,
                                       updated_by=world.contract_manager_a,
                                       **(FIGURES | {"budget_head": "ECHS-123"}))
    contract.refresh_from_db()
    assert contract.budget_head == "Various" and contract.version == 2
