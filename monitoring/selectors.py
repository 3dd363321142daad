"""Reads for the dashboard and performance pages."""

from __future__ import annotations

from dataclasses import dataclass, field

from commissioning import access
from commissioning.models import Invitation, User


@dataclass
class Dashboard:
    """What the signed-in user must act on. Each later feature adds its own section."""

    partnerships: list = field(default_factory=list)
    pending_invitations: list = field(default_factory=list)
    expired_invitations: int = 0


def dashboard_for_user(*, user: User) -> Dashboard:
    dashboard = Dashboard()
    dashboard.partnerships = list(
        access.partnerships_for_user(user).prefetch_related("members__organisation")
    )
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
