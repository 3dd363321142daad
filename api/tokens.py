"""Creating, checking and revoking personal access tokens and calendar feed links.

A secret is ``jc_`` (API token) or ``jcal_`` (calendar feed) followed by 43 URL-safe random
characters (256 bits). Only its SHA-256 hash is stored. ``check_secret`` is the one place that
decides whether a presented secret may act, and for whom: it must exist, not be revoked or
expired, its owner must be active and still hold an active role at the organisation it was
created for, and that organisation must not have turned API access off.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone

from commissioning import access
from commissioning.models import User

from .models import ApiToken, CalendarFeed, Secret

TOKEN_PREFIX = "jc_"
FEED_PREFIX = "jcal_"
SECRET_BYTES = 32
# The last-used time is written at most this often per secret (one UPDATE, not one per call).
LAST_USED_RESOLUTION = timedelta(minutes=1)


class SecretRefused(Exception):
    """A presented secret may not act. ``status`` is 401 (who are you?) or 403 (turned off)."""

    def __init__(self, message: str, *, status: int = 401, code: str = "token_invalid"):
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _new_secret(prefix: str) -> tuple[str, str]:
    raw = prefix + secrets.token_urlsafe(SECRET_BYTES)
    return raw, hash_secret(raw)


def acting_organisation(user: User):
    """The organisation the user acts for now (the one a new secret will act for)."""
    return access.current_organisation(user)


@dataclass(frozen=True)
class Created:
    token: ApiToken | CalendarFeed
    secret: str  # shown once, never stored


def token_create(*, user: User, name: str, days: int) -> Created:
    """A new API token for ``user`` acting for their current organisation, valid ``days``
    days (1 to ``API_TOKEN_MAX_DAYS``)."""
    if not 1 <= days <= settings.API_TOKEN_MAX_DAYS:
        raise ValueError(f"days must be 1 to {settings.API_TOKEN_MAX_DAYS}")
    raw, digest = _new_secret(TOKEN_PREFIX)
    token = ApiToken.objects.create(
        user=user, organisation=acting_organisation(user), name=name.strip(),
        token_hash=digest, prefix=raw[:len(TOKEN_PREFIX) + 5],
        expires_at=timezone.now() + timedelta(days=days))
    return Created(token, raw)


def tokens_of(user: User):
    """The user's own tokens, live and past (the account page's list)."""
    return ApiToken.objects.filter(user=user).select_related("organisation")


def get_own_token(user: User, pk: int) -> ApiToken:
    """One of the user's own tokens; anyone else's is a 404."""
    return get_object_or_404(tokens_of(user), pk=pk)


def token_revoke(*, token: ApiToken) -> None:
    """Revoke a token (idempotent): it is refused from the next request on."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now())


@transaction.atomic
def feed_create(*, user: User) -> Created:
    """A new calendar feed link for the user; any earlier link of theirs stops working."""
    CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now())
    raw, digest = _new_secret(FEED_PREFIX)
    feed = CalendarFeed.objects.create(user=user, organisation=acting_organisation(user),
                                       token_hash=digest)
    return Created(feed, raw)


def live_feed(user: User) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).first()


def feed_revoke(*, user: User) -> int:
    """Turn off the user's calendar feed link (idempotent)."""
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now())


def check_secret(model: type[Secret], raw: str) -> Secret:
    """The secret's row with its user acting for the secret's organisation, or
    ``SecretRefused`` saying why. The user's roles are read now, so a role removed since the
    secret was created takes its data away at once."""
    expected = TOKEN_PREFIX if model is ApiToken else FEED_PREFIX
    if not raw.startswith(expected) or len(raw) > 100:
        raise SecretRefused("The token is not a token this service issued.",
                            code="token_malformed")
    row = model.objects.select_related("user", "organisation").filter(
        token_hash=hash_secret(raw)).first()
    if row is None:
        raise SecretRefused("The token is not recognised.")
    if row.is_revoked:
        raise SecretRefused("The token has been revoked.", code="token_revoked")
    if isinstance(row, ApiToken) and row.is_expired:
        raise SecretRefused("The token has expired. Create a new one on Your account.",
                            code="token_expired")
    user = row.user
    if not user.is_active:
        raise SecretRefused("The token is not recognised.")
    organisation = row.organisation
    if organisation is None:
        if not access.is_platform_admin(user):
            raise SecretRefused("The token's owner no longer has access.",
                                code="token_no_access")
        user.current_organisation = None
    else:
        if not organisation.api_access_enabled:
            raise SecretRefused(f"{organisation.name} has turned API access off.",
                                status=403, code="api_access_off")
        acting = access.set_current_organisation(user, organisation.pk)
        if acting is None or acting.pk != organisation.pk:
            raise SecretRefused(f"The token's owner no longer has a role at "
                                f"{organisation.name}.", code="token_no_access")
    now = timezone.now()
    if row.last_used_at is None or row.last_used_at < now - LAST_USED_RESOLUTION:
        model.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now
    return row


def organisation_api_access_set(*, organisation, enabled: bool) -> None:
    """Turn an organisation's API access on or off (recorded in its history). Off refuses its
    people's tokens and calendar links from the next request (``check_secret``)."""
    if organisation.api_access_enabled != enabled:
        organisation.api_access_enabled = enabled
        organisation.save(update_fields=["api_access_enabled"])
