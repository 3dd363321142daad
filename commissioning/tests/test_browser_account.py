"""Looking after an account, in a real browser (headless Chromium through Playwright).

A commissioner who works for two organisations switches between them, gets new backup codes
and changes their password; a partnership administrator revokes an invitation; a provider
turns two-factor sign-in off; someone who forgot their password resets it from the link in
the e-mail. Every step is a button pressed on the page that shows it; the journeys declare the
POST views they drive (``covers``) and the browser's own requests prove it.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from commissioning import two_factor
from commissioning.models import Invitation, Membership, Role
from commissioning.tests.browser import (
    expect_heading,
    give_authenticator,
    press,
    sign_in,
    sign_in_verified,
    sign_out,
    type_into,
)
from commissioning.tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Carers-hub-spring-2027"


@pytest.mark.covers("switch_organisation", "two_factor_backup_codes", "password_change",
                    "invitation_revoke", "logout")
def test_it_lets_people_switch_organisation_renew_codes_change_password_and_revoke(
        page: Page, live_server, world):
    base = live_server.url
    user = world.commissioner_a
    Membership.objects.create(user=user, organisation=world.icb_a, role=Role.COMMISSIONER)
    _token, token_hash = Invitation.new_token()
    Invitation.objects.create(
        email="new.person@bromley.example.org", full_name="Nia Newcomer",
        organisation=world.council_a, role=Role.COMMISSIONER, token_hash=token_hash,
        invited_by=world.partnership_admin_a, expires_at=timezone.now() + timedelta(days=7))

    sign_in_verified(page, base, user)
    page.locator("header").get_by_role("link", name="Change organisation").click()
    expect_heading(page, "Which organisation are you working for?")
    page.get_by_label(world.icb_a.name, exact=True).check()
    press(page, "Continue")
    expect(page.locator(".app-header__account")).to_contain_text(world.icb_a.name)

    page.locator("header").get_by_role("link", name="Your account").click()
    expect_heading(page, "Your account")
    press(page, "Get new backup codes")
    codes = page.get_by_role("list", name="Backup codes").locator("code")
    expect(codes).to_have_count(10)

    page.goto(base + "/account/")
    page.get_by_role("link", name="Change your password").click()
    expect_heading(page, "Change your password")
    type_into(page, "Current password", PASSWORD)
    type_into(page, "New password", NEW_PASSWORD)
    type_into(page, "Confirm new password", NEW_PASSWORD)
    press(page, "Change password")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    sign_out(page)

    sign_in_verified(page, base, world.partnership_admin_a)
    page.goto(base + "/people/")
    expect_heading(page, "People")
    # Revoking asks first; Cancel leaves the invitation as it was.
    page.get_by_role("link", name="Revoke invitation for Nia Newcomer").click()
    expect_heading(page, "Are you sure you want to revoke the invitation for Nia Newcomer?")
    page.locator("main").get_by_role("link", name="Cancel").click()
    expect_heading(page, "People")
    assert Invitation.objects.filter(full_name="Nia Newcomer", revoked_at=None).exists()
    page.get_by_role("link", name="Revoke invitation for Nia Newcomer").click()
    press(page, "Revoke invitation")
    expect_heading(page, "People")
    assert not Invitation.objects.filter(full_name="Nia Newcomer", revoked_at=None).exists()


@pytest.mark.covers("password_reset", "password_reset_confirm", "two_factor_remove", "login")
def test_it_lets_a_provider_reset_a_forgotten_password_and_turn_off_two_factor(
        page: Page, live_server, world):
    base = live_server.url
    user = world.provider_x_user
    give_authenticator(user)

    page.goto(base + "/sign-in/")
    page.get_by_role("link", name="I have forgotten my password").click()
    expect_heading(page, "Reset your password")
    type_into(page, "Email address", user.email)
    press(page, "Send reset link")
    assert len(mail.outbox) == 1, mail.outbox
    link = re.search(r"/password-reset/[^/\s]+/[^/\s]+/", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    page.goto(base + link.group(0))  # the link in the e-mail
    expect_heading(page, "Create a new password")
    type_into(page, "New password", NEW_PASSWORD)
    type_into(page, "Confirm new password", NEW_PASSWORD)
    press(page, "Save password")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)

    sign_in_verified(page, base, user, password=NEW_PASSWORD)
    page.locator("header").get_by_role("link", name="Your account").click()
    page.locator("main").get_by_role("button", name="Turn off two-factor sign-in").click()
    expect_heading(page, "Are you sure you want to turn off two-factor sign-in?")
    assert two_factor.has_second_factor(user)  # nothing changes until it is confirmed
    press(page, "Turn off two-factor sign-in")
    expect_heading(page, "Your account")
    assert not two_factor.has_second_factor(user)
    sign_out(page)
    sign_in(page, base, user.email, NEW_PASSWORD)
    expect(page.locator("h1")).to_have_text("Your dashboard")  # no code asked for
