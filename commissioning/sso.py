"""Single sign-on: "Sign in with your organisation's account" (OpenID Connect).

Each organisation may be linked to its own provider (a council's Microsoft Entra ID tenant,
NHSmail) by a platform administrator (``IdentityProvider``). The flow is the authorisation
code flow with PKCE:

1. ``start``: the e-mail address's domain picks the provider; a fresh ``state``, ``nonce`` and
   PKCE verifier are kept in the session under the state (single use, ten minutes), and the
   person is sent to the provider's authorisation endpoint (Authlib builds the URL).
2. ``finish``: the callback's ``state`` must name a pending sign-in of this session (it is
   removed at once, so a replayed callback is refused); the code is exchanged with the
   verifier (Authlib's client); the ID token is checked by ``check_id_token`` with joserfc:
   signature against the provider's published keys (fetched again, at most every five minutes,
   when a token names a key not yet seen), an asymmetric algorithm the provider publishes
   (never ``none``, never a shared-secret HMAC), issuer, audience (and ``azp``), expiry,
   issued-at and nonce.
3. ``match_user``: the provider's stable subject (``sub``) once linked, else the verified
   e-mail address, finds an existing member of the provider's organisation, or accepts a
   pending invitation to that organisation. Nothing else: single sign-on never creates a role
   on its own and never reaches an account in another organisation.

The provider's discovery document and keys are cached (``SSO_METADATA_CACHE_SECONDS``).
Every refusal raises ``Refusal`` with a reason the page explains; the views log it and count
it against the same lock-out as a wrong password (``commissioning/sign_in.py``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from django.contrib.auth import login as auth_login
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django_otp import login as otp_login
from joserfc import jwt
from joserfc.errors import ClaimError, InvalidClaimError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from commissioning import services
from commissioning.middleware import SESSION_KEY as ORGANISATION_SESSION_KEY
from commissioning.models import (
    ExternalIdentity,
    IdentityProvider,
    Invitation,
    Membership,
    ProviderMultiFactor,
    User,
)
from commissioning.sign_in import normalise_email

logger = logging.getLogger(__name__)

PENDING_SESSION_KEY = "sso_pending"
SIGNED_IN_SESSION_KEY = "sso_signed_in"
END_SESSION_SESSION_KEY = "sso_end_session_url"  # offered on the sign-in page after sign-out
PENDING_SECONDS = 10 * 60
PENDING_MAX = 5  # sign-ins started in other tabs that may still come back
KEY_REFRESH_SECONDS = 5 * 60
CLOCK_LEEWAY_SECONDS = 60
# Asymmetric signatures only: 'none' is never accepted, and HMAC would mean trusting a token
# anyone holding the client secret could make.
SIGNING_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                                "ES256", "ES384", "ES512", "EdDSA"})
DEVICE_NAME = "Organisation account multi-factor"


# --- Refusals ---------------------------------------------------------------------------------

REASONS: dict[str, tuple[str, str]] = {
    # reason: (page heading, what happened and whom to ask)
    "provider_unavailable": (
        "Your organisation's sign-in service is not responding",
        "We could not reach your organisation's account service. Try again in a few minutes. "
        "If it keeps happening, contact your organisation's IT service desk."),
    "state": (
        "This sign-in has expired or was already used",
        "The answer from your organisation's account service did not match a sign-in started "
        "in this browser in the last 10 minutes. Start again."),
    "provider_error": (
        "Your organisation's account service did not sign you in",
        "Your organisation's account service stopped the sign-in or reported an error. Start "
        "again. If it keeps happening, contact your organisation's IT service desk."),
    "token": (
        "Your sign-in could not be checked",
        "The answer from your organisation's account service failed our security checks, so "
        "you have not been signed in. Start again. If it keeps happening, contact your "
        "organisation's IT service desk."),
    "other_client": (
        "This sign-in was meant for another service",
        "Your organisation's account service answered for a different application, so you "
        "have not been signed in. Contact your organisation's IT service desk."),
    "unverified_email": (
        "Your email address has not been confirmed",
        "Your organisation's account service does not confirm that your email address belongs "
        "to you, so we cannot match it to an account. Contact your organisation's IT service "
        "desk."),
    "other_domain": (
        "This account is not from your organisation",
        "The account you signed in with uses an email address your organisation has not "
        "registered for this service. Sign in with your work account, or ask your partnership "
        "administrator."),
    "unknown_user": (
        "You do not have an account",
        "No account or invitation is waiting for your email address. Ask your partnership "
        "administrator to invite you."),
    "other_organisation": (
        "Your account belongs to another organisation",
        "Your account is not a member of the organisation you signed in through. Ask your "
        "partnership administrator, or sign in through your own organisation's account."),
    "disabled_user": (
        "Your account is suspended",
        "Your account has been suspended. Ask your partnership administrator to restore it."),
    "other_subject": (
        "Your account is linked to a different organisation account",
        "Your account is already linked to another account at your organisation's account "
        "service. Ask your partnership administrator."),
}


class Refusal(Exception):
    """A sign-in refused for ``reason`` (a key of ``REASONS``)."""

    def __init__(self, reason: str, *, detail: str = "", provider: IdentityProvider | None = None,
                 email: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.provider = provider
        self.email = email

    @property
    def heading(self) -> str:
        return REASONS[self.reason][0]

    @property
    def message(self) -> str:
        return REASONS[self.reason][1]


# --- Who signs in where -----------------------------------------------------------------------

def provider_for_email(email: str) -> IdentityProvider | None:
    """The enabled provider whose allowed domains include this address's domain. A domain
    several organisations share (nhs.net for NHSmail) goes to the organisation the address
    is a member of or invited to."""
    email = normalise_email(email)
    domain = email.rpartition("@")[2]
    if not domain:
        return None
    # One row per organisation with single sign-on: a handful, read whole.
    candidates = [provider for provider in IdentityProvider.objects.filter(is_enabled=True)
                  .select_related("organisation").order_by("pk") if domain in provider.domains]
    if len(candidates) > 1:
        organisations = {p.organisation_id for p in candidates}
        known = set(Membership.objects.filter(
            user__email__iexact=email, is_active=True, organisation__in=organisations,
        ).values_list("organisation_id", flat=True)) | set(Invitation.objects.pending().filter(
            email__iexact=email, organisation__in=organisations,
        ).values_list("organisation_id", flat=True))
        candidates = [p for p in candidates if p.organisation_id in known] or candidates
    return candidates[0] if candidates else None


def sign_in_origins() -> list[str]:
    """Where the organisation sign-in form may send the browser: browsers apply the page's
    ``form-action`` policy to the redirect that follows the form, so the page lists each
    enabled provider's issuer and (once known) its authorisation endpoint. No network calls:
    the endpoint comes from the cached discovery document when there is one."""
    origins = set()
    for provider in IdentityProvider.objects.filter(is_enabled=True).only("issuer"):
        urls = [provider.issuer]
        cached = cache.get(f"sso:metadata:{_digest(provider.issuer)}")
        if isinstance(cached, dict) and isinstance(cached.get("authorization_endpoint"), str):
            urls.append(cached["authorization_endpoint"])
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme in ("https", "http") and parts.netloc:
                origins.add(f"{parts.scheme}://{parts.netloc}")
    return sorted(origins)


def password_sign_in_refused(user: User) -> bool:
    """Must this person sign in through their organisation's account? Platform administrators
    (superusers) keep the password route as a break-glass way in."""
    if user.is_superuser:
        return False
    return Membership.objects.filter(
        user=user, is_active=True, organisation__identity_provider__requires_sso=True,
        organisation__identity_provider__is_enabled=True).exists()


def password_allowed_for(provider: IdentityProvider | None) -> bool:
    return provider is None or not provider.requires_sso


# --- The provider's published documents ------------------------------------------------

def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _get_json(url: str) -> dict:
    try:
        response = requests.get(url, timeout=settings.SSO_HTTP_TIMEOUT,
                                headers={"Accept": "application/json"})
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as error:
        raise Refusal("provider_unavailable", detail=f"{url}: {error}") from error
    if not isinstance(data, dict):
        raise Refusal("provider_unavailable", detail=f"{url}: not a JSON object")
    return data


def metadata(provider: IdentityProvider) -> dict:
    """The provider's discovery document, cached; its issuer must be the configured one."""
    key = f"sso:metadata:{_digest(provider.issuer)}"
    data = cache.get(key)
    if data is None:
        data = _get_json(provider.issuer.rstrip("/") + "/.well-known/openid-configuration")
        if data.get("issuer") != provider.issuer:
            raise Refusal("provider_unavailable", provider=provider,
                          detail=f"discovery issuer {data.get('issuer')!r} is not "
                          f"{provider.issuer!r}")
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(data.get(name), str):
                raise Refusal("provider_unavailable", provider=provider,
                              detail=f"discovery document has no {name}")
        cache.set(key, data, settings.SSO_METADATA_CACHE_SECONDS)
    return data


def _key_set(meta: dict, *, refresh: bool = False) -> KeySet:
    key = f"sso:jwks:{_digest(meta['jwks_uri'])}"
    data = None if refresh else cache.get(key)
    if data is None:
        data = _get_json(meta["jwks_uri"])
        cache.set(key, data, settings.SSO_METADATA_CACHE_SECONDS)
    try:
        return KeySet.import_key_set(data)
    except (JoseError, ValueError, KeyError, TypeError) as error:
        raise Refusal("provider_unavailable", detail=f"unreadable keys: {error}") from error


def _may_refresh_keys(meta: dict) -> bool:
    # A token naming an unknown key may mean the provider rotated its keys, or a forgery:
    # look again, but at most once per few minutes, so forgeries cannot make us hammer it.
    return cache.add(f"sso:jwks-refresh:{_digest(meta['jwks_uri'])}", 1, KEY_REFRESH_SECONDS)


def _client_secret(provider: IdentityProvider) -> str:
    secret = os.environ.get(provider.client_secret_env, "")
    if not secret:
        logger.error("Single sign-on for %s: environment variable %s is not set",
                     provider.organisation, provider.client_secret_env)
        raise Refusal("provider_unavailable", provider=provider,
                      detail=f"{provider.client_secret_env} not set")
    return secret


def callback_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("sso_callback"))


def _client(provider: IdentityProvider, request: HttpRequest) -> OAuth2Session:
    return OAuth2Session(
        client_id=provider.client_id, client_secret=_client_secret(provider),
        scope=provider.scopes, redirect_uri=callback_url(request),
        code_challenge_method="S256", token_endpoint_auth_method="client_secret_basic")


# --- The flow ------------------------------------------------------------------------------

def start(request: HttpRequest, provider: IdentityProvider, *, email: str,
          next_url: str = "") -> str:
    """Remember a new sign-in in the session and return the provider's authorisation URL."""
    meta = metadata(provider)
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    url, _ = _client(provider, request).create_authorization_url(
        meta["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier,
        login_hint=email)
    now = time.time()
    pending = {key: value for key, value in (request.session.get(PENDING_SESSION_KEY) or {}).items()
               if now - value["at"] < PENDING_SECONDS}
    for old in sorted(pending, key=lambda k: pending[k]["at"])[:max(0, len(pending) -
                                                                      PENDING_MAX + 1)]:
        del pending[old]
    pending[state] = {"provider": provider.pk, "nonce": nonce, "verifier": verifier,
                      "email": normalise_email(email), "next": next_url, "at": now}
    request.session[PENDING_SESSION_KEY] = pending
    return url


def check_id_token(id_token: str, *, provider: IdentityProvider, nonce: str,
                   now: int | None = None) -> dict:
    """The claims of an ID token from ``provider`` for the sign-in that sent ``nonce``, or
    ``Refusal``. ``now`` (seconds since the epoch) is for checking expiry at another time."""
    meta = metadata(provider)
    try:
        header = extract_compact(id_token.encode()).protected
    except (JoseError, ValueError, UnicodeError, TypeError) as error:
        raise Refusal("token", provider=provider, detail=f"unreadable: {error}") from error
    algorithm = header.get("alg")
    published = meta.get("id_token_signing_alg_values_supported") or ["RS256"]
    if algorithm not in SIGNING_ALGORITHMS or algorithm not in published:
        raise Refusal("token", provider=provider, detail=f"algorithm {algorithm!r} refused")
    keys = _key_set(meta)
    kid = header.get("kid")
    if kid is not None and all(key.kid != kid for key in keys.keys) and _may_refresh_keys(meta):
        keys = _key_set(meta, refresh=True)
    try:
        claims = jwt.decode(id_token, keys, algorithms=[algorithm]).claims
    except (JoseError, ValueError, TypeError) as error:
        raise Refusal("token", provider=provider, detail=f"signature: {error}") from error
    registry = jwt.JWTClaimsRegistry(
        now=now, leeway=CLOCK_LEEWAY_SECONDS,
        iss={"essential": True, "value": provider.issuer},
        aud={"essential": True, "value": provider.client_id},
        sub={"essential": True}, exp={"essential": True}, iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except InvalidClaimError as error:
        reason = "other_client" if error.claim == "aud" else "token"
        raise Refusal(reason, provider=provider, detail=str(error)) from error
    except (ClaimError, TypeError, ValueError) as error:
        raise Refusal("token", provider=provider, detail=str(error)) from error
    audience = claims["aud"]
    if ((isinstance(audience, list) and len(audience) > 1) or "azp" in claims) \
            and claims.get("azp") != provider.client_id:
        raise Refusal("other_client", provider=provider, detail=f"azp {claims.get('azp')!r}")
    return claims


def performed_mfa(provider: IdentityProvider, claims: dict) -> bool:
    """Did the provider say it used more than one factor (amr 'mfa', or a configured acr)?"""
    amr = claims.get("amr") or []
    if isinstance(amr, str):
        amr = [amr]
    if "mfa" in amr:
        return True
    acr = claims.get("acr")
    return isinstance(acr, str) and acr in provider.mfa_acr_values.split()


def _verified_email(claims: dict) -> str:
    # email_verified is the standard claim; Microsoft Entra ID instead sends xms_edov (the
    # email's domain is verified by the tenant's owner) when configured as an optional claim.
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        return ""
    if claims.get("email_verified") is True or claims.get("xms_edov") in (True, "1", "true"):
        return normalise_email(email)
    return ""


@transaction.atomic
def match_user(provider: IdentityProvider, claims: dict) -> User:
    """The account these checked claims sign in to, linking ``sub`` on first use."""
    subject = str(claims["sub"])
    email = _verified_email(claims)
    if not email:
        raise Refusal("unverified_email", provider=provider, email=str(claims.get("email", "")))
    if email.rpartition("@")[2] not in provider.domains:
        raise Refusal("other_domain", provider=provider, email=email)
    organisation = provider.organisation
    identity = (ExternalIdentity.objects.select_for_update().select_related("user")
                .filter(provider=provider, subject=subject).first())
    user = identity.user if identity else User.objects.filter(email__iexact=email).first()
    if user is None:
        invitation = (Invitation.objects.pending()
                      .filter(email__iexact=email, organisation=organisation,
                              expires_at__gt=timezone.now())
                      .order_by("-created_at").first())
        if invitation is None:
            raise Refusal("unknown_user", provider=provider, email=email)
        try:
            user = services.invitation_accept_through_provider(invitation=invitation)
        except services.InvitationError as error:
            raise Refusal("unknown_user", provider=provider, email=email,
                          detail=str(error)) from error
    if not user.is_active:
        raise Refusal("disabled_user", provider=provider, email=email)
    if not Membership.objects.filter(user=user, organisation=organisation,
                                     is_active=True).exists():
        raise Refusal("other_organisation", provider=provider, email=email)
    now = timezone.now()
    if identity is None:
        if ExternalIdentity.objects.filter(provider=provider, user=user).exists():
            raise Refusal("other_subject", provider=provider, email=email)
        identity = ExternalIdentity.objects.create(user=user, provider=provider,
                                                   subject=subject, linked_at=now)
    identity.last_sign_in_at = now
    identity.save(update_fields=["last_sign_in_at"])
    return user


@dataclass(frozen=True)
class SignedIn:
    user: User
    provider: IdentityProvider
    multi_factor: bool
    id_token: str
    next_url: str


def finish(request: HttpRequest) -> SignedIn:
    """Check the provider's answer on the callback and find the account; ``Refusal`` if not."""
    params = request.GET
    state = params.get("state", "")
    pending = dict(request.session.get(PENDING_SESSION_KEY) or {})
    entry = pending.pop(state, None) if state else None
    request.session[PENDING_SESSION_KEY] = pending  # used once, whatever happens next
    if entry is None or time.time() - entry["at"] > PENDING_SECONDS:
        raise Refusal("state", detail="no pending sign-in for this state")
    provider = (IdentityProvider.objects.select_related("organisation")
                .filter(pk=entry["provider"], is_enabled=True).first())
    if provider is None:
        raise Refusal("state", detail="provider no longer enabled")
    email = entry["email"]
    if params.get("error"):
        raise Refusal("provider_error", provider=provider, email=email,
                      detail=f"{params.get('error')}: {params.get('error_description', '')}")
    # RFC 9207: a provider that names itself must be the one this sign-in went to.
    if "iss" in params and params["iss"] != provider.issuer:
        raise Refusal("token", provider=provider, email=email, detail="iss parameter")
    code = params.get("code")
    if not code:
        raise Refusal("provider_error", provider=provider, email=email, detail="no code")
    meta = metadata(provider)
    try:
        token = _client(provider, request).fetch_token(
            meta["token_endpoint"], code=code, code_verifier=entry["verifier"],
            timeout=settings.SSO_HTTP_TIMEOUT)
    except requests.RequestException as error:
        raise Refusal("provider_unavailable", provider=provider, email=email,
                      detail=str(error)) from error
    except (AuthlibBaseError, ValueError) as error:
        raise Refusal("provider_error", provider=provider, email=email,
                      detail=f"token endpoint: {error}") from error
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise Refusal("token", provider=provider, email=email, detail="no ID token")
    try:
        claims = check_id_token(id_token, provider=provider, nonce=entry["nonce"])
        user = match_user(provider, claims)
    except Refusal as refusal:
        refusal.email = refusal.email or email
        raise
    return SignedIn(user=user, provider=provider, multi_factor=performed_mfa(provider, claims),
                    id_token=id_token, next_url=entry.get("next") or "")


def sign_in(request: HttpRequest, signed_in: SignedIn) -> None:
    """Start the session; a provider's multi-factor sign-in verifies it as a second factor."""
    request.sso_provider = signed_in.provider  # read by the sign-in log (sign_in_log.py)
    auth_login(request, signed_in.user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[SIGNED_IN_SESSION_KEY] = {"provider": signed_in.provider.pk,
                                              "id_token": signed_in.id_token}
    request.session[ORGANISATION_SESSION_KEY] = signed_in.provider.organisation_id
    if signed_in.multi_factor:
        device, _ = ProviderMultiFactor.objects.get_or_create(
            user=signed_in.user, defaults={"name": DEVICE_NAME, "confirmed": True})
        otp_login(request, device)


def end_session_url(request: HttpRequest) -> str | None:
    """Where to end the session at the provider too (RP-initiated logout), for a person who
    signed in through it; None otherwise or when the provider cannot be reached."""
    signed_in = request.session.get(SIGNED_IN_SESSION_KEY)
    if not signed_in:
        return None
    provider = IdentityProvider.objects.filter(pk=signed_in.get("provider")).first()
    if provider is None:
        return None
    try:
        endpoint = metadata(provider).get("end_session_endpoint")
    except Refusal:
        return None
    if not isinstance(endpoint, str) or urlsplit(endpoint).scheme not in ("https", "http"):
        return None
    query = urlencode({"id_token_hint": signed_in.get("id_token", ""),
                       "client_id": provider.client_id,
                       "post_logout_redirect_uri": request.build_absolute_uri(reverse("login"))})
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
