"""An invitation to someone who already has an account, in a real browser (issue 13, finding 1).

The administrator's invitation gives nothing by itself: the invitee opens the link, signs in as
that account (both factors) and presses "Accept invitation". Every page is checked with axe.
"""

from __future__ import annotations

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from commissioning.models import Membership, Role
from commissioning.tests.browser import (
    VERIFY_LABEL,
    Scanner,
    database_code,
    enter_code,
    give_authenticator,
    pick,
    sign_in_verified,
    sign_out,
    type_into,
)
from commissioning.tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_someone_with_an_account_accepts_an_invitation_signed_in(page: Page, live_server,
                                                                  world):
    base = live_server.url
    scanner = Scanner(page)
    invitee = world.icb_commissioner_a
    give_authenticator(invitee)
    sign_in_verified(page, base, world.partnership_admin_a)
    page.goto(base + "/people/invite/")
    type_into(page, "Full name", "Ian ICB")
    type_into(page, "Email address", invitee.email)
    pick(page, "Organisation", str(world.council_a))
    page.get_by_label("Read only", exact=True).check()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        f"Invitation sent to {invitee.email}")
    granted = Membership.objects.filter(user=invitee, organisation=world.council_a)
    assert not granted.exists()
    link = next(m for m in mail.outbox if invitee.email in m.to).body
    path = link[link.index("/invitation/"):].split()[0]
    sign_out(page)

    # Signed out: asked to sign in, never to set a password.
    page.goto(base + path)
    expect(page.locator("h1")).to_have_text("Accept your invitation")
    expect(page.get_by_label("Create a password")).to_have_count(0)
    scanner.scan("invitation for an existing account (signed out)")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in to accept").click()
    type_into(page, "Email address", invitee.email)
    type_into(page, "Password", PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Enter your security code")
    enter_code(page, VERIFY_LABEL, database_code(invitee))

    # Back on the invitation, signed in as the person it is for.
    expect(page.locator("h1")).to_have_text("Accept your invitation")
    scanner.scan("invitation for an existing account (signed in)",
                 same_page_as="invitation for an existing account (signed out)")
    assert not granted.exists()
    with page.expect_navigation():
        page.get_by_role("button", name="Accept invitation").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        f"You now have access to {world.council_a.name}")
    expect(page.locator(".app-header__account")).to_contain_text(world.council_a.name)
    assert granted.filter(role=Role.READ_ONLY).exists()
    scanner.check()
