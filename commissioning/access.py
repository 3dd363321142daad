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
    """Partnerships the user's current organisation belongs to (all, for a platform admin)."""
    if is_platform_admin(user):
        return Partnership.objects.all()
    if not is_commissioner_side(user):
        return Partnership.objects.none()
    return Partnership.objects.filter(members__organisation=current_organisation(user)).distinct()


def get_partnership_for_user(user: User, pk: int) -> Partnership:
    return get_object_or_404(partnerships_for_user(user), pk=pk)


def partner_organisation_ids(user: User) -> set[int]:
    """Organisations that share a partnership with the user's current organisation."""
    if is_platform_admin(user):
        return set(Organisation.objects.commissioners().values_list("pk", flat=True))
    if not is_commissioner_side(user):
        return set()
    return set(
        PartnershipMember.objects.filter(
            partnership__members__organisation=current_organisation(user)
        ).values_list("organisation_id", flat=True)
    )


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

