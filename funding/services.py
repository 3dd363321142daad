"""Writes to funding. Each service is keyword-only and runs in one transaction.

Services raise ``django.core.exceptions.ValidationError`` (with a field → message dict where a
field is to blame) for anything the user can fix, ``ConcurrentEditError`` when the row changed
since the user opened it, and ``PermissionDenied`` for a role that may not act. Every model
keeps its history (django-simple-history), so every change here is in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from commissioning import access
from commissioning.locking import ConcurrentEditError, check_version, lock_for_update
from commissioning.models import Organisation, Partnership, PartnershipMember, User
from commissioning.periods import financial_year_start
from contracts.models import Contract
from funding import imports, permissions, selectors
from funding.models import (
    AgreementPartner,
    AllocationBasis,
    Commissioner,
    ContractFunding,
    Contribution,
    ContributionChange,
    FinanceImport,
    FundingSource,
    ImportStatus,
    Instalment,
    MonthClose,
    MonthlyActual,
    RiskShareOutcome,
    RiskShareRule,
    Scheme,
    SchemeBudget,
    Section75Agreement,
    TopSlice,
    TopSliceDrawdown,
    month_label,
    year_label,
)
from funding.riskshare import PENNY, ZERO, reserved_amount, risk_share

HUNDRED = Decimal("100.00")


def _save_with_history(obj, **values) -> None:
    """Set fields and save through the model so simple-history records the change."""
    for name, value in values.items():
        setattr(obj, name, value)
    obj.save()


def _sum(queryset, field: str = "amount") -> Decimal:
    """A database SUM, exact to the penny on every backend."""
    total = queryset.aggregate(total=Sum(field))["total"]
    return ZERO if total is None else Decimal(total).quantize(PENNY)


def _check_year(agreement: Section75Agreement, year: int, field: str = "year") -> None:
    if year not in agreement.years:
        raise ValidationError({field: f"{year_label(year)} is not a year of this agreement, "
                                      f"which runs from {agreement.start_date:%d/%m/%Y} to "
                                      f"{agreement.end_date:%d/%m/%Y}"})


def _partner_ids(agreement: Section75Agreement) -> set[int]:
    return set(agreement.agreement_partners.values_list("organisation_id", flat=True))


# --- Agreements ------------------------------------------------------------------------------

@dataclass(frozen=True)
class PartnerInput:
    organisation: Organisation
    risk_share_percent: Decimal | None = None


@dataclass
class AgreementInput:
    partnership: Partnership
    kind: str
    title: str
    host_partner: Organisation
    arrangement_type: str
    start_date: date
    end_date: date
    risk_share_rule: str
    underspend_rule: str
    partners: list[PartnerInput]
    pooled_fund_manager: User | None = None
    review_date: date | None = None
    governance_board: str = ""
    aims: str = ""
    parallel_reduction: bool = False
    reference: str = ""


def _validate_agreement(data: AgreementInput) -> None:
    errors: dict[str, str] = {}
    members = set(PartnershipMember.objects.filter(partnership=data.partnership)
                  .values_list("organisation_id", flat=True))
    partner_ids = [p.organisation.pk for p in data.partners]
    if len(partner_ids) < 2:
        errors["partners"] = "Select at least two partners"
    outside = [p.organisation.name for p in data.partners if p.organisation.pk not in members]
    if outside:
        errors["partners"] = (f"{', '.join(outside)} is not in the partnership "
                              f"{data.partnership.name}")
    if data.host_partner.pk not in partner_ids:
        errors["host_partner"] = "The host partner must be one of the agreement's partners"
    if data.end_date < data.start_date:
        errors["end_date"] = "The end date must be the same as or after the start date"
    if data.review_date and not (data.start_date <= data.review_date <= data.end_date):
        errors["review_date"] = "The review date must be between the start and end dates"
    if data.risk_share_rule == RiskShareRule.FIXED_SPLIT:
        shares = [p.risk_share_percent for p in data.partners]
        if any(s is None for s in shares):
            errors["partners"] = "Enter each partner's share of the risk"
        elif any(s < 0 or s > HUNDRED for s in shares):
            errors["partners"] = "Each partner's share must be between 0% and 100%"
        elif sum(shares, ZERO) != HUNDRED:
            errors["partners"] = (f"The partners' shares must add up to 100%. They add up to "
                                  f"{sum(shares, ZERO)}%")
    if errors:
        raise ValidationError(errors)


def _set_partners(agreement: Section75Agreement, partners: list[PartnerInput]) -> None:
    fixed = agreement.risk_share_rule == RiskShareRule.FIXED_SPLIT
    wanted = {p.organisation.pk: p for p in partners}
    for existing in agreement.agreement_partners.all():
        if existing.organisation_id not in wanted:
            if Contribution.objects.filter(scheme__agreement=agreement,
                                           partner_id=existing.organisation_id).exists():
                raise ValidationError({"partners": f"{existing.organisation} has contributions "
                                                   "in this agreement and cannot be removed"})
            existing.delete()
    for organisation_id, partner in wanted.items():
        share = partner.risk_share_percent if fixed else None
        row, created = AgreementPartner.objects.get_or_create(
            agreement=agreement, organisation_id=organisation_id,
            defaults={"risk_share_percent": share})
        if not created and row.risk_share_percent != share:
            _save_with_history(row, risk_share_percent=share)


_AGREEMENT_FIELDS = ("kind", "title", "host_partner", "arrangement_type", "start_date",
                     "end_date", "risk_share_rule", "underspend_rule", "pooled_fund_manager",
                     "review_date", "governance_board", "aims", "parallel_reduction",
                     "reference")


@transaction.atomic
def agreement_create(*, user: User, data: AgreementInput) -> Section75Agreement:
    """Record a Section 75 agreement (or Section 256 transfer) and its partners. The
    creator's organisation must be a partner: nobody records an agreement they could not
    then see."""
    _validate_agreement(data)
    if not access.creator_is_party(user, [p.organisation for p in data.partners]):
        raise ValidationError({"partners": "Your organisation must be one of the agreement's "
                                           "partners"})
    agreement = Section75Agreement(partnership=data.partnership,
                                   **{f: getattr(data, f) for f in _AGREEMENT_FIELDS})
    agreement._history_user = user
    agreement.save()
    _set_partners(agreement, data.partners)
    return agreement


@transaction.atomic
def agreement_update(*, agreement: Section75Agreement, version: int, user: User,
                     data: AgreementInput) -> Section75Agreement:
    """Change an agreement's terms and partners, if nobody else changed it meanwhile."""
    _validate_agreement(data)
    locked = lock_for_update(Section75Agreement, agreement.pk, version, "this agreement")
    for name in _AGREEMENT_FIELDS:
        setattr(locked, name, getattr(data, name))
    locked._history_user = user
    locked.save()
    _set_partners(locked, data.partners)
    return locked


# --- Schemes and budgets ---------------------------------------------------------------------

@dataclass
class SchemeInput:
    code: str
    name: str
    lead_partner: Organisation
    scheme_type: str
    budget_type: str
    is_bcf: bool
    commissioner: str
    nhs_percent: Decimal | None = None
    la_percent: Decimal | None = None
    provider: Organisation | None = None
    provider_text: str = ""
    sub_type: str = ""
    area_of_spend: str = "social_care"
    planned_outputs: Decimal | None = None
    output_units: str = ""
    is_new: bool = False


def _validate_scheme(agreement: Section75Agreement, data: SchemeInput,
                     scheme: Scheme | None = None) -> None:
    errors: dict[str, str] = {}
    code = data.code.strip()
    if not code:
        errors["code"] = "Enter the scheme ID"
    else:
        clash = agreement.schemes.filter(code__iexact=code)
        if scheme is not None:
            clash = clash.exclude(pk=scheme.pk)
        if clash.exists():
            errors["code"] = f"There is already a scheme {code} in this agreement"
    if data.lead_partner.pk not in _partner_ids(agreement):
        errors["lead_partner"] = "The nominated lead must be one of the agreement's partners"
    if data.commissioner == Commissioner.JOINT:
        if data.nhs_percent is None or data.la_percent is None:
            errors["nhs_percent"] = "Enter the NHS and local authority percentages"
        elif data.nhs_percent + data.la_percent != HUNDRED:
            errors["nhs_percent"] = (f"The NHS and local authority percentages must add up to "
                                     f"100%. They add up to {data.nhs_percent + data.la_percent}%")
    for name in ("nhs_percent", "la_percent"):
        value = getattr(data, name)
        if value is not None and not (ZERO <= value <= HUNDRED):
            errors[name] = "Enter a percentage between 0 and 100"
    if errors:
        raise ValidationError(errors)


_SCHEME_FIELDS = ("name", "lead_partner", "scheme_type", "budget_type", "is_bcf",
                  "commissioner", "nhs_percent", "la_percent", "provider", "provider_text",
                  "sub_type", "area_of_spend", "planned_outputs", "output_units", "is_new")


def _joint_only(data: SchemeInput) -> dict:
    values = {f: getattr(data, f) for f in _SCHEME_FIELDS}
    if data.commissioner != Commissioner.JOINT:
        values["nhs_percent"] = values["la_percent"] = None
    return values


@transaction.atomic
def scheme_create(*, agreement: Section75Agreement, user: User, data: SchemeInput) -> Scheme:
    _validate_scheme(agreement, data)
    scheme = Scheme(agreement=agreement, code=data.code.strip(), **_joint_only(data))
    scheme._history_user = user
    scheme.save()
    return scheme


@transaction.atomic
def scheme_update(*, scheme: Scheme, version: int, user: User, data: SchemeInput) -> Scheme:
    _validate_scheme(scheme.agreement, data, scheme)
    locked = lock_for_update(Scheme, scheme.pk, version, "this scheme")
    locked.code = data.code.strip()
    for name, value in _joint_only(data).items():
        setattr(locked, name, value)
    locked._history_user = user
    locked.save()
    return locked


@transaction.atomic
def budget_set(*, scheme: Scheme, year: int, amount: Decimal, user: User,
               version: int | None = None) -> SchemeBudget:
    """Set a scheme's budget for a year. ``version`` is the budget's version the user saw
    (None when they saw no budget for that year)."""
    _check_year(scheme.agreement, year)
    if amount < 0:
        raise ValidationError({"amount": "The budget must be £0 or more"})
    existing = SchemeBudget.objects.select_for_update().filter(scheme=scheme, year=year).first()
    if existing is None:
        if version not in (None, 0):
            raise ConcurrentEditError("this budget")
        budget = SchemeBudget(scheme=scheme, year=year, amount=amount)
    else:
        check_version(existing, version, "this budget")
        budget = existing
        budget.amount = amount
    budget._history_user = user
    budget.save()
    return budget


# --- Contributions ---------------------------------------------------------------------------

def _check_partner(agreement: Section75Agreement, partner: Organisation) -> None:
    if partner.pk not in _partner_ids(agreement):
        raise ValidationError({"partner": f"{partner.name} is not a partner in this agreement, "
                                          "so it cannot contribute to it"})


@transaction.atomic
def contribution_set(*, scheme: Scheme, partner: Organisation, year: int,
                     source: FundingSource, amount: Decimal, user: User,
                     version: int | None = None) -> Contribution:
    """Record (or change) a partner's contribution to a scheme for a year from a source."""
    agreement = scheme.agreement
    _check_partner(agreement, partner)
    _check_year(agreement, year)
    if amount < 0:
        raise ValidationError({"amount": "The contribution must be £0 or more"})
    existing = (Contribution.objects.select_for_update()
                .filter(scheme=scheme, partner=partner, year=year, source=source).first())
    if existing is None:
        contribution = Contribution(scheme=scheme, partner=partner, year=year, source=source,
                                    amount=amount)
    else:
        check_version(existing, version, "this contribution")
        contribution = existing
        contribution.amount = amount
    contribution._history_user = user
    contribution.save()
    return contribution


@transaction.atomic
def instalment_add(*, contribution: Contribution, due_date: date, amount: Decimal,
                   user: User, paid_date: date | None = None) -> Instalment:
    """Schedule an instalment; instalments may not add up to more than the contribution."""
    if amount <= 0:
        raise ValidationError({"amount": "The instalment must be more than £0"})
    locked = Contribution.objects.select_for_update().get(pk=contribution.pk)
    scheduled = _sum(locked.instalments.all())
    if scheduled + amount > locked.amount:
        raise ValidationError({"amount": (
            f"The instalments would add up to £{scheduled + amount:,.2f}, more than the "
            f"contribution of £{locked.amount:,.2f}")})
    instalment = Instalment(contribution=locked, due_date=due_date, amount=amount,
                            paid_date=paid_date)
    instalment._history_user = user
    instalment.save()
    return instalment


@dataclass(frozen=True)
class DecisionInput:
    decision_maker: str
    decision_date: date
    decision_reference: str


def _check_decision(decision: DecisionInput) -> None:
    errors = {}
    if not decision.decision_maker.strip():
        errors["decision_maker"] = "Enter who made the decision"
    if not decision.decision_reference.strip():
        errors["decision_reference"] = "Enter the report or decision reference"
    if errors:
        raise ValidationError(errors)


def _record_change(contribution: Contribution, new_amount: Decimal, *, decision: DecisionInput,
                   reason: str, user: User,
                   mirrored_from: ContributionChange | None = None) -> ContributionChange:
    change = ContributionChange(
        contribution=contribution, previous_amount=contribution.amount, new_amount=new_amount,
        reason=reason, mirrored_from=mirrored_from, changed_by=user,
        decision_maker=decision.decision_maker, decision_date=decision.decision_date,
        decision_reference=decision.decision_reference)
    change._history_user = user
    change.save()
    contribution.amount = new_amount
    contribution._history_user = user
    contribution.save()
    return change


@transaction.atomic
def contribution_reduce(*, contribution: Contribution, new_amount: Decimal,
                        decision: DecisionInput, user: User, reason: str = "",
                        version: int | None = None) -> list[ContributionChange]:
    """Reduce a partner's contribution by decision. Where the agreement has a parallel
    reduction clause, the other partners' contributions to the same scheme and year are
    reduced in the same proportion, each recorded against the same decision."""
    _check_decision(decision)
    locked = lock_for_update(Contribution.objects.select_related("scheme__agreement", "partner"),
                             contribution.pk, version, "this contribution")
    if new_amount < 0:
        raise ValidationError({"new_amount": "The new contribution must be £0 or more"})
    if new_amount >= locked.amount:
        raise ValidationError({"new_amount": (
            f"Enter an amount less than the current contribution of £{locked.amount:,.2f}")})
    ratio = new_amount / locked.amount
    first = _record_change(locked, new_amount, decision=decision, reason=reason, user=user)
    changes = [first]
    if locked.scheme.agreement.parallel_reduction:
        others = (Contribution.objects.select_for_update()
                  .filter(scheme=locked.scheme, year=locked.year)
                  .exclude(partner=locked.partner).exclude(amount=0).order_by("pk"))
        for other in others:
            # Nobody showed a version of the others: they change as they stand, locked.
            check_version(other, None, "a parallel contribution")
            mirrored = (other.amount * ratio).quantize(PENNY, rounding=ROUND_HALF_UP)
            changes.append(_record_change(
                other, mirrored, decision=decision, user=user, mirrored_from=first,
                reason=(f"Parallel reduction mirroring {locked.partner.display_name}'s "
                        f"reduction from £{first.previous_amount:,.2f} to "
                        f"£{new_amount:,.2f}")))
    return changes


# --- Top-slices ------------------------------------------------------------------------------

def _top_slice_base(top_slice: TopSlice) -> Decimal:
    budgets = SchemeBudget.objects.filter(year=top_slice.year)
    if top_slice.scheme_id:
        budgets = budgets.filter(scheme_id=top_slice.scheme_id)
    else:
        budgets = budgets.filter(scheme__agreement_id=top_slice.agreement_id)
    return _sum(budgets)


def top_slice_reserved(top_slice: TopSlice) -> Decimal:
    return reserved_amount(_top_slice_base(top_slice), top_slice.percent)


@transaction.atomic
def top_slice_create(*, agreement: Section75Agreement, year: int, name: str,
                     percent: Decimal, user: User, scheme: Scheme | None = None) -> TopSlice:
    """Hold back a percentage of a scheme's (or the whole agreement's) budget."""
    _check_year(agreement, year)
    if scheme is not None and scheme.agreement_id != agreement.pk:
        raise ValidationError({"scheme": "Select a scheme in this agreement"})
    if not (ZERO < percent <= HUNDRED):
        raise ValidationError({"percent": "Enter a percentage more than 0 and up to 100"})
    if TopSlice.objects.filter(agreement=agreement, scheme=scheme, year=year,
                               name__iexact=name.strip()).exists():
        raise ValidationError({"name": f"There is already a top-slice called {name.strip()} "
                                       f"for {year_label(year)}"})
    top_slice = TopSlice(agreement=agreement, scheme=scheme, year=year, name=name.strip(),
                         percent=percent)
    top_slice._history_user = user
    top_slice.save()
    return top_slice


@transaction.atomic
def top_slice_draw(*, top_slice: TopSlice, amount: Decimal, purpose: str,
                   decision: DecisionInput, user: User) -> TopSliceDrawdown:
    """Draw down from a top-slice by decision; never more than is left in reserve."""
    _check_decision(decision)
    if amount <= 0:
        raise ValidationError({"amount": "Enter an amount more than £0"})
    locked = TopSlice.objects.select_for_update().get(pk=top_slice.pk)
    reserved = top_slice_reserved(locked)
    drawn = _sum(locked.drawdowns.all())
    if drawn + amount > reserved:
        raise ValidationError({"amount": (
            f"You cannot draw more than is reserved. £{reserved - drawn:,.2f} is left of "
            f"the £{reserved:,.2f} reserved for {locked.name}")})
    drawdown = TopSliceDrawdown(top_slice=locked, amount=amount, purpose=purpose,
                                recorded_by=user, decision_maker=decision.decision_maker,
                                decision_date=decision.decision_date,
                                decision_reference=decision.decision_reference)
    drawdown._history_user = user
    drawdown.save()
    return drawdown


# --- Contract funding ------------------------------------------------------------------------

@transaction.atomic
def contract_funding_set(*, contract, scheme: Scheme, source: FundingSource, basis: str,
                         user: User, amount: Decimal | None = None,
                         share_percent: Decimal | None = None) -> ContractFunding:
    """Fund part of a contract's annual value from a scheme and source (by amount or share).

    A contract's allocations may not add up to more than its annual value.
    """
    locked = Contract.objects.select_for_update().get(pk=contract.pk)
    if locked.partnership_id != scheme.agreement.partnership_id:
        raise ValidationError({"contract": "Select a contract of this agreement's partnership"})
    if basis == AllocationBasis.SHARE:
        if share_percent is None:
            raise ValidationError({"share_percent": "Enter the share of the annual value"})
        if not (ZERO < share_percent <= HUNDRED):
            raise ValidationError({"share_percent": "Enter a share more than 0% and up to 100%"})
        amount = (locked.annual_value * share_percent / HUNDRED).quantize(
            PENNY, rounding=ROUND_HALF_UP)
    else:
        share_percent = None
        if amount is None:
            raise ValidationError({"amount": "Enter the annual amount"})
        if amount <= 0:
            raise ValidationError({"amount": "The annual amount must be more than £0"})
    others = (ContractFunding.objects.filter(contract=locked)
              .exclude(scheme=scheme, source=source).select_related("contract"))
    allocated = sum((_allocation_amount(a, locked.annual_value) for a in others), ZERO)
    if allocated + amount > locked.annual_value:
        field = "share_percent" if basis == AllocationBasis.SHARE else "amount"
        raise ValidationError({field: (
            f"The contract's funding would add up to £{allocated + amount:,.2f}, more than "
            f"its annual value of £{locked.annual_value:,.2f}. "
            f"£{locked.annual_value - allocated:,.2f} is left to allocate")})
    allocation = ContractFunding.objects.filter(contract=locked, scheme=scheme,
                                                source=source).first()
    if allocation is None:
        allocation = ContractFunding(contract=locked, scheme=scheme, source=source)
    allocation.basis, allocation.amount, allocation.share_percent = basis, amount, share_percent
    allocation._history_user = user
    allocation.save()
    return allocation


def _allocation_amount(allocation: ContractFunding, annual_value: Decimal) -> Decimal:
    if allocation.basis == AllocationBasis.SHARE and allocation.share_percent is not None:
        return (annual_value * allocation.share_percent / HUNDRED).quantize(
            PENNY, rounding=ROUND_HALF_UP)
    return allocation.amount


@transaction.atomic
def contract_funding_remove(*, allocation: ContractFunding, user: User) -> None:
    allocation._history_user = user
    allocation.delete()


# --- Actuals, forecasts and month close ------------------------------------------------------

def closed_message(month: date, *, can_reopen: bool = False) -> str:
    """Why a month's figures cannot change, and what to do: a finance officer who may reopen
    the month is told how; anyone else, whom to ask."""
    if can_reopen:
        return (f"{month_label(month)} is closed. To change its figures, reopen it first: "
                "go to the agreement and select “Close or reopen months”")
    return f"{month_label(month)} is closed. Ask a finance officer to reopen it."


def _lock_agreement(agreement: Section75Agreement) -> Section75Agreement:
    # Writers of actuals and closers of months queue on the agreement row, so a month cannot
    # be closed half-way through someone saving its figures.
    return Section75Agreement.objects.select_for_update().get(pk=agreement.pk)


def _check_month_open(agreement: Section75Agreement, month: date, field: str = "month",
                      user: User | None = None) -> None:
    if MonthClose.objects.filter(agreement=agreement, month=month, is_closed=True).exists():
        raise ValidationError({field: closed_message(
            month, can_reopen=user is not None and permissions.can_close_months(user, agreement))})


def _check_month(agreement: Section75Agreement, month: date) -> date:
    month = month.replace(day=1)
    if not agreement.covers_month(month):
        raise ValidationError({"month": (
            f"{month_label(month)} is not in the agreement, which runs from "
            f"{agreement.start_date:%d/%m/%Y} to {agreement.end_date:%d/%m/%Y}")})
    return month


@transaction.atomic
def actual_record(*, scheme: Scheme, month: date, actual: Decimal,
                  forecast_outturn: Decimal | None, user: User,
                  version: int | None = None) -> MonthlyActual:
    """Record a scheme's actual spend for a month and its forecast outturn for the year."""
    agreement = _lock_agreement(scheme.agreement)
    month = _check_month(agreement, month)
    _check_month_open(agreement, month, user=user)
    existing = MonthlyActual.objects.filter(scheme=scheme, month=month).first()
    if existing is None:
        row = MonthlyActual(scheme=scheme, month=month)
    else:
        check_version(existing, version, f"the figures for {month_label(month)}")
        row = existing
    row.actual, row.forecast_outturn, row.updated_by = actual, forecast_outturn, user
    row._history_user = user
    row.save()
    return row


@transaction.atomic
def actual_delete(*, actual: MonthlyActual, user: User) -> None:
    agreement = _lock_agreement(actual.scheme.agreement)
    _check_month_open(agreement, actual.month, user=user)
    actual._history_user = user
    actual.delete()


@transaction.atomic
def month_close(*, agreement: Section75Agreement, month: date, user: User) -> MonthClose:
    """Lock a month's figures. Only a finance officer of a partner may do this."""
    if not permissions.can_close_months(user, agreement):
        raise PermissionDenied("Only a finance officer can close a month")
    agreement = _lock_agreement(agreement)
    month = _check_month(agreement, month)
    row, _created = MonthClose.objects.get_or_create(
        agreement=agreement, month=month, defaults={"is_closed": False})
    if row.is_closed:
        raise ValidationError({"month": f"{month_label(month)} is already closed"})
    row.is_closed, row.closed_by, row.closed_at = True, user, timezone.now()
    row.reopened_by = row.reopened_at = None
    row._history_user = user
    row.save()
    return row


@transaction.atomic
def month_reopen(*, agreement: Section75Agreement, month: date, user: User) -> MonthClose:
    if not permissions.can_close_months(user, agreement):
        raise PermissionDenied("Only a finance officer can reopen a month")
    agreement = _lock_agreement(agreement)
    row = MonthClose.objects.filter(agreement=agreement, month=month, is_closed=True).first()
    if row is None:
        raise ValidationError({"month": f"{month_label(month)} is not closed"})
    if RiskShareOutcome.objects.filter(agreement=agreement,
                                       year=financial_year_start(month)).exists():
        raise ValidationError({"month": (
            f"{year_label(financial_year_start(month))} has been closed at year end, so "
            f"{month_label(month)} cannot be reopened")})
    row.is_closed, row.reopened_by, row.reopened_at = False, user, timezone.now()
    row._history_user = user
    row.save()
    return row


# --- Finance system import -------------------------------------------------------------------

def _import_context(agreement: Section75Agreement, user: User) -> dict:
    can_reopen = permissions.can_close_months(user, agreement)
    return {
        "scheme_codes": set(agreement.schemes.values_list("code", flat=True)),
        "agreement_start": agreement.start_date,
        "agreement_end": agreement.end_date,
        "closed_months": {month: closed_message(month, can_reopen=can_reopen)
                          for month in agreement.month_closes.filter(is_closed=True)
                          .values_list("month", flat=True)},
    }


@transaction.atomic
def finance_import_preview(*, agreement: Section75Agreement, name: str, data: bytes,
                           user: User) -> FinanceImport:
    """Read and validate an export; keep the parsed rows server-side for confirmation.

    Raises ``imports.UploadRefused`` when the file as a whole cannot be used; otherwise the
    returned import is READY (every row good) or INVALID (with every row's errors).
    """
    if not permissions.can_edit_budgets(user, agreement):
        raise PermissionDenied
    headings, rows = imports.read_upload(name, data)
    parsed, errors = imports.parse_rows(headings, rows, **_import_context(agreement, user))
    finance_import = FinanceImport(
        agreement=agreement, original_name=name[:255], uploaded_by=user,
        status=ImportStatus.INVALID if errors else ImportStatus.READY,
        rows=[row.as_json() for row in parsed], errors=[e.as_dict() for e in errors])
    finance_import._history_user = user
    finance_import.save()
    return finance_import


@transaction.atomic
def finance_import_confirm(*, finance_import: FinanceImport, user: User) -> int:
    """Save every row of a previewed import in one transaction, or none of them.

    The rows are validated again (a month may have closed since the preview). Returns the
    number of rows saved.
    """
    locked = FinanceImport.objects.select_for_update().get(pk=finance_import.pk)
    if locked.status == ImportStatus.INVALID:
        raise ValidationError(f"This import cannot be confirmed: the file has "
                              f"{len(locked.errors)} error{'s' if len(locked.errors) != 1 else ''}"
                              ". Correct the rows listed and upload the file again")
    if locked.status != ImportStatus.READY:
        raise ValidationError("This import cannot be confirmed: "
                              f"it is {locked.get_status_display().lower()}")
    agreement = _lock_agreement(locked.agreement)
    if not permissions.can_edit_budgets(user, agreement):
        raise PermissionDenied
    context = _import_context(agreement, user)
    headings = ["scheme code", "month", "actual", "forecast"]
    rows = [(r["row"], [r["scheme_code"], date.fromisoformat(r["month"]), r["actual"],
                        r["forecast"] if r["forecast"] is not None else ""])
            for r in locked.rows]
    parsed, errors = imports.parse_rows(headings, rows, **context)
    if errors:
        locked.status, locked.errors = ImportStatus.INVALID, [e.as_dict() for e in errors]
        locked._history_user = user
        locked.save()
        raise ValidationError([f"Row {e.row}, {e.column}: {e.message}" for e in errors])
    schemes = {s.code: s for s in agreement.schemes.all()}
    existing = {(a.scheme_id, a.month): a for a in MonthlyActual.objects.filter(
        scheme__agreement=agreement, month__in={r.month for r in parsed})}
    for row in parsed:
        scheme = schemes[row.scheme_code]
        actual = existing.get((scheme.pk, row.month))
        if actual is None:
            actual = MonthlyActual(scheme=scheme, month=row.month)
        else:
            actual.version += 1
        actual.actual, actual.forecast_outturn, actual.updated_by = (row.actual, row.forecast,
                                                                     user)
        actual._history_user = user
        actual.save()
    locked.status, locked.confirmed_at = ImportStatus.CONFIRMED, timezone.now()
    locked._history_user = user
    locked.save()
    return len(parsed)


@transaction.atomic
def finance_import_cancel(*, finance_import: FinanceImport, user: User) -> None:
    if finance_import.status in (ImportStatus.READY, ImportStatus.INVALID):
        finance_import.status = ImportStatus.CANCELLED
        finance_import._history_user = user
        finance_import.save()


# --- Year end --------------------------------------------------------------------------------

@transaction.atomic
def year_end_close(*, agreement: Section75Agreement, year: int,
                   user: User) -> list[RiskShareOutcome]:
    """Calculate and record each partner's share of the year's variance (actual outturn −
    budget) under the agreement's risk-share rule. Every month of the year in the agreement
    must be closed first; a year is closed once."""
    if not permissions.can_close_year(user, agreement):
        raise PermissionDenied("Only a finance officer can close the year")
    agreement = _lock_agreement(agreement)
    _check_year(agreement, year)
    if RiskShareOutcome.objects.filter(agreement=agreement, year=year).exists():
        raise ValidationError({"year": f"{year_label(year)} has already been closed"})
    months = [m for m in selectors.year_months(year) if agreement.covers_month(m)]
    closed = set(agreement.month_closes.filter(is_closed=True, month__in=months)
                 .values_list("month", flat=True))
    still_open = [m for m in months if m not in closed]
    if still_open:
        raise ValidationError({"year": (
            f"Close every month of {year_label(year)} first. Still open: "
            f"{', '.join(month_label(m) for m in still_open)}")})
    schemes = selectors.fetch_schemes(selectors.schemes_with_figures(agreement.schemes.all(),
                                                                     year))
    budget = sum((s.budget for s in schemes), ZERO)
    outturn = sum((s.actual_to_date for s in schemes), ZERO)
    variance = outturn - budget
    partners = selectors.agreement_partners(agreement)
    contributions = {
        row["partner_id"]: selectors.money(row["total"])
        for row in Contribution.objects.filter(scheme__agreement=agreement, year=year)
        .order_by().values("partner_id").annotate(total=Sum("amount"))
    }
    shares = risk_share(
        agreement, partners, variance, contributions,
        [(s.lead_partner_id, s.actual_to_date - s.budget) for s in schemes])
    outcomes = []
    for share in shares:
        outcome = RiskShareOutcome(
            agreement=agreement, year=year, partner=share.partner, budget=budget,
            outturn=outturn, variance=variance, share_amount=share.amount,
            rule=agreement.risk_share_rule, underspend_rule=agreement.underspend_rule,
            recorded_by=user)
        outcome._history_user = user
        outcome.save()
        outcomes.append(outcome)
    return outcomes

