"""Framework rules: parties, lots, windows, applications, admissions and call-offs.

Every bad input is refused with a clear message and nothing is saved."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from contracts.frameworks import services
from contracts.frameworks.models import (
    ApplicationDecision,
    AwardMethod,
    CallOff,
    CallOffRules,
    Framework,
    FrameworkParty,
    FundingArrangement,
    LotStatus,
    MiniCompetitionInvitation,
    ProcurementWindow,
    ProviderApplication,
)
from contracts.frameworks.tests.factories import WindowFactory, admit, framework_for
from contracts.models import (
    CommissioningShare,
    Contract,
    ContractStatus,
    ProcurementRegime,
    ProcurementRoute,
    ServiceArea,
)
from contracts.services import ShareInput

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 22)


@pytest.fixture
def framework(world):
    return framework_for(world)


@pytest.fixture
def lot(framework):
    return framework.lots.get(number=1)


def _message(error: ValidationError) -> str:
    return " ".join(m for messages in error.value.message_dict.values() for m in messages)


def _counts() -> tuple[int, ...]:
    return (Contract.objects.count(), CallOff.objects.count(), CommissioningShare.objects.count(),
            MiniCompetitionInvitation.objects.count(), Contract.history.count())


def _call_off(world, lot, **overrides) -> services.CallOffInput:
    values = {
        "lot": lot, "provider": world.provider_x, "award_method": AwardMethod.DIRECT_AWARD,
        "direct_award_justification": "The incumbent, admitted to the lot",
        "funding_arrangement": FundingArrangement.SECTION_75, "called_off_on": date(2021, 8, 1),
        "reference": "EIP-L1-01", "title": "Home from hospital support",
        "service_area": ServiceArea.ADULT_SOCIAL_CARE, "start_date": date(2021, 10, 1),
        "initial_end_date": date(2024, 9, 30), "annual_value": Decimal("98500.00"),
        "lead_commissioner": world.council_a,
        "shares": [ShareInput(world.council_a, Decimal("50")), ShareInput(world.icb_a,
                                                                        Decimal("50"))],
    }
    values.update(overrides)
    return services.CallOffInput(**values)


# --- Frameworks ------------------------------------------------------------------------------

def _framework_input(world, **overrides) -> services.FrameworkInput:
    values = {
        "partnership": world.partnership_a, "reference": "EIP-2021",
        "title": "Early Intervention and Prevention", "start_date": date(2021, 4, 1),
        "initial_term_months": 60, "extension_months": 24,
        "estimated_total_value": Decimal("4303852.00"),
        "parties": [world.council_a, world.icb_a], "lead": world.council_a,
    }
    values.update(overrides)
    return services.FrameworkInput(**values)


def test_it_sets_up_a_framework_of_5_plus_2_years_with_one_lead(world):
    framework = services.framework_create(data=_framework_input(world),
                                          created_by=world.commissioner_a)
    assert framework.end_date == date(2028, 3, 31)
    assert framework.initial_end_date == date(2026, 3, 31)
    assert framework.term_description == "5 years + up to 2 years"
    rows = list(framework.party_rows.order_by("-is_lead"))
    assert [(r.organisation, r.is_lead) for r in rows] == [(world.council_a, True),
                                                          (world.icb_a, False)]
    record = framework.history.get()
    assert record.history_user == world.commissioner_a
    assert FrameworkParty.history.count() == 2


def test_it_changes_the_lead_party(world):
    framework = services.framework_create(data=_framework_input(world),
                                          created_by=world.commissioner_a)
    services.framework_update(framework=framework, data=_framework_input(world, lead=world.icb_a),
                              updated_by=world.commissioner_a)
    assert framework.party_rows.get(is_lead=True).organisation == world.icb_a
    assert framework.history.count() == 2


@pytest.mark.parametrize("overrides, field, message", [
    ({"lead": "council_b"}, "lead", "The lead party must be one of the parties"),
    ({"parties": ["council_a", "council_b"]}, "parties", "is not in"),
    ({"parties": ["council_a", "provider_x"], "lead": "council_a"}, "parties",
     "is not in"),
    ({"reference": " "}, "reference", "Enter the framework reference"),
    ({"initial_term_months": 0}, "initial_term_months", "at least 1 month"),
])
def test_it_refuses_a_bad_framework(world, overrides, field, message):
    resolved = {k: (getattr(world, v) if isinstance(v, str) and k == "lead" else
                    [getattr(world, o) for o in v] if k == "parties" else v)
                for k, v in overrides.items()}
    with pytest.raises(ValidationError) as error:
        services.framework_create(data=_framework_input(world, **resolved),
                                  created_by=world.commissioner_a)
    assert message in " ".join(error.value.message_dict[field])
    assert Framework.objects.count() == 0


def test_the_database_allows_only_one_lead_party(world, framework):
    with pytest.raises(IntegrityError), transaction.atomic():
        FrameworkParty.objects.filter(framework=framework).update(is_lead=True)


def test_it_refuses_a_second_lot_with_the_same_number(world, framework):
    with pytest.raises(ValidationError) as error:
        services.lot_create(framework=framework, data=services.LotInput(number=2, title="X"),
                            created_by=world.commissioner_a)
    assert f"{framework.reference} already has a lot 2" in _message(error)
    assert framework.lots.count() == 4


def test_it_withdraws_a_lot_once(world, lot):
    services.lot_withdraw(lot=lot, withdrawn_by=world.commissioner_a)
    lot.refresh_from_db()
    assert lot.status == LotStatus.WITHDRAWN
    assert lot.history.first().history_user == world.commissioner_a
    with pytest.raises(ValidationError, match="already been withdrawn"):
        services.lot_withdraw(lot=lot, withdrawn_by=world.commissioner_a)


# --- Procurement windows ---------------------------------------------------------------------

def test_it_refuses_overlapping_windows(world, framework):
    services.window_add(framework=framework, opens=date(2026, 11, 1), closes=date(2026, 11, 30),
                        added_by=world.commissioner_a)
    with pytest.raises(ValidationError) as error:
        services.window_add(framework=framework, opens=date(2026, 11, 30),
                            closes=date(2026, 12, 15), added_by=world.commissioner_a)
    assert _message(error) == ("This window overlaps the window from 1 November 2026 to "
                               "30 November 2026. Windows cannot overlap")
    assert framework.windows.count() == 2
    services.window_add(framework=framework, opens=date(2026, 12, 1), closes=date(2026, 12, 15),
                        added_by=world.commissioner_a)
    assert ProcurementWindow.history.filter(history_user=world.commissioner_a).count() == 2


def test_it_refuses_a_window_that_closes_before_it_opens_or_after_the_framework(world,
                                                                               framework):
    with pytest.raises(ValidationError, match="same as or after the opening date"):
        services.window_add(framework=framework, opens=date(2026, 5, 2),
                            closes=date(2026, 5, 1), added_by=world.commissioner_a)
    with pytest.raises(ValidationError, match="before the framework ends on 31 March 2028"):
        services.window_add(framework=framework, opens=date(2028, 4, 1),
                            closes=date(2028, 4, 30), added_by=world.commissioner_a)
    assert framework.windows.count() == 1


# --- Applications and admission --------------------------------------------------------------

def test_it_refuses_an_application_outside_a_window_with_the_next_window_dates(world,
                                                                              framework):
    WindowFactory(framework=framework, opens=date(2027, 4, 1), closes=date(2027, 4, 30))
    lots = list(framework.lots.all()[:2])
    with pytest.raises(ValidationError) as error:
        services.provider_apply(provider=world.provider_x, lots=lots,
                                applied_by=world.provider_x_user, today=TODAY)
    assert _message(error) == ("Applications are closed. The next window opens on 1 April 2027 "
                               "and closes on 30 April 2027.")
    assert ProviderApplication.objects.count() == 0


def test_it_lists_past_windows_when_none_is_planned(world, framework):
    with pytest.raises(ValidationError) as error:
        services.provider_apply(provider=world.provider_x, lots=[framework.lots.first()],
                                applied_by=world.provider_x_user, today=TODAY)
    assert _message(error) == ("Applications are closed. No further window has been set. "
                               "Past windows: 4 January 2021 to 12 February 2021.")


def test_a_provider_applies_to_several_lots_in_an_open_window(world, framework):
    WindowFactory(framework=framework, opens=date(2026, 11, 1), closes=date(2026, 11, 30))
    lots = list(framework.lots.filter(number__in=[2, 3]))
    applications = services.provider_apply(provider=world.provider_x, lots=lots,
                                           applied_by=world.provider_x_user, today=TODAY)
    assert [a.lot.number for a in applications] == [2, 3]
    assert all(a.decision == ApplicationDecision.PENDING and a.submitted_on == TODAY
               for a in applications)
    with pytest.raises(ValidationError, match="has already applied to lot 2"):
        services.provider_apply(provider=world.provider_x, lots=lots[:1],
                                applied_by=world.provider_x_user, today=TODAY)
    assert ProviderApplication.objects.count() == 2


def test_it_refuses_applications_to_a_withdrawn_lot_or_a_closed_framework(world, framework):
    WindowFactory(framework=framework, opens=date(2026, 11, 1), closes=date(2026, 11, 30))
    lot = framework.lots.get(number=4)
    lot.status = LotStatus.WITHDRAWN
    lot.save()
    with pytest.raises(ValidationError, match="Lot 4 has been withdrawn"):
        services.provider_apply(provider=world.provider_x, lots=[lot],
                                applied_by=world.provider_x_user, today=TODAY)
    Framework.objects.filter(pk=framework.pk).update(open_to_new_providers=False)
    with pytest.raises(ValidationError, match="is not taking applications"):
        services.provider_apply(provider=world.provider_x, lots=[framework.lots.first()],
                                applied_by=world.provider_x_user, today=TODAY)
    assert ProviderApplication.objects.count() == 0


def test_it_admits_a_provider_that_meets_the_criteria(world, lot):
    application = admit(world.provider_x, lot, decision=ApplicationDecision.PENDING)
    with pytest.raises(ValidationError, match="does not meet the criteria cannot be admitted"):
        services.application_decide(application=application, criteria_met=False, notes="",
                                    evaluated_on=date(2021, 3, 1), admit=True,
                                    agreement_date=date(2021, 4, 1),
                                    decided_by=world.commissioner_a)
    with pytest.raises(ValidationError, match="Enter the date of the framework agreement"):
        services.application_decide(application=application, criteria_met=True, notes="",
                                    evaluated_on=date(2021, 3, 1), admit=True,
                                    agreement_date=None, decided_by=world.commissioner_a)
    application.refresh_from_db()
    assert application.decision == ApplicationDecision.PENDING
    decided = services.application_decide(
        application=application, criteria_met=True, notes="Viable and experienced",
        evaluated_on=date(2021, 3, 1), admit=True, agreement_date=date(2021, 4, 1),
        decided_by=world.commissioner_a)
    assert (decided.decision, decided.evaluation, decided.evaluated_by,
            decided.framework_agreement_date) == ("admitted", "met", world.commissioner_a,
                                                  date(2021, 4, 1))
    assert decided.history.first().history_user == world.commissioner_a
    with pytest.raises(ValidationError, match="already been decided"):
        services.application_decide(application=decided, criteria_met=False, notes="",
                                    evaluated_on=date(2021, 3, 1), admit=False,
                                    agreement_date=None, decided_by=world.commissioner_a)


def test_the_database_refuses_an_admission_without_an_agreement_date(world, lot):
    application = admit(world.provider_x, lot, decision=ApplicationDecision.PENDING)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProviderApplication.objects.filter(pk=application.pk).update(
            decision=ApplicationDecision.ADMITTED, evaluation="met")


# --- Call-offs -------------------------------------------------------------------------------

def test_a_joint_call_off_creates_a_contract_in_the_register(world, lot):
    admit(world.provider_x, lot)
    call_off = services.call_off_create(data=_call_off(world, lot),
                                        created_by=world.commissioner_a, today=TODAY)
    contract = call_off.contract
    assert contract.call_off == call_off and call_off.lot == lot
    assert (contract.procurement_regime, contract.procurement_route) == (
        ProcurementRegime.PA_2023, ProcurementRoute.PA_FRAMEWORK_CALL_OFF)
    assert contract.partnership == world.partnership_a
    assert contract.holder == contract.lead_commissioner == world.council_a
    assert contract.status == ContractStatus.EXPIRED  # ended 30 September 2024
    assert {(s.organisation, s.share_percent) for s in contract.shares.all()} == {
        (world.council_a, Decimal("50.00")), (world.icb_a, Decimal("50.00"))}
    assert call_off.history.get().history_user == world.commissioner_a
    assert contract.history.get().history_user == world.commissioner_a


def test_an_individual_call_off_from_one_partners_own_budget(world, lot):
    admit(world.provider_x, lot)
    call_off = services.call_off_create(
        data=_call_off(world, lot, shares=[ShareInput(world.icb_a, Decimal("100"))],
                       lead_commissioner=world.icb_a,
                       funding_arrangement=FundingArrangement.OWN_BUDGET,
                       start_date=date(2026, 4, 1), initial_end_date=date(2029, 3, 31)),
        created_by=world.icb_commissioner_a, today=TODAY)
    assert call_off.contract.holder == world.icb_a
    assert call_off.contract.status == ContractStatus.LIVE


def _refused(world, data, *, field: str, message: str) -> None:
    before = _counts()
    with pytest.raises(ValidationError) as error:
        services.call_off_create(data=data, created_by=world.commissioner_a, today=TODAY)
    assert message in " ".join(error.value.message_dict[field]), error.value.message_dict
    assert _counts() == before, "a refused call-off must save nothing"


def test_it_refuses_a_call_off_from_a_withdrawn_lot(world, lot):
    admit(world.provider_x, lot)
    lot.status = LotStatus.WITHDRAWN
    lot.save()
    _refused(world, _call_off(world, lot), field="lot",
             message="Lot 1 Lot 1 services has been withdrawn. You cannot call off from a "
                     "withdrawn lot")


def test_it_refuses_a_provider_not_admitted_to_the_lot(world, framework, lot):
    admit(world.provider_x, framework.lots.get(number=2))
    admit(world.provider_y, lot, decision=ApplicationDecision.PENDING)
    _refused(world, _call_off(world, lot), field="provider",
             message="Bromley Well is not admitted to lot 1. Only providers admitted to the "
                     "lot can be chosen")
    _refused(world, _call_off(world, lot, provider=world.provider_y), field="provider",
             message="Age UK is not admitted to lot 1")


def test_it_refuses_a_call_off_starting_after_the_framework_ends(world, lot):
    admit(world.provider_x, lot)
    _refused(world, _call_off(world, lot, start_date=date(2028, 4, 1),
                              initial_end_date=date(2029, 3, 31)),
             field="start_date",
             message="The call-off cannot start after the framework ends on 31 March 2028")


@pytest.mark.parametrize("shares, total", [(("60", "30"), "90"), (("60", "50"), "110")])
def test_it_refuses_shares_that_do_not_add_up_to_100(world, lot, shares, total):
    admit(world.provider_x, lot)
    data = _call_off(world, lot, shares=[ShareInput(world.council_a, Decimal(shares[0])),
                                         ShareInput(world.icb_a, Decimal(shares[1]))])
    _refused(world, data, field="shares",
             message=f"The shares must add up to 100%. They add up to {total}%")


def test_it_refuses_a_commissioner_that_is_not_a_party(world, lot):
    admit(world.provider_x, lot)
    FrameworkParty.objects.filter(organisation=world.icb_a).delete()
    _refused(world, _call_off(world, lot), field="shares",
             message="SEL ICB is not a party to the framework")


def test_it_refuses_a_joint_call_off_from_one_partners_own_budget(world, lot):
    admit(world.provider_x, lot)
    _refused(world, _call_off(world, lot, funding_arrangement=FundingArrangement.OWN_BUDGET),
             field="funding_arrangement",
             message="A call-off funded from one partner's own budget has one commissioner")


def test_it_refuses_a_direct_award_without_justification_or_against_the_rules(world,
                                                                             framework, lot):
    admit(world.provider_x, lot)
    _refused(world, _call_off(world, lot, direct_award_justification=" "),
             field="direct_award_justification",
             message="Enter why the service is directly awarded")
    Framework.objects.filter(pk=framework.pk).update(
        call_off_rules=CallOffRules.MINI_COMPETITION_ONLY)
    _refused(world, _call_off(world, lot), field="award_method",
             message="This framework's call-off rules allow mini-competition only")


def test_it_refuses_a_mini_competition_with_no_bids(world, lot):
    admit(world.provider_x, lot)
    admit(world.provider_y, lot)
    data = _call_off(world, lot, award_method=AwardMethod.MINI_COMPETITION, invitations=[
        services.BidInput(world.provider_x), services.BidInput(world.provider_y)])
    _refused(world, data, field="invitations",
             message="A mini-competition with no bids cannot be called off")


def test_it_refuses_a_winner_without_a_bid_and_uninvited_unadmitted_providers(world, lot):
    admit(world.provider_x, lot)
    admit(world.provider_y, lot)
    data = _call_off(world, lot, award_method=AwardMethod.MINI_COMPETITION, invitations=[
        services.BidInput(world.provider_x), services.BidInput(world.provider_y, True,
                                                               Decimal("71"))])
    _refused(world, data, field="provider",
             message="The winner, Bromley Well, must be one of the providers that bid")
    ProviderApplication.objects.filter(provider=world.provider_y).delete()
    _refused(world, data, field="invitations",
             message="Age UK is not admitted to lot 1 and cannot be invited")


def test_a_mini_competition_records_the_bids_and_scores(world, lot):
    admit(world.provider_x, lot)
    admit(world.provider_y, lot)
    data = _call_off(world, lot, award_method=AwardMethod.MINI_COMPETITION,
                     direct_award_justification="ignored", invitations=[
                         services.BidInput(world.provider_x, True, Decimal("82.5")),
                         services.BidInput(world.provider_y, True, Decimal("71"))])
    call_off = services.call_off_create(data=data, created_by=world.commissioner_a,
                                        today=TODAY)
    assert call_off.direct_award_justification == ""
    assert call_off.contract.tendered
    assert [(i.provider, i.score) for i in call_off.invitations.all()] == [
        (world.provider_x, Decimal("82.50")), (world.provider_y, Decimal("71.00"))]


def test_it_refuses_a_duplicate_contract_reference_and_saves_nothing(world, lot):
    admit(world.provider_x, lot)
    services.call_off_create(data=_call_off(world, lot), created_by=world.commissioner_a,
                             today=TODAY)
    _refused(world, _call_off(world, lot), field="reference",
             message="already has a contract with reference EIP-L1-01")
