"""The dashboard: what the signed-in user must act on, gathered from every app's selectors."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone

from commissioning import access, datacache
from commissioning.models import Invitation, User
from contracts.models import Contract
from contracts.notices import DueNotice, outstanding_page
from contracts.permissions import can_create_contract
from contracts.selectors import DueAlert, key_date_alerts_page
from monitoring.selectors import inbox_for_user, provider_task_list


@dataclass
class Dashboard:
    """What the signed-in user must act on. Each later feature adds its own section."""

    partnerships: list = field(default_factory=list)
    pending_invitations: list = field(default_factory=list)
    expired_invitations: int = 0
    show_contracts: bool = False
    can_add_contracts: bool = False
    contract_alerts: list[DueAlert] = field(default_factory=list)  # the soonest, up to 20
    contract_alerts_count: int = 0  # all of them (the key dates list shows every one)
    my_contract_alerts: int = 0  # all of them on contracts the user manages
    returns_to_review: int = 0
    provider_returns: list = field(default_factory=list)
    notices_due: list[DueNotice] = field(default_factory=list)  # the soonest, up to 20
    notices_due_count: int = 0  # all of them (the notices list shows every one)


DASHBOARD_ALERTS_SHOWN = 20
DASHBOARD_NOTICES_SHOWN = 20


def shows_contracts(user: User) -> bool:
    """Whether the user's dashboard has the contract sections (key dates, notices due), and
    so may open the lists behind them."""
    return access.is_platform_admin(user) or access.is_commissioner_side(user)


def dashboard_for_user(*, user: User) -> Dashboard:
    """What the user must act on. The parts worked out from many rows (partnerships, key
    dates, notices, returns to review) are remembered until the data changes
    (commissioning.datacache), for the user (the key dates count the ones the user manages);
    invitations (they expire by the minute) and a provider's own returns are read afresh."""
    dashboard = Dashboard()
    (dashboard.partnerships, alerts, (dashboard.notices_due, dashboard.notices_due_count),
     dashboard.returns_to_review) = datacache.remember(
        "monitoring.dashboard", user, (user.pk,), lambda: _worked_out(user))
    if shows_contracts(user):
        # Contracts ending (18/12/6/3 months), standstill ends, reviews, extension decisions.
        dashboard.show_contracts = True
        dashboard.can_add_contracts = can_create_contract(user)
        dashboard.contract_alerts = alerts.alerts
        dashboard.contract_alerts_count = alerts.count
        dashboard.my_contract_alerts = alerts.managed
    if access.is_provider_user(user):
        dashboard.provider_returns = [
            item for item in provider_task_list(user=user)
            if item.status in ("overdue", "queried", "pending", "draft")
        ]
    if access.can_manage_people(user):
        invitations = Invitation.objects.pending().filter(
            organisation__in=access.organisations_user_can_invite_to(user)
        ).select_related("organisation")
        live, expired = [], 0
        for invitation in invitations:
            if invitation.is_expired:
                expired += 1
            else:
                live.append(invitation)
        dashboard.pending_invitations = live
        dashboard.expired_invitations = expired
    return dashboard


def _worked_out(user: User) -> tuple:
    """The dashboard's parts read from many rows: partnerships, key dates, notices due and
    returns to review."""
    partnerships = list(
        access.partnerships_for_user(user).prefetch_related("members__organisation"))
    alerts, notices = None, ([], 0)
    if shows_contracts(user):
        # The soonest and how many, worked out in the database (contracts.selectors).
        alerts = key_date_alerts_page(Contract.objects.for_user(user),
                                      today=timezone.localdate(),
                                      limit=DASHBOARD_ALERTS_SHOWN, manager_id=user.pk)
        # Procurement Act and PSR notices not yet recorded as published (contracts.notices):
        # the soonest and how many, worked out in the database, not contract by contract.
        notices = outstanding_page(Contract.objects.for_user(user),
                                   limit=DASHBOARD_NOTICES_SHOWN)
    returns = inbox_for_user(user=user).count() if access.is_commissioner_side(user) else 0
    return partnerships, alerts, notices, returns
