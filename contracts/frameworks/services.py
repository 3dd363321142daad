"""Writes for frameworks, lots, procurement windows, provider admissions and call-offs.

Each service is keyword-only and one transaction. They raise ``ValidationError`` with a
field → message dict for anything the user can fix; nothing is saved when they do. A call-off
creates its contract through ``contracts.services.contract_create``, inside the same
transaction, so a refused call-off leaves no contract behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from commissioning import access
from commissioning.models import Organisation, Partnership, PartnershipMember, User
from contracts.frameworks.models import (
    ApplicationDecision,
    AwardMethod,
    CallOff,
    CallOffRules,
    EvaluationResult,
    Framework,
    FrameworkParty,
    FrameworkStatus,
    FundingArrangement,
    Lot,
    LotStatus,
    MiniCompetitionInvitation,
    ProcurementWindow,
    ProviderApplication,
)
from contracts.models import ContractStatus, ProcurementRegime, ProcurementRoute
from contracts.services import (
    ContractInput,
    ShareInput,
    contract_create,
    provider_not_admitted,
)


def _long(day: date) -> str:
    return f"{day:%-d %B %Y}"


def _saved(obj, user: User | None) -> None:
    obj._history_user = user
    obj.save()


# --- Frameworks ------------------------------------------------------------------------------

@dataclass
class FrameworkInput:
    partnership: Partnership
    reference: str
    title: str
    start_date: date
    initial_term_months: int
    estimated_total_value: Decimal
    parties: Sequence[Organisation]
    lead: Organisation
    extension_months: int = 0
    description: str = ""
    open_to_new_providers: bool = False
    call_off_rules: str = CallOffRules.DIRECT_AWARD_ALLOWED
    status: str = FrameworkStatus.PLANNED


def _validate_framework(data: FrameworkInput, *, exclude_pk: int | None = None) -> None:
    errors: dict[str, str] = {}
    reference = data.reference.strip()
    if not reference:
        errors["reference"] = "Enter the framework reference"
    elif Framework.objects.filter(
        partnership=data.partnership, reference__iexact=reference
    ).exclude(pk=exclude_pk).exists():
        errors["reference"] = f"{data.partnership.display_name} already has a framework with " \
                              f"reference {reference}"
    if not data.title.strip():
        errors["title"] = "Enter the framework title"
    if data.initial_term_months is None or data.initial_term_months <= 0:
        errors["initial_term_months"] = "The initial term must be at least 1 month"
    if data.extension_months is not None and data.extension_months < 0:
        errors["extension_months"] = "The extension must be 0 months or more"
    if data.estimated_total_value is not None and data.estimated_total_value < 0:
        errors["estimated_total_value"] = "The estimated total value must be £0 or more"
    if data.status not in FrameworkStatus.values:
        errors["status"] = "Select a status from the list"
    if data.call_off_rules not in CallOffRules.values:
        errors["call_off_rules"] = "Select the call-off rules"
    members = set(PartnershipMember.objects.filter(partnership=data.partnership)
                  .values_list("organisation_id", flat=True))
    parties = list(dict.fromkeys(data.parties))
    if len(parties) < 1:
        errors["parties"] = "Select the parties to the Inter Authority Agreement"
    outsiders = [p.display_name for p in parties if p.pk not in members]
    if outsiders:
        errors["parties"] = (f"{', '.join(outsiders)} {'is' if len(outsiders) == 1 else 'are'} "
                             f"not in {data.partnership.name}")
    not_commissioners = [p.display_name for p in parties if not p.is_commissioner]
    if not_commissioners and "parties" not in errors:
        errors["parties"] = f"{', '.join(not_commissioners)} is not a commissioning organisation"
    if data.lead is None:
        errors["lead"] = "Select the lead party"
    elif data.lead not in parties:
        errors["lead"] = "The lead party must be one of the parties"
    if errors:
        raise ValidationError(errors)


def _set_parties(framework: Framework, data: FrameworkInput, user: User) -> None:
    wanted = {p.pk for p in data.parties}
    for row in framework.party_rows.all():
        if row.organisation_id not in wanted:
            row._history_user = user
            row.delete()
    # Clear the old lead first: the one-lead constraint holds after every statement.
    for row in framework.party_rows.filter(is_lead=True).exclude(organisation=data.lead):
        row.is_lead = False
        _saved(row, user)
    existing = {row.organisation_id: row for row in framework.party_rows.all()}
    for organisation in dict.fromkeys(data.parties):
        row = existing.get(organisation.pk) or FrameworkParty(
            framework=framework, organisation=organisation
        )
        is_lead = organisation.pk == data.lead.pk
        if row.pk is None or row.is_lead != is_lead:
            row.is_lead = is_lead
            _saved(row, user)


@transaction.atomic
def framework_create(*, data: FrameworkInput, created_by: User) -> Framework:
    """Set up a framework with its parties (exactly one of them the lead). The creator's
    organisation must be one of them: nobody sets up a framework they could not then see."""
    _validate_framework(data)
    if not access.creator_is_party(created_by, data.parties):
        raise ValidationError({"parties": "Your organisation must be one of the parties to the "
                                          "Inter Authority Agreement"})
    framework = Framework(
        partnership=data.partnership, reference=data.reference.strip(), title=data.title.strip(),
        description=data.description, start_date=data.start_date,
        initial_term_months=data.initial_term_months, extension_months=data.extension_months,
        estimated_total_value=data.estimated_total_value,
        open_to_new_providers=data.open_to_new_providers, call_off_rules=data.call_off_rules,
        status=data.status,
    )
    _saved(framework, created_by)
    _set_parties(framework, data, created_by)
    return framework


@transaction.atomic
def framework_update(*, framework: Framework, data: FrameworkInput,
                     updated_by: User) -> Framework:
    """Change a framework's details and parties. The partnership never changes."""
    fresh = Framework.objects.select_for_update().get(pk=framework.pk)
    data.partnership = fresh.partnership
    _validate_framework(data, exclude_pk=fresh.pk)
    removed = {row.organisation_id for row in fresh.party_rows.all()} - \
        {p.pk for p in data.parties}
    calling_off = set(CallOff.objects.filter(lot__framework=fresh).values_list(
        "contract__shares__organisation_id", flat=True))
    if removed & calling_off:
        raise ValidationError({"parties": "A party that has called off a service cannot be "
                                          "removed from the framework"})
    for name in ("reference", "title", "description", "start_date", "initial_term_months",
                 "extension_months", "estimated_total_value", "open_to_new_providers",
                 "call_off_rules", "status"):
        value = getattr(data, name)
        setattr(fresh, name, value.strip() if isinstance(value, str) and name in
                ("reference", "title") else value)
    _saved(fresh, updated_by)
    _set_parties(fresh, data, updated_by)
    return fresh


# --- Lots ------------------------------------------------------------------------------------

@dataclass
class LotInput:
    number: int
    title: str
    description: str = ""
    provider_skills: str = ""
    outcomes: str = ""
    status: str = LotStatus.ACTIVE


def _validate_lot(framework: Framework, data: LotInput, *, exclude_pk: int | None = None):
    errors: dict[str, str] = {}
    if data.number is None or data.number < 1:
        errors["number"] = "The lot number must be 1 or more"
    elif Lot.objects.filter(framework=framework, number=data.number).exclude(
            pk=exclude_pk).exists():
        errors["number"] = f"{framework.reference} already has a lot {data.number}"
    if not data.title.strip():
        errors["title"] = "Enter the lot title"
    if data.status not in LotStatus.values:
        errors["status"] = "Select a status from the list"
    if errors:
        raise ValidationError(errors)


def _lot_fields(lot: Lot, data: LotInput) -> None:
    lot.number = data.number
    lot.title = data.title.strip()
    lot.description = data.description
    lot.provider_skills = data.provider_skills
    lot.outcomes = data.outcomes
    lot.status = data.status


@transaction.atomic
def lot_create(*, framework: Framework, data: LotInput, created_by: User) -> Lot:
    """Add a lot; its number is unique within the framework."""
    _validate_lot(framework, data)
    lot = Lot(framework=framework)
    _lot_fields(lot, data)
    try:
        with transaction.atomic():
            _saved(lot, created_by)
    except IntegrityError as error:
        raise ValidationError({"number": f"{framework.reference} already has a lot "
                                         f"{data.number}"}) from error
    return lot


@transaction.atomic
def lot_update(*, lot: Lot, data: LotInput, updated_by: User) -> Lot:
    fresh = Lot.objects.select_related("framework").get(pk=lot.pk)
    _validate_lot(fresh.framework, data, exclude_pk=fresh.pk)
    _lot_fields(fresh, data)
    _saved(fresh, updated_by)
    return fresh


@transaction.atomic
def lot_withdraw(*, lot: Lot, withdrawn_by: User) -> Lot:
    """Withdraw a lot: no more applications to it and no more call-offs from it.

    Contracts already called off from it carry on.
    """
    fresh = Lot.objects.get(pk=lot.pk)
    if fresh.status == LotStatus.WITHDRAWN:
        raise ValidationError({"status": f"Lot {fresh.number} has already been withdrawn"})
    fresh.status = LotStatus.WITHDRAWN
    _saved(fresh, withdrawn_by)
    return fresh


# --- Procurement windows ---------------------------------------------------------------------

@transaction.atomic
def window_add(*, framework: Framework, opens: date, closes: date,
               added_by: User) -> ProcurementWindow:
    """Open a procurement window. Windows of one framework never overlap and lie within its
    term. The framework row is locked so two windows added at once cannot both slip in."""
    framework = Framework.objects.select_for_update().get(pk=framework.pk)
    if closes < opens:
        raise ValidationError({"closes": "The closing date must be the same as or after the "
                                         "opening date"})
    if opens > framework.end_date:
        raise ValidationError({"opens": f"The window must open before the framework ends on "
                                        f"{_long(framework.end_date)}"})
    overlapping = framework.windows.filter(opens__lte=closes, closes__gte=opens).first()
    if overlapping:
        raise ValidationError({"opens": f"This window overlaps the window from "
                                        f"{_long(overlapping.opens)} to "
                                        f"{_long(overlapping.closes)}. Windows cannot overlap"})
    window = ProcurementWindow(framework=framework, opens=opens, closes=closes)
    _saved(window, added_by)
    return window


def closed_message(windows: Sequence[ProcurementWindow], today: date) -> str:
    """Why applications are refused today, naming the window dates."""
    upcoming = sorted((w for w in windows if w.opens > today), key=lambda w: w.opens)
    if upcoming:
        first = upcoming[0]
        return (f"Applications are closed. The next window opens on {_long(first.opens)} and "
                f"closes on {_long(first.closes)}.")
    past = sorted((w for w in windows if w.closes < today), key=lambda w: w.opens)
    if past:
        listed = "; ".join(f"{_long(w.opens)} to {_long(w.closes)}" for w in past)
        return (f"Applications are closed. No further window has been set. "
                f"Past windows: {listed}.")
    return "Applications are closed. No procurement window has been set for this framework."


def accepts_new_providers(framework: Framework) -> bool:
    """Open for applications, or live and open to new providers (an open framework)."""
    return framework.status == FrameworkStatus.OPEN_FOR_APPLICATIONS or (
        framework.status == FrameworkStatus.LIVE and framework.open_to_new_providers
    )


# --- Provider applications -------------------------------------------------------------------

@transaction.atomic
def provider_apply(*, provider: Organisation, lots: Sequence[Lot], applied_by: User | None,
                   today: date | None = None) -> list[ProviderApplication]:
    """A provider applies to one or more lots of a framework: one application per lot.

    Refused outside a procurement window (the message gives the window dates), for a
    framework not taking new providers, a withdrawn lot, or a lot already applied for.
    """
    today = today or timezone.localdate()
    if not lots:
        raise ValidationError({"lots": "Select at least one lot"})
    framework = Framework.objects.select_for_update().get(pk=lots[0].framework_id)
    if any(lot.framework_id != framework.pk for lot in lots):
        raise ValidationError({"lots": "Select lots of one framework"})
    if provider.is_commissioner:
        raise ValidationError({"lots": f"{provider.display_name} is a commissioner, not a "
                                       "provider"})
    if not accepts_new_providers(framework):
        raise ValidationError({"lots": f"{framework.title} is not taking applications from new "
                                       "providers"})
    windows = list(framework.windows.all())
    window = next((w for w in windows if w.is_open_on(today)), None)
    if window is None:
        raise ValidationError({"lots": closed_message(windows, today)})
    errors = []
    live = set(ProviderApplication.objects.filter(
        provider=provider, lot__in=lots).exclude(decision=ApplicationDecision.REJECTED)
        .values_list("lot_id", flat=True))
    for lot in lots:
        if lot.status == LotStatus.WITHDRAWN:
            errors.append(f"Lot {lot.number} has been withdrawn and takes no applications")
        elif lot.pk in live:
            errors.append(f"{provider.display_name} has already applied to lot {lot.number}")
    if errors:
        raise ValidationError({"lots": errors})
    applications = []
    for lot in dict.fromkeys(lots):
        application = ProviderApplication(
            provider=provider, lot=lot, window=window, submitted_on=today,
            submitted_by=applied_by,
        )
        _saved(application, applied_by)
        applications.append(application)
    return applications


@transaction.atomic
def application_decide(*, application: ProviderApplication, criteria_met: bool, notes: str,
                       evaluated_on: date, admit: bool, agreement_date: date | None,
                       decided_by: User, submitted_on: date | None = None,
                       today: date | None = None) -> ProviderApplication:
    """Record the light-touch evaluation and admit or reject the provider.

    Only a provider that meets the criteria can be admitted, and an admitted provider needs
    the date of its framework agreement. ``submitted_on`` records the date the application
    was really received (an existing framework's history is entered years later); it cannot
    be in the future, and the evaluation is checked against it.
    """
    today = today or timezone.localdate()
    fresh = ProviderApplication.objects.select_for_update().select_related("lot").get(
        pk=application.pk)
    if fresh.decision != ApplicationDecision.PENDING:
        raise ValidationError({"decision": "This application has already been decided: the "
                                           f"provider was {fresh.get_decision_display().lower()}"})
    errors: dict[str, str] = {}
    if admit and not criteria_met:
        errors["decision"] = "A provider that does not meet the criteria cannot be admitted"
    if admit and fresh.lot.status == LotStatus.WITHDRAWN:
        errors["decision"] = f"Lot {fresh.lot.number} has been withdrawn; nobody can be " \
                             "admitted to it"
    if admit and agreement_date is None:
        errors["framework_agreement_date"] = "Enter the date of the framework agreement"
    received = submitted_on or fresh.submitted_on
    if submitted_on is not None and submitted_on > today:
        errors["submitted_on"] = "The date the application was received must be today or in " \
                                 "the past"
    elif evaluated_on < received:
        errors["evaluated_on"] = (f"The evaluation date must be on or after the date the "
                                  f"application was received, {_long(received)}")
    if agreement_date is not None and admit and agreement_date < received:
        errors["framework_agreement_date"] = (
            f"The framework agreement date must be on or after the date the application was "
            f"received, {_long(received)}")
    if errors:
        raise ValidationError(errors)
    fresh.evaluation = EvaluationResult.CRITERIA_MET if criteria_met else \
        EvaluationResult.CRITERIA_NOT_MET
    fresh.evaluation_notes = notes.strip()
    fresh.submitted_on = received
    fresh.evaluated_on = evaluated_on
    fresh.evaluated_by = decided_by
    fresh.decision = ApplicationDecision.ADMITTED if admit else ApplicationDecision.REJECTED
    fresh.framework_agreement_date = agreement_date if admit else None
    _saved(fresh, decided_by)
    return fresh


# --- Call-offs -------------------------------------------------------------------------------

@dataclass(frozen=True)
class BidInput:
    provider: Organisation
    bid_received: bool = False
    score: Decimal | None = None


@dataclass
class CallOffInput:
    lot: Lot
    provider: Organisation
    award_method: str
    funding_arrangement: str
    called_off_on: date
    reference: str
    title: str
    service_area: str
    start_date: date
    initial_end_date: date
    annual_value: Decimal
    lead_commissioner: Organisation
    shares: Sequence[ShareInput]
    description: str = ""
    direct_award_justification: str = ""
    invitations: Sequence[BidInput] = field(default_factory=tuple)
    extension_option_months: Sequence[int] = field(default_factory=tuple)
    notice_period_months: int = 0
    contract_manager: User | None = None


def admitted_provider_ids(lot: Lot) -> set[int]:
    return set(ProviderApplication.objects.filter(
        lot=lot, decision=ApplicationDecision.ADMITTED).values_list("provider_id", flat=True))


def _validate_call_off(data: CallOffInput, framework: Framework) -> None:
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    lot = data.lot
    if lot.status == LotStatus.WITHDRAWN:
        add("lot", f"Lot {lot.number} {lot.title} has been withdrawn. You cannot call off "
                   "from a withdrawn lot")
    if framework.status != FrameworkStatus.LIVE:
        add("lot", f"Services can be called off only while the framework is live. "
                   f"{framework.reference} is {framework.get_status_display().lower()}")
    if data.start_date and data.start_date > framework.end_date:
        add("start_date", f"The call-off cannot start after the framework ends on "
                          f"{_long(framework.end_date)}")
    elif data.start_date and data.start_date < framework.start_date:
        add("start_date", f"The call-off cannot start before the framework starts on "
                          f"{_long(framework.start_date)}")
    if data.called_off_on and data.called_off_on > framework.end_date:
        add("called_off_on", f"The call-off decision must be made before the framework ends "
                             f"on {_long(framework.end_date)}")
    admitted = admitted_provider_ids(lot)
    not_admitted = provider_not_admitted(data.provider, lot)  # the rule "Change details" uses
    if not_admitted:
        add("provider", not_admitted)
    if data.award_method == AwardMethod.DIRECT_AWARD:
        if framework.call_off_rules == CallOffRules.MINI_COMPETITION_ONLY:
            add("award_method", "This framework's call-off rules allow mini-competition only")
        if not data.direct_award_justification.strip():
            add("direct_award_justification", "Enter why the service is directly awarded")
    elif data.award_method == AwardMethod.MINI_COMPETITION:
        invited = {i.provider.pk: i for i in data.invitations}
        not_admitted = [i.provider.display_name for i in data.invitations
                        if i.provider.pk not in admitted]
        if not invited:
            add("invitations", "Select the admitted providers invited to the mini-competition")
        if not_admitted:
            add("invitations", f"{', '.join(not_admitted)} "
                               f"{'is' if len(not_admitted) == 1 else 'are'} not admitted to "
                               f"lot {lot.number} and cannot be invited")
        for i in data.invitations:
            if i.score is not None and not i.bid_received:
                add("invitations", f"{i.provider.display_name} has a score but no bid")
            if i.score is not None and not Decimal("0") <= i.score <= Decimal("100"):
                add("invitations", f"{i.provider.display_name}'s score must be between 0 and "
                                   "100")
        if invited and not any(i.bid_received for i in data.invitations):
            add("invitations", "A mini-competition with no bids cannot be called off. Record "
                               "the bids received")
        elif invited:
            winner = invited.get(data.provider.pk)
            if winner is None or not winner.bid_received:
                add("provider", f"The winner, {data.provider.display_name}, must be one of the "
                                "providers that bid")
    else:
        add("award_method", "Select how the service is awarded")
    if data.funding_arrangement not in FundingArrangement.values:
        add("funding_arrangement", "Select how the call-off is funded")
    parties = set(framework.party_rows.values_list("organisation_id", flat=True))
    commissioners = [s for s in data.shares if s.share_percent > 0]
    if not commissioners:
        add("shares", "Enter the share of at least one commissioner")
    outsiders = [s.organisation.display_name for s in data.shares
                 if s.organisation.pk not in parties]
    if outsiders:
        add("shares", f"{', '.join(outsiders)} is not a party to the framework")
    if data.lead_commissioner.pk not in {s.organisation.pk for s in commissioners}:
        add("lead_commissioner", "The lead commissioner must be one of the commissioners "
                                 "calling off the service")
    if data.funding_arrangement == FundingArrangement.OWN_BUDGET and len(commissioners) > 1:
        add("funding_arrangement", "A call-off funded from one partner's own budget has one "
                                   "commissioner. For a joint call-off, choose a Section 75 or "
                                   "Section 256 agreement")
    if errors:
        raise ValidationError(errors)


def _contract_status(data: CallOffInput, today: date) -> str:
    if today < data.start_date:
        return ContractStatus.AWARDED
    if today > data.initial_end_date:
        return ContractStatus.EXPIRED
    return ContractStatus.LIVE


@transaction.atomic
def call_off_create(*, data: CallOffInput, created_by: User,
                    today: date | None = None) -> CallOff:
    """Call off a service from a lot: checks the framework's rules, then creates the contract
    in the register (Procurement Act 2023 framework call-off, with the commissioners' shares,
    whose 100% rule is the register's own) and the call-off record, in one transaction.
    """
    today = today or timezone.localdate()
    lot = Lot.objects.select_related("framework__partnership").get(pk=data.lot.pk)
    data.lot = lot
    framework = Framework.objects.select_for_update().get(pk=lot.framework_id)
    _validate_call_off(data, framework)
    if not access.creator_is_party(created_by, [s.organisation for s in data.shares
                                                if s.share_percent > 0]):
        # The call-off's contract belongs to its commissioners only (commissioning.access).
        raise ValidationError({"shares": "Your organisation must be one of the commissioners "
                                         "calling off the service"})
    contract = contract_create(
        data=ContractInput(
            reference=data.reference, title=data.title, description=data.description,
            service_area=data.service_area, provider=data.provider,
            holder=data.lead_commissioner, lead_commissioner=data.lead_commissioner,
            partnership=framework.partnership, contract_manager=data.contract_manager,
            procurement_regime=ProcurementRegime.PA_2023,
            procurement_route=ProcurementRoute.PA_FRAMEWORK_CALL_OFF,
            tendered=data.award_method == AwardMethod.MINI_COMPETITION,
            start_date=data.start_date, initial_end_date=data.initial_end_date,
            notice_period_months=data.notice_period_months, annual_value=data.annual_value,
            status=_contract_status(data, today), awarded_on=data.called_off_on,
            extension_option_months=tuple(data.extension_option_months),
            shares=[s for s in data.shares if s.share_percent > 0],
        ),
        created_by=created_by,
    )
    call_off = CallOff(
        lot=lot, contract=contract, award_method=data.award_method,
        direct_award_justification=data.direct_award_justification.strip()
        if data.award_method == AwardMethod.DIRECT_AWARD else "",
        funding_arrangement=data.funding_arrangement, called_off_on=data.called_off_on,
        created_by=created_by,
    )
    _saved(call_off, created_by)
    if data.award_method == AwardMethod.MINI_COMPETITION:
        for invitation in data.invitations:
            row = MiniCompetitionInvitation(
                call_off=call_off, provider=invitation.provider,
                bid_received=invitation.bid_received,
                score=invitation.score if invitation.bid_received else None,
            )
            _saved(row, created_by)
    return call_off
