"""An existing framework's history through the pages, in a real browser (headless Chromium):
an application entered today but received in 2021 is evaluated with its real dates, and the
evaluation is checked against the date it was received, not the day it was typed in."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from commissioning.tests.browser import Scanner, press, sign_in_verified, type_into
from contracts.frameworks.models import ApplicationDecision, ProviderApplication
from contracts.frameworks.tests.factories import framework_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def retype(page: Page, label: str, text: str) -> None:
    page.get_by_label(label, exact=True).fill("")
    type_into(page, label, text)


@pytest.mark.covers("contracts:application_evaluate")
def test_it_records_an_evaluation_from_2021_against_the_date_the_application_was_received(
        page: Page, live_server, world):
    base = live_server.url
    scanner = Scanner(page)
    today = timezone.localdate()
    framework = framework_for(world, title="Early intervention and prevention")
    lot = framework.lots.get(number=2)
    # Entered today, as it was when the framework's history was typed in.
    application = ProviderApplication.objects.create(
        provider=world.provider_x, lot=lot, window=framework.windows.get(), submitted_on=today)

    sign_in_verified(page, base, world.commissioner_a)
    page.goto(f"{base}/frameworks/applications/{application.pk}/")
    page.get_by_role("link", name="Evaluate the application").click()
    expect(page.locator("h1")).to_have_text("Evaluate the application")
    received = page.get_by_label("Date the application was received", exact=True)
    expect(received).to_have_value(today.strftime("%d/%m/%Y"))
    scanner.scan("evaluate")

    page.get_by_label("Criteria met", exact=True).check()
    retype(page, "Date of the evaluation", "15/01/2021")
    page.get_by_label("Admit the provider to the lot", exact=True).check()
    type_into(page, "Framework agreement date", "01/02/2021")
    # A received date in the future is refused next to the field; nothing changes.
    retype(page, "Date the application was received",
           (today + timedelta(days=1)).strftime("%d/%m/%Y"))
    press(page, "Record decision")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("The date the application was received must be today or "
                                    "in the past")
    summary.get_by_role("link").first.click()
    expect(received).to_be_focused()
    scanner.scan("evaluate with errors")
    application.refresh_from_db()
    assert (application.submitted_on, application.decision) == (today,
                                                                ApplicationDecision.PENDING)

    retype(page, "Date the application was received", "06/01/2021")
    press(page, "Record decision")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        f"{world.provider_x.display_name}: application decided")
    application.refresh_from_db()
    assert application.decision == ApplicationDecision.ADMITTED
    assert (application.submitted_on, application.evaluated_on,
            application.framework_agreement_date) == (date(2021, 1, 6), date(2021, 1, 15),
                                                      date(2021, 2, 1))
    scanner.check()
