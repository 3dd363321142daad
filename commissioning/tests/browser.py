"""Shared helpers for the Playwright browser tests: typing, signing in (with the real
two-factor pages), and an axe scanner that also checks one <h1> and unique titles.

Not a test module (no ``test_`` prefix); imported by every app's ``test_browser.py``.
"""

from __future__ import annotations

import re
import time
from base64 import b32decode
from dataclasses import dataclass

from axe_playwright_python.sync_playwright import Axe
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from commissioning import two_factor
from commissioning.tests.factories import PASSWORD

STEP = 30  # seconds per TOTP code, as the authenticator app and the service use


# --- Pressing buttons and reading headings ---------------------------------------------------

def press(page: Page, name: str) -> None:
    """Press the main content's button called ``name`` and wait for the page it leads to."""
    button = page.locator("main").get_by_role("button", name=name, exact=True)
    with page.expect_navigation():
        button.click()


def expect_heading(page: Page, text: str) -> None:
    expect(page.locator("h1")).to_have_text(text)


# --- Typing and signing in -------------------------------------------------------------------

def type_into(page: Page, label: str, text: str) -> None:
    """Focus a field through its label and type with the keyboard, as a person would."""
    page.get_by_label(label, exact=True).focus()
    page.keyboard.type(text)


def pick(page: Page, label: str, option: str) -> None:
    """Choose ``option`` in a picker as a person would. With JavaScript the select is an
    accessible autocomplete (commissioning/widgets.py): type the option's name and choose the
    suggestion. Without it (``java_script_enabled=False``), the plain select."""
    field = page.get_by_label(label, exact=True)
    enhanced = page.evaluate("document.body.classList.contains('js-enabled')") and \
        field.evaluate("e => e.tagName === 'INPUT' || e.hasAttribute('data-app-autocomplete')")
    if not enhanced:
        field.select_option(label=option)
        return
    field_id = field.get_attribute("id")
    combobox = page.locator(f"input[id='{field_id}']")
    expect(combobox).to_be_visible(timeout=20_000)  # the script may still be loading
    combobox.fill("")
    combobox.press_sequentially(option, delay=10)
    page.locator(f"[id='{field_id}__listbox']").get_by_role(
        "option", name=option, exact=True).click()
    expect(combobox).to_have_value(option)


def sign_in(page: Page, base_url: str, email: str, password: str = PASSWORD) -> None:
    """The password step only: where it lands depends on the person's two-factor set-up."""
    page.goto(f"{base_url}/sign-in/")
    type_into(page, "Email address", email)
    type_into(page, "Password", password)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def sign_out(page: Page) -> None:
    with page.expect_navigation():
        page.locator("header").get_by_role("button", name="Sign out").click()


# --- Two-factor codes ------------------------------------------------------------------------

def wait_for_a_fresh_step(margin: float = 3.0) -> None:
    """Wait out the last seconds of a 30-second step, so a code typed now is still the
    newest one when the server checks it (as a person waits for the app's next code)."""
    left = STEP - time.time() % STEP
    if left < margin:
        time.sleep(left + 0.2)


def totp_code(key: bytes, *, steps_ahead: int = 0) -> str:
    """The 6-digit code an authenticator app holding ``key`` shows now (or steps later)."""
    generator = TOTP(key, STEP, 0, 6, 0)
    generator.time = time.time() + steps_ahead * STEP
    return f"{generator.token():06d}"


def setup_key(page: Page) -> bytes:
    """Open "I cannot scan the QR code" and read the setup key, as a person would type it
    into their app: base32 in groups of four, without padding."""
    page.get_by_text("I cannot scan the QR code").click()
    details = page.locator("details.govuk-details")
    expect(details).to_have_attribute("open", "")
    text = details.locator(".govuk-details__text strong").inner_text()
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{1,4})+", text), text
    compact = text.replace(" ", "")
    return b32decode(compact + "=" * (-len(compact) % 8))


def enter_code(page: Page, label: str, code: str) -> None:
    """Type a code (over any code left in the field after an error) and press Enter."""
    page.get_by_label(label, exact=True).fill("")
    type_into(page, label, code)
    with page.expect_navigation():
        page.keyboard.press("Enter")


SETUP_LABEL = "Enter the 6-digit code from your authenticator app"
VERIFY_LABEL = "Security code"


@dataclass
class Authenticator:
    key: bytes  # as read from the setup page
    first_code: str  # the code typed to finish the set-up (spent: replays are refused)
    backup_codes: list[str]


def backup_codes_on_page(page: Page) -> list[str]:
    codes = page.get_by_role("list", name="Backup codes").locator("code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"\d{8}", c) for c in codes), codes
    return codes


def set_up_two_factor(page: Page) -> Authenticator:
    """On "Set up two-factor sign-in": read the key, type the app's code, and return what a
    person would keep. Leaves the browser on the backup codes page."""
    expect(page.locator("h1")).to_have_text("Set up two-factor sign-in")
    key = setup_key(page)
    wait_for_a_fresh_step()
    code = totp_code(key)
    enter_code(page, SETUP_LABEL, code)
    expect(page.locator("h1")).to_have_text("Two-factor sign-in is set up")
    return Authenticator(key=key, first_code=code, backup_codes=backup_codes_on_page(page))


def next_step_code(key: bytes) -> str:
    """The app's next code: a code already used in this 30-second step is refused (replay
    protection), and the service accepts one step either side."""
    return totp_code(key, steps_ahead=1)


def give_authenticator(user) -> bytes:
    """A confirmed authenticator app for ``user``, made in the database for tests about
    something other than setting one up. Returns its key."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    return device.bin_key


def database_code(user) -> str:
    """The newest code for ``user``'s authenticator that the service will still accept,
    taking its replay protection (last step used) and clock drift into account."""
    while True:
        wait_for_a_fresh_step()
        device = TOTPDevice.objects.get(user=user, confirmed=True)
        now = int((time.time() - device.t0) // device.step) + device.drift
        step = max(now, device.last_t + 1)
        if step <= now + device.tolerance:
            generator = TOTP(device.bin_key, device.step, device.t0, device.digits, 0)
            generator.time = device.t0 + step * device.step + 1
            return f"{generator.token():0{device.digits}d}"
        time.sleep(STEP - time.time() % STEP + 0.2)


def sign_in_verified(page: Page, base_url: str, user, *,
                     password: str = PASSWORD) -> Authenticator | None:
    """Sign in through the real pages as a person whose role may need two-factor sign-in:
    the first time, set up an authenticator on "Set up two-factor sign-in" (returning what
    was set up); later, type its newest code on "Enter your security code". Ends on the
    dashboard. Providers with no requirement go straight there."""
    sign_in(page, base_url, user.email, password)
    app = None
    if two_factor.has_second_factor(user):
        expect(page.locator("h1")).to_have_text("Enter your security code")
        enter_code(page, VERIFY_LABEL, database_code(user))
    elif two_factor.is_required(user):
        app = set_up_two_factor(page)
        with page.expect_navigation():
            page.get_by_role("button", name="I have saved my backup codes").click()
    expect(page.locator("h1")).to_have_text("Your dashboard")
    return app


# --- Accessibility ---------------------------------------------------------------------------

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

    def check(self) -> None:
        print(f"\nScanned {self.scanned} page states ({len(self.titles)} distinct titles)")
        assert not self.problems, "\n\n".join(self.problems)
