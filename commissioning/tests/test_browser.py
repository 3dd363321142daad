"""Real-browser journeys and accessibility checks, driven through headless Chromium.

Every test runs against pytest-django's live server (same process, so the locmem e-mail
outbox is shared) with a transactional database, so each test starts with an empty database
and no django-axes access attempts.

Two-factor sign-in is on, as in production: staff and commissioner-side roles set up an
authenticator app on their first sign-in and type a code on every later one. The setup key is
read from the page and the codes computed from it, as an authenticator app would.
"""

from __future__ import annotations

import re
import time

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core import mail
from playwright.sync_api import Page, expect

from commissioning import two_factor
from commissioning.models import Membership, Role
from commissioning.tests.browser import (
    SETUP_LABEL,
    VERIFY_LABEL,
    Scanner,
    database_code,
    enter_code,
    give_authenticator,
    next_step_code,
    pick,
    set_up_two_factor,
    sign_in,
    sign_in_verified,
    sign_out,
    type_into,
)
from commissioning.tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLE_PERSONAS = [
    "commissioner_a",
    "icb_commissioner_a",
    "contract_manager_a",
    "finance_officer_a",
    "report_officer_a",
    "read_only_a",
    "partnership_admin_a",
    "provider_x_user",
    "provider_x_approver",
    "staff_admin",
]


# --- Helpers --------------------------------------------------------------------------------

def invitation_path(message) -> str:
    match = re.search(r"/invitation/[^/\s]+/", message.body)
    assert match, f"no invitation link in the e-mail:\n{message.body}"
    return match.group(0)


# --- 1. Sign-in journey for every role ------------------------------------------------------

def expect_dashboard(page: Page, base_url: str, user) -> None:
    membership = Membership.objects.filter(user=user).select_related("organisation").first()
    expect(page).to_have_url(f"{base_url}/")
    expect(page.locator("h1")).to_have_text("Your dashboard")
    account = page.locator(".app-header__account")
    expect(account).to_contain_text(user.full_name)
    if membership is not None:
        expect(account).to_contain_text(membership.organisation.name)


@pytest.mark.covers("login", "logout")
@pytest.mark.parametrize("persona", ROLE_PERSONAS)
def test_each_persona_signs_in_with_the_keyboard_and_signs_out(
    page: Page, live_server, world, persona
):
    user = getattr(world, persona)
    needs_two_factor = two_factor.is_required(user)
    # Staff and every commissioner-side role must use it; providers need not.
    assert needs_two_factor == (not persona.startswith("provider_"))

    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/sign-in/\?next=/$"))
    expect(page.locator("h1")).to_have_text("Sign in")

    type_into(page, "Email address", user.email)
    type_into(page, "Password", PASSWORD)
    page.keyboard.press("Enter")

    key = None
    if needs_two_factor:
        # First sign-in: the password alone reaches nothing but the set-up page.
        expect(page).to_have_url(f"{live_server.url}/two-factor/setup/")
        page.goto(live_server.url + "/partnerships/")
        expect(page).to_have_url(f"{live_server.url}/two-factor/setup/")
        key = set_up_two_factor(page).key
        with page.expect_navigation():
            page.get_by_role("button", name="I have saved my backup codes").click()

    expect_dashboard(page, live_server.url, user)
    navigation = page.get_by_role("region", name="Service information")
    expect(navigation.locator(".govuk-service-navigation__service-name")).to_have_text(
        settings.SERVICE_NAME
    )
    menu = navigation.get_by_role("navigation", name="Menu")
    expect(menu.get_by_role("link", name="Dashboard")).to_have_attribute(
        "aria-current", "true"
    )

    sign_out(page)
    expect(page).to_have_url(re.compile(r"/sign-in/"))
    expect(page.locator("h1")).to_have_text("Sign in")
    expect(page.locator(".app-header__account")).to_have_count(0)
    # Signed out for real: the dashboard sends us back to sign in.
    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/sign-in/"))

    # Signing in again asks for a code from the app, not a new set-up.
    type_into(page, "Email address", user.email)
    type_into(page, "Password", PASSWORD)
    page.keyboard.press("Enter")
    if needs_two_factor:
        expect(page).to_have_url(re.compile(r"/two-factor/verify/\?next=(/|%2F)$"))
        expect(page.locator("h1")).to_have_text("Enter your security code")
        # The code used to set up is spent (replay protection): the app's next one works.
        enter_code(page, VERIFY_LABEL, next_step_code(key))
    expect_dashboard(page, live_server.url, user)


@pytest.mark.covers("two_factor_setup", "two_factor_verify")
def test_a_used_code_is_refused_and_a_backup_code_signs_in_once(page: Page, live_server, world):
    user = world.contract_manager_a
    sign_in(page, live_server.url, user.email)
    app = set_up_two_factor(page)
    codes = app.backup_codes
    sign_out(page)

    # Replaying the code just used to set up is refused, with the error summary.
    sign_in(page, live_server.url, user.email)
    enter_code(page, VERIFY_LABEL, app.first_code)
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("The security code is not correct or has expired")
    expect(summary).to_be_focused()
    assert page.title().startswith("Error: ")
    time.sleep(1.1)  # a wrong code makes the next try wait a second (throttling)

    # A backup code from the set-up page signs in, once.
    enter_code(page, VERIFY_LABEL, codes[3])
    expect_dashboard(page, live_server.url, user)
    sign_out(page)
    sign_in(page, live_server.url, user.email)
    enter_code(page, VERIFY_LABEL, codes[3])
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    time.sleep(2.1)  # two wrong codes in a row: two seconds
    enter_code(page, VERIFY_LABEL, codes[4])
    expect_dashboard(page, live_server.url, user)
    page.goto(live_server.url + "/account/")
    expect(page.locator("main")).to_contain_text("On. 8 backup codes left.")


# --- 2. Wrong credentials and lock-out ------------------------------------------------------

def test_wrong_password_shows_the_error_summary(page: Page, live_server, world):
    sign_in(page, live_server.url, world.read_only_a.email, "not-the-password")

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_contain_text("Enter a correct email address and password")
    assert page.title().startswith("Error: ")


def test_the_error_summary_takes_focus(page: Page, live_server, world):
    """GOV.UK Frontend moves focus to the summary so a screen reader announces it."""
    sign_in(page, live_server.url, world.read_only_a.email, "not-the-password")
    expect(page.locator(".govuk-error-summary")).to_be_focused()


def test_empty_form_links_each_error_to_its_field(page: Page, live_server, world):
    page.goto(live_server.url + "/sign-in/")
    page.get_by_role("button", name="Sign in").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter your email address")
    expect(summary).to_contain_text("Enter your password")
    assert page.title().startswith("Error: ")
    summary.get_by_role("link", name="Enter your email address").click()
    expect(page.get_by_label("Email address", exact=True)).to_be_focused()


def test_repeated_failures_lock_the_account(page: Page, live_server, world):
    assert AccessAttempt.objects.count() == 0  # nothing left over from other tests
    email = world.finance_officer_a.email
    limit = settings.AXES_FAILURE_LIMIT
    for attempt in range(1, limit):
        sign_in(page, live_server.url, email, f"wrong-password-{attempt}")
        expect(page.locator(".govuk-error-summary")).to_contain_text("There is a problem")
        assert page.title().startswith("Error: ")

    sign_in(page, live_server.url, email, f"wrong-password-{limit}")
    expect(page.locator("h1")).to_have_text("Too many attempts to sign in")
    assert page.title().startswith("Too many attempts to sign in")

    # Even the right password is refused while locked.
    sign_in(page, live_server.url, email, PASSWORD)
    expect(page.locator("h1")).to_have_text("Too many attempts to sign in")
    assert AccessAttempt.objects.filter(username=email).exists()


def test_lockouts_do_not_leak_between_tests(page: Page, live_server, world):
    """Runs after the lock-out test with the same persona: the flush cleared axes."""
    assert AccessAttempt.objects.count() == 0
    sign_in_verified(page, live_server.url, world.finance_officer_a)
    expect(page.locator("h1")).to_have_text("Your dashboard")


# --- 3. Invitation journey ------------------------------------------------------------------

@pytest.mark.covers("invite", "invitation_accept")
def test_partnership_admin_invites_someone_who_creates_a_password(
    page: Page, live_server, world
):
    sign_in_verified(page, live_server.url, world.partnership_admin_a)
    page.goto(live_server.url + "/people/invite/")
    expect(page.locator("h1")).to_have_text("Invite someone")
    type_into(page, "Full name", "Nadia Newcomer")
    type_into(page, "Email address", "Nadia.Newcomer@example.org")
    pick(page, "Organisation", str(world.council_a))
    page.get_by_label("Contract manager", exact=True).check()
    page.get_by_role("button", name="Send invitation").click()

    expect(page).to_have_url(f"{live_server.url}/people/")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Invitation sent to nadia.newcomer@example.org"
    )
    expect(page.get_by_role("table", name="Invitations waiting to be accepted")).to_contain_text(
        "Nadia Newcomer"
    )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["nadia.newcomer@example.org"]
    path = invitation_path(message)

    # The invited person opens the link in their own browser session.
    sign_out(page)
    page.goto(live_server.url + path)
    expect(page.locator("h1")).to_have_text("Create your account")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Nadia Newcomer")
    type_into(page, "Create a password", "A-long-new-password-2026")
    type_into(page, "Confirm password", "A-long-new-password-2026")
    page.get_by_role("button", name="Create account").click()

    # A contract manager must use two-factor sign-in: set it up before anything else.
    expect(page).to_have_url(f"{live_server.url}/two-factor/setup/")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Your account has been created"
    )
    app = set_up_two_factor(page)
    page.get_by_role("button", name="I have saved my backup codes").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("h1")).to_have_text("Your dashboard")
    expect(page.locator(".app-header__account")).to_contain_text(
        f"Nadia Newcomer, {world.council_a.name}"
    )

    # The link works once.
    sign_out(page)
    page.goto(live_server.url + path)
    expect(page.locator("h1")).to_have_text("You cannot use this invitation")
    expect(page.locator("main")).to_contain_text("already been used")

    # And the new password signs in.
    sign_in(page, live_server.url, "nadia.newcomer@example.org", "A-long-new-password-2026")
    expect(page.locator("h1")).to_have_text("Enter your security code")
    enter_code(page, VERIFY_LABEL, next_step_code(app.key))
    expect(page.locator("h1")).to_have_text("Your dashboard")


# --- 4. Keyboard only -----------------------------------------------------------------------

def test_tab_reaches_the_skip_link_first(page: Page, live_server, world):
    page.goto(live_server.url + "/sign-in/")
    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Skip to main content")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_visible()  # shown on focus, not only to screen readers
    assert skip_link.get_attribute("href") == "#main-content"
    assert page.locator("main#main-content").count() == 1


def test_the_skip_link_moves_focus_to_main_content(page: Page, live_server, world):
    page.goto(live_server.url + "/sign-in/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    assert page.evaluate("document.activeElement.id") == "main-content"
    # The next Tab continues inside the main content, not from the top of the page.
    page.keyboard.press("Tab")
    assert page.evaluate(
        "document.getElementById('main-content').contains(document.activeElement)"
    )


def test_govuk_frontend_javascript_runs(page: Page, live_server, world):
    """The inline scripts carry the CSP nonce, so the browser runs GOV.UK Frontend."""
    blocked = []
    page.on("console", lambda message: message.type == "error" and blocked.append(message.text))
    page.goto(live_server.url + "/sign-in/")
    classes = page.evaluate("document.body.className").split()
    assert "govuk-frontend-supported" in classes, blocked
    assert not blocked


def tab_to(page: Page, name: str) -> None:
    """Press Tab until the field called ``name`` has focus, as a keyboard user would."""
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == name:
            return
    raise AssertionError(f"Tab never reached the field {name!r}")


def test_sign_in_works_with_the_keyboard_alone(page: Page, live_server, world):
    give_authenticator(world.commissioner_a)
    page.goto(live_server.url + "/sign-in/")
    email_field = page.get_by_label("Email address", exact=True)
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "username":
            break
    expect(email_field).to_be_focused()
    page.keyboard.type(world.commissioner_a.email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Enter your security code")
    tab_to(page, "otp_token")
    expect(page.get_by_label(VERIFY_LABEL, exact=True)).to_be_focused()
    page.keyboard.type(database_code(world.commissioner_a))
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Continue")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Your dashboard")


# --- 5 and 6. Accessibility of every page in the shell --------------------------------------

def test_every_page_in_the_shell_passes_axe_with_one_h1_and_a_unique_title(
    page: Page, live_server, world
):
    base = live_server.url
    commissioner = world.commissioner_a
    # A second organisation, so the switcher shows; as partnership administrator there, so
    # the invitation pages are in reach of the same person.
    Membership.objects.create(
        user=commissioner, organisation=world.icb_a, role=Role.PARTNERSHIP_ADMIN
    )
    scanner = Scanner(page)

    # Signed out
    page.goto(base + "/sign-in/")
    scanner.scan("sign-in")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    scanner.scan("sign-in with errors")
    page.goto(base + "/password-reset/")
    scanner.scan("password reset")
    page.get_by_role("button", name="Send reset link").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    scanner.scan("password reset with errors")
    type_into(page, "Email address", commissioner.email)
    page.get_by_role("button", name="Send reset link").click()
    expect(page).to_have_url(base + "/password-reset/sent/")
    scanner.scan("password reset sent")
    reset_path = re.search(r"/password-reset/[^/\s]+/[^/\s]+/", mail.outbox[-1].body).group(0)
    page.goto(base + "/password-reset/not-a-user/not-a-token/")
    scanner.scan("password reset link expired")
    page.goto(base + reset_path)
    expect(page.locator("h1")).to_have_text("Create a new password")
    scanner.scan("password reset new password")
    page.goto(base + "/invitation/not-a-real-token/")
    expect(page.locator("h1")).to_have_text("You cannot use this invitation")
    scanner.scan("invalid invitation")
    page.goto(base + "/accessibility/")
    scanner.scan("accessibility statement (signed out)")

    # Signed in as the commissioner: first two-factor set-up, then a sign-in with a code.
    sign_in(page, base, commissioner.email)
    expect(page.locator("h1")).to_have_text("Set up two-factor sign-in")
    scanner.scan("two-factor setup")
    enter_code(page, SETUP_LABEL, "000000")
    expect(page.locator(".govuk-error-summary")).to_contain_text("The code is not correct")
    assert page.title().startswith("Error: ")
    scanner.scan("two-factor setup with errors")
    time.sleep(1.1)  # a wrong code makes the next try wait a second (throttling)
    app = set_up_two_factor(page)
    scanner.scan("two-factor backup codes")
    page.get_by_role("button", name="I have saved my backup codes").click()
    expect(page.locator("h1")).to_have_text("Your dashboard")
    sign_out(page)
    sign_in(page, base, commissioner.email)
    expect(page.locator("h1")).to_have_text("Enter your security code")
    scanner.scan("two-factor verify")
    enter_code(page, VERIFY_LABEL, "12345678")
    expect(page.locator(".govuk-error-summary")).to_contain_text("not correct or has expired")
    assert page.title().startswith("Error: ")
    scanner.scan("two-factor verify with errors")
    time.sleep(1.1)
    enter_code(page, VERIFY_LABEL, next_step_code(app.key))
    expect(page.locator("h1")).to_have_text("Your dashboard")
    scanner.scan("dashboard")
    page.goto(base + "/account/")
    expect(page.locator("main")).to_contain_text("On. 10 backup codes left.")
    scanner.scan("account (two-factor on)")
    page.get_by_role("button", name="Get new backup codes").click()
    expect(page.locator("h1")).to_have_text("Your new backup codes")
    scanner.scan("new backup codes", same_page_as="two-factor backup codes")
    page.goto(base + "/account/")
    page.goto(base + "/account/password/")
    scanner.scan("password change")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    scanner.scan("password change with errors")
    page.goto(base + "/partnerships/")
    scanner.scan("partnerships")
    page.locator("main").get_by_role("link", name=world.partnership_a.name).click()
    expect(page.locator("h1")).to_have_text(world.partnership_a.name)
    scanner.scan("partnership detail")
    page.get_by_role("link", name="View history of changes").click()
    expect(page.locator("h1")).to_have_text("History of changes")
    scanner.scan("partnership history")
    page.goto(base + "/people/")
    scanner.scan("people")
    page.goto(base + "/organisation/switch/")
    scanner.scan("organisation switcher")
    page.get_by_label(world.icb_a.name, exact=True).check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".app-header__account")).to_contain_text(world.icb_a.name)
    scanner.scan("dashboard with success banner", same_page_as="dashboard")
    page.goto(base + "/people/")
    scanner.scan("people (as partnership administrator)", same_page_as="people")
    page.goto(base + "/people/invite/")
    scanner.scan("invite")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("There is a problem")
    assert page.title().startswith("Error: ")
    scanner.scan("invite with errors")
    page.goto(base + "/accessibility/")
    scanner.scan("accessibility statement", same_page_as="accessibility statement (signed out)")
    response = page.goto(base + "/no-such-page/")
    assert response.status == 404
    scanner.scan("page not found")
    response = page.goto(base + "/invitation/another-bad-token/")
    assert response.status == 410
    scanner.scan("invalid invitation (signed in)", same_page_as="invalid invitation")


    # An invitation for someone new, then their view of it, signed out.
    page.goto(base + "/people/invite/")
    type_into(page, "Full name", "Ola Onboarding")
    type_into(page, "Email address", "ola@example.org")
    pick(page, "Organisation", str(world.icb_a))
    page.get_by_label("Commissioner", exact=True).check()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".govuk-notification-banner--success")).to_be_visible()
    scanner.scan("people with success banner", same_page_as="people")
    sign_out(page)
    page.goto(base + invitation_path(mail.outbox[-1]))
    expect(page.locator("h1")).to_have_text("Create your account")
    scanner.scan("create your account")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    scanner.scan("create your account with errors")

    # Locked out after too many failures.
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(page, base, world.read_only_a.email, f"wrong-{attempt}")
    expect(page.locator("h1")).to_have_text("Too many attempts to sign in")
    scanner.scan("locked out")

    scanner.check()
