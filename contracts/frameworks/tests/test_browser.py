"""Frameworks in a real browser, every framework page (and the error state of each form)
checked with axe, one <h1> and a unique title:

- a provider applies to a lot in an open window with the keyboard (after the "select a lot"
  error), and the commissioner evaluates and admits it;
- a commissioner calls off a service with the keyboard after fixing the shares, opens it in
  the register and its history, and a provider applies to another lot and sees its own
  applications."""


from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from commissioning.tests.browser import Scanner, pick, press, sign_in_verified, sign_out, type_into
from contracts.frameworks.models import ApplicationDecision, CallOff, ProviderApplication
from contracts.frameworks.tests.factories import WindowFactory, admit, framework_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def expect_errors(page: Page, message: str) -> None:
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text(message)
    assert page.title().startswith("Error: "), page.title()


@pytest.mark.covers("contracts:framework_apply", "contracts:application_evaluate")
def test_a_provider_applies_in_an_open_window_and_every_framework_page_passes_axe(
        page: Page, live_server, world):
    base = live_server.url
    scanner = Scanner(page)
    framework = framework_for(world, title="Early intervention and prevention")
    lot1, lot3 = framework.lots.get(number=1), framework.lots.get(number=3)
    admit(world.provider_y, lot1)
    today = timezone.localdate()
    WindowFactory(framework=framework, opens=today - timedelta(days=3),
                  closes=today + timedelta(days=11))
    f = f"{base}/frameworks/{framework.pk}/"

    # A provider applies to lot 3 with the keyboard, after forgetting to choose a lot.
    sign_in_verified(page, base, world.provider_x_user)
    page.get_by_role("link", name="Frameworks").first.click()
    expect(page.locator("h1")).to_have_text("Frameworks")
    scanner.scan("provider: frameworks")
    page.get_by_role("link", name=f"Apply to {framework.title}").click()
    expect(page.locator("h1")).to_have_text(f"Apply to join {framework.title}")
    scanner.scan("provider: apply")
    press(page, "Send application")
    expect_errors(page, "Select at least one lot")
    scanner.scan("provider: apply with errors")
    page.locator(".govuk-error-summary").get_by_role("link",
                                                     name="Select at least one lot").click()
    page.get_by_label(f"Lot 3: {lot3.title}", exact=True).focus()
    page.keyboard.press("Space")
    expect(page.get_by_label(f"Lot 3: {lot3.title}", exact=True)).to_be_checked()
    page.locator("main").get_by_role("button", name="Send application").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Application sent for lot 3")
    mine = page.get_by_role("table", name=f"Applications made by {world.provider_x.name}")
    expect(mine.locator("tbody tr")).to_contain_text("Applied")
    application = ProviderApplication.objects.get(provider=world.provider_x, lot=lot3)
    assert application.window.closes == today + timedelta(days=11)
    mine.get_by_role("link", name=str(lot3)).click()
    scanner.scan("provider: application")
    sign_out(page)

    # The commissioner's pages, then the evaluation of that application.
    sign_in_verified(page, base, world.commissioner_a)
    page.goto(base + "/frameworks/")
    scanner.scan("framework list", same_page_as="provider: frameworks")
    page.goto(f)
    expect(page.locator("h1")).to_have_text(framework.title)
    scanner.scan("framework page")
    page.goto(f"{f}lots/{lot1.pk}/")
    expect(page.locator("main")).to_contain_text(world.provider_y.name)
    scanner.scan("lot page")
    page.goto(f"{f}windows/")
    scanner.scan("windows")
    type_into(page, "Opens on", (today + timedelta(days=5)).strftime("%d/%m/%Y"))
    type_into(page, "Closes on", (today + timedelta(days=30)).strftime("%d/%m/%Y"))
    press(page, "Add window")  # overlaps the open window
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    scanner.scan("windows with errors")
    for url, heading, button in [
        (base + "/frameworks/new/", "Set up a framework", "Set up framework"),
        (f"{f}lots/new/", "Add a lot", "Add lot"),
        (f"{f}lots/{lot1.pk}/call-off/", "Call off from lot 1", "Call off"),
    ]:
        page.goto(url)
        expect(page.locator("h1")).to_have_text(heading)
        scanner.scan(heading)
        press(page, button)
        expect(page.locator(".govuk-error-summary")).to_be_visible()
        scanner.scan(f"{heading} with errors")

    page.goto(f"{f}applications/")
    expect(page.locator("h1")).to_have_text("Provider applications")
    scanner.scan("applications")
    page.goto(f"{base}/frameworks/applications/{application.pk}/")
    scanner.scan("application", same_page_as="provider: application")
    page.get_by_role("link", name="Evaluate the application").click()
    expect(page.locator("h1")).to_have_text("Evaluate the application")
    scanner.scan("evaluate")
    page.get_by_label("Criteria met", exact=True).check()
    page.get_by_label("Admit the provider to the lot", exact=True).check()
    press(page, "Record decision")  # no framework agreement date
    expect_errors(page, "Enter the date of the framework agreement")
    scanner.scan("evaluate with errors")
    type_into(page, "Framework agreement date", today.strftime("%d/%m/%Y"))
    press(page, "Record decision")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        f"{world.provider_x.display_name}: application decided")
    application.refresh_from_db()
    assert application.decision == ApplicationDecision.ADMITTED
    page.goto(f"{f}lots/{lot3.pk}/")
    expect(page.locator("main")).to_contain_text(world.provider_x.name)
    scanner.scan("lot page (admitted)")
    scanner.check()


@pytest.mark.covers("contracts:call_off_create")
def test_framework_journeys_and_every_framework_page_passes_axe(page: Page, live_server,
                                                                world):
    base = live_server.url
    scanner = Scanner(page)
    framework = framework_for(world)
    lot = framework.lots.get(number=1)
    admit(world.provider_x, lot)
    admit(world.provider_y, framework.lots.get(number=2), decision=ApplicationDecision.PENDING)
    today = timezone.localdate()
    WindowFactory(framework=framework, opens=today - timedelta(days=2),
                  closes=today + timedelta(days=12))

    sign_in_verified(page, base, world.commissioner_a)
    page.get_by_role("link", name="Frameworks").first.click()
    expect(page.locator("h1")).to_have_text("Frameworks")
    scanner.scan("framework list")
    page.get_by_role("link", name=framework.reference).click()
    expect(page.locator("h1")).to_have_text(framework.title)
    expect(page.get_by_role("table", name="Each provider's standing in each lot")).to_be_visible()
    scanner.scan("framework page")

    for path, heading in [
        ("edit/", "Change framework details"), ("lots/new/", "Add a lot"),
        ("windows/", "Procurement windows"), ("applications/", "Provider applications"),
        (f"lots/{lot.pk}/", f"Lot 1: {lot.title}"), (f"lots/{lot.pk}/edit/", "Change lot 1"),
        (f"lots/{lot.pk}/withdraw/", f"Withdraw lot 1: {lot.title}?"),
    ]:
        page.goto(f"{base}/frameworks/{framework.pk}/{path}")
        expect(page.locator("h1")).to_have_text(heading)
        scanner.scan(heading)
    page.goto(base + "/frameworks/new/")
    scanner.scan("set up a framework")
    application = framework.lots.get(number=2).applications.get()
    page.goto(f"{base}/frameworks/applications/{application.pk}/")
    scanner.scan("application")
    page.goto(f"{base}/frameworks/applications/{application.pk}/evaluate/")
    scanner.scan("evaluate")

    # Call off with the keyboard; the shares first add up to 90% and are corrected.
    page.goto(f"{base}/frameworks/{framework.pk}/lots/{lot.pk}/call-off/")
    expect(page.locator("h1")).to_have_text("Call off from lot 1")
    scanner.scan("call-off form")
    type_into(page, "Contract reference", "EIP-L1-09")
    type_into(page, "Service title", "Home from hospital support")
    page.get_by_label("Direct award", exact=True).check()
    type_into(page, "Direct award: justification", "The incumbent, admitted to the lot")
    pick(page, "Provider awarded the call-off", world.provider_x.name)
    type_into(page, "Date of the call-off decision", today.strftime("%d/%m/%Y"))
    type_into(page, "Start date", today.strftime("%d/%m/%Y"))
    type_into(page, "End date", (today + timedelta(days=700)).strftime("%d/%m/%Y"))
    type_into(page, "Annual value", "98,500")
    pick(page, "Lead commissioner", world.council_a.name)
    type_into(page, f"{world.council_a.name}: share of the cost (%)", "50")
    type_into(page, f"{world.icb_a.name}: share of the cost (%)", "40")
    page.get_by_label("Section 75 agreement", exact=True).check()
    page.locator("main").get_by_role("button", name="Call off").click()
    expect_errors(page, "The shares must add up to 100%. They add up to 90%")
    summary = page.locator(".govuk-error-summary")
    scanner.scan("call-off form with errors")
    summary.get_by_role("link").first.click()
    field = page.get_by_label(f"{world.icb_a.name}: share of the cost (%)", exact=True)
    field.fill("")
    field.focus()
    page.keyboard.type("50")
    page.locator("main").get_by_role("button", name="Call off").click()
    call_off = CallOff.objects.get()
    expect(page.locator("h1")).to_have_text("Home from hospital support")
    scanner.scan("call-off page")
    page.get_by_role("link", name="Contract EIP-L1-09 in the register").click()
    expect(page.locator("h1")).to_have_text("Home from hospital support")
    assert page.url.endswith(call_off.contract.get_absolute_url())
    page.goto(f"{base}/history/contracts.calloff/{call_off.pk}/")
    scanner.scan("call-off history")
    sign_out(page)

    # A provider applies to a lot in the open window and sees its own applications.
    sign_in_verified(page, base, world.provider_x_user)
    page.goto(base + "/frameworks/")
    scanner.scan("provider frameworks", same_page_as="framework list")
    page.get_by_role("link", name=f"Apply to {framework.title}").click()
    scanner.scan("apply")
    page.get_by_label("Lot 3: Lot 3 services", exact=True).check()
    page.locator("main").get_by_role("button", name="Send application").click()
    expect(page.locator("main")).to_contain_text(
        "Application sent for lot 3")
    expect(page.get_by_role("table", name=f"Applications made by {world.provider_x.name}")
           .locator("tbody tr")).to_have_count(2)
    scanner.check()
