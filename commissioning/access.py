"""Who may see and do what: the one place where visibility is decided.

Every list and detail view in every app goes through these functions (or the ``for_user``
querysets built on them). An object a user may not see is a 404, never a 403.

A user acts as one organisation at a time (``user.current_organisation``, set from the
session by ``CurrentOrganisationMiddleware``); their roles are the roles they hold there.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from commissioning.models import (
    COMMISSIONER_SIDE_ROLES,
    COMMISSIONING_KINDS,
    PROVIDER_ROLES,
    Membership,
    Organisation,
    Partnership,
    PartnershipMember,
    Role,
    User,
)


def active_memberships(user: User) -> list[Membership]:
    """The user's active memberships, loaded once per request and cached on the user."""
    cached = getattr(user, "_active_memberships", None)
    if cached is None:
        if not user.is_authenticated:
            cached = []
        else:
            cached = list(
                Membership.objects.filter(
                    user=user, is_active=True, organisation__is_active=True
                ).select_related("organisation")
            )
        user._active_memberships = cached
    return cached


def user_organisations(user: User) -> list[Organisation]:
    seen: dict[int, Organisation] = {}
    for membership in active_memberships(user):
        seen.setdefault(membership.organisation_id, membership.organisation)
    return sorted(seen.values(), key=lambda org: org.name)


def set_current_organisation(user: User, organisation_id: int | None) -> Organisation | None:
    """Choose the organisation the user acts as; falls back to their first organisation."""
    organisations = user_organisations(user)
    chosen = next((org for org in organisations if org.pk == organisation_id), None)
    if chosen is None and organisations:
        chosen = organisations[0]
    user.current_organisation = chosen
    return chosen


def current_organisation(user: User) -> Organisation | None:
    if not user.is_authenticated:
        return None
    if not hasattr(user, "current_organisation"):
        set_current_organisation(user, None)
    return user.current_organisation


def current_roles(user: User) -> frozenset[str]:
    organisation = current_organisation(user)
    if organisation is None:
        return frozenset()
    return frozenset(
        m.role for m in active_memberships(user) if m.organisation_id == organisation.pk
    )


def has_role(user: User, *roles: str) -> bool:
    return bool(current_roles(user) & set(roles))


def is_commissioner_side(user: User) -> bool:
    """Acting for a commissioning organisation (council or ICB) in any commissioner role."""
    organisation = current_organisation(user)
    return bool(
        organisation
        and organisation.is_commissioner
        and current_roles(user) & COMMISSIONER_SIDE_ROLES
    )


def is_provider_user(user: User) -> bool:
    organisation = current_organisation(user)
    return bool(
        organisation and not organisation.is_commissioner and current_roles(user) & PROVIDER_ROLES
    )


def is_platform_admin(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


# --- Partnerships --------------------------------------------------------------------------

def partnerships_for_user(user: User) -> QuerySet[Partnership]:
    """Partnerships the user's current organisation belongs to, on the commissioning side (all,
    for a platform admin). Built on ``partnership_ids_for_user``, the one lookup of them."""
    if is_platform_admin(user):
        return Partnership.objects.all()
    if not is_commissioner_side(user):
        return Partnership.objects.none()
    return Partnership.objects.filter(pk__in=partnership_ids_for_user(user))


def get_partnership_for_user(user: User, pk: int) -> Partnership:
    return get_object_or_404(partnerships_for_user(user), pk=pk)


def partner_organisation_ids(user: User) -> set[int]:
    """Organisations that share a partnership with the user's current organisation."""
    if is_platform_admin(user):
        return set(Organisation.objects.commissioners().values_list("pk", flat=True))
    if not is_commissioner_side(user):
        return set()
    return set(
        PartnershipMember.objects.filter(partnership_id__in=partnership_ids_for_user(user))
        .values_list("organisation_id", flat=True)
    )


# --- Parties: who sees a contract, a framework, an agreement --------------------------------
#
# The one visibility rule. Access follows the parties, never the partnership as a whole:
#
# - a contract (a call-off included) and everything hanging off it belongs to its holder, its
#   lead commissioner and the organisations with a share of it (they fund or jointly monitor
#   it); its provider sees it through the provider's own pages;
# - a framework belongs to its parties (the signatories of its Inter Authority Agreement), who
#   see one summary row for each call-off but open a call-off only if party to it;
# - a Section 75 agreement and its schemes belong to the agreement's partners;
# - a committee report follows what it is about; one about a partnership only, the partners;
# - platform administrators see everything; anyone else nothing (a 404).
#
# The helpers return ``Q`` objects with a lookup ``prefix`` so that a queryset of related rows
# (``KPI`` -> ``contract__``) applies the very same rule. Party rows are matched with ``pk__in``
# subqueries, so no join multiplies the rows. The core imports no app: the party tables are
# reached through Organisation's reverse relations.

def nothing(prefix: str = "") -> Q:
    """A condition no row meets (Django answers it without asking the database)."""
    return Q(**{f"{prefix}pk__in": []})


def _party_rows(related_name: str) -> QuerySet:
    """The rows behind one of Organisation's reverse relations (``contract_shares``,
    ``framework_parties``, ``agreement_memberships``), without importing their app."""
    return Organisation._meta.get_field(related_name).related_model._default_manager.all()


def _org_id(organisation: Organisation | int) -> int:
    return organisation if isinstance(organisation, int) else organisation.pk


def contract_party_q(organisation: Organisation | int, prefix: str = "") -> Q:
    """Contracts the organisation holds, leads or has a commissioning share of."""
    org = _org_id(organisation)
    shares = _party_rows("contract_shares").filter(organisation_id=org).values("contract_id")
    return (Q(**{f"{prefix}holder_id": org}) | Q(**{f"{prefix}lead_commissioner_id": org})
            | Q(**{f"{prefix}pk__in": shares}))


def framework_party_q(organisation: Organisation | int, prefix: str = "") -> Q:
    """Frameworks the organisation is a party to."""
    rows = _party_rows("framework_parties").filter(organisation_id=_org_id(organisation))
    return Q(**{f"{prefix}pk__in": rows.values("framework_id")})


def agreement_party_q(organisation: Organisation | int, prefix: str = "") -> Q:
    """Section 75 agreements the organisation is a partner in."""
    rows = _party_rows("agreement_memberships").filter(organisation_id=_org_id(organisation))
    return Q(**{f"{prefix}pk__in": rows.values("agreement_id")})


def partnership_member_q(organisation: Organisation | int, prefix: str = "") -> Q:
    """Partnerships the organisation is a member of."""
    rows = PartnershipMember.objects.filter(organisation_id=_org_id(organisation))
    return Q(**{f"{prefix}pk__in": rows.values("partnership_id")})


def every_member_party_q(partnership: Partnership, party_q) -> Q:
    """Rows of the partnership that every one of its members is party to (``party_q`` is
    ``contract_party_q`` or ``agreement_party_q``).

    A document read by the whole partnership (the monthly joint monitoring report, which every
    member's people open) shows only these: a contract two of three partners commission
    together stays with those two, however the report is shared.
    """
    condition = Q(partnership_id=partnership.pk)
    for organisation_id in PartnershipMember.objects.filter(
            partnership_id=partnership.pk).values_list("organisation_id", flat=True):
        condition &= party_q(organisation_id)
    return condition


def visible_contracts_q(user: User, prefix: str = "") -> Q:
    """Contracts the user may see: as a party (commissioner side), as their provider (provider
    users), all (platform administrators)."""
    if is_platform_admin(user):
        return Q()
    organisation = current_organisation(user)
    if organisation is None:
        return nothing(prefix)
    if is_commissioner_side(user):
        return contract_party_q(organisation, prefix)
    if is_provider_user(user):
        return Q(**{f"{prefix}provider_id": organisation.pk})
    return nothing(prefix)


def visibility_key(user: User) -> tuple:
    """Everything this module decides what a user sees by, as a value: two users with the
    same key see the same contracts, frameworks, agreements and committee reports and may do
    the same things with them. Pages remembered by ``commissioning.datacache`` are keyed by
    it, so a membership or role changed takes effect on the next request."""
    if is_platform_admin(user):
        return ("platform administrator",)
    organisation = current_organisation(user)
    if organisation is None:
        return ("nobody",)
    return ("organisation", organisation.pk, organisation.is_commissioner,
            tuple(sorted(current_roles(user))))


def party_contracts_q(user: User, prefix: str = "") -> Q:
    """Contracts the user sees as a commissioning party (never as a provider): the call-off
    pages, committee reports and assessments."""
    if is_platform_admin(user):
        return Q()
    if not is_commissioner_side(user):
        return nothing(prefix)
    return contract_party_q(current_organisation(user), prefix)


def visible_frameworks_q(user: User, prefix: str = "") -> Q:
    """Frameworks whose commissioner-side pages the user may see. Providers reach frameworks
    only through their own applications (``frameworks_for_provider``)."""
    if is_platform_admin(user):
        return Q()
    if not is_commissioner_side(user):
        return nothing(prefix)
    return framework_party_q(current_organisation(user), prefix)


def visible_agreements_q(user: User, prefix: str = "") -> Q:
    """Section 75 agreements (and their schemes, budgets, funding) the user may see."""
    if is_platform_admin(user):
        return Q()
    if not is_commissioner_side(user):
        return nothing(prefix)
    return agreement_party_q(current_organisation(user), prefix)


def visible_committee_reports_q(user: User) -> Q:
    """Committee reports follow what they are about: a contract's, a framework's or an
    agreement's parties; for a report about the partnership alone, its members."""
    if is_platform_admin(user):
        return Q()
    if not is_commissioner_side(user):
        return nothing()
    organisation = current_organisation(user)
    return (
        (Q(contract__isnull=False) & contract_party_q(organisation, "contract__"))
        | (Q(framework__isnull=False) & framework_party_q(organisation, "framework__"))
        | (Q(agreement__isnull=False) & agreement_party_q(organisation, "agreement__"))
        | (Q(contract__isnull=True, framework__isnull=True, agreement__isnull=True)
           & partnership_member_q(organisation, "partnership__"))
    )


def _request_cache(user: User, name: str) -> dict:
    """A dictionary living as long as the user object (one request), keyed by organisation."""
    caches = getattr(user, "_party_caches", None)
    if caches is None:
        caches = user._party_caches = {}
    return caches.setdefault(name, {})


def _party_ids(user: User, name: str, related_name: str, column: str) -> frozenset[int]:
    """Ids of the frameworks/agreements the current organisation is party to, loaded once
    per request (there are few of them)."""
    organisation = current_organisation(user)
    if organisation is None:
        return frozenset()
    cache = _request_cache(user, name)
    if organisation.pk not in cache:
        cache[organisation.pk] = frozenset(
            _party_rows(related_name).filter(organisation_id=organisation.pk)
            .values_list(column, flat=True))
    return cache[organisation.pk]


def is_contract_party(user: User, contract) -> bool:
    """The user acts, on the commissioning side, for the contract's holder, lead commissioner
    or an organisation with a share of it."""
    if not is_commissioner_side(user):
        return False
    organisation = current_organisation(user)
    if organisation.pk in (contract.holder_id, contract.lead_commissioner_id):
        return True
    prefetched = getattr(contract, "_prefetched_objects_cache", {}).get("shares")
    if prefetched is not None:
        return any(share.organisation_id == organisation.pk for share in prefetched)
    cache = _request_cache(user, "contract_shares")
    key = (organisation.pk, contract.pk)
    if key not in cache:
        cache[key] = _party_rows("contract_shares").filter(
            organisation_id=organisation.pk, contract_id=contract.pk).exists()
    return cache[key]


def can_see_commissioning_details(user: User, contract) -> bool:
    """What the commissioners keep to themselves on a contract they and its provider both see:
    its funding, decisions, notices, committee-paper details, the KPI pages and the framework a
    call-off came from. The contract's parties and platform administrators; never its provider.
    Pages pass the answer to templates (``can_see_funding`` and so on); templates decide
    nothing."""
    return is_platform_admin(user) or is_contract_party(user, contract)


def is_contract_provider(user: User, contract) -> bool:
    """The user acts, as a provider user, for the contract's provider."""
    organisation = current_organisation(user)
    return bool(is_provider_user(user) and organisation.pk == contract.provider_id)


def is_framework_party(user: User, framework) -> bool:
    return is_commissioner_side(user) and framework.pk in _party_ids(
        user, "frameworks", "framework_parties", "framework_id")


def is_agreement_party(user: User, agreement) -> bool:
    return is_commissioner_side(user) and agreement.pk in _party_ids(
        user, "agreements", "agreement_memberships", "agreement_id")


def may_change_contract(user: User, contract, roles) -> bool:
    """Changes to a contract (and what hangs off it): a party on the commissioning side in one
    of ``roles``, or a platform administrator."""
    return is_platform_admin(user) or (
        has_role(user, *roles) and is_contract_party(user, contract))


def changeable_contracts_q(user: User, roles, prefix: str = "") -> Q:
    """``may_change_contract`` for a queryset: the contracts the user may change."""
    if is_platform_admin(user):
        return Q()
    if not has_role(user, *roles):
        return nothing(prefix)
    return party_contracts_q(user, prefix)


def may_change_framework(user: User, framework, roles) -> bool:
    return is_platform_admin(user) or (
        has_role(user, *roles) and is_framework_party(user, framework))


def may_change_agreement(user: User, agreement, roles) -> bool:
    return is_platform_admin(user) or (
        has_role(user, *roles) and is_agreement_party(user, agreement))


def may_create_for_parties(user: User, roles) -> bool:
    """Who may add a contract, framework or agreement: someone in ``roles`` on the commissioning
    side of a partnership's organisation (which must then be one of the new thing's parties,
    checked by the service with ``check_creator_is_party``)."""
    if is_platform_admin(user):
        return True
    return is_commissioner_side(user) and has_role(user, *roles) and bool(
        partnership_ids_for_user(user))


def creator_is_party(user: User, party_ids) -> bool:
    """A user may not create what they could not then see: their organisation must be among
    the new object's parties (platform administrators excepted)."""
    if is_platform_admin(user):
        return True
    organisation = current_organisation(user)
    return organisation is not None and organisation.pk in {_org_id(p) for p in party_ids}


def works_for_any(user: User, organisation_ids) -> bool:
    """The user holds an active commissioner-side role at one of these organisations,
    whichever organisation they act for at the moment: who may be a contract's manager and
    receive its key-date alerts (a contract's parties, ``contract_party_ids``)."""
    return Membership.objects.filter(
        user=user, is_active=True, organisation__is_active=True,
        organisation_id__in=[_org_id(o) for o in organisation_ids if o is not None],
        role__in=COMMISSIONER_SIDE_ROLES,
    ).exists()


def contract_party_ids(contract, share_organisations=None) -> set[int]:
    """The contract's holder, lead commissioner and share organisations (``share_organisations``
    when the shares are not saved yet)."""
    if share_organisations is None:
        shares = _party_rows("contract_shares").filter(contract_id=contract.pk)
        share_ids = list(shares.values_list("organisation_id", flat=True)) if contract.pk else []
    else:
        share_ids = [_org_id(o) for o in share_organisations]
    return {i for i in (contract.holder_id, contract.lead_commissioner_id, *share_ids) if i}


def partnership_ids_for_user(user: User) -> frozenset[int]:
    """Partnerships the user's current organisation belongs to, once per request."""
    organisation = current_organisation(user)
    if organisation is None:
        return frozenset()
    cache = _request_cache(user, "partnerships")
    if organisation.pk not in cache:
        cache[organisation.pk] = frozenset(
            PartnershipMember.objects.filter(organisation=organisation)
            .values_list("partnership_id", flat=True))
    return cache[organisation.pk]


# --- Exempt information ----------------------------------------------------------------------
#
# Part 2 of a committee report holds exempt information (Local Government Act 1972, Schedule
# 12A: commercial terms, prices, individuals). Among the people who see the report, only those
# who write or decide on committee reports open it: commissioners, contract managers,
# partnership administrators and report officers. Read-only viewers and finance officers see
# Part 1 only.

EXEMPT_INFORMATION_ROLES = frozenset(
    {Role.COMMISSIONER, Role.CONTRACT_MANAGER, Role.PARTNERSHIP_ADMIN, Role.REPORT_OFFICER}
)


def can_open_exempt_information(user: User) -> bool:
    """Part 2 (exempt) content and exports of the committee reports the user sees."""
    return is_platform_admin(user) or (
        is_commissioner_side(user) and has_role(user, *EXEMPT_INFORMATION_ROLES))


# --- People --------------------------------------------------------------------------------

# Who may give whom a role. A role is access: whoever grants roles at an organisation can read
# everything that organisation is party to, in every partnership. So each organisation's people
# are managed from inside it, never from a partner's or a customer's side:
#
# - a partnership administrator (acting for a council or ICB) invites people to the
#   commissioning organisations of their own partnerships, with commissioner-side roles only;
# - a provider's approver invites people to that provider, with provider roles only;
# - a provider's first person is invited by a platform administrator (the service desk), who
#   may invite to any organisation;
# - nobody is given a role without accepting it: an invitation to someone who already has an
#   account waits until they sign in as that account and accept it (``commissioning.services``).
#
# Never a provider from the commissioner side: the same provider may work for several
# partnerships, and a role there would open the other partnerships' contracts, returns and
# documents to whoever receives it.

def can_manage_people(user: User) -> bool:
    return is_platform_admin(user) or _manages_commissioners(user) or _manages_provider(user)


def _manages_commissioners(user: User) -> bool:
    return is_commissioner_side(user) and has_role(user, Role.PARTNERSHIP_ADMIN)


def _manages_provider(user: User) -> bool:
    return is_provider_user(user) and has_role(user, Role.PROVIDER_APPROVER)


def can_edit_organisation(user: User, organisation: Organisation) -> bool:
    """Who keeps an organisation's identifiers, address and contact point: whoever manages
    its people (``organisations_user_can_invite_to``)."""
    return organisations_user_can_invite_to(user).filter(pk=organisation.pk).exists()


def organisations_user_can_invite_to(user: User) -> QuerySet[Organisation]:
    """The organisations the user may invite people to (see the rule above)."""
    active = Organisation.objects.filter(is_active=True)
    if is_platform_admin(user):
        return active
    if _manages_commissioners(user):
        return active.filter(kind__in=COMMISSIONING_KINDS, pk__in=partner_organisation_ids(user))
    if _manages_provider(user):
        return active.filter(pk=current_organisation(user).pk)
    return Organisation.objects.none()


def roles_user_can_grant(user: User, organisation: Organisation) -> frozenset[str]:
    """The roles the user may give at ``organisation``: none where they may not invite, the
    commissioner-side roles at a council or ICB, the provider roles at a provider."""
    if not organisations_user_can_invite_to(user).filter(pk=organisation.pk).exists():
        return frozenset()
    return COMMISSIONER_SIDE_ROLES if organisation.is_commissioner else PROVIDER_ROLES


def memberships_visible_to(user: User) -> QuerySet[Membership]:
    if is_platform_admin(user):
        return Membership.objects.all()
    if can_manage_people(user):
        return Membership.objects.filter(organisation__in=organisations_user_can_invite_to(user))
    organisation = current_organisation(user)
    if organisation is None:
        return Membership.objects.none()
    return Membership.objects.filter(organisation=organisation)

