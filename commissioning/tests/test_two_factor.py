import re
import time

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from commissioning.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(email: str) -> Client:
    client = Client()
    response = client.post("/sign-in/", {"username": email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def current_code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code the authenticator app shows now (or in a later 30-second step)."""
    generator = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    generator.time = time.time() + steps_ahead * device.step
    return f"{generator.token():06d}"


def wait_out_throttling(user) -> None:
    """After a wrong code django-otp makes the person wait (1 s, 2 s, 4 s…); pretend we did."""
    for model in (TOTPDevice, StaticDevice):
        for device in model.objects.filter(user=user):
            device.throttle_reset()


def set_up(client: Client, user) -> list[str]:
    client.get("/two-factor/setup/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    page = client.post("/two-factor/setup/", {"otp_token": current_code(device)})
    assert "Two-factor sign-in is set up" in page.content.decode()
    return re.findall(r"<code>(\d{8})</code>", page.content.decode())


def test_it_makes_a_commissioner_set_up_an_authenticator_before_anything_else(world):
    client = sign_in("commissioner.a@example.org")
    for path in ("/", "/people/", "/partnerships/"):
        assert client.get(path)["Location"] == "/two-factor/setup/"
    page = client.get("/two-factor/setup/").content.decode()
    assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page
    assert "<svg" in page and "QR code" in page
    wrong = client.post("/two-factor/setup/", {"otp_token": "000000"})
    assert "The code is not correct" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=world.commissioner_a, confirmed=True).exists()
    # Straight after a wrong code even the right one waits: guessing is throttled.
    pending = TOTPDevice.objects.get(user=world.commissioner_a, confirmed=False)
    too_soon = client.post("/two-factor/setup/", {"otp_token": current_code(pending)})
    assert "The code is not correct" in too_soon.content.decode()
    wait_out_throttling(world.commissioner_a)
    codes = set_up(client, world.commissioner_a)
    assert len(codes) == 10
    assert client.get("/").status_code == 200


def test_it_asks_for_the_code_at_each_sign_in_and_accepts_a_backup_code_once(world):
    codes = set_up(sign_in("finance.a@example.org"), world.finance_officer_a)
    client = sign_in("finance.a@example.org")
    assert client.get("/people/")["Location"].startswith("/two-factor/verify/")
    bad = client.post("/two-factor/verify/", {"otp_token": "12345678", "next": "/people/"})
    assert "The security code is not correct" in bad.content.decode()
    wait_out_throttling(world.finance_officer_a)
    good = client.post("/two-factor/verify/", {"otp_token": codes[0], "next": "/people/"})
    assert good["Location"] == "/people/"
    again = sign_in("finance.a@example.org")
    reused = again.post("/two-factor/verify/", {"otp_token": codes[0]})
    assert "The security code is not correct" in reused.content.decode()


def test_it_never_lets_a_password_alone_replace_the_authenticator(world):
    set_up(sign_in("commissioner.a@example.org"), world.commissioner_a)
    attacker = sign_in("commissioner.a@example.org")
    assert attacker.get("/two-factor/setup/")["Location"] == "/two-factor/verify/"
    assert attacker.post("/two-factor/setup/", {"otp_token": "123456"})["Location"] == \
        "/two-factor/verify/"


def test_it_refuses_a_code_that_was_already_used(world):
    client = sign_in("commissioner.a@example.org")
    client.get("/two-factor/setup/")
    device = TOTPDevice.objects.get(user=world.commissioner_a, confirmed=False)
    code = current_code(device)
    client.post("/two-factor/setup/", {"otp_token": code})
    replay = sign_in("commissioner.a@example.org")
    response = replay.post("/two-factor/verify/", {"otp_token": code})
    assert "The security code is not correct" in response.content.decode()


def test_it_refuses_an_outside_next_address_after_verifying(world):
    set_up(sign_in("commissioner.a@example.org"), world.commissioner_a)
    client = sign_in("commissioner.a@example.org")
    device = TOTPDevice.objects.get(user=world.commissioner_a, confirmed=True)
    response = client.post("/two-factor/verify/", {"otp_token": current_code(device, 1),
                                                    "next": "https://evil.example.com/"})
    assert response["Location"] == "/"


def test_it_lets_providers_choose_unless_a_partnership_requires_it(world):
    client = sign_in("submitter.x@example.org")
    assert client.get("/").status_code == 200
    page = client.get("/account/").content.decode()
    assert "Set up two-factor sign-in" in page
    assert client.post("/two-factor/remove/").status_code == 404  # nothing verified to remove


def test_it_lets_staff_reset_a_lost_authenticator_in_the_admin(world, client_for):
    set_up(sign_in("commissioner.a@example.org"), world.commissioner_a)
    admin = client_for(world.staff_admin)
    listing = admin.get("/admin/otp_totp/totpdevice/")
    assert listing.status_code == 200
