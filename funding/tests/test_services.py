"""The money rules: every bad input refused with a specific message and nothing saved."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from commissioning.locking import ConcurrentEditError
from contracts.tests.factories import contract_for
from funding import selectors, services
from funding.models import (
    ContractFunding,
    Contribution,
    ContributionChange,
    MonthlyActual,
    RiskShareOutcome,
    RiskShareRule,
    SchemeBudget,
    Section75Agreement,
    TopSliceDrawdown,
)
from funding.services import AgreementInput, DecisionInput, PartnerInput
from funding.tests.factories import (
    actual,
    agreement_for,
    close,
    contribute,
    scheme_for,
    source,
)

D = Decimal
APRIL = date(2025, 4, 1)
DECISION = DecisionInput(decision_maker="Integrated Commissioning Board",
                         decision_date=date(2025, 6, 12), decision_reference="ACH25-014")


def _messages(error: ValidationError) -> str:
    return " ".join(error.messages)


def _agreement_input(world, **overrides) -> AgreementInput:
    values = {
        "partnership": world.partnership_a, "kind": "section_75",
        "title": "Better Care Fund S75", "host_partner": world.council_a,
        "arrangement_type": "pooled_fund", "start_date": date(2025, 4, 1),
        "end_date": date(2027, 3, 31), "risk_share_rule": RiskShareRule.FIXED_SPLIT,
        "underspend_rule": "carry_forward",
        "partners": [PartnerInput(world.council_a, D("60")), PartnerInput(world.icb_a, D("40"))],
    }
    values.update(overrides)
    return AgreementInput(**values)


# --- Agreements ------------------------------------------------------------------------------

def test_it_records_an_agreement_with_partners_and_history(world):
    agreement = services.agreement_create(user=world.commissioner_a,
                                          data=_agreement_input(world))
    assert [p.risk_share_percent for p in selectors.agreement_partners(agreement)] == [
        D("60.00"), D("40.00")]
    assert agreement.history.count() == 1
    assert agreement.history.first().history_user == world.commissioner_a


def test_it_refuses_a_fixed_split_that_does_not_add_up_to_100(world):
    with pytest.raises(ValidationError) as error:
        services.agreement_create(user=world.commissioner_a, data=_agreement_input(
            world, partners=[PartnerInput(world.council_a, D("60")),
                             PartnerInput(world.icb_a, D("30"))]))
    assert "must add up to 100%. They add up to 90.00%" in _messages(error.value)
    assert not Section75Agreement.objects.exists()


def test_it_refuses_a_partner_outside_the_partnership(world):
    with pytest.raises(ValidationError) as error:
        services.agreement_create(user=world.commissioner_a, data=_agreement_input(
            world, partners=[PartnerInput(world.council_a, D("50")),
                             PartnerInput(world.icb_b, D("50"))]))
    assert f"{world.icb_b.name} is not in the partnership" in _messages(error.value)
    assert not Section75Agreement.objects.exists()


def test_it_refuses_a_stale_edit_of_an_agreement(world):
    agreement = services.agreement_create(user=world.commissioner_a,
                                          data=_agreement_input(world))
    services.agreement_update(agreement=agreement, version=1, user=world.commissioner_a,
                              data=_agreement_input(world, title="Renamed"))
    with pytest.raises(ConcurrentEditError):
        services.agreement_update(agreement=agreement, version=1, user=world.icb_commissioner_a,
                                  data=_agreement_input(world, title="Stale"))
    agreement.refresh_from_db()
    assert agreement.title == "Renamed" and agreement.version == 2


def test_it_refuses_a_duplicate_scheme_code_in_the_same_agreement(world):
    agreement = agreement_for(world)
    scheme_for(agreement, code="BCF-07")
    with pytest.raises(ValidationError) as error:
        services.scheme_create(agreement=agreement, user=world.commissioner_a,
                               data=services.SchemeInput(
                                   code="bcf-07", name="Carers", lead_partner=world.council_a,
                                   scheme_type="carers_services", budget_type="pooled",
                                   is_bcf=True, commissioner="la"))
    assert "There is already a scheme bcf-07 in this agreement" in _messages(error.value)


def test_it_refuses_joint_commissioner_percentages_not_adding_up(world):
    agreement = agreement_for(world)
    with pytest.raises(ValidationError) as error:
        services.scheme_create(agreement=agreement, user=world.commissioner_a,
                               data=services.SchemeInput(
                                   code="BCF-01", name="Reablement", lead_partner=world.icb_a,
                                   scheme_type="home_based_ic", budget_type="pooled",
                                   is_bcf=True, commissioner="joint", nhs_percent=D("60"),
                                   la_percent=D("30")))
    assert "must add up to 100%" in _messages(error.value)


# --- Budgets and contributions ---------------------------------------------------------------

def test_it_refuses_a_negative_budget_in_the_service_and_the_database(world):
    scheme = scheme_for(agreement_for(world))
    with pytest.raises(ValidationError) as error:
        services.budget_set(scheme=scheme, year=2025, amount=D("-1.00"),
                            user=world.finance_officer_a)
    assert "The budget must be £0 or more" in _messages(error.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        SchemeBudget.objects.create(scheme=scheme, year=2025, amount=D("-1.00"))
    assert not SchemeBudget.objects.exists()


def test_it_refuses_a_stale_budget_change(world):
    scheme = scheme_for(agreement_for(world))
    budget = services.budget_set(scheme=scheme, year=2025, amount=D("1000"),
                                 user=world.finance_officer_a, version=0)
    services.budget_set(scheme=scheme, year=2025, amount=D("2000"),
                        user=world.finance_officer_a, version=budget.version)
    with pytest.raises(ConcurrentEditError):
        services.budget_set(scheme=scheme, year=2025, amount=D("3000"),
                            user=world.commissioner_a, version=budget.version)
    assert SchemeBudget.objects.get().amount == D("2000.00")
    assert SchemeBudget.objects.get().history.count() == 2


def test_it_refuses_a_budget_for_a_year_outside_the_agreement(world):
    scheme = scheme_for(agreement_for(world))
    with pytest.raises(ValidationError) as error:
        services.budget_set(scheme=scheme, year=2030, amount=D("1"), user=world.commissioner_a)
    assert "2030/31 is not a year of this agreement" in _messages(error.value)


def test_it_refuses_a_contribution_from_a_partner_not_in_the_agreement(world):
    scheme = scheme_for(agreement_for(world))
    with pytest.raises(ValidationError) as error:
        services.contribution_set(scheme=scheme, partner=world.council_b, year=2025,
                                  source=source(), amount=D("1000"), user=world.commissioner_a)
    assert (f"{world.council_b.name} is not a partner in this agreement, so it cannot "
            "contribute to it") in _messages(error.value)
    assert not Contribution.objects.exists()


def test_it_refuses_a_negative_contribution_in_the_service_and_the_database(world):
    scheme = scheme_for(agreement_for(world))
    with pytest.raises(ValidationError) as error:
        services.contribution_set(scheme=scheme, partner=world.council_a, year=2025,
                                  source=source(), amount=D("-5"), user=world.commissioner_a)
    assert "The contribution must be £0 or more" in _messages(error.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        contribute(scheme, world.council_a, "-5")


def test_it_refuses_instalments_adding_up_to_more_than_the_contribution(world):
    scheme = scheme_for(agreement_for(world))
    contribution = contribute(scheme, world.council_a, "1000")
    services.instalment_add(contribution=contribution, due_date=date(2025, 4, 30),
                            amount=D("600"), user=world.finance_officer_a)
    with pytest.raises(ValidationError) as error:
        services.instalment_add(contribution=contribution, due_date=date(2025, 10, 31),
                                amount=D("500"), user=world.finance_officer_a)
    assert "more than the contribution of £1,000.00" in _messages(error.value)
    assert contribution.instalments.count() == 1


def test_it_mirrors_a_reduction_for_the_other_partner_under_the_parallel_reduction_clause(world):
    agreement = agreement_for(world, parallel_reduction=True)
    scheme = scheme_for(agreement)
    council = contribute(scheme, world.council_a, "1000000")
    icb = contribute(scheme, world.icb_a, "500000", code="nhs-baseline")
    other_year = contribute(scheme, world.icb_a, "500000", year=2026, code="nhs-baseline")
    changes = services.contribution_reduce(contribution=council, new_amount=D("900000"),
                                           decision=DECISION, reason="Savings target",
                                           user=world.finance_officer_a)
    assert len(changes) == 2
    icb.refresh_from_db()
    other_year.refresh_from_db()
    assert icb.amount == D("450000.00")  # the same 10% reduction
    assert other_year.amount == D("500000.00")  # only the same year is mirrored
    mirror = ContributionChange.objects.get(contribution=icb)
    assert mirror.mirrored_from == changes[0]
    assert (mirror.decision_reference, mirror.decision_maker) == (
        "ACH25-014", "Integrated Commissioning Board")
    assert icb.history.count() == 2


def test_it_does_not_mirror_a_reduction_without_the_clause(world):
    scheme = scheme_for(agreement_for(world, parallel_reduction=False))
    council = contribute(scheme, world.council_a, "1000")
    icb = contribute(scheme, world.icb_a, "1000")
    services.contribution_reduce(contribution=council, new_amount=D("800"), decision=DECISION,
                                 user=world.finance_officer_a)
    icb.refresh_from_db()
    assert icb.amount == D("1000.00")


def test_it_refuses_a_reduction_that_is_not_a_reduction_or_has_no_decision(world):
    scheme = scheme_for(agreement_for(world, parallel_reduction=True))
    council = contribute(scheme, world.council_a, "1000")
    with pytest.raises(ValidationError) as error:
        services.contribution_reduce(contribution=council, new_amount=D("1200"),
                                     decision=DECISION, user=world.finance_officer_a)
    assert "less than the current contribution of £1,000.00" in _messages(error.value)
    with pytest.raises(ValidationError) as error:
        services.contribution_reduce(
            contribution=council, new_amount=D("800"), user=world.finance_officer_a,
            decision=DecisionInput(decision_maker="", decision_date=date(2025, 6, 1),
                                   decision_reference=""))
    assert "Enter who made the decision" in _messages(error.value)
    assert not ContributionChange.objects.exists()


# --- Top-slices ------------------------------------------------------------------------------

def test_it_reserves_a_top_slice_and_refuses_drawing_more_than_reserved(world):
    agreement = agreement_for(world)
    scheme = scheme_for(agreement, budget="2700000")
    top_slice = services.top_slice_create(agreement=agreement, scheme=scheme, year=2025,
                                          name="Innovation fund", percent=D("15"),
                                          user=world.commissioner_a)
    assert services.top_slice_reserved(top_slice) == D("405000.00")
    services.top_slice_draw(top_slice=top_slice, amount=D("400000"), purpose="Carers pilot",
                            decision=DECISION, user=world.commissioner_a)
    with pytest.raises(ValidationError) as error:
        services.top_slice_draw(top_slice=top_slice, amount=D("5000.01"), purpose="More",
                                decision=DECISION, user=world.commissioner_a)
    assert ("You cannot draw more than is reserved. £5,000.00 is left of the £405,000.00 "
            "reserved for Innovation fund") in _messages(error.value)
    assert TopSliceDrawdown.objects.count() == 1


# --- Contract funding ------------------------------------------------------------------------

def test_it_refuses_contract_funding_beyond_the_annual_value(world):
    agreement = agreement_for(world)
    scheme = scheme_for(agreement, budget="500000")
    contract = contract_for(world, annual_value=D("100000"))
    services.contract_funding_set(contract=contract, scheme=scheme, source=source(),
                                  basis="share", share_percent=D("60"),
                                  user=world.commissioner_a)
    with pytest.raises(ValidationError) as error:
        services.contract_funding_set(contract=contract, scheme=scheme,
                                      source=source("bcf-nhs-minimum"), basis="amount",
                                      amount=D("40000.01"), user=world.commissioner_a)
    assert ("would add up to £100,000.01, more than its annual value of £100,000.00"
            in _messages(error.value))
    services.contract_funding_set(contract=contract, scheme=scheme,
                                  source=source("bcf-nhs-minimum"), basis="amount",
                                  amount=D("40000"), user=world.commissioner_a)
    row = selectors.schemes_with_figures(agreement.schemes.all(), 2025).get()
    assert row.committed == D("100000.00")
    assert row.budget == D("500000.00")


def test_it_refuses_funding_a_contract_of_another_partnership(world):
    scheme = scheme_for(agreement_for(world))
    contract = contract_for(world, partnership=world.partnership_b, holder=world.council_b,
                            lead_commissioner=world.council_b)
    with pytest.raises(ValidationError) as error:
        services.contract_funding_set(contract=contract, scheme=scheme, source=source(),
                                      basis="amount", amount=D("1"), user=world.commissioner_a)
    assert "Select a contract of this agreement's partnership" in _messages(error.value)
    assert not ContractFunding.objects.exists()


# --- Actuals and month close -----------------------------------------------------------------

def test_it_records_actuals_and_works_out_year_to_date_and_variance(world):
    agreement = agreement_for(world)
    scheme = scheme_for(agreement, budget="120000")
    services.actual_record(scheme=scheme, month=APRIL, actual=D("10000"),
                           forecast_outturn=D("125000"), user=world.finance_officer_a)
    services.actual_record(scheme=scheme, month=date(2025, 5, 1), actual=D("11000.50"),
                           forecast_outturn=D("130000"), user=world.finance_officer_a)
    actual(scheme, date(2026, 4, 1), "99999")  # next year: not in this year's figures
    row = selectors.schemes_with_figures(agreement.schemes.all(), 2025).get()
    assert row.actual_to_date == D("21000.50")
    assert row.forecast == D("130000.00")
    assert row.variance == D("10000.00")


def test_it_refuses_changes_to_a_closed_month(world):
    agreement = agreement_for(world)
    scheme = scheme_for(agreement)
    figures = actual(scheme, APRIL, "100")
    services.month_close(agreement=agreement, month=APRIL, user=world.finance_officer_a)
    with pytest.raises(ValidationError) as error:
        services.actual_record(scheme=scheme, month=APRIL, actual=D("200"),
                               forecast_outturn=None, user=world.finance_officer_a)
    # The finance officer may reopen the month, so is told how rather than whom to ask.
    assert _messages(error.value) == (
        "April 2025 is closed. To change its figures, reopen it first: go to the agreement "
        "and select “Close or reopen months”")
    with pytest.raises(ValidationError) as error:
        services.actual_record(scheme=scheme, month=APRIL, actual=D("200"),
                               forecast_outturn=None, user=world.commissioner_a)
    assert _messages(error.value) == "April 2025 is closed. Ask a finance officer to reopen it."
    with pytest.raises(ValidationError):
        services.actual_delete(actual=figures, user=world.finance_officer_a)
    figures.refresh_from_db()
    assert figures.actual == D("100.00")
    services.month_reopen(agreement=agreement, month=APRIL, user=world.finance_officer_a)
    services.actual_record(scheme=scheme, month=APRIL, actual=D("200"), forecast_outturn=None,
                           user=world.finance_officer_a)
    assert MonthlyActual.objects.get().actual == D("200.00")


def test_it_lets_only_finance_officers_close_and_reopen_months(world):
    agreement = agreement_for(world)
    for user in (world.commissioner_a, world.read_only_a, world.staff_admin,
                 world.commissioner_b):
        with pytest.raises(PermissionDenied):
            services.month_close(agreement=agreement, month=APRIL, user=user)
    services.month_close(agreement=agreement, month=APRIL, user=world.finance_officer_a)
    with pytest.raises(PermissionDenied):
        services.month_reopen(agreement=agreement, month=APRIL, user=world.commissioner_a)


def test_it_refuses_a_month_outside_the_agreement(world):
    scheme = scheme_for(agreement_for(world))
    with pytest.raises(ValidationError) as error:
        services.actual_record(scheme=scheme, month=date(2025, 3, 1), actual=D("1"),
                               forecast_outturn=None, user=world.finance_officer_a)
    assert "March 2025 is not in the agreement" in _messages(error.value)


# --- Risk share and year end -----------------------------------------------------------------

def _closed_year(world, rule: str, shares=("50", "50")) -> Section75Agreement:
    agreement = agreement_for(world, risk_share_rule=rule, shares=shares)
    equipment = scheme_for(agreement, code="CE", lead=world.council_a, budget="1200000")
    therapy = scheme_for(agreement, code="SLT", lead=world.icb_a, budget="600000")
    contribute(equipment, world.council_a, "720000")
    contribute(equipment, world.icb_a, "300000", code="nhs-baseline")
    contribute(therapy, world.icb_a, "600000", code="nhs-baseline")
    for month in selectors.year_months(2025):
        actual(equipment, month, "110000.01")   # 1,320,000.12: overspend of 120,000.12
        actual(therapy, month, "49000")         # 588,000: underspend of 12,000
        close(agreement, month)
    return agreement


@pytest.mark.parametrize("rule,shares,expected", [
    (RiskShareRule.FIXED_SPLIT, ("70", "30"), {"council": "75600.08", "icb": "32400.04"}),
    (RiskShareRule.PROPORTIONAL, None, {"council": "48000.05", "icb": "60000.07"}),
    (RiskShareRule.OWN, None, {"council": "120000.12", "icb": "-12000.00"}),
])
def test_it_records_the_year_end_risk_share_by_the_agreements_rule(world, rule, shares,
                                                                   expected):
    agreement = _closed_year(world, rule, shares)
    outcomes = services.year_end_close(agreement=agreement, year=2025,
                                       user=world.finance_officer_a)
    by_partner = {o.partner_id: o.share_amount for o in outcomes}
    assert by_partner == {world.council_a.pk: D(expected["council"]),
                          world.icb_a.pk: D(expected["icb"])}
    assert sum(by_partner.values()) == D("108000.12")
    assert {o.variance for o in outcomes} == {D("108000.12")}
    with pytest.raises(ValidationError) as error:
        services.year_end_close(agreement=agreement, year=2025, user=world.finance_officer_a)
    assert "2025/26 has already been closed" in _messages(error.value)


def test_it_refuses_to_close_a_year_with_open_months(world):
    agreement = agreement_for(world)
    scheme_for(agreement, budget="100")
    close(agreement, APRIL)
    with pytest.raises(ValidationError) as error:
        services.year_end_close(agreement=agreement, year=2025, user=world.finance_officer_a)
    assert "Close every month of 2025/26 first. Still open: May 2025" in _messages(error.value)
    assert not RiskShareOutcome.objects.exists()
    with pytest.raises(PermissionDenied):
        services.year_end_close(agreement=agreement, year=2025, user=world.commissioner_a)


def test_it_projects_each_partners_share_of_the_forecast_variance(world):
    agreement = agreement_for(world, shares=("50", "50"))
    scheme = scheme_for(agreement, budget="1000")
    actual(scheme, APRIL, "100", forecast="1000.01")
    page = selectors.agreement_page(agreement, 2025)
    assert page.totals.variance == D("0.01")
    assert [s.amount for s in page.projection] == [D("0.01"), D("0.00")]
