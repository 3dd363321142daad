"""Signing in with an organisation's account, through the real OpenID provider the test
command starts (commissioning/tests/oidc.py): who gets in, with which second factor, what is
refused and logged, leavers."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commissioning import leavers, sso, tasks
from commissioning.models import (
    ExternalIdentity,
    Invitation,
    Membership,
    Role,
    SignInEvent,
    SignInMethod,
    User,
)
from commissioning.tests import factories as f
from commissioning.tests import oidc
from commissioning.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def council_a(world):
    """Bromley signs its people in through the test provider's client 'council-a'."""
    return oidc.link_provider(world.council_a)


def person(organisation, login: str, role=Role.COMMISSIONER, **kwargs) -> User:
    user = f.user_with_role(organisation, role, email=oidc.EMAILS[login],
                            full_name=f"{login.title()} Person", **kwargs)
    user.set_unusable_password()  # they have no password here: only their organisation account
    user.save()
    return user


def signed_in_user(client: Client):
    response = client.get("/account/")
    if response.status_code != 200:
        return None
    return response.wsgi_request.user


def test_it_signs_a_council_user_in_through_their_provider_without_a_password(council_a, world):
    alice = person(world.council_a, "alice")
    client = Client()
    response = oidc.sign_in_through_provider(client, "alice")
    assert response.status_code == 302 and response["Location"] == "/"
    # The provider used multi-factor (amr 'mfa'): the dashboard opens with no TOTP step,
    # although a commissioner must use two factors.
    dashboard = client.get("/")
    assert dashboard.status_code == 200
    assert "Alice Person" in dashboard.content.decode()
    assert dashboard.wsgi_request.user.is_verified()
    identity = ExternalIdentity.objects.get(user=alice)
    assert (identity.provider, identity.subject) == (council_a, "alice-sub")
    event = SignInEvent.objects.filter(user=alice).get()
    assert (event.method, event.provider, event.succeeded, event.outcome) == (
        SignInMethod.SSO, council_a, True, "signed in")


def test_it_still_asks_for_the_services_second_factor_when_the_provider_used_one(
        council_a, world):
    person(world.council_a, "bob")
    client = Client()
    oidc.sign_in_through_provider(client, "bob")
    dashboard = client.get("/")
    assert dashboard.status_code == 302 and dashboard["Location"] == "/two-factor/setup/"
    admin = client.get("/admin/")
    assert admin.status_code == 302 and admin["Location"] == "/two-factor/setup/"


def test_it_counts_the_configured_acr_as_multi_factor(council_a, world):
    person(world.council_a, "ada")
    client = Client()
    oidc.sign_in_through_provider(client, "ada")
    assert client.get("/").status_code == 200


def test_it_matches_by_the_providers_subject_once_linked(council_a, world):
    alice = person(world.council_a, "alice")
    oidc.sign_in_through_provider(Client(), "alice")
    # Her address changes here (a typo fixed by an administrator); the provider's stable
    # subject still finds her.
    User.objects.filter(pk=alice.pk).update(email="alice.person@council-a.test")
    client = Client()
    oidc.sign_in_through_provider(client, "alice")
    assert signed_in_user(client) == alice
    assert ExternalIdentity.objects.filter(user=alice).count() == 1


def test_it_accepts_a_pending_invitation_with_its_role_and_nothing_else(council_a, world):
    _token, token_hash = Invitation.new_token()
    Invitation.objects.create(
        email="nia@council-a.test", full_name="Nia Newcomer", organisation=world.council_a,
        role=Role.READ_ONLY, token_hash=token_hash, invited_by=world.partnership_admin_a,
        expires_at=timezone.now() + timedelta(days=7))
    client = Client()
    response = oidc.sign_in_through_provider(client, "nia")
    assert response.status_code == 302
    nia = User.objects.get(email="nia@council-a.test")
    assert not nia.has_usable_password()
    assert list(Membership.objects.filter(user=nia).values_list("organisation", "role")) == [
        (world.council_a.pk, Role.READ_ONLY)]
    assert Invitation.objects.get(email="nia@council-a.test").accepted_at is not None


@pytest.mark.parametrize(("login", "setup", "heading"), [
    ("nia", None, "You do not have an account"),
    ("olly", None, "This account is not from your organisation"),
    ("una", "una", "Your email address has not been confirmed"),
    ("bob", "disabled", "Your account is suspended"),
    ("bob", "elsewhere", "Your account belongs to another organisation"),
])
def test_it_refuses_people_it_cannot_match_and_says_whom_to_ask(council_a, world, login,
                                                                setup, heading):
    if setup == "una":
        person(world.council_a, "una")
    elif setup == "disabled":
        person(world.council_a, "bob", is_active=False)
    elif setup == "elsewhere":
        # Bob has an account, but in Merton: Bromley's provider never reaches it.
        person(world.council_b, "bob")
    client = Client()
    # olly types a Bromley address, then signs in at the provider with his own account.
    response = oidc.sign_in_through_provider(client, login, email=oidc.EMAILS["bob"]
                                             if login == "olly" else None)
    body = response.content.decode()
    assert response.status_code == 400
    assert f"<h1 class=\"govuk-heading-l\">{heading}</h1>" in body
    assert "sign in with your email address and password" in body
    assert signed_in_user(client) is None
    assert not ExternalIdentity.objects.exists()
    event = SignInEvent.objects.get()
    assert event.method == SignInMethod.SSO and not event.succeeded
    assert AccessAttempt.objects.filter(failures_since_start=1).exists()


def test_it_refuses_a_replayed_callback(council_a, world):
    person(world.council_a, "alice")
    client = Client()
    callback = oidc.log_in_at_provider(oidc.start_sign_in(client, oidc.EMAILS["alice"]),
                                       "alice")
    assert client.get(oidc.local_path(callback)).status_code == 302
    # The same browser sends it again: its sign-in was used up (not merely refused later by
    # the provider for a used code).
    again = client.get(oidc.local_path(callback))
    assert again.status_code == 400
    assert "This sign-in has expired or was already used" in again.content.decode()
    client.post("/sign-out/")
    replayed = client.get(oidc.local_path(callback))
    assert replayed.status_code == 400
    assert "This sign-in has expired or was already used" in replayed.content.decode()
    assert signed_in_user(client) is None
    # Nor in another browser that never started a sign-in.
    stranger = Client()
    assert stranger.get(oidc.local_path(callback)).status_code == 400
    assert signed_in_user(stranger) is None


def test_it_refuses_a_callback_whose_state_it_did_not_send(council_a, world):
    person(world.council_a, "alice")
    client = Client()
    callback = oidc.log_in_at_provider(oidc.start_sign_in(client, oidc.EMAILS["alice"]),
                                       "alice")
    query = parse_qs(urlsplit(callback).query)
    forged = f"/sign-in/organisation/callback/?code={query['code'][0]}&state=not-ours"
    response = client.get(forged)
    assert response.status_code == 400
    assert "This sign-in has expired or was already used" in response.content.decode()
    assert signed_in_user(client) is None


def test_it_says_the_provider_is_down_and_offers_a_password_where_allowed(world):
    # Nothing listens on port 9 of loopback: the provider's discovery cannot be fetched.
    oidc.link_provider(world.council_a, issuer_url="http://127.0.0.1:9")
    response = Client().post("/sign-in/organisation/", {"email": "alice@council-a.test"})
    body = response.content.decode()
    assert response.status_code == 503
    assert "Your organisation&#x27;s sign-in service is not responding" in body
    assert "sign in with your email address and password" in body
    world.council_a.identity_provider.requires_sso = True
    world.council_a.identity_provider.save()
    strict = Client().post("/sign-in/organisation/", {"email": "alice@council-a.test"})
    assert strict.status_code == 503
    assert "sign in with your email address and password" not in strict.content.decode()
    assert "you cannot use a password here" in strict.content.decode()


def test_it_tells_people_without_single_sign_on_to_use_their_password(world):
    response = Client().post("/sign-in/organisation/", {"email": "commissioner.a@example.org"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in body
    assert "Your organisation does not sign in to this service with its own account" in body


def test_it_refuses_passwords_where_the_organisation_requires_single_sign_on(world):
    oidc.link_provider(world.council_a, requires_sso=True)
    response = Client().post("/sign-in/", {"username": "commissioner.a@example.org",
                                           "password": PASSWORD})
    assert response.status_code == 200
    assert "Your organisation signs you in through its own account" in response.content.decode()
    assert signed_in_user(Client()) is None
    # Its provider's people of another organisation, and the platform administrator (the
    # break-glass route), still use passwords.
    Membership.objects.create(user=world.staff_admin, organisation=world.council_a,
                              role=Role.COMMISSIONER)
    admin = Client().post("/sign-in/", {"username": "admin@example.org", "password": PASSWORD})
    assert admin.status_code == 302
    merton = Client().post("/sign-in/", {"username": "commissioner.b@example.org",
                                         "password": PASSWORD})
    assert merton.status_code == 302
    assert SignInEvent.objects.filter(
        email="commissioner.a@example.org", succeeded=False,
        outcome="organisation account required").exists()
    assert SignInEvent.objects.filter(email="admin@example.org", succeeded=True,
                                      method=SignInMethod.PASSWORD).exists()


def test_it_counts_refused_sign_ins_towards_the_same_lock_out(council_a, world):
    person(world.council_b, "bob")  # refused at Bromley's provider every time
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        response = oidc.sign_in_through_provider(Client(), "bob")
        assert response.status_code in (400, 429)
    locked = Client().post("/sign-in/organisation/", {"email": "bob@council-a.test"})
    assert locked.status_code == 429
    assert "Too many attempts to sign in" in locked.content.decode()
    password = Client().post("/sign-in/", {"username": "bob@council-a.test",
                                           "password": PASSWORD})
    assert password.status_code == 429


def test_it_offers_the_providers_end_session_on_sign_out(council_a, world):
    person(world.council_a, "alice")
    client = Client()
    oidc.sign_in_through_provider(client, "alice")
    response = client.post("/sign-out/")
    assert response.status_code == 302 and response["Location"] == "/sign-in/"
    body = client.get("/sign-in/").content.decode()
    assert "but not of your organisation's account" in body
    assert "but not of your organisation's account" not in client.get("/sign-in/").content.decode()
    link = body.split(f'href="{oidc.issuer()}/session/end?', 1)[1].split('"', 1)[0]
    query = parse_qs(link.replace("&amp;", "&"))
    assert query["client_id"] == ["council-a"]
    assert query["post_logout_redirect_uri"] == ["http://testserver/sign-in/"]
    assert query["id_token_hint"][0].count(".") == 2
    # The provider accepts it (its own "sign out?" page).
    at_provider = requests.get(f"{oidc.issuer()}/session/end?{link.replace('&amp;', '&')}",
                               timeout=10)
    assert at_provider.status_code == 200
    assert signed_in_user(client) is None


def test_it_suspends_people_not_signed_in_through_their_provider_for_the_set_days(
        council_a, world):
    alice = person(world.council_a, "alice")
    oidc.sign_in_through_provider(Client(), "alice")
    bob = person(world.council_a, "bob")
    bob.memberships.update(created_at=timezone.now() - timedelta(days=400))
    later = timezone.now() + timedelta(days=django_settings.SSO_SUSPEND_AFTER_DAYS + 1)
    # Bromley does not require single sign-on: only those who use it are held to it.
    assert leavers.suspend_dormant_accounts(now=later) == 1
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert not alice.is_active and bob.is_active
    assert leavers.suspend_dormant_accounts(now=later) == 0  # safe to run twice
    council_a.requires_sso = True
    council_a.save()
    council_a.created_at = timezone.now() - timedelta(days=400)
    council_a.save()
    tasks.suspend_dormant_sso_accounts.delay()  # the beat's daily job
    bob.refresh_from_db()
    assert not bob.is_active
    world.staff_admin.refresh_from_db()
    assert world.staff_admin.is_active
    # A member who joined within the days is not touched: their clock starts when they join.
    world.commissioner_a.refresh_from_db()
    assert world.commissioner_a.is_active


def test_it_shows_platform_admins_when_and_how_each_person_last_signed_in(
        council_a, world, client_for):
    person(world.council_a, "alice")
    oidc.sign_in_through_provider(Client(), "alice")
    Client().post("/sign-in/", {"username": "commissioner.b@example.org", "password": PASSWORD})
    page = client_for(world.staff_admin).get("/admin/commissioning/user/")
    body = page.content.decode()
    assert page.status_code == 200
    alice_row = body.split("alice@council-a.test", 1)[1].split("</tr>", 1)[0]
    assert "Organisation account (Bromley Council account)" in alice_row
    merton_row = body.split("commissioner.b@example.org", 1)[1].split("</tr>", 1)[0]
    assert "Password" in merton_row


def test_it_routes_a_shared_domain_to_the_organisation_the_person_belongs_to(world):
    """NHSmail: several organisations register nhs.net; each address goes to its own."""
    oidc.link_provider(world.council_a, domains="council-a.test")
    merton = oidc.link_provider(world.council_b, client_id="icb-b", domains="council-a.test")
    person(world.council_b, "bob")
    assert sso.provider_for_email("BOB@council-a.test") == merton
    assert sso.provider_for_email("nobody@council-a.test").organisation == world.council_a
    client = Client()
    authorization_url = oidc.start_sign_in(client, "bob@council-a.test")
    assert "client_id=icb-b" in authorization_url


HOSTILE = st.one_of(st.text(max_size=40), st.sampled_from((
    "", "x" * 5000, "\u202eevil", "' OR 1=1 --", "<script>alert(1)</script>", "=cmd|' /C calc'!A0",
    "😀" * 50, "a@b", "alice@council-a.test\r\nBcc: x@y", "é" * 400 + "@council-a.test")))


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(email=HOSTILE, state=HOSTILE, code=HOSTILE, iss=HOSTILE, error=HOSTILE,
       use_real_state=st.booleans())
def test_it_never_errors_or_signs_in_on_hostile_input(council_a, world, email, state, code,
                                                       iss, error, use_real_state):
    AccessAttempt.objects.all().delete()  # each example starts below the lock-out
    client = Client()
    response = client.post("/sign-in/organisation/", {"email": email})
    assert response.status_code in (302, 400), response.content.decode()[:500]
    if use_real_state:
        oidc.start_sign_in(client, "alice@council-a.test")
        state = next(iter(client.session["sso_pending"]))
    params = {key: value for key, value in
              (("state", state), ("code", code), ("iss", iss), ("error", error)) if value}
    callback = client.get("/sign-in/organisation/callback/", params)
    assert callback.status_code in (400, 429)
    assert signed_in_user(client) is None
