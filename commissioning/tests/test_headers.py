"""Security headers on every response, and production settings hardening."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db


def test_it_sends_a_nonce_based_content_security_policy(world, client_for):
    response = client_for(world.commissioner_a).get("/")
    policy = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert "script-src 'self' 'nonce-" in policy
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    html = response.content.decode()
    scripts = re.findall(r"<script\b([^>]*)>", html)
    assert scripts, "the shell has scripts"
    for attributes in scripts:
        assert f'nonce="{nonce}"' in attributes or "src=" in attributes
    # A fresh nonce for each response.
    again = client_for(world.commissioner_a).get("/")["Content-Security-Policy"]
    assert again != policy


def test_it_forbids_framing_sniffing_and_leaky_referrers(client):
    response = client.get("/sign-in/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_it_keeps_session_and_csrf_cookies_away_from_scripts(world, client):
    client.post("/sign-in/", {"username": "commissioner.a@example.org",
                              "password": "Correct-horse-battery-2026"})
    session = client.cookies["sessionid"]
    assert session["httponly"] and session["samesite"] == "Lax"


def test_production_settings_turn_on_https_hardening():
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update({"DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(64),
                "ALLOWED_HOSTS": "jc.example.org",
                "PSEUDONYMISATION_KEY": "p" * 32, "EMAIL_HOST": "smtp.example.org"})
    code = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE']='commissioning.settings';"
            "django.setup(); from django.conf import settings as s;"
            "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE,"
            " s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_INCLUDE_SUBDOMAINS)")
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "31536000", "True", "True", "True"]
    deploy = subprocess.run([sys.executable, "manage.py", "check", "--deploy",
                             "--fail-level", "WARNING"], env=env, cwd=root,
                            capture_output=True, text=True, timeout=120)
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr


# --- Permissions-Policy and Cache-Control over every view ------------------------------------
# The access matrix's objects (both partnerships, every kind a URL can point at, files on
# disk) and its table of views: every GET the persona may open is checked.
from commissioning.tests.test_access_matrix import (  # noqa: E402
    CA,
    PX,
    STAFF,
    _checks,
    expected,
    partner_not_party,  # noqa: F401 - a fixture the sides need
    sides,  # noqa: F401 - fixture
)


def _directives(response) -> set[str]:
    return {d.strip().lower() for d in response.get("Cache-Control", "").split(",") if d}


def test_it_sends_a_permissions_policy_to_everyone(client, world, client_for):
    for response in (client.get("/sign-in/"), client.get("/accessibility/"),
                     client.get("/no-such-page/"), client_for(world.commissioner_a).get("/")):
        policy = response["Permissions-Policy"]
        for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
            assert feature in policy


@pytest.mark.parametrize("persona", [CA, PX, STAFF])
def test_every_signed_in_page_and_download_is_private_and_never_stored(
        persona, world, sides, client_for):  # noqa: F811 - pytest fixture
    user = {CA: world.commissioner_a, PX: world.provider_x_user, STAFF: world.staff_admin}
    client = client_for(user[persona])
    checked, downloads, wrong = 0, 0, []
    for name, case, side in _checks():
        if case.method != "GET" or expected(case, side, persona) != "ok":
            continue
        url = case.url(sides[side])
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)  # read to the end so the file is closed
        checked += 1
        downloads += response.get("Content-Disposition", "").startswith("attachment")
        directives = _directives(response)
        if not {"private", "no-store"} <= directives or "Permissions-Policy" not in response:
            wrong.append(f"{name} {url}: {response.status_code} "
                         f"Cache-Control={response.get('Cache-Control')!r}")
    assert checked > 30 and downloads >= (3 if persona == PX else 8), (checked, downloads)
    assert not wrong, "\n".join(wrong)
