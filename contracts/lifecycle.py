"""A contract's life after it is added: status changes (and the award they record),
decisions, extensions, variations, review dates and the commissioners' shares.

Each service is keyword-only and one transaction; refusals are ``ValidationError`` with a
field → message dict and change nothing. Adding and changing a contract's details is
``contracts.services``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from commissioning.locking import lock_for_update
from commissioning.models import User
from contracts.models import (
    Contract,
    ContractStatus,
    Decision,
    DecisionMaker,
    DecisionPurpose,
    ExtensionOption,
    ReviewDate,
    Variation,
)
from contracts.services import DecisionInput, ShareInput, _record_award, _save, _validate_shares

S = ContractStatus
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.PLANNED: (S.IN_PROCUREMENT, S.AWARDED),
    S.IN_PROCUREMENT: (S.AWARDED, S.PLANNED),
    S.AWARDED: (S.LIVE, S.IN_PROCUREMENT),
    S.LIVE: (S.EXPIRED, S.TERMINATED),
    S.EXTENDED: (S.EXPIRED, S.TERMINATED),
    S.EXPIRED: (),
    S.TERMINATED: (),
}

REFUSALS: dict[tuple[str, str], str] = {
    (S.PLANNED, S.LIVE): "A planned contract cannot go live before it is awarded",
    (S.IN_PROCUREMENT, S.LIVE): "A contract in procurement cannot go live before it is awarded",
    (S.LIVE, S.EXTENDED): "To extend a contract, exercise one of its extension options",
    (S.EXTENDED, S.EXTENDED): "To extend a contract again, exercise its next extension option",
    (S.PLANNED, S.TERMINATED): "A contract that has not been awarded cannot be terminated",
    (S.IN_PROCUREMENT, S.TERMINATED): (
        "A contract that has not been awarded cannot be terminated; move it back to planned"
    ),
}


def allowed_transitions(status: str) -> tuple[str, ...]:
    return TRANSITIONS.get(status, ())


@transaction.atomic
def contract_change_status(
    *, contract: Contract, new_status: str, changed_by: User, expected_version: int,
    on: date | None = None,
) -> Contract:
    """Move a contract through its lifecycle; refuse illegal moves with a reason.

    Awarding records the award date and the standstill end date for the regime.
    """
    on = on or timezone.localdate()
    fresh = lock_for_update(Contract, contract.pk, expected_version, "this contract")
    old = fresh.status
    if new_status not in ContractStatus.values:
        raise ValidationError({"status": "Select a status from the list"})
    if new_status == old:
        raise ValidationError({"status": f"The contract is already {S(old).label.lower()}"})
    if new_status not in allowed_transitions(old):
        reason = REFUSALS.get((old, new_status))
        if reason is None and old in (S.EXPIRED, S.TERMINATED):
            reason = f"An {S(old).label.lower()} contract cannot change status"
        if reason is None:
            reason = (f"A contract that is {S(old).label.lower()} cannot become "
                      f"{S(new_status).label.lower()}")
        raise ValidationError({"status": reason})
    if new_status == S.LIVE and fresh.standstill_end_date and on <= fresh.standstill_end_date:
        raise ValidationError(
            {"status": "The contract cannot go live until the standstill period has ended on "
                       f"{fresh.standstill_end_date:%-d %B %Y}"}
        )
    if new_status == S.EXPIRED:
        current_end = Contract.objects.with_term().get(pk=fresh.pk).current_end
        if on <= current_end:
            raise ValidationError(
                {"status": f"The contract cannot expire before its end date, "
                           f"{current_end:%-d %B %Y}. To end it early, terminate it"}
            )
    fresh.status = new_status
    if new_status == S.AWARDED:
        _record_award(fresh, on)
    _save(fresh, changed_by)
    return fresh


# --- Decisions, extensions, variations, review dates, shares ---------------------------------

def _new_decision(contract: Contract, purpose: str, data: DecisionInput, user: User) -> Decision:
    if data.decision_maker not in DecisionMaker.values:
        raise ValidationError({"decision_maker": "Select who made the decision"})
    if not data.outcome.strip():
        raise ValidationError({"outcome": "Enter what was decided"})
    decision = Decision(
        contract=contract, purpose=purpose, decision_maker=data.decision_maker,
        body_name=data.body_name.strip(), meeting_date=data.meeting_date,
        report_reference=data.report_reference.strip(), is_key=data.is_key,
        is_urgent=data.is_urgent, call_in_applies=data.call_in_applies,
        outcome=data.outcome.strip(), recorded_by=user,
    )
    decision._history_user = user
    decision.save()
    return decision


@transaction.atomic
def decision_record(
    *, contract: Contract, purpose: str, decision: DecisionInput, recorded_by: User
) -> Decision:
    """Record a governance decision about a contract (award, re-commissioning, ...)."""
    if purpose not in DecisionPurpose.values:
        raise ValidationError({"purpose": "Select what the decision was about"})
    return _new_decision(contract, purpose, decision, recorded_by)


@transaction.atomic
def extension_exercise(
    *, contract: Contract, option: ExtensionOption, decision: DecisionInput,
    exercised_by: User, expected_version: int,
) -> Contract:
    """Exercise an extension option through a recorded decision.

    Options are exercised in order; the contract becomes extended and its current end date
    (derived) moves on by the option's length.
    """
    fresh = lock_for_update(Contract, contract.pk, expected_version, "this contract")
    option = ExtensionOption.objects.select_for_update().get(pk=option.pk, contract=fresh)
    if fresh.status not in (S.LIVE, S.EXTENDED):
        raise ValidationError(
            {"option": f"Only a live or extended contract can be extended; this one is "
                       f"{S(fresh.status).label.lower()}"}
        )
    if option.exercised:
        raise ValidationError({"option": f"Option {option.sequence} has already been exercised"})
    earlier = fresh.extension_options.filter(sequence__lt=option.sequence, exercised=False)
    if earlier.exists():
        raise ValidationError({"option": "Exercise the earlier extension options first"})
    recorded = _new_decision(fresh, DecisionPurpose.EXTENSION, decision, exercised_by)
    option.exercised = True
    option.exercised_decision = recorded
    option._history_user = exercised_by
    option.save()
    fresh.status = S.EXTENDED
    _save(fresh, exercised_by)
    return fresh


@transaction.atomic
def variation_record(
    *, contract: Contract, recorded_by: User, date: date, description: str,
    value_change: Decimal = Decimal("0"), term_change_months: int = 0,
    decision: Decision | None = None,
) -> Variation:
    """Record a change to a contract's value or term, optionally with its decision."""
    if not description.strip():
        raise ValidationError({"description": "Describe the variation"})
    if decision is not None and decision.contract_id != contract.pk:
        raise ValidationError({"decision": "Select a decision about this contract"})
    if date < contract.start_date:
        raise ValidationError(
            {"date": f"The variation date must be on or after the contract start date, "
                     f"{contract.start_date:%-d %B %Y}"}
        )
    variation = Variation(
        contract=contract, date=date, description=description.strip(),
        value_change=value_change, term_change_months=term_change_months,
        decision=decision, recorded_by=recorded_by,
    )
    variation._history_user = recorded_by
    variation.save()
    return variation


@transaction.atomic
def review_date_add(
    *, contract: Contract, added_by: User, date: date, description: str
) -> ReviewDate:
    """Add a review date (it feeds the key-date alerts)."""
    if not description.strip():
        raise ValidationError({"description": "Enter what will be reviewed"})
    review = ReviewDate(contract=contract, date=date, description=description.strip())
    review._history_user = added_by
    review.save()
    return review


@transaction.atomic
def shares_set(*, contract: Contract, shares: Sequence[ShareInput], set_by: User) -> None:
    """Replace the commissioning shares; they must total exactly 100.00% and every
    organisation must be a partner in the contract's partnership."""
    if not shares:
        raise ValidationError({"shares": "Enter at least one partner's share"})
    _validate_shares(contract.partnership_id, shares)
    contract.shares.all().delete()
    for share in shares:
        row = contract.shares.model(
            contract=contract, organisation=share.organisation,
            share_percent=share.share_percent, joint_monitoring=share.joint_monitoring,
        )
        row._history_user = set_by
        row.save()
