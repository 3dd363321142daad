import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone

from commissioning import services
from commissioning.models import Invitation, Membership, Role, User
from commissioning.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(client: Client, email: str, password: str):
    return client.post("/sign-in/", {"username": email, "password": password},
                       REMOTE_ADDR="10.1.2.3")


def test_it_sends_anonymous_people_to_sign_in(client):
    response = client.get("/people/")
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")


def test_it_signs_in_by_email_address_in_any_case(world, client):
    response = sign_in(client, "Commissioner.A@Example.org", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    page = client.get("/", follow=True)  # a provider without two-factor sign-in goes straight in
    assert "Cara Commissioner" in page.content.decode()


def test_it_explains_wrong_credentials_without_saying_which_was_wrong(world, client):
    response = sign_in(client, "commissioner.a@example.org", "wrong-password")
    body = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in body
    assert "Enter a correct email address and password" in body
    assert "<title>Error: Sign in" in body
    unknown = sign_in(Client(), "nobody@example.org", "wrong-password")
    assert "Enter a correct email address and password" in unknown.content.decode()


def test_it_locks_an_account_after_repeated_failures(world, client):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "commissioner.a@example.org", "wrong-password")
    locked = sign_in(client, "commissioner.a@example.org", PASSWORD)
    assert locked.status_code == 429
    assert "Too many attempts to sign in" in locked.content.decode()
    # The same person from another network is not locked out by someone else's failures.
    other = Client().post("/sign-in/", {"username": "commissioner.a@example.org",
                                        "password": PASSWORD}, REMOTE_ADDR="10.9.9.9")
    assert other.status_code == 302


def test_it_expires_sessions_after_inactivity():
    # The behaviour (sliding expiry, no write per request) is in test_session_idle.py.
    assert settings.SESSION_COOKIE_AGE == (settings.SESSION_IDLE_MINUTES * 60
                                           + settings.SESSION_REFRESH_SECONDS) <= 61 * 60


def test_it_resets_a_password_through_a_one_time_link(world, client):
    client.post("/password-reset/", {"email": "commissioner.a@example.org"})
    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+/password-reset/\S+/", mail.outbox[0].body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    form_page = client.get("/" + path, follow=True)
    assert "Create a new password" in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    weak = client.post(set_url, {"new_password1": "short", "new_password2": "short"})
    assert "This password is too short" in weak.content.decode()
    done = client.post(set_url, {"new_password1": "A-much-better-passphrase-77",
                                 "new_password2": "A-much-better-passphrase-77"})
    assert done.status_code == 302
    assert User.objects.get(email="commissioner.a@example.org").check_password(
        "A-much-better-passphrase-77")
    again = client.get("/" + path, follow=True)
    assert "This link has expired" in again.content.decode()


def test_it_does_not_reveal_whether_an_email_has_an_account(world, client):
    known = client.post("/password-reset/", {"email": "commissioner.a@example.org"})
    unknown = client.post("/password-reset/", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]


class TestInvitations:
    def invite(self, world, **overrides):
        data = {"invited_by": world.partnership_admin_a, "email": "new.person@example.org",
                "full_name": "New Person", "organisation": world.council_a,
                "role": Role.CONTRACT_MANAGER} | overrides
        return services.invitation_create(**data)

    def token_from_outbox(self) -> str:
        return re.search(r"/invitation/([\w-]+)/", mail.outbox[-1].body).group(1)

    def test_it_lets_an_invited_person_set_a_password_and_sign_in(self, world, client,
                                                                  django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            self.invite(world)
        token = self.token_from_outbox()
        assert Invitation.objects.get().token_hash != token  # only a hash is stored
        page = client.get(f"/invitation/{token}/")
        assert "Create your account" in page.content.decode()
        response = client.post(f"/invitation/{token}/", {"new_password1": "Bromley-well-2026!",
                                                         "new_password2": "Bromley-well-2026!"})
        assert response.status_code == 302
        # A contract manager must set up two-factor sign-in before anything else.
        assert client.get("/")["Location"] == "/two-factor/setup/"
        user = User.objects.get(email="new.person@example.org")
        assert user.check_password("Bromley-well-2026!")
        assert Membership.objects.filter(user=user, organisation=world.council_a,
                                         role=Role.CONTRACT_MANAGER).exists()
        reused = Client().get(f"/invitation/{token}/")
        assert reused.status_code == 410
        assert "already been used" in reused.content.decode()

    def test_it_refuses_an_expired_link(self, world, client, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            invitation = self.invite(world)
        Invitation.objects.filter(pk=invitation.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1))
        response = client.get(f"/invitation/{self.token_from_outbox()}/")
        assert response.status_code == 410
        assert "expired" in response.content.decode()
        assert not User.objects.filter(email="new.person@example.org").exists()

    def test_it_refuses_a_made_up_or_revoked_link(self, world, client,
                                                  django_capture_on_commit_callbacks):
        assert client.get("/invitation/made-up-token/").status_code == 410
        with django_capture_on_commit_callbacks(execute=True):
            invitation = self.invite(world)
        services.invitation_revoke(invitation=invitation)
        assert client.get(f"/invitation/{self.token_from_outbox()}/").status_code == 410

    def test_it_keeps_the_form_when_passwords_do_not_match(self, world, client,
                                                           django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            self.invite(world)
        token = self.token_from_outbox()
        response = client.post(f"/invitation/{token}/", {"new_password1": "Bromley-well-2026!",
                                                         "new_password2": "Different-2026!"})
        assert "The passwords do not match" in response.content.decode()
        assert not User.objects.filter(email="new.person@example.org").exists()

    def test_it_gives_an_existing_user_nothing_until_they_accept(
            self, world, django_capture_on_commit_callbacks):
        # Accepting signed in: commissioning/tests/test_invitations.py.
        with django_capture_on_commit_callbacks(execute=True):
            self.invite(world, email="icb.a@example.org", organisation=world.council_a,
                        role=Role.READ_ONLY)
        assert not Membership.objects.filter(user=world.icb_commissioner_a,
                                             organisation=world.council_a).exists()
        assert Invitation.objects.pending().filter(email="icb.a@example.org").exists()
        assert "You already have an account" in mail.outbox[-1].body


# --- Lock-out: one counter per account and network, the client address behind proxies -------

def attempt(email: str, password: str, *, remote: str = "10.1.2.3", forwarded: str | None = None):
    """A sign-in from a new browser, through the page's own form fields."""
    browser = Client()
    page = browser.get("/sign-in/").content.decode()
    assert 'name="username"' in page and 'name="password"' in page
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return browser.post("/sign-in/", {"username": email, "password": password}, **extra)


def test_it_counts_every_letter_case_of_an_email_address_as_one_account(world):
    for email in ("Commissioner.A@example.org", "COMMISSIONER.A@EXAMPLE.ORG",
                  "commissioner.a@Example.Org", "cOMMISSIONER.a@example.org",
                  " Commissioner.a@example.ORG "):
        attempt(email, "wrong-password")
    locked = attempt("CoMmIsSiOnEr.A@eXaMpLe.OrG", PASSWORD)
    assert locked.status_code == 429
    assert "Too many attempts to sign in" in locked.content.decode()


def test_it_tells_clients_behind_the_proxy_apart_by_x_forwarded_for(world, settings):
    settings.PROXY_COUNT = 1
    proxy = "10.0.0.1"  # every request reaches the app from the proxy
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt("commissioner.a@example.org", "wrong-password", remote=proxy,
                forwarded="203.0.113.9")
    assert attempt("commissioner.a@example.org", PASSWORD, remote=proxy,
                   forwarded="203.0.113.9").status_code == 429
    # A header the attacker sends is kept by the proxy, which appends the real address: still
    # the attacker's counter, whatever they put first.
    assert attempt("commissioner.a@example.org", PASSWORD, remote=proxy,
                   forwarded="198.51.100.7, 203.0.113.9").status_code == 429
    # The real person, on another network behind the same proxy, is not locked out.
    assert attempt("commissioner.a@example.org", PASSWORD, remote=proxy,
                   forwarded="198.51.100.7").status_code == 302


def test_it_counts_an_ipv6_network_once(world):
    for host in range(1, 6):
        attempt("commissioner.a@example.org", "wrong-password", remote=f"2001:db8:1:2::{host}")
    assert attempt("commissioner.a@example.org", PASSWORD,
                   remote="2001:db8:1:2::99").status_code == 429
    assert attempt("commissioner.a@example.org", PASSWORD,
                   remote="2001:db8:1:3::1").status_code == 302


def test_it_refuses_an_address_everywhere_after_failures_from_many_networks(world, settings):
    limit = settings.AXES_FAILURE_LIMIT
    settings.SIGN_IN_ACCOUNT_FAILURE_LIMIT = 3 * limit
    email = "commissioner.a@example.org"
    assert attempt(email, PASSWORD, remote="192.0.2.10").status_code == 302  # their office
    # One network hammering away counts only up to its own limit towards the account's.
    for _ in range(4 * limit):
        attempt(email, "wrong-password", remote="198.51.100.1")
    for _ in range(limit):
        attempt(email, "wrong-password", remote="198.51.100.2")
    assert attempt(email, PASSWORD, remote="203.0.113.1").status_code == 302  # 10 < 15
    for _ in range(limit):
        attempt(email, "wrong-password", remote="198.51.100.3")
    # Guesses from a third network reach the account's limit: a new network is refused, even
    # with the right password...
    refused = attempt(email, PASSWORD, remote="203.0.113.2")
    assert refused.status_code == 429
    assert "Too many attempts to sign in" in refused.content.decode()
    # ...but not the networks the person has signed in from, so nobody can lock them out.
    assert attempt(email, PASSWORD, remote="192.0.2.10").status_code == 302
    assert attempt(email, PASSWORD, remote="203.0.113.1").status_code == 302


def test_it_refuses_in_the_same_words_whether_or_not_the_account_exists(world):
    def locked_page(email: str) -> str:
        for _ in range(settings.AXES_FAILURE_LIMIT):
            attempt(email, "wrong-password")
        response = attempt(email, "wrong-password")
        assert response.status_code == 429
        return re.sub(r'(nonce|value)="[^"]*"', "", response.content.decode())

    known, unknown = locked_page("commissioner.a@example.org"), locked_page("nobody@example.org")
    assert known == unknown
    assert "account" not in re.sub(r"<[^>]+>", " ", known.split("<main", 1)[1]).lower()


def test_it_trusts_one_proxy_when_behind_a_tls_proxy():
    env = {k: v for k, v in os.environ.items() if k not in {"PROXY_COUNT", "BEHIND_TLS_PROXY"}}
    code = ("import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
            "'commissioning.settings'); django.setup(); from django.conf import settings; "
            "print(settings.PROXY_COUNT)")
    root = Path(__file__).resolve().parents[2]

    def proxy_count(**overrides: str) -> str:
        result = subprocess.run([sys.executable, "-c", code], env=env | overrides, cwd=root,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert proxy_count() == "0"
    assert proxy_count(BEHIND_TLS_PROXY="true") == "1"
    assert proxy_count(BEHIND_TLS_PROXY="true", PROXY_COUNT="2") == "2"


def test_it_refuses_an_overlong_email_address_without_an_error_page(world):
    # Longer than the lock-out record's username column (255): still a plain refusal.
    response = attempt("a" * 250 + "@" + "b" * 60 + ".org", "wrong-password")
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
