"""Writes to the contract register. Each service is keyword-only and one transaction.

Services raise ``django.core.exceptions.ValidationError`` (with a field → message dict where a
field is to blame) for anything the user can fix; views show those messages next to the field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from commissioning import queueing
from commissioning.celery import app as celery_app
from commissioning.locking import lock_for_update
from commissioning.models import (
    Organisation,
    OrganisationKind,
    Partnership,
    PartnershipMember,
    User,
)
from commissioning.periods import add_working_days
from contracts import imports, validation
from contracts.models import (
    CommissioningShare,
    Contract,
    ContractStatus,
    ExtensionOption,
    OngoingCosts,
    ProcurementRegime,
    ProcurementRoute,
    RegisterImport,
    RegisterImportStatus,
    ReviewDate,
    ServiceLine,
)


@dataclass(frozen=True)
class ShareInput:
    organisation: Organisation
    share_percent: Decimal
    joint_monitoring: bool = True


@dataclass(frozen=True)
class DecisionInput:
    decision_maker: str
    meeting_date: date
    outcome: str
    body_name: str = ""
    report_reference: str = ""
    is_key: bool = False
    is_urgent: bool = False
    call_in_applies: bool = False


@dataclass
class ContractInput:
    """Everything a new contract needs; the create journey builds one from its pages."""

    reference: str
    title: str
    service_area: str
    provider: Organisation
    holder: Organisation
    lead_commissioner: Organisation
    partnership: Partnership
    procurement_regime: str
    procurement_route: str
    start_date: date
    initial_end_date: date
    annual_value: Decimal
    description: str = ""
    contract_manager: User | None = None
    notice_period_months: int = 0
    vat_not_recoverable: Decimal = Decimal("0")
    status: str = ContractStatus.PLANNED
    tendered: bool = False
    works: bool = False
    awarded_on: date | None = None
    service_lines: Sequence[str] = field(default_factory=tuple)
    extension_option_months: Sequence[int] = field(default_factory=tuple)
    shares: Sequence[ShareInput] = field(default_factory=tuple)
    review_dates: Sequence[tuple[date, str]] = field(default_factory=tuple)  # (date, what)
    # What it buys (CPV 2008 codes, contracts.cpv) and its Find a Tender notice and procedure.
    cpv_code: str = ""
    additional_cpv_codes: Sequence[str] = field(default_factory=tuple)
    find_a_tender_notice_id: str = ""
    find_a_tender_procedure_id: str = ""


# --- Validation shared by create and update --------------------------------------------------

EDITABLE_FIELDS = (
    "reference", "title", "description", "service_area", "provider", "holder",
    "lead_commissioner", "contract_manager", "procurement_regime", "procurement_route",
    "tendered", "works", "start_date", "initial_end_date", "notice_period_months",
    "annual_value", "vat_not_recoverable", "cpv_code", "additional_cpv_codes",
    "find_a_tender_notice_id", "find_a_tender_procedure_id",
)


MANAGER_NOT_PARTY = validation.MANAGER_NOT_PARTY


def _validate_contract(contract: Contract, *, user: User | None = None,
                       unchanged_provider_id: int | None = None) -> None:
    """The register's rules (``contracts.validation``, the one implementation the forms and
    the import use too) for a contract about to be saved; raises a dict ValidationError."""
    problems = validation.contract_problems(
        contract, register=validation.Register.load(contract.partnership), user=user,
        unchanged_provider_id=unchanged_provider_id)
    if problems:
        raise ValidationError(problems)


def provider_not_admitted(provider: Organisation, lot) -> str | None:
    """Why ``provider`` cannot be on a call-off from ``lot`` (not admitted to it), or None.
    The one rule for the call-off form (``call_off_create``) and "Change details"."""
    if lot.applications.admitted().filter(provider=provider).exists():
        return None
    return (f"{provider.display_name} is not admitted to lot {lot.number}. Only providers "
            "admitted to the lot can be chosen")


def _validate_call_off_provider(contract: Contract, *, unchanged: int | None) -> None:
    """A call-off's provider must be admitted to the call-off's lot, whichever form changes
    it (who may be a provider at all is ``validation.contract_problems``)."""

    # The call-off through the contract's reverse relation: frameworks build on the register,
    # and the register does not import them.
    call_off = getattr(contract, "call_off", None) if contract.pk else None
    if call_off is not None and contract.provider_id != unchanged:
        message = provider_not_admitted(contract.provider, call_off.lot)
        if message:
            raise ValidationError({"provider": message})


def _validate_shares(partnership_id: int, shares: Sequence[ShareInput]) -> None:
    members = PartnershipMember.objects.filter(partnership_id=partnership_id).values_list(
        "organisation_id", flat=True)
    problem = validation.shares_problem(members, shares)
    if problem:
        raise ValidationError({"shares": problem})


def _save(contract: Contract, user: User | None) -> None:
    contract._history_user = user
    contract.save()


# --- Contracts -------------------------------------------------------------------------------

@transaction.atomic
def contract_create(*, data: ContractInput, created_by: User) -> Contract:
    """Create a contract with its service lines, extension options, review dates and shares.

    The same path as a register import (``contracts_create_many``): everything is checked
    before anything is written; one transaction, so a failure leaves nothing behind.
    """
    try:
        return contracts_create_many(items=[data], created_by=created_by)[0]
    except ContractsRefused as refused:
        raise ValidationError(refused.problems[0]) from None


class ContractsRefused(ValidationError):
    """Some contracts of a batch break the register's rules; nothing was written.
    ``problems``: the batch position → field → message."""

    def __init__(self, problems: dict[int, dict[str, str]]) -> None:
        super().__init__({name: message for rows in problems.values()
                          for name, message in rows.items()})
        self.problems = problems


def _contract_from(data: ContractInput) -> Contract:
    return Contract(
        reference=data.reference, title=(data.title or "").strip(),
        description=data.description, service_area=data.service_area,
        provider=data.provider, holder=data.holder, lead_commissioner=data.lead_commissioner,
        partnership=data.partnership, contract_manager=data.contract_manager,
        procurement_regime=data.procurement_regime, procurement_route=data.procurement_route,
        tendered=data.tendered, works=data.works, start_date=data.start_date,
        initial_end_date=data.initial_end_date, notice_period_months=data.notice_period_months,
        annual_value=data.annual_value, vat_not_recoverable=data.vat_not_recoverable,
        status=data.status, awarded_on=data.awarded_on, cpv_code=data.cpv_code,
        additional_cpv_codes=[c for c in data.additional_cpv_codes if c != data.cpv_code],
        find_a_tender_notice_id=data.find_a_tender_notice_id,
        find_a_tender_procedure_id=data.find_a_tender_procedure_id,
    )


@transaction.atomic
def contracts_create_many(
    *, items: Sequence[ContractInput], created_by: User,
    registers: dict[int, validation.Register] | None = None,
    labels: Sequence[str] | None = None,
) -> list[Contract]:
    """Create contracts with everything that hangs off them, in bulk, by the one set of rules.

    Every contract is checked (``validation.contract_problems``) before anything is written;
    if any breaks a rule, ``ContractsRefused`` says which and nothing is saved. Then: an
    Awarded contract gets its award and standstill (``_record_award``), providers new to the
    service are added once each (the same unsaved ``Organisation`` may stand for several
    contracts), and contracts, service lines, extension options, review dates and shares are
    written with ``bulk_create_with_history``, so each has its history row. ``registers``:
    ``validation.Register`` per partnership id, loaded in bulk by a caller that checked the
    rows already; ``labels`` name each item in messages ("row 7").
    """
    registers = dict(registers or {})
    contracts: list[Contract] = []
    problems: dict[int, dict[str, str]] = {}
    for index, data in enumerate(items):
        contract = _contract_from(data)
        register = registers.get(data.partnership.pk)
        if register is None:
            register = registers[data.partnership.pk] = validation.Register.load(
                data.partnership, bulk=len(items) > 1)
        found = validation.contract_problems(
            contract, register=register, user=created_by,
            extension_option_months=data.extension_option_months, shares=data.shares,
            check_creator=True, where=labels[index] if labels else f"contract {index + 1}")
        if found:
            problems[index] = found
        contracts.append(contract)
    if problems:
        raise ContractsRefused(problems)
    new_providers = list({id(d.provider): d.provider for d in items
                          if d.provider.pk is None}.values())
    for provider in new_providers:
        provider.name = provider.name.strip()
        provider.is_vcse = provider.is_vcse or provider.kind == OrganisationKind.VCSE
    bulk_create_with_history(new_providers, Organisation, batch_size=500,
                             default_user=created_by)
    for contract, data in zip(contracts, items, strict=True):
        contract.provider = data.provider  # now saved, with its primary key
        if data.status == ContractStatus.AWARDED:
            _record_award(contract, data.awarded_on or timezone.localdate())
    try:
        with transaction.atomic():
            contracts = bulk_create_with_history(contracts, Contract, batch_size=500,
                                                 default_user=created_by)
    except IntegrityError as error:
        if len(items) > 1:
            raise  # the caller checks the whole batch again
        raise ContractsRefused({0: {"reference": (
            f"{items[0].holder.display_name} already has a contract with reference "
            f"{items[0].reference}")}}) from error
    lines, options, reviews, shares = [], [], [], []
    for contract, data in zip(contracts, items, strict=True):
        names = [name.strip()[:200] for name in data.service_lines if name.strip()]
        lines += [ServiceLine(contract=contract, name=name, order=index)
                  for index, name in enumerate(dict.fromkeys(names), start=1)]
        options += [ExtensionOption(contract=contract, sequence=index, length_months=months)
                    for index, months in enumerate(data.extension_option_months, start=1)]
        reviews += [ReviewDate(contract=contract, date=when, description=what)
                    for when, what in data.review_dates]
        shares += [CommissioningShare(contract=contract, organisation=share.organisation,
                                      share_percent=share.share_percent,
                                      joint_monitoring=share.joint_monitoring)
                   for share in data.shares]
    for rows, model in ((lines, ServiceLine), (options, ExtensionOption),
                        (reviews, ReviewDate), (shares, CommissioningShare)):
        bulk_create_with_history(rows, model, batch_size=1000, default_user=created_by)
    return contracts


@transaction.atomic
def contract_update(
    *, contract: Contract, expected_version: int, updated_by: User, **changes: object
) -> Contract:
    """Change a contract's details if nobody else changed it since ``expected_version``.

    Raises ConcurrentEditError (nothing saved) when the version moved on.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable here: {', '.join(sorted(unknown))}")
    fresh = lock_for_update(Contract, contract.pk, expected_version, "this contract")
    provider_before = fresh.provider_id
    for name, value in changes.items():
        setattr(fresh, name, value)
    _validate_contract(fresh, user=updated_by, unchanged_provider_id=provider_before)
    _validate_call_off_provider(fresh, unchanged=provider_before)
    _save(fresh, updated_by)
    return fresh


# What committee papers' financial and customer-impact boxes say (seed 000).
COVER_FIELDS = ("funding_sources_text", "ongoing_costs", "ongoing_annual_cost", "budget_head",
                "total_current_budget", "estimated_users")


@transaction.atomic
def contract_cover_update(
    *, contract: Contract, expected_version: int, updated_by: User, funding_sources_text: str,
    ongoing_costs: str, ongoing_annual_cost: Decimal | None, budget_head: str,
    total_current_budget: Decimal | None, estimated_users: int | None,
) -> Contract:
    """Record the funding sources as stated, ongoing costs, budget head, total current budget
    and estimated users that committee papers take from the register. Raises
    ValidationError (field by field) or ConcurrentEditError; nothing is saved then."""
    errors: dict[str, str] = {}
    if ongoing_costs and ongoing_costs not in OngoingCosts.values:
        errors["ongoing_costs"] = "Select recurring or non-recurring cost"
    if ongoing_annual_cost is not None and not ongoing_costs:
        errors["ongoing_costs"] = ("Select whether the ongoing annual cost is recurring or "
                                   "non-recurring")
    for name, noun, amount in (
            ("ongoing_annual_cost", "ongoing annual cost", ongoing_annual_cost),
            ("total_current_budget", "total current budget for this head",
             total_current_budget)):
        if amount is not None and amount < 0:
            errors[name] = f"The {noun} must be £0 or more"
    if estimated_users is not None and estimated_users < 0:
        errors["estimated_users"] = ("The estimated number of users or beneficiaries must be 0 "
                                     "or more")
    if errors:
        raise ValidationError(errors)
    fresh = lock_for_update(Contract, contract.pk, expected_version, "this contract")
    fresh.funding_sources_text = funding_sources_text.strip()
    fresh.ongoing_costs = ongoing_costs
    fresh.ongoing_annual_cost = ongoing_annual_cost
    fresh.budget_head = budget_head.strip()
    fresh.total_current_budget = total_current_budget
    fresh.estimated_users = estimated_users
    _save(fresh, updated_by)
    return fresh


def _record_award(contract: Contract, awarded_on: date) -> None:
    """An award decision on ``awarded_on`` and the standstill it starts: the one place for
    both, whether the contract is added, moved to Awarded or imported as Awarded."""
    contract.awarded_on = awarded_on
    contract.standstill_end_date = standstill_end_date(
        regime=contract.procurement_regime, route=contract.procurement_route,
        awarded_on=awarded_on)


def standstill_end_date(*, regime: str, route: str, awarded_on: date) -> date | None:
    """The last day of the standstill period after an award decision, or None without one.

    PCR 2015: 10 calendar days. Procurement Act 2023 and the Provider Selection Regime
    (Direct Award C, Most Suitable Provider, Competitive Process): 8 working days. PSR Direct
    Awards A and B, grants and spot purchases have no standstill.
    """
    if regime == ProcurementRegime.PCR_2015:
        return awarded_on + timedelta(days=10)
    if regime == ProcurementRegime.PA_2023:
        return add_working_days(awarded_on, 8)
    if regime == ProcurementRegime.PSR and route not in (
        ProcurementRoute.PSR_DIRECT_AWARD_A, ProcurementRoute.PSR_DIRECT_AWARD_B
    ):
        return add_working_days(awarded_on, 8)
    return None


# --- Register import -------------------------------------------------------------------------
#
# upload → match columns → check every row (a Celery task for large files) → preview →
# confirm → import in ONE transaction (a task for large files). Parsing and checking live in
# contracts/imports.py; these functions move an import along and do the writing.

def _enqueue(task_name: str, import_id: int) -> None:
    """Hand the import to a worker after commit; with the broker down the import waits, and
    ``register_import_sweep`` hands it over later (the user's request never fails)."""
    queueing.enqueue_on_commit(_task(task_name), import_id)


def _task(name: str):
    """The registered Celery task ``contracts.tasks.<name>``. Named, not imported:
    contracts/tasks.py calls this module, so importing it here would be a cycle."""
    return celery_app.tasks[f"contracts.tasks.{name}"]


# An import still waiting this long after it was queued missed its worker (a broker outage).
QUEUED_TOO_LONG = timedelta(minutes=2)


def register_import_sweep() -> int:
    """Enqueue imports whose task was never handed to a worker (recorded while the broker was
    down) and those whose worker died mid-run (claimed longer ago than twice the task time
    limit, as ``_claim`` reclaims them). Returns how many were handed over."""
    now = timezone.now()
    stale = now - timedelta(seconds=2 * settings.CELERY_TASK_TIME_LIMIT)
    handed = 0
    for task, queued, working in (
            (_task("validate_register_import"), RegisterImportStatus.VALIDATION_QUEUED,
             RegisterImportStatus.VALIDATING),
            (_task("run_register_import"), RegisterImportStatus.IMPORT_QUEUED,
             RegisterImportStatus.IMPORTING)):
        ids = list(RegisterImport.objects.filter(
            Q(status=queued, updated_at__lt=now - QUEUED_TOO_LONG)
            | Q(status=working, task_started_at__lt=stale)
        ).values_list("pk", flat=True)[:200])
        handed += queueing.sweep(ids, task)
    return handed


def register_import_start(*, partnership: Partnership, upload: UploadedFile,
                          created_by: User) -> RegisterImport:
    """Store an uploaded register after checking the file (size, type by content, macros,
    zip bomb, CSV/XLSX well-formed, row limit). Raises ValidationError({"file": ...})."""
    name = PurePath(upload.name or "register").name[:255]
    upload.seek(0)
    data = upload.read(settings.MAX_UPLOAD_BYTES + 1)  # one byte over is enough to refuse
    try:
        table = imports.read_table(name, data)
    except imports.ImportFileError as error:
        raise ValidationError({"file": str(error)}) from error
    register_import = RegisterImport(
        partnership=partnership, created_by=created_by, original_name=name,
        file_kind=table.kind, headers=table.headers, row_count=len(table.rows),
        mapping=imports.auto_mapping(table.headers),
    )
    upload.seek(0)
    register_import.file.save(name, upload, save=False)
    try:
        register_import.save()
    except Exception:
        register_import.file.delete(save=False)
        raise
    return register_import


def register_import_map(*, register_import: RegisterImport, mapping: dict[str, str],
                        fixed: dict[str, str] | None = None) -> None:
    """Save which column feeds each field (one column may feed two fields) and the values
    chosen for every row (``fixed``: e.g. the contract holder), then check every row: now
    for a small file, in a Celery task for one over ``imports.ASYNC_ROWS`` rows."""
    fixed = {k: v.strip() for k, v in (fixed or {}).items() if v and v.strip()}
    stored: dict[str, object] = {k: v for k, v in mapping.items() if v}
    for name, value in fixed.items():
        if name in imports.FIELDS_BY_NAME:
            stored[name] = {"value": value}  # the same for every row, whatever the column
    missing = [imports.FIELDS_BY_NAME[n].label for n in imports.REQUIRED_FIELDS
               if not stored.get(n)]
    if missing:
        raise ValidationError({"mapping": f"Choose a column or a value for every row for: "
                                          f"{', '.join(missing)}"})
    unknown = [h for h in stored.values() if isinstance(h, str) and
               h not in register_import.headers]
    if unknown:
        raise ValidationError({"mapping": "Choose columns from the file"})
    claimed = RegisterImport.objects.filter(
        pk=register_import.pk,
        status__in=(RegisterImportStatus.UPLOADED, RegisterImportStatus.VALIDATED,
                    RegisterImportStatus.FAILED),
    ).update(mapping=stored, errors=[], preview=[], error_count=0, processed_rows=0,
             failure="", status=RegisterImportStatus.VALIDATION_QUEUED)
    if not claimed:
        raise ValidationError({"mapping": "This import is already being checked or imported"})
    if register_import.row_count > imports.ASYNC_ROWS:
        _enqueue("validate_register_import", register_import.pk)
    else:
        register_import_validate(import_id=register_import.pk)
    register_import.refresh_from_db()


def _claim(import_id: int, queued: str, working: str) -> RegisterImport | None:
    """Move an import from ``queued`` to ``working`` with a conditional update: of two
    workers (or a retried task) exactly one gets it. A run that died long ago is reclaimed."""
    now = timezone.now()
    stale = now - timedelta(seconds=2 * settings.CELERY_TASK_TIME_LIMIT)
    claimed = RegisterImport.objects.filter(pk=import_id).filter(
        Q(status=queued) | Q(status=working, task_started_at__lt=stale)
    ).update(status=working, task_started_at=now, processed_rows=0)
    if not claimed:
        return None
    return RegisterImport.objects.select_related("partnership", "created_by").get(pk=import_id)


def _check_file(register_import: RegisterImport, *, progress: bool):
    table = imports.table_from_file(register_import.file, register_import.original_name)

    def report(done: int) -> None:
        RegisterImport.objects.filter(pk=register_import.pk).update(processed_rows=done)

    return imports.check_rows(table, register_import.mapping,
                              partnership=register_import.partnership,
                              user=register_import.created_by,
                              progress=report if progress else None)


def _store_check(register_import: RegisterImport, result: imports.CheckResult) -> None:
    register_import.errors = result.errors
    register_import.error_count = result.error_count
    register_import.preview = [r.preview() for r in result.rows]
    register_import.new_providers = result.new_providers
    register_import.row_count = len(result.rows)
    register_import.processed_rows = len(result.rows)
    register_import.status = RegisterImportStatus.VALIDATED
    register_import.finished_at = timezone.now()
    register_import.save()


def register_import_validate(*, import_id: int) -> RegisterImport | None:
    """Check every row of a queued import and store the preview and the errors. Safe to run
    twice: only the run that claims the import does the work."""
    register_import = _claim(import_id, RegisterImportStatus.VALIDATION_QUEUED,
                             RegisterImportStatus.VALIDATING)
    if register_import is None:
        return None
    try:
        result = _check_file(register_import, progress=True)
    except imports.ImportFileError as error:
        RegisterImport.objects.filter(pk=import_id).update(
            status=RegisterImportStatus.FAILED, failure=str(error), finished_at=timezone.now())
        return None
    _store_check(register_import, result)
    return register_import


def providers_without_vcse_flag(new_providers: list[dict]) -> int:
    """New providers whose row does not say whether they are a VCSE."""
    return sum(1 for p in new_providers if p.get("vcse") is None)


def register_import_confirm(*, register_import: RegisterImport, confirmed_by: User,
                            create_providers: bool, provider_kind: str = "") -> None:
    """The user confirmed the preview: import the rows without problems now (small file) or
    in a task (large file); the rows with problems are handed back as a file to fix."""
    if register_import.status != RegisterImportStatus.VALIDATED:
        raise ValidationError({"confirm": "This import is not ready to confirm"})
    if not any(not row["errors"] and not row.get("existing")
               for row in register_import.preview):
        raise ValidationError({"confirm": (
            "There are no rows to import: every row has a problem or is in the register "
            "already. Download the rows with problems, correct them and upload the file "
            "again")})
    if register_import.new_providers:
        if not create_providers:
            count = len(register_import.new_providers)
            raise ValidationError({"create_providers": (
                f"Select to create the {count} new provider{'s' if count != 1 else ''}, or "
                "correct the provider names in the file")})
        if providers_without_vcse_flag(register_import.new_providers) and \
                provider_kind not in (OrganisationKind.VCSE,
                                      OrganisationKind.INDEPENDENT_PROVIDER):
            raise ValidationError({"provider_kind": "Select what kind of providers they are"})
    claimed = RegisterImport.objects.filter(
        pk=register_import.pk, status=RegisterImportStatus.VALIDATED,
    ).update(status=RegisterImportStatus.IMPORT_QUEUED,
             create_providers_as=(provider_kind or "file") if create_providers else "")
    if not claimed:
        raise ValidationError({"confirm": "This import is not ready to confirm"})
    if register_import.row_count > imports.ASYNC_ROWS:
        _enqueue("run_register_import", register_import.pk)
    else:
        register_import_run(import_id=register_import.pk)
    register_import.refresh_from_db()


def register_import_run(*, import_id: int) -> RegisterImport | None:
    """Import a confirmed register: every row is checked again (the register may have changed
    since the preview), then the rows without problems are written in ONE transaction through
    ``contracts_create_many`` (the path of ``contract_create``); rows with problems stay in
    the preview, to be downloaded, fixed and uploaded again. Rows whose reference is in the
    register already are left alone, so a second upload of the same file changes nothing."""
    register_import = _claim(import_id, RegisterImportStatus.IMPORT_QUEUED,
                             RegisterImportStatus.IMPORTING)
    if register_import is None:
        return None
    try:
        result = _check_file(register_import, progress=True)
    except imports.ImportFileError as error:
        RegisterImport.objects.filter(pk=import_id).update(
            status=RegisterImportStatus.FAILED, failure=str(error), finished_at=timezone.now())
        return None
    if result.new_providers and not register_import.create_providers_as:
        _store_check(register_import, result)  # back to the preview, nothing saved
        return register_import
    try:
        with transaction.atomic():
            count = _write_import(register_import, result)
    except (IntegrityError, ContractsRefused):
        _store_check(register_import, result)
        register_import.failure = (
            "Nothing was imported: the register changed while the file was being imported "
            "(a reference or provider was added by someone else). Check the file again."
        )
        register_import.save(update_fields=["failure", "updated_at"])
        return register_import
    _store_check(register_import, result)
    register_import.status = RegisterImportStatus.IMPORTED
    register_import.imported_count = count
    register_import.save()
    return register_import


def _write_import(register_import: RegisterImport, result: imports.CheckResult) -> int:
    """The importable rows as ``ContractInput``s, written by ``contracts_create_many``."""
    kind = register_import.create_providers_as
    rows = result.importable
    providers: dict[str, Organisation] = {}
    flags = {imports.organisation_key(p["name"]): p for p in result.new_providers}
    items: list[ContractInput] = []
    for row in rows:
        v = row.values
        provider = v["provider"]
        if provider is None:
            provider = providers.get(row.new_provider)
            if provider is None:
                # The file's own SME / VCSE columns decide; the confirm page only for the
                # providers the file says nothing about.
                flagged = flags.get(row.new_provider, {})
                vcse = flagged.get("vcse")
                provider = providers[row.new_provider] = Organisation(
                    name=v["provider_name"][:200],
                    registration_number=v["provider_registration_number"][:20],
                    registration_scheme=v["provider_registration_scheme"],
                    ppon=v["provider_ppon"],
                    kind=OrganisationKind.VCSE if vcse or (vcse is None and kind == "vcse")
                    else OrganisationKind.INDEPENDENT_PROVIDER,
                    is_sme=bool(flagged.get("sme")), is_vcse=bool(vcse))
        items.append(ContractInput(
            reference=v["reference"], title=v["title"], description=v["description"],
            service_area=v["service_area"], provider=provider, holder=v["holder"],
            lead_commissioner=v["lead_commissioner"], partnership=register_import.partnership,
            procurement_regime=v["procurement_regime"],
            procurement_route=v["procurement_route"], tendered=v["tendered"],
            start_date=v["start_date"], initial_end_date=v["end_date"],
            notice_period_months=v["notice_period_months"], annual_value=v["annual_value"],
            vat_not_recoverable=v["vat_not_recoverable"], status=v["status"],
            service_lines=v["service_lines"], extension_option_months=v["extension_options"],
            review_dates=[(v["review_date"], "Review (imported)")] if v["review_date"] else (),
            cpv_code=v["cpv_codes"][0] if v["cpv_codes"] else "",
            additional_cpv_codes=v["cpv_codes"][1:],
            find_a_tender_notice_id=v["find_a_tender_notice_id"],
            find_a_tender_procedure_id=v["find_a_tender_procedure_id"],
        ))
    contracts_create_many(items=items, created_by=register_import.created_by,
                          labels=[f"row {row.row}" for row in rows])
    return len(items)
