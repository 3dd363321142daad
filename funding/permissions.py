"""What a user may do with funding they can see.

Seeing an agreement is decided by ``Section75Agreement.objects.for_user``; these functions
decide what a user may change. Each assumes the caller has already found the agreement through
``for_user`` (so a user outside the partnership never reaches them with it).
"""

from __future__ import annotations

from commissioning import access
from commissioning.models import PartnershipMember, Role
from funding.models import Section75Agreement

SETUP_ROLES = (Role.COMMISSIONER, Role.PARTNERSHIP_ADMIN)
BUDGET_ROLES = (Role.COMMISSIONER, Role.FINANCE_OFFICER)
CONTRACT_LINK_ROLES = (Role.COMMISSIONER, Role.CONTRACT_MANAGER, Role.FINANCE_OFFICER)


def _in_partnership(user, agreement: Section75Agreement) -> bool:
    organisation = access.current_organisation(user)
    if organisation is None or not access.is_commissioner_side(user):
        return False
    cache = getattr(user, "_funding_partnership_ids", None)
    if cache is None or cache[0] != organisation.pk:
        ids = frozenset(PartnershipMember.objects.filter(organisation=organisation)
                        .values_list("partnership_id", flat=True))
        cache = (organisation.pk, ids)
        user._funding_partnership_ids = cache
    return agreement.partnership_id in cache[1]


def can_create_agreement(user) -> bool:
    """Commissioners and partnership administrators of a partnership's organisations."""
    if access.is_platform_admin(user):
        return True
    return access.is_commissioner_side(user) and access.has_role(user, *SETUP_ROLES) and \
        access.partnerships_for_user(user).exists()


def can_edit_agreement(user, agreement: Section75Agreement) -> bool:
    """Change the agreement's terms, partners and schemes."""
    if access.is_platform_admin(user):
        return True
    return access.has_role(user, *SETUP_ROLES) and _in_partnership(user, agreement)


def can_edit_budgets(user, agreement: Section75Agreement) -> bool:
    """Budgets, contributions, top-slices, actuals and forecasts: finance officers and
    commissioners of the partners."""
    if access.is_platform_admin(user):
        return True
    return access.has_role(user, *BUDGET_ROLES) and _in_partnership(user, agreement)


def can_link_contracts(user, agreement: Section75Agreement) -> bool:
    if access.is_platform_admin(user):
        return True
    return access.has_role(user, *CONTRACT_LINK_ROLES) and _in_partnership(user, agreement)


def can_close_months(user, agreement: Section75Agreement) -> bool:
    """Only finance officers of the partners close and reopen months, and close the year."""
    return access.has_role(user, Role.FINANCE_OFFICER) and _in_partnership(user, agreement)


def can_close_year(user, agreement: Section75Agreement) -> bool:
    return can_close_months(user, agreement)
