"""What a user may do with monitoring objects they can see. Seeing is decided by the
``for_user`` querysets (``Contract.objects.for_user``); a user who may see a contract but not
act on it gets a 404 from the action's view, like one who may not see it at all."""

from __future__ import annotations

from commissioning import access
from commissioning.models import Role
from contracts.models import Contract
from monitoring.models import Evidence

REVIEW_ROLES = (Role.COMMISSIONER, Role.CONTRACT_MANAGER, Role.PARTNERSHIP_ADMIN)


def can_submit_return(user, contract: Contract) -> bool:
    """A submitter or approver acting for the contract's provider; nobody else."""
    return access.is_contract_provider(user, contract)


def can_review_return(user, contract: Contract) -> bool:
    """Commissioners, contract managers and partnership administrators of one of the
    contract's parties."""
    return access.may_change_contract(user, contract, REVIEW_ROLES)


def can_manage_kpis(user, contract: Contract) -> bool:
    return can_review_return(user, contract)


def can_view_performance(user) -> bool:
    """Commissioner-side users (any role) and platform administrators."""
    return access.is_commissioner_side(user) or access.is_platform_admin(user)


def can_download_evidence(user, evidence: Evidence) -> bool:
    contract = evidence.performance_return.contract
    return (access.is_platform_admin(user) or can_submit_return(user, contract)
            or access.is_contract_party(user, contract))


# --- Reports -------------------------------------------------------------------------------

REPORT_ROLES = (Role.REPORT_OFFICER, Role.COMMISSIONER, Role.CONTRACT_MANAGER,
                Role.FINANCE_OFFICER, Role.PARTNERSHIP_ADMIN)
COMMITTEE_REPORT_ROLES = (Role.REPORT_OFFICER, Role.COMMISSIONER, Role.CONTRACT_MANAGER,
                          Role.PARTNERSHIP_ADMIN)


def can_request_monthly_report(user) -> bool:
    """Officers of a partner (not read-only users) ask for a month's report; every member
    of the partnership can read and download the reports."""
    return access.is_platform_admin(user) or (
        access.is_commissioner_side(user) and access.has_role(user, *REPORT_ROLES))


def can_write_committee_report(user) -> bool:
    return access.is_platform_admin(user) or (
        access.is_commissioner_side(user) and access.has_role(user, *COMMITTEE_REPORT_ROLES))
