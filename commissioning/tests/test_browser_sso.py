"""Signing in with an organisation's account in a real browser (headless Chromium): the
service's pages and the real test provider's own login page (commissioning/tests/oidc.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from commissioning.models import Role
from commissioning.tests import factories as f
from commissioning.tests import oidc
from commissioning.tests.browser import Scanner, expect_heading, press, sign_out, type_into

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _at_the_provider(page: Page, login: str) -> None:
    expect(page.locator("h1")).to_have_text("Test identity provider: sign in")
    assert page.url.startswith(oidc.issuer())
    type_into(page, "Username", login)
    type_into(page, "Password", oidc.PASSWORDS[login])
    with page.expect_navigation(url=lambda url: not url.startswith(oidc.issuer())):
        page.get_by_role("button", name="Sign in").click()


@pytest.mark.covers("sso_sign_in", "logout")
def test_it_signs_a_council_user_in_through_the_providers_login_page(page: Page, live_server,
                                                                      world):
    base = live_server.url
    oidc.link_provider(world.council_a)
    f.user_with_role(world.council_a, Role.COMMISSIONER, email="alice@council-a.test",
                     full_name="Alice Council", password=None)
    scanner = Scanner(page)

    page.goto(f"{base}/sign-in/")
    page.get_by_role("link", name="Sign in with your organisation's account").click()
    expect_heading(page, "Sign in with your organisation's account")
    scanner.scan("organisation sign-in")
    press(page, "Continue")  # nothing typed: the GOV.UK error next to the field
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter your email address")
    scanner.scan("organisation sign-in with an error")
    page.get_by_label("Email address").fill("")
    type_into(page, "Email address", "alice@council-a.test")
    with page.expect_navigation(url=lambda url: url.startswith(oidc.issuer())):
        page.locator("main").get_by_role("button", name="Continue").click()

    _at_the_provider(page, "alice")
    # Her organisation's provider used multi-factor: no authenticator step here.
    expect(page).to_have_url(f"{base}/")
    expect(page.locator("h1")).to_have_text("Your dashboard")
    expect(page.locator(".app-header__account")).to_contain_text("Alice Council")
    scanner.scan("dashboard after single sign-on")

    sign_out(page)
    expect_heading(page, "Sign in")
    banner = page.locator(".govuk-notification-banner")
    expect(banner).to_contain_text("but not of your organisation's account")
    scanner.scan("sign-in after signing out of single sign-on")
    with page.expect_navigation(url=lambda url: url.startswith(oidc.issuer())):
        banner.get_by_role("link", name="sign out of your organisation's account").click()
    scanner.check()


def test_it_shows_a_clear_page_when_the_provider_refuses_to_match(page: Page, live_server,
                                                                   world):
    base = live_server.url
    oidc.link_provider(world.council_a)  # and Olly signs in at it with another domain's account
    scanner = Scanner(page)
    page.goto(f"{base}/sign-in/organisation/")
    type_into(page, "Email address", "alice@council-a.test")
    with page.expect_navigation(url=lambda url: url.startswith(oidc.issuer())):
        page.locator("main").get_by_role("button", name="Continue").click()
    _at_the_provider(page, "olly")
    expect_heading(page, "This account is not from your organisation")
    expect(page.locator("main")).to_contain_text("sign in with your email address and password")
    scanner.scan("single sign-on refused")
    page.get_by_role("link", name="sign in with your email address and password").click()
    expect_heading(page, "Sign in")
    scanner.check()
