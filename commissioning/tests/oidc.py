"""The real OpenID provider the test command starts (scripts/oidc-provider/provider.mjs, on
the address in TEST_OIDC_ISSUER), and how a person signs in at it: its own login page, driven
over HTTP as a browser would."""

from __future__ import annotations

import os
import re
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from django.test import Client

from commissioning.models import IdentityProvider, Organisation

SECRETS = {"council-a": "council-a-secret", "icb-b": "icb-b-secret"}
PASSWORDS = {"alice": "alice-password", "bob": "bob-password", "ada": "ada-password",
             "una": "una-password", "olly": "olly-password", "nia": "nia-password",
             "cara": "cara-password"}
EMAILS = {"alice": "alice@council-a.test", "bob": "bob@council-a.test",
          "ada": "ada@council-a.test", "una": "una@council-a.test",
          "olly": "olly@elsewhere.test", "nia": "nia@council-a.test", "cara": "cara@icb-b.test"}
ACR_MFA = "urn:test:mfa"


def issuer() -> str:
    value = os.environ.get("TEST_OIDC_ISSUER")
    if not value:
        pytest.fail("TEST_OIDC_ISSUER is not set: run the tests through "
                    "scripts/with-test-services.sh, which starts the test OpenID provider")
    return value


def link_provider(organisation: Organisation, *, client_id: str = "council-a",
                  domains: str = "council-a.test", requires_sso: bool = False,
                  issuer_url: str | None = None) -> IdentityProvider:
    """Link an organisation to the test provider, as a platform administrator would."""
    env_name = "SSO_TEST_" + client_id.upper().replace("-", "_") + "_SECRET"
    os.environ[env_name] = SECRETS.get(client_id, "unknown-client-secret")
    return IdentityProvider.objects.create(
        organisation=organisation, name=f"{organisation.display_name} account",
        issuer=issuer_url or issuer(), client_id=client_id, client_secret_env=env_name,
        allowed_domains=domains, mfa_acr_values=ACR_MFA, requires_sso=requires_sso)


def log_in_at_provider(authorization_url: str, login: str, password: str | None = None) -> str:
    """Open the authorisation URL, fill in the provider's login page and return the address
    the provider sends the browser back to (the service's callback, with code and state)."""
    session = requests.Session()
    page = session.get(authorization_url, timeout=10)
    assert page.status_code == 200, page.text
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert action, f"no login form at the provider: {page.text[:500]}"
    response = session.post(urljoin(page.url, action.group(1)),
                            data={"login": login, "password": password or PASSWORDS[login]},
                            allow_redirects=False, timeout=10)
    for _ in range(10):
        location = response.headers.get("Location")
        assert location, f"the provider did not send the browser on: {response.text[:500]}"
        target = urljoin(response.url, location)
        if not target.startswith(issuer()):
            return target
        response = session.get(target, allow_redirects=False, timeout=10)
    raise AssertionError("too many redirects at the provider")


def start_sign_in(client: Client, email: str, **extra) -> str:
    """Press 'Sign in with your organisation's account' and enter the address; returns the
    provider's authorisation URL the service sends the browser to."""
    page = client.get("/sign-in/organisation/")
    assert 'name="email"' in page.content.decode()
    response = client.post("/sign-in/organisation/", {"email": email}, **extra)
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"]


def local_path(callback_url: str) -> str:
    parts = urlsplit(callback_url)
    return f"{parts.path}?{parts.query}"


def sign_in_through_provider(client: Client, login: str, *, email: str | None = None,
                             **extra):
    """The whole journey with the Django test client; returns the callback's response."""
    authorization_url = start_sign_in(client, email or EMAILS[login], **extra)
    callback = log_in_at_provider(authorization_url, login)
    return client.get(local_path(callback), **extra)


def real_id_token(client: Client, login: str, *, email: str | None = None) -> tuple[str, str]:
    """An ID token the provider really issued for ``login`` and the nonce it was asked for:
    started through the service, then the code is exchanged here instead of at the callback."""
    authorization_url = start_sign_in(client, email or EMAILS[login])
    query = parse_qs(urlsplit(authorization_url).query)
    nonce, client_id = query["nonce"][0], query["client_id"][0]
    callback = parse_qs(urlsplit(log_in_at_provider(authorization_url, login)).query)
    pending = client.session["sso_pending"][callback["state"][0]]
    response = requests.post(f"{issuer()}/token", auth=(client_id, SECRETS[client_id]), data={
        "grant_type": "authorization_code", "code": callback["code"][0],
        "redirect_uri": query["redirect_uri"][0], "code_verifier": pending["verifier"],
    }, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["id_token"], nonce
