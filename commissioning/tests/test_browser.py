"""Real-browser journeys and accessibility checks, driven through headless Chromium.

Every test runs against pytest-django's live server (same process, so the locmem e-mail
outbox is shared) with a transactional database, so each test starts with an empty database
and no django-axes access attempts.
"""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.core import mail
from playwright.sync_api import Page, expect

from commissioning.models import Membership, Role
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


@pytest.fixture(autouse=True)
def _password_only_sign_in(settings):
    """These tests cover the shell and the password sign-in. Two-factor sign-in (being built
    alongside, with its own tests) would put a code page between password and dashboard, so
    it is switched off here; nothing else about the settings changes."""
    settings.TWO_FACTOR_ENABLED = False


# --- Helpers --------------------------------------------------------------------------------

def type_into(page: Page, label: str, text: str) -> None:
    """Focus a field through its label and type with the keyboard, as a person would."""
    page.get_by_label(label, exact=True).focus()
    page.keyboard.type(text)


def sign_in(page: Page, base_url: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/sign-in/")
    type_into(page, "Email address", email)
    type_into(page, "Password", password)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def sign_out(page: Page) -> None:
    with page.expect_navigation():
        page.locator("header").get_by_role("button", name="Sign out").click()


def invitation_path(message) -> str:
    match = re.search(r"/invitation/[^/\s]+/", message.body)
    assert match, f"no invitation link in the e-mail:\n{message.body}"
    return match.group(0)


# --- 1. Sign-in journey for every role ------------------------------------------------------

@pytest.mark.parametrize("persona", ROLE_PERSONAS)
def test_each_persona_signs_in_with_the_keyboard_and_signs_out(
    page: Page, live_server, world, persona
):
    user = getattr(world, persona)
    membership = Membership.objects.filter(user=user).select_related("organisation").first()

    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/sign-in/\?next=/$"))
    expect(page.locator("h1")).to_have_text("Sign in")

    type_into(page, "Email address", user.email)
    type_into(page, "Password", PASSWORD)
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("h1")).to_have_text("Your dashboard")
    account = page.locator(".app-header__account")
    expect(account).to_contain_text(user.full_name)
    if membership is not None:
        expect(account).to_contain_text(membership.organisation.name)
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
    from axes.models import AccessAttempt

    assert AccessAttempt.objects.count() == 0  # nothing left over from other tests
    email = world.finance_officer_a.email
    limit = settings.AXES_FAILURE_LIMIT
    for attempt in range(1, limit):
        sign_in(page, live_server.url, email, f"wrong-password-{attempt}")
        expect(page.locator(".govuk-error-summary")).to_contain_text("There is a problem")
        assert page.title().startswith("Error: ")

    sign_in(page, live_server.url, email, f"wrong-password-{limit}")
    expect(page.locator("h1")).to_have_text("Your account is locked")
    assert page.title().startswith("Your account is locked")

    # Even the right password is refused while locked.
    sign_in(page, live_server.url, email, PASSWORD)
    expect(page.locator("h1")).to_have_text("Your account is locked")
    assert AccessAttempt.objects.filter(username=email).exists()


def test_lockouts_do_not_leak_between_tests(page: Page, live_server, world):
    """Runs after the lock-out test with the same persona: the flush cleared axes."""
    from axes.models import AccessAttempt

    assert AccessAttempt.objects.count() == 0
    sign_in(page, live_server.url, world.finance_officer_a.email)
    expect(page.locator("h1")).to_have_text("Your dashboard")


# --- 3. Invitation journey ------------------------------------------------------------------

def test_partnership_admin_invites_someone_who_creates_a_password(
    page: Page, live_server, world
):
    sign_in(page, live_server.url, world.partnership_admin_a.email)
    page.goto(live_server.url + "/people/invite/")
    expect(page.locator("h1")).to_have_text("Invite someone")
    type_into(page, "Full name", "Nadia Newcomer")
    type_into(page, "Email address", "Nadia.Newcomer@example.org")
    page.get_by_label("Organisation", exact=True).select_option(
        label=str(world.council_a)
    )
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

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("h1")).to_have_text("Your dashboard")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Your account has been created"
    )
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


def test_sign_in_works_with_the_keyboard_alone(page: Page, live_server, world):
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
    expect(page.locator("h1")).to_have_text("Your dashboard")


# --- 5 and 6. Accessibility of every page in the shell --------------------------------------

def format_violations(results) -> str:
    lines = []
    for violation in results.response["violations"]:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    {node['target']}: {node['html'][:200]}")
    return "\n".join(lines)


class Scanner:
    """Runs axe on a page and checks the one-<h1> and unique-<title> rules as it goes."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.axe = Axe()
        self.titles: dict[str, str] = {}
        self.problems: list[str] = []
        self.scanned = 0

    def scan(self, name: str, *, same_page_as: str | None = None) -> None:
        """Scan the current page. ``same_page_as`` names an earlier scan of the same page in
        another state (signed in, after a banner), whose title it is expected to share."""
        page = self.page
        page.wait_for_load_state("load")
        results = self.axe.run(page)
        if results.violations_count:
            self.problems.append(
                f"{name} ({page.url}): {results.violations_count} axe violation(s)\n"
                + format_violations(results)
            )
        h1_count = page.locator("h1").count()
        if h1_count != 1:
            self.problems.append(f"{name} ({page.url}): {h1_count} <h1> elements")
        self.scanned += 1
        title = page.title()
        if same_page_as is not None:
            if self.titles.get(title) != same_page_as:
                self.problems.append(f"{name}: title {title!r} is not that of {same_page_as}")
            return
        if title in self.titles:
            self.problems.append(
                f"{name} ({page.url}): title {title!r} already used by {self.titles[title]}"
            )
        self.titles[title] = name


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

    # Signed in as the commissioner
    sign_in(page, base, commissioner.email)
    expect(page.locator("h1")).to_have_text("Your dashboard")
    scanner.scan("dashboard")
    page.goto(base + "/account/")
    scanner.scan("account")
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
    page.get_by_label("Organisation", exact=True).select_option(label=str(world.icb_a))
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
    expect(page.locator("h1")).to_have_text("Your account is locked")
    scanner.scan("locked out")

    print(f"\nScanned {scanner.scanned} page states ({len(scanner.titles)} distinct titles)")
    assert not scanner.problems, "\n\n".join(scanner.problems)
