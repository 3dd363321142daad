"""The sign-in log: every sign-in and every refused one, by password or through an
organisation's account (``SignInEvent``: when, who, method, provider, outcome, network).

Password sign-ins reach it through Django's ``user_logged_in`` / ``user_login_failed`` signals
(the ones django-axes counts for the lock-out); single sign-on records its own refusals, with
the reason, and sends ``user_login_failed`` under ``SSO_SENDER`` so that they count towards the
same lock-out (``commissioning/sign_in.py``) without being logged twice.
"""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.http import HttpRequest

from commissioning.models import IdentityProvider, SignInEvent, SignInMethod, User
from commissioning.sign_in import axes_username, client_ip

SSO_SENDER = "commissioning.sso"


def record(request: HttpRequest | None, *, method: str, succeeded: bool, outcome: str,
           email: str = "", user: User | None = None,
           provider: IdentityProvider | None = None) -> SignInEvent:
    return SignInEvent.objects.create(
        method=method, succeeded=succeeded, outcome=outcome[:60], email=email[:255],
        user=user, provider=provider,
        ip_address=client_ip(request) if request is not None else None)


def count_failure(request: HttpRequest, *, email: str) -> None:
    """Count a refused single sign-on against the lock-out, as a wrong password is."""
    user_login_failed.send(sender=SSO_SENDER, credentials={"username": email},
                           request=request)


def _signed_in(sender, request, user, **kwargs) -> None:
    provider = getattr(request, "sso_provider", None)
    record(request, method=SignInMethod.SSO if provider else SignInMethod.PASSWORD,
           succeeded=True, outcome="signed in", email=user.email, user=user, provider=provider)


def _refused(sender, credentials, request=None, **kwargs) -> None:
    if sender == SSO_SENDER or request is None:
        return  # single sign-on wrote its own entry, with the reason
    record(request, method=SignInMethod.PASSWORD, succeeded=False,
           outcome="wrong email address or password",
           email=axes_username(request, credentials))


def connect() -> None:
    user_logged_in.connect(_signed_in, dispatch_uid="commissioning.sign_in_log.signed_in")
    user_login_failed.connect(_refused, dispatch_uid="commissioning.sign_in_log.refused")
