"""What a user may do with monitoring objects they can see. Seeing is decided by the
``for_user`` querysets (``Contract.objects.for_user``); a user who may see a contract but not
act on it gets a 404 from the action's view, like one who may not see it at all."""

from __future__ import annotations

from commissioning import access
from commissioning.models import PartnershipMember, Role
from contracts.models import Contract
from monitoring.models import Evidence

REVIEW_ROLES = (Role.COMMISSIONER, Role.CONTRACT_MANAGER, Role.PARTNERSHIP_ADMIN)


def _in_partnership(user, contract: Contract) -> bool:
    organisation = access.current_organisation(user)
    if organisation is None:
        return False
    cache = getattr(user, "_monitoring_partnership_ids", None)
    if cache is None or cache[0] != organisation.pk:
        cache = (organisation.pk, frozenset(PartnershipMember.objects.filter(
            organisation=organisation).values_list("partnership_id", flat=True)))
        user._monitoring_partnership_ids = cache
    return contract.partnership_id in cache[1]


def can_submit_return(user, contract: Contract) -> bool:
    """A submitter or approver acting for the contract's provider; nobody else."""
    organisation = access.current_organisation(user)
    return bool(
        access.is_provider_user(user)
        and organisation is not None
        and contract.provider_id == organisation.pk
    )


def can_review_return(user, contract: Contract) -> bool:
    """Commissioners, contract managers and partnership administrators of a partner."""
    if access.is_platform_admin(user):
        return True
    return (access.is_commissioner_side(user) and access.has_role(user, *REVIEW_ROLES)
            and _in_partnership(user, contract))


def can_manage_kpis(user, contract: Contract) -> bool:
    return can_review_return(user, contract)


def can_view_performance(user) -> bool:
    """Commissioner-side users (any role) and platform administrators."""
    return access.is_commissioner_side(user) or access.is_platform_admin(user)


def can_download_evidence(user, evidence: Evidence) -> bool:
    contract = evidence.performance_return.contract
    return can_submit_return(user, contract) or (
        can_view_performance(user) and (access.is_platform_admin(user)
                                        or _in_partnership(user, contract))
    )


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
