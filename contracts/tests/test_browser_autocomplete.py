"""Accessible autocomplete for provider, organisation and CPV pickers (issue 19, issue 16), in a
real Chromium: a person types part of a name and picks from the list with the keyboard; the same
pages work with JavaScript turned off (the plain GOV.UK select, the text input the server
reads); the pickers keep their label, hint and error, pass axe and fit 320 CSS px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from commissioning.tests.browser import (
    Scanner,
    expect_heading,
    press,
    sign_in_verified,
)
from commissioning.tests.factories import ProviderFactory
from contracts.frameworks.tests.factories import admit, framework_for
from contracts.models import Contract
from contracts.tests.factories import contract_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def known_provider(world):
    """A second provider partnership A knows (it applied to A's framework), so the contract's
    "Provider" picker offers it beside provider X."""
    provider = ProviderFactory(name="Zephyr Community Care")
    admit(provider, framework_for(world).lots.get(number=2), decision="pending")
    return provider


def _open_change_details(page: Page, base: str, contract: Contract) -> None:
    page.goto(base + contract.get_absolute_url())
    page.get_by_role("link", name="Change details").click()
    expect_heading(page, "Change contract details")


def _picker(page: Page, label: str, field: str):
    """The enhanced picker, once the script has replaced the control (the select is a
    combobox too until then), found as a person's screen reader would: by its label."""
    expect(page.locator(f"input#id_{field}")).to_be_visible(timeout=20_000)  # a busy machine
    return page.get_by_role("combobox", name=label, exact=True)


def _choose_with_arrows(page: Page, listbox_id: str, option: str) -> None:
    """Move down the suggestions with the arrow key to ``option`` and press Enter."""
    wanted = page.locator(f"#{listbox_id}").get_by_role("option", name=option, exact=True)
    expect(wanted).to_be_visible()
    for _ in range(25):
        page.keyboard.press("ArrowDown")
        if "autocomplete__option--focused" in (wanted.get_attribute("class") or ""):
            break
    expect(wanted).to_have_class(re.compile(r"autocomplete__option--focused"))
    page.keyboard.press("Enter")


def _page_scrolls_sideways(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.covers("contracts:edit")
def test_it_lets_a_person_pick_a_provider_by_typing_part_of_its_name_with_the_keyboard(
        page: Page, live_server, world, known_provider):
    base = live_server.url
    contract = contract_for(world, reference="AC-1", title="Carers support")
    sign_in_verified(page, base, world.commissioner_a)
    _open_change_details(page, base, contract)

    # The select became a combobox still named by its label; the select is hidden.
    picker = _picker(page, "Provider", "provider")
    expect(picker).to_have_value(world.provider_x.name)
    expect(page.locator("select[name=provider]")).to_be_hidden()
    scanner = Scanner(page)

    picker.fill("")
    picker.press_sequentially("zeph", delay=30)
    listbox = page.locator("#id_provider__listbox")
    expect(listbox.get_by_role("option")).to_have_count(1)
    expect(listbox.get_by_role("option", name="Zephyr Community Care")).to_be_visible()
    scanner.scan("provider picker, list open")
    page.keyboard.press("ArrowDown")
    expect(listbox.get_by_role("option", name="Zephyr Community Care")).to_have_class(
        re.compile(r"autocomplete__option--focused"))
    page.keyboard.press("Enter")
    expect(picker).to_have_value("Zephyr Community Care")
    press(page, "Save changes")
    expect_heading(page, "Carers support")
    expect(page.locator("main")).to_contain_text("Zephyr Community Care")
    assert Contract.objects.get(pk=contract.pk).provider == known_provider

    # Cleared text posts no choice: the server's message, next to the enhanced field, which
    # keeps the error's look and its description.
    _open_change_details(page, base, contract)
    picker = _picker(page, "Provider", "provider")
    picker.fill("")
    press(page, "Save changes")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select the provider")
    group = page.locator(".govuk-form-group--error", has=page.locator("#id_provider"))
    expect(group).to_have_count(1)
    picker = _picker(page, "Provider", "provider")
    expect(picker).to_have_class(re.compile(r"govuk-input--error"))
    described = " ".join(
        page.locator(f"[id='{ref}']").inner_text()
        for ref in (picker.get_attribute("aria-describedby") or "").split())
    assert "Select the provider" in described, described
    scanner.scan("provider picker with an error")
    assert Contract.objects.get(pk=contract.pk).provider == known_provider

    # At 320 CSS px (400% zoom) the picker and its list fit the page.
    page.set_viewport_size({"width": 320, "height": 640})
    picker.press_sequentially("comm", delay=30)
    expect(page.locator("#id_provider__listbox").get_by_role("option").first).to_be_visible()
    assert _page_scrolls_sideways(page) <= 0
    scanner.check()


@pytest.mark.covers("contracts:edit")
def test_it_works_with_javascript_turned_off_with_the_plain_select(
        browser: Browser, live_server, world, known_provider):
    base = live_server.url
    contract = contract_for(world, reference="AC-2", title="Day opportunities")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in_verified(page, base, world.commissioner_a)
        _open_change_details(page, base, contract)
        expect(page.get_by_role("combobox")).to_have_count(
            page.locator("select").count())  # only selects: nothing was enhanced
        select = page.get_by_label("Provider", exact=True)
        expect(select).to_have_js_property("tagName", "SELECT")
        select.select_option(label="Zephyr Community Care")
        press(page, "Save changes")
        expect_heading(page, "Day opportunities")
        expect(page.locator("main")).to_contain_text("Zephyr Community Care")
        assert Contract.objects.get(pk=contract.pk).provider == known_provider
    finally:
        context.close()


@pytest.mark.covers("contracts:edit")
def test_it_lets_a_person_find_a_cpv_code_by_words_or_the_start_of_the_code(
        page: Page, live_server, world):
    base = live_server.url
    contract = contract_for(world, reference="AC-3", title="Talking therapies")
    sign_in_verified(page, base, world.commissioner_a)
    _open_change_details(page, base, contract)
    scanner = Scanner(page)

    # Words: "mental health" is in no CPV label, but finds the psychiatric services.
    picker = _picker(page, "Main CPV code (optional)", "cpv_code")
    picker.press_sequentially("mental health", delay=30)
    scanner.scan("CPV picker, suggestions for words")
    _choose_with_arrows(page, "id_cpv_code__listbox",
                        "85121270 Psychiatrist or psychologist services")
    expect(picker).to_have_value("85121270 Psychiatrist or psychologist services")
    press(page, "Save changes")
    expect_heading(page, "Talking therapies")
    expect(page.locator("main")).to_contain_text(
        "85121270 Psychiatrist or psychologist services (main)")
    assert Contract.objects.get(pk=contract.pk).cpv_code == "85121270"

    # The start of a code; the field shows the saved code with its label.
    _open_change_details(page, base, contract)
    picker = _picker(page, "Main CPV code (optional)", "cpv_code")
    expect(picker).to_have_value("85121270 Psychiatrist or psychologist services")
    picker.fill("")
    picker.press_sequentially("8532", delay=30)
    _choose_with_arrows(page, "id_cpv_code__listbox", "85323000 Community health services")
    press(page, "Save changes")
    expect(page.locator("main")).to_contain_text("85323000 Community health services (main)")
    assert Contract.objects.get(pk=contract.pk).cpv_code == "85323000"
    scanner.check()


@pytest.mark.covers("contracts:edit")
def test_it_reads_cpv_words_on_the_server_with_javascript_turned_off(
        browser: Browser, live_server, world):
    base = live_server.url
    contract = contract_for(world, reference="AC-4", title="Community nursing")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in_verified(page, base, world.commissioner_a)
        _open_change_details(page, base, contract)
        field = page.get_by_label("Main CPV code (optional)", exact=True)
        expect(field).to_have_js_property("tagName", "INPUT")
        # Words that name several codes: the codes are listed next to the field.
        field.fill("mental health")
        press(page, "Save changes")
        group = page.locator(".govuk-form-group--error", has=page.locator("#id_cpv_code"))
        expect(group).to_contain_text("More than one CPV code matches “mental health”")
        expect(group).to_contain_text("85121270 Psychiatrist or psychologist services")
        assert Contract.objects.get(pk=contract.pk).cpv_code == ""
        # Words that name one code take it.
        field = page.get_by_label("Main CPV code (optional)", exact=True)
        field.fill("community health services")
        press(page, "Save changes")
        expect_heading(page, "Community nursing")
        assert Contract.objects.get(pk=contract.pk).cpv_code == "85323000"
    finally:
        context.close()


def test_it_suggests_provider_names_in_the_register_filter(
        page: Page, live_server, world, known_provider):
    base = live_server.url
    contract_for(world, reference="AC-5", title="Befriending")
    contract_for(world, reference="AC-6", title="Home visiting", provider=known_provider)
    sign_in_verified(page, base, world.commissioner_a)
    page.goto(base + "/contracts/")
    expect_heading(page, "Contract register")
    picker = _picker(page, "Provider", "provider")
    picker.press_sequentially("zeph", delay=30)
    _choose_with_arrows(page, "id_provider__listbox", "Zephyr Community Care")
    expect(picker).to_have_value("Zephyr Community Care")
    scanner = Scanner(page)
    scanner.scan("register with provider suggestions")
    press(page, "Apply filters")
    table = page.locator("main table")
    expect(table).to_contain_text("Home visiting")
    expect(table).not_to_contain_text("Befriending")
    # Part of a name typed and applied still filters, as without JavaScript.
    picker = _picker(page, "Provider", "provider")
    picker.fill("")
    picker.press_sequentially("bromley third", delay=30)
    press(page, "Apply filters")
    expect(page.locator("main table")).to_contain_text("Befriending")
    expect(page.locator("main table")).not_to_contain_text("Home visiting")
    scanner.check()
