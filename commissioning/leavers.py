"""Leavers: people who should sign in through their organisation's account and have stopped.

Kept apart from ``commissioning/sso.py`` (the sign-in flow), which needs the invitation
services: the daily task imports only this.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from commissioning.models import ExternalIdentity, IdentityProvider, Membership, User

logger = logging.getLogger(__name__)


@transaction.atomic
def suspend_dormant_accounts(*, now=None) -> int:
    """Suspend people who should sign in through their organisation's provider and have not
    for ``SSO_SUSPEND_AFTER_DAYS``: a leaver whose organisation account was closed stops
    getting in here too, without anyone remembering to remove them.

    Who counts: members of an organisation that requires single sign-on, and anyone who has
    signed in through a provider at least once (their organisation uses it for them). Their
    membership of that organisation is ended; an account left with no active membership is
    suspended. Platform administrators (the break-glass route) are left alone. The clock
    starts at the last provider sign-in, or when the provider or membership was set up.
    Safe to run twice: it only acts on what is still active. Returns memberships ended.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.SSO_SUSPEND_AFTER_DAYS)
    ended = 0
    for provider in IdentityProvider.objects.filter(is_enabled=True):
        last = dict(ExternalIdentity.objects.filter(provider=provider)
                    .values_list("user_id").annotate(Max("last_sign_in_at")))
        memberships = (Membership.objects.filter(organisation_id=provider.organisation_id,
                                                 is_active=True, user__is_active=True,
                                                 user__is_superuser=False)
                       .filter(Q(user_id__in=list(last)) if not provider.requires_sso
                               else Q()))
        stale_ids = []
        for membership in memberships.only("pk", "user_id", "created_at"):
            started = last.get(membership.user_id) or max(provider.created_at,
                                                          membership.created_at)
            if started < cutoff:
                stale_ids.append(membership.pk)
        if not stale_ids:
            continue
        user_ids = set(Membership.objects.filter(pk__in=stale_ids).values_list("user_id",
                                                                              flat=True))
        ended += Membership.objects.filter(pk__in=stale_ids).update(is_active=False)
        for user in User.objects.filter(pk__in=user_ids):
            if not Membership.objects.filter(user=user, is_active=True).exists():
                user.is_active = False
                user.save(update_fields=["is_active"])  # history records the suspension
        logger.info("Single sign-on: %s memberships at %s ended after %s days without a "
                    "provider sign-in", len(stale_ids), provider.organisation,
                    settings.SSO_SUSPEND_AFTER_DAYS)
    return ended
