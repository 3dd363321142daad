"""The ID token checks of single sign-on (``sso.check_id_token``), on tokens the real test
provider issued and on the bad ones an attacker could bring: tampered, expired, for another
sign-in (nonce) or another client, signed with a key the provider never published, with
``alg: none`` or with the client secret as an HMAC key."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from commissioning import sso
from commissioning.models import Role, SignInEvent
from commissioning.tests import factories as f
from commissioning.tests import oidc

pytestmark = pytest.mark.django_db


@pytest.fixture
def council_a(world):
    return oidc.link_provider(world.council_a)


@pytest.fixture
def alice_token(council_a, world):
    f.user_with_role(world.council_a, Role.COMMISSIONER, email=oidc.EMAILS["alice"])
    return oidc.real_id_token(Client(), "alice")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _refused(token: str, provider, nonce: str, **kwargs) -> str:
    with pytest.raises(sso.Refusal) as refused:
        sso.check_id_token(token, provider=provider, nonce=nonce, **kwargs)
    return refused.value.reason


def test_it_accepts_a_token_the_provider_issued_for_this_sign_in(council_a, alice_token):
    token, nonce = alice_token
    claims = sso.check_id_token(token, provider=council_a, nonce=nonce)
    assert (claims["sub"], claims["email"], claims["aud"]) == (
        "alice-sub", "alice@council-a.test", "council-a")
    assert "mfa" in claims["amr"] and sso.performed_mfa(council_a, claims)


def test_it_refuses_a_tampered_token(council_a, alice_token):
    token, nonce = alice_token
    header, _payload, signature = token.split(".")
    claims = _claims(token) | {"email": "bob@council-a.test", "sub": "bob-sub"}
    assert _refused(f"{header}.{_b64(claims)}.{signature}", council_a, nonce) == "token"


def test_it_refuses_an_expired_token(council_a, alice_token):
    token, nonce = alice_token
    expiry = _claims(token)["exp"]
    # Within the minute's allowance for clocks it still passes; after it, it is refused.
    sso.check_id_token(token, provider=council_a, nonce=nonce, now=expiry)
    assert _refused(token, council_a, nonce,
                    now=expiry + sso.CLOCK_LEEWAY_SECONDS + 1) == "token"


def test_it_refuses_a_token_from_another_sign_in(council_a, alice_token):
    token, _nonce = alice_token
    assert _refused(token, council_a, "the-nonce-of-another-sign-in") == "token"


def test_it_refuses_a_token_issued_to_another_client(council_a, world):
    f.user_with_role(world.council_b, Role.COMMISSIONER, email=oidc.EMAILS["cara"])
    oidc.link_provider(world.council_b, client_id="icb-b", domains="icb-b.test")
    token, nonce = oidc.real_id_token(Client(), "cara")
    assert _claims(token)["aud"] == "icb-b"
    # Same provider, same signature, same nonce: only the audience is wrong.
    assert _refused(token, council_a, nonce) == "other_client"


def test_it_refuses_a_token_signed_with_a_key_the_provider_never_published(
        council_a, alice_token):
    token, nonce = alice_token
    forger = RSAKey.generate_key(2048, parameters={"kid": "forger-key"})
    forged = jwt.encode({"alg": "RS256", "kid": "forger-key"}, _claims(token), forger)
    assert _refused(forged, council_a, nonce) == "token"
    # Named as the provider's own key, the signature still does not verify.
    provider_kid = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["kid"]
    forged_as_provider = jwt.encode({"alg": "RS256", "kid": provider_kid}, _claims(token),
                                    forger)
    assert _refused(forged_as_provider, council_a, nonce) == "token"


def test_it_refuses_an_unsigned_token(council_a, alice_token):
    token, nonce = alice_token
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(token))}."
    assert _refused(unsigned, council_a, nonce) == "token"


def test_it_refuses_a_token_signed_with_the_client_secret(council_a, alice_token):
    token, nonce = alice_token
    secret = OctKey.import_key(oidc.SECRETS["council-a"].encode())
    hmac = jwt.encode({"alg": "HS256"}, _claims(token), secret)
    assert _refused(hmac, council_a, nonce) == "token"


@pytest.mark.parametrize("garbage", ["", "not-a-token", "a.b.c", "..", "é.é.é"])
def test_it_refuses_garbage_without_an_error_page(council_a, garbage):
    assert _refused(garbage, council_a, "n") == "token"


def test_it_logs_a_bad_token_at_the_callback_and_starts_no_session(council_a, world):
    """The callback refuses a code whose token the provider did not issue for this sign-in:
    here, a code the provider issued for another browser's sign-in (its PKCE verifier and
    nonce are not this browser's), so the token endpoint refuses it."""
    f.user_with_role(world.council_a, Role.COMMISSIONER, email=oidc.EMAILS["alice"])
    victim, attacker = Client(), Client()
    victim_callback = oidc.log_in_at_provider(
        oidc.start_sign_in(victim, oidc.EMAILS["alice"]), "alice")
    oidc.start_sign_in(attacker, oidc.EMAILS["alice"])
    attacker_state = next(iter(attacker.session["sso_pending"]))
    code = victim_callback.split("code=", 1)[1].split("&", 1)[0]
    response = attacker.get(f"/sign-in/organisation/callback/?code={code}&state={attacker_state}")
    assert response.status_code == 400
    assert "did not sign you in" in response.content.decode()
    assert attacker.get("/account/").status_code == 302
    assert SignInEvent.objects.filter(succeeded=False, outcome="provider error").exists()
