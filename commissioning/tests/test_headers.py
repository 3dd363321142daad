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
