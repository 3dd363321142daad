"""The rules a contract in the register must meet: the one implementation.

The pages' forms, ``services.contract_create`` / ``contract_update`` and the register import
all ask ``contract_problems``; none of them keeps a rule of its own. Forms call it without a
``Register`` (they check what one page can know: dates, route and regime, amounts); the
services and the import call it with one, so the rules that need the database (partners,
providers, references, who is adding the contract) apply too.

A ``Register`` loads what those rules need once. For a file of 10,000 rows it is loaded in bulk
(``Register.load(..., bulk=True)``), so checking a row costs no query; references claimed by
earlier rows of the same batch are remembered, so a file cannot repeat a reference either.

Problems are keyed by the ``Contract`` field they are about (plus ``extension_options``,
``shares``, ``new_provider_name`` and ``new_provider_kind``); each caller shows them next to
its own field or column.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q

from commissioning import access, identifiers
from commissioning.inputs import MAX_AMOUNT
from commissioning.models import (
    Organisation,
    OrganisationKind,
    Partnership,
    PartnershipMember,
    User,
)
from contracts import cpv
from contracts.models import (
    Contract,
    ProcurementRegime,
    ProcurementRoute,
    ServiceArea,
    route_belongs_to_regime,
)
from contracts.selectors import providers_known_to

HUNDRED = Decimal("100.00")
MAX_REFERENCE = 50
MAX_TITLE = 250
MAX_PROVIDER_NAME = 200
MAX_NOTICE_MONTHS = 60
MAX_OPTION_MONTHS = 120
MAX_OPTIONS = 10
NEW_PROVIDER_KINDS = (OrganisationKind.VCSE, OrganisationKind.INDEPENDENT_PROVIDER,
                      OrganisationKind.NHS_TRUST, OrganisationKind.OTHER_PUBLIC_BODY)

OPEN_ENDED = ("Enter the end date. A contract with no end date (an open-ended contract) "
              "cannot be added: the register works out notice, extension and expiry alerts "
              "from it. Enter the date the contract can first be ended or must be reviewed "
              "(its break or review date)")
MANAGER_NOT_PARTY = ("The contract manager must work for the contract holder, the lead "
                     "commissioner or a partner with a share of the contract")
NOT_A_PARTY = ("Your organisation must be the contract holder, the lead commissioner or one "
               "of the partners with a share")


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


@dataclass
class Register:
    """What the rules need to know about one partnership's register.

    ``bulk``: every reference, organisation name and known provider is loaded now (a few
    queries for the whole batch); otherwise each is asked for when a rule needs it."""

    partnership_id: int
    partnership_name: str
    member_ids: frozenset[int]
    bulk: bool = False
    references: set[tuple[int, str]] = field(default_factory=set)
    organisation_names: set[str] = field(default_factory=set)
    known_provider_ids: frozenset[int] = frozenset()
    claimed: dict[tuple[int, str], str] = field(default_factory=dict)

    @classmethod
    def load(cls, partnership: Partnership, *, bulk: bool = False) -> Register:
        partnership_id = partnership.pk
        members = frozenset(PartnershipMember.objects.filter(
            partnership_id=partnership_id).values_list("organisation_id", flat=True))
        register = cls(partnership_id=partnership_id, partnership_name=partnership.display_name,
                       member_ids=members, bulk=bulk)
        if bulk:
            register.references = {
                (holder_id, reference.casefold()) for holder_id, reference in
                Contract.objects.filter(holder_id__in=members).values_list("holder_id",
                                                                           "reference")}
            for name, short_name in Organisation.objects.values_list("name", "short_name"):
                register.organisation_names.add(_key(name))
                if short_name:
                    register.organisation_names.add(_key(short_name))
            register.known_provider_ids = frozenset(
                providers_known_to([partnership_id]).values_list("pk", flat=True))
        return register

    def reference_taken(self, holder_id: int, reference: str, exclude_pk: int | None) -> bool:
        if self.bulk:
            return (holder_id, reference.casefold()) in self.references
        return Contract.objects.filter(holder_id=holder_id, reference__iexact=reference) \
            .exclude(pk=exclude_pk).exists()

    def name_taken(self, name: str) -> bool:
        if self.bulk:
            return _key(name) in self.organisation_names
        return Organisation.objects.filter(Q(name__iexact=name) | Q(short_name__iexact=name)) \
            .exists()

    def provider_known(self, provider_id: int) -> bool:
        if self.bulk:
            return provider_id in self.known_provider_ids
        return providers_known_to([self.partnership_id]).filter(pk=provider_id).exists()


def amount_problem(noun: str, amount: Decimal | None, *, required: bool = False) -> str | None:
    """The rule for a contract's amounts of money (annual value, VAT not recoverable)."""
    if amount is None:
        return f"Enter the {noun}" if required else None
    if amount < 0:
        return f"The {noun} must be £0 or more"
    if amount >= MAX_AMOUNT:
        return f"The {noun} must be less than £1,000,000,000,000"
    return None


def extension_options_problem(months: Sequence[int]) -> str | None:
    if any(not 0 < m <= MAX_OPTION_MONTHS for m in months):
        return (f"Each extension option must be between 1 and {MAX_OPTION_MONTHS} months "
                "long")
    if len(months) > MAX_OPTIONS:
        return f"A contract can have up to {MAX_OPTIONS} extension options"
    return None


def shares_problem(member_ids: Iterable[int], shares: Sequence) -> str | None:
    """Every share is a partner's, once, between 0% and 100%, and they add up to 100%."""
    members = set(member_ids)
    seen: set[int] = set()
    for share in shares:
        if share.organisation.pk not in members:
            return f"{share.organisation.display_name} is not a partner in this partnership"
        if share.organisation.pk in seen:
            return f"{share.organisation.display_name} is listed more than once"
        seen.add(share.organisation.pk)
        if not Decimal("0") <= share.share_percent <= HUNDRED:
            return "Each share must be between 0% and 100%"
    total = sum((s.share_percent for s in shares), Decimal("0"))
    if shares and total != HUNDRED:
        return f"The shares must add up to 100%. They add up to {total.normalize():f}%"
    return None


def _regime_label(regime: str) -> str:
    return ProcurementRegime(regime).label if regime in ProcurementRegime.values \
        else "the regime"


def contract_problems(
    contract: Contract, *, register: Register | None = None, user: User | None = None,
    extension_option_months: Sequence[int] = (), shares: Sequence = (),
    unchanged_provider_id: int | None = None, check_creator: bool = False,
    where: str = "",
) -> dict[str, str]:
    """Field → message for every rule ``contract`` breaks (an empty dict when it may be saved).

    Without a ``register`` only the rules a single page can check apply. ``check_creator``:
    ``user`` is adding the contract and must be one of its parties (``commissioning.access``).
    ``where`` names this contract in a batch ("row 7"): a later contract of the same batch
    with the same holder and reference is told where the first one is.
    """
    problems: dict[str, str] = {}

    def add(name: str, message: str | None) -> None:
        if message and name not in problems:
            problems[name] = message

    reference = (contract.reference or "").strip()
    contract.reference = reference
    if not reference:
        add("reference", "Enter the contract reference")
    elif len(reference) > MAX_REFERENCE:
        add("reference", f"The contract reference must be {MAX_REFERENCE} characters or fewer")
    title = (contract.title or "").strip()
    if not title:
        add("title", "Enter the contract title")
    elif len(title) > MAX_TITLE:
        add("title", f"The title must be {MAX_TITLE} characters or fewer")
    if contract.service_area is not None and contract.service_area not in ServiceArea.values:
        add("service_area", "Select a service area from the list")

    start, end = contract.start_date, contract.initial_end_date
    if start is None:
        add("start_date", "Enter the start date")
    if end is None:
        add("initial_end_date", OPEN_ENDED)
    if start and end and end < start:
        add("initial_end_date", "The end date must be the same as or after the start date")
    if contract.notice_period_months is not None and \
            not 0 <= contract.notice_period_months <= MAX_NOTICE_MONTHS:
        add("notice_period_months",
            f"The notice period must be {MAX_NOTICE_MONTHS} months or fewer")
    add("extension_options", extension_options_problem(extension_option_months))

    add("annual_value", amount_problem("annual value", contract.annual_value, required=True))
    add("vat_not_recoverable", amount_problem("VAT not recoverable",
                                              contract.vat_not_recoverable))

    regime, route = contract.procurement_regime, contract.procurement_route
    if regime and route and not route_belongs_to_regime(regime, route):
        route_label = ProcurementRoute(route).label if route in ProcurementRoute.values \
            else "This route"
        add("procurement_route", f"{route_label} is not a route under {_regime_label(regime)}")

    for name, message in classification_problems(contract).items():
        add(name, message)

    if register is None:
        return problems

    members = register.member_ids
    if contract.holder_id and contract.holder_id not in members:
        add("holder", "The contract holder must be a partner in the partnership")
    if contract.lead_commissioner_id and contract.lead_commissioner_id not in members:
        add("lead_commissioner", "The lead commissioner must be a partner in the partnership")
    _provider_problems(contract, register, user, unchanged_provider_id, add)
    if shares:
        add("shares", shares_problem(members, shares))
    if check_creator:
        parties = {contract.holder_id, contract.lead_commissioner_id,
                   *(s.organisation.pk for s in shares)}
        if not access.creator_is_party(user, [p for p in parties if p]):
            # Nobody adds a contract they could not then see.
            add("holder", NOT_A_PARTY)
    if contract.contract_manager_id and not access.works_for_any(
            contract.contract_manager, access.contract_party_ids(
                contract, share_organisations=[s.organisation for s in shares]
                if check_creator else None)):
        add("contract_manager", MANAGER_NOT_PARTY)

    if reference and contract.holder_id and "reference" not in problems:
        key = (contract.holder_id, reference.casefold())
        if register.reference_taken(contract.holder_id, reference, contract.pk):
            add("reference", f"{contract.holder.display_name} already has a contract with "
                             f"reference {reference}")
        elif key in register.claimed:
            add("reference", f"Reference {reference} is also used in {register.claimed[key]} "
                             "for the same contract holder")
        elif where:
            register.claimed[key] = where
    return problems


def classification_problems(contract: Contract) -> dict[str, str]:
    """CPV codes from the shipped CPV 2008 list (``contracts.cpv``) and Find a Tender notice
    and procedure identifiers in the platform's formats (``commissioning.identifiers``)."""
    problems: dict[str, str] = {}
    checks = [("cpv_code", cpv.check, contract.cpv_code)]
    checks += [("additional_cpv_codes", cpv.check, code)
               for code in contract.additional_cpv_codes or []]
    checks += [("find_a_tender_notice_id", identifiers.check_find_a_tender_notice,
                contract.find_a_tender_notice_id),
               ("find_a_tender_procedure_id", identifiers.check_find_a_tender_procedure,
                contract.find_a_tender_procedure_id)]
    for name, rule, value in checks:
        if value and name not in problems:
            try:
                rule(value)
            except ValidationError as error:
                problems[name] = error.messages[0]
    return problems


def _provider_problems(contract: Contract, register: Register, user: User | None,
                       unchanged: int | None, add) -> None:
    """Who may be a contract's provider: not a commissioner; one the partnership already
    knows (``selectors.providers_known_to``), one new to the service added with the contract,
    or any provider when a platform administrator chooses; the provider it already has stays
    allowed."""
    provider = _cached_provider(contract)
    if provider is None:
        add("provider", "Enter the provider")
        return
    if provider.pk is None:
        name = (provider.name or "").strip()
        if not name:
            add("new_provider_name", "Enter the name of the new provider")
        elif len(name) > MAX_PROVIDER_NAME:
            add("new_provider_name",
                f"The provider name must be {MAX_PROVIDER_NAME} characters or fewer")
        elif register.name_taken(name):
            add("new_provider_name", (
                f"An organisation called {name} is already on the service. If it works for "
                "this partnership, choose it in the list; if not, ask a platform "
                "administrator to add the contract"))
        if provider.kind not in NEW_PROVIDER_KINDS:
            add("new_provider_kind", "Select what kind of provider it is")
        return
    if provider.pk in register.member_ids:
        add("provider", f"{provider.display_name} is a commissioning partner, so it cannot be "
                        "the provider")
    elif provider.is_commissioner:
        add("provider", f"{provider.display_name} is a commissioning organisation, not a "
                        "provider")
    elif provider.pk != unchanged and not (user and access.is_platform_admin(user)) and \
            not register.provider_known(provider.pk):
        add("provider", (
            f"{provider.display_name} does not work for {register.partnership_name}. Choose "
            "a provider in the list, or add a provider that is new to the service"))


def _cached_provider(contract: Contract) -> Organisation | None:
    """The provider set on the contract (saved or not), without a query for an unset one."""
    cached = Contract.provider.field.get_cached_value(contract, default=None)
    if cached is not None:
        return cached
    return contract.provider if contract.provider_id else None
