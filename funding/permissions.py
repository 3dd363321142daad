"""What a user may do with funding they can see.

Seeing an agreement is decided by ``Section75Agreement.objects.for_user``; these functions
decide what a user may change. Each assumes the caller has already found the agreement through
``for_user`` (so a user whose organisation is not a partner never reaches them with it);
each also checks the partner rule itself (``commissioning.access``).
"""

from __future__ import annotations

from commissioning import access
from commissioning.models import Role
from funding.models import Section75Agreement

SETUP_ROLES = (Role.COMMISSIONER, Role.PARTNERSHIP_ADMIN)
BUDGET_ROLES = (Role.COMMISSIONER, Role.FINANCE_OFFICER)
CONTRACT_LINK_ROLES = (Role.COMMISSIONER, Role.CONTRACT_MANAGER, Role.FINANCE_OFFICER)


def can_create_agreement(user) -> bool:
    """Commissioners and partnership administrators of a partnership's organisations."""
    return access.may_create_for_parties(user, SETUP_ROLES)


def can_edit_agreement(user, agreement: Section75Agreement) -> bool:
    """Change the agreement's terms, partners and schemes."""
    return access.may_change_agreement(user, agreement, SETUP_ROLES)


def can_edit_budgets(user, agreement: Section75Agreement) -> bool:
    """Budgets, contributions, top-slices, actuals and forecasts: finance officers and
    commissioners of the partners."""
    return access.may_change_agreement(user, agreement, BUDGET_ROLES)


def can_link_contracts(user, agreement: Section75Agreement) -> bool:
    return access.may_change_agreement(user, agreement, CONTRACT_LINK_ROLES)


def can_close_months(user, agreement: Section75Agreement) -> bool:
    """Only finance officers of the partners close and reopen months, and close the year."""
    return access.has_role(user, Role.FINANCE_OFFICER) and access.is_agreement_party(
        user, agreement)


def can_close_year(user, agreement: Section75Agreement) -> bool:
    return can_close_months(user, agreement)
