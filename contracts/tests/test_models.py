from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from contracts.models import CommissioningShare, Contract
from contracts.tests.factories import (
    ExtensionOptionFactory,
    VariationFactory,
    contract_for,
)

pytestmark = pytest.mark.django_db


def test_it_derives_the_current_end_date_from_exercised_options(world):
    contract = contract_for(world, start_date=date(2017, 10, 1),
                            initial_end_date=date(2020, 9, 30))
    ExtensionOptionFactory(contract=contract, sequence=1, length_months=12, exercised=True)
    ExtensionOptionFactory(contract=contract, sequence=2, length_months=12)
    contract = Contract.objects.get(pk=contract.pk)
    assert contract.current_end_date == date(2021, 9, 30)
    assert contract.maximum_end_date == date(2022, 9, 30)
    assert contract.term_description == "3 years + up to 2 years"


def test_it_computes_the_same_end_date_in_sql_as_in_python(world):
    cases = [(date(2024, 1, 30), 1), (date(2024, 2, 28), 12), (date(2023, 12, 31), 2),
             (date(2025, 3, 31), 0), (date(2024, 8, 30), 6)]
    for index, (end, months) in enumerate(cases):
        contract = contract_for(world, reference=f"SQL-{index}", start_date=date(2020, 1, 1),
                                initial_end_date=end)
        if months:
            ExtensionOptionFactory(contract=contract, sequence=1, length_months=months,
                                   exercised=True)
    for contract in Contract.objects.with_term().filter(reference__startswith="SQL-"):
        fresh = Contract.objects.get(pk=contract.pk)
        assert contract.current_end == fresh.current_end_date, contract.reference


def test_it_moves_the_end_date_for_term_variations(world):
    contract = contract_for(world, initial_end_date=date(2027, 3, 31))
    VariationFactory(contract=contract, term_change_months=3, value_change=0)
    assert Contract.objects.get(pk=contract.pk).current_end_date == date(2027, 6, 30)
    assert Contract.objects.with_term().get(pk=contract.pk).current_end == date(2027, 6, 30)


def test_it_derives_the_whole_life_value_including_all_options(world):
    contract = contract_for(world, start_date=date(2017, 10, 1),
                            initial_end_date=date(2020, 9, 30),
                            annual_value=Decimal("2700000.00"))
    ExtensionOptionFactory(contract=contract, sequence=1, length_months=12)
    ExtensionOptionFactory(contract=contract, sequence=2, length_months=12)
    contract = Contract.objects.get(pk=contract.pk)
    assert contract.whole_life_value == Decimal("13500000.00")


def test_it_computes_whole_life_value_for_odd_terms_exactly(world):
    contract = contract_for(world, start_date=date(2025, 4, 1),
                            initial_end_date=date(2026, 9, 30),
                            annual_value=Decimal("1000.01"))
    assert contract.whole_life_value == Decimal("1500.02")  # 18 months, rounded to a penny


def test_it_flags_variations_over_the_procurement_act_threshold(world):
    contract = contract_for(world, start_date=date(2024, 4, 1),
                            initial_end_date=date(2025, 3, 31),
                            annual_value=Decimal("100000"))
    small = VariationFactory(contract=contract, value_change=Decimal("10000"))
    large = VariationFactory(contract=contract, value_change=Decimal("-10000.01"))
    term = VariationFactory(contract=contract, value_change=0, term_change_months=1)
    assert small.percent_of_original_value == Decimal("10.00")
    assert not small.change_notice_required
    assert large.change_notice_required
    assert term.change_notice_required
    contract.works = True
    large.contract = contract
    assert not large.change_notice_required


def test_it_refuses_a_share_over_100_percent_in_the_database(world):
    contract = contract_for(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        CommissioningShare.objects.create(contract=contract, organisation=world.council_a,
                                          share_percent=Decimal("100.01"))


def test_it_refuses_a_negative_annual_value_in_the_database(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        contract_for(world, annual_value=Decimal("-1"))


def test_it_refuses_a_duplicate_reference_for_the_same_holder_in_the_database(world):
    contract_for(world, reference="DUP-1")
    contract_for(world, reference="DUP-1", holder=world.icb_a)  # another holder is fine
    with pytest.raises(IntegrityError), transaction.atomic():
        contract_for(world, reference="DUP-1")


def test_it_shows_provider_x_only_its_own_contracts(world):
    mine = contract_for(world)
    CommissioningShare.objects.create(contract=mine, organisation=world.icb_a,
                                      share_percent=Decimal("40"))
    contract_for(world, provider=world.provider_y)
    contract_for(world, partnership=world.partnership_b, holder=world.council_b,
                 lead_commissioner=world.council_b, provider=world.provider_y)
    assert list(Contract.objects.for_user(world.provider_x_user)) == [mine]
    assert Contract.objects.for_user(world.outsider).count() == 0
    assert Contract.objects.for_user(world.commissioner_a).count() == 2
    # The ICB is a party (a share) to one of council A's contracts only: it sees that one.
    assert list(Contract.objects.for_user(world.icb_commissioner_a)) == [mine]
    assert Contract.objects.for_user(world.commissioner_b).count() == 1
    assert Contract.objects.for_user(world.staff_admin).count() == 3
