"""Browser journeys: a commissioner creates an API token on Your account, reads the API with
it over real HTTP, and revokes it; subscribes to the calendar link and turns it off."""

from __future__ import annotations

from datetime import date

import pytest
from icalendar import Calendar
from playwright.sync_api import Page, expect

from api import tokens
from commissioning.tests.browser import (
    Scanner,
    expect_heading,
    press,
    sign_in_verified,
    type_into,
)
from contracts.tests.factories import contract_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.covers("api:token_create", "api:token_revoke")
def test_a_commissioner_creates_uses_and_revokes_an_api_token(page: Page, live_server, world):
    contract_for(world, reference="BROWSER-CON-1", title="Carers support")
    contract_for(world, reference="MERTON-CON-1", partnership=world.partnership_b,
                 holder=world.council_b, lead_commissioner=world.council_b)
    scanner = Scanner(page)
    sign_in_verified(page, live_server.url, world.commissioner_a)
    page.goto(live_server.url + "/account/")
    page.get_by_role("link", name="API tokens and calendar").click()
    expect_heading(page, "API tokens and calendar")
    expect(page.locator("main")).to_contain_text("You have no tokens.")
    scanner.scan("token list, empty")

    page.locator("main").get_by_role("button", name="Create a token").click()
    expect_heading(page, "Create an API token")
    expect(page.get_by_label("Days until it expires", exact=True)).to_have_value("90")
    scanner.scan("create a token")
    # Nonsense first: a name is required and a token lasts at most a year.
    page.get_by_label("Days until it expires", exact=True).fill("")
    type_into(page, "Days until it expires", "400")
    press(page, "Create token")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter a name for the token")
    expect(summary).to_contain_text("Days must be a whole number from 1 to 365")
    scanner.scan("create a token, errors")
    type_into(page, "Name", "Power BI dashboard")
    page.get_by_label("Days until it expires", exact=True).fill("")
    type_into(page, "Days until it expires", "30")
    press(page, "Create token")
    expect(page.locator("h1")).to_contain_text("Token created")
    secret = page.locator("#api-token").inner_text().strip()
    assert secret.startswith("jc_")
    scanner.scan("token created")

    # The token reads the register over HTTP, as Power BI would.
    headers = {"Authorization": f"Bearer {secret}"}
    response = page.request.get(live_server.url + "/api/v1/contracts/", headers=headers)
    assert response.status == 200
    references = [row["reference"] for row in response.json()["results"]]
    assert references == ["BROWSER-CON-1"]

    page.get_by_role("link", name="Back to your tokens").click()
    row = page.locator("tbody tr", has_text="Power BI dashboard")
    expect(row).to_contain_text("Active")
    expect(page.locator("main")).not_to_contain_text(secret)  # shown once only
    scanner.scan("token list, one token", same_page_as="token list, empty")
    row.get_by_role("link", name="Revoke").click()
    expect_heading(page, "Are you sure you want to revoke “Power BI dashboard”?")
    scanner.scan("revoke a token")
    press(page, "Revoke token")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("has been revoked")
    expect(page.locator("tbody tr", has_text="Power BI dashboard")).to_contain_text("Revoked")
    refused = page.request.get(live_server.url + "/api/v1/contracts/", headers=headers)
    assert refused.status == 401
    assert refused.json()["code"] == "token_revoked"
    scanner.check()


@pytest.mark.covers("api:feed_create", "api:feed_revoke")
def test_a_commissioner_subscribes_to_their_key_dates_and_turns_the_link_off(
        page: Page, live_server, world):
    contract = contract_for(world, reference="CAL-CON-1", start_date=date(2025, 4, 1),
                            initial_end_date=date.today().replace(day=1).replace(
                                year=date.today().year + 1))
    scanner = Scanner(page)
    sign_in_verified(page, live_server.url, world.commissioner_a)
    page.goto(live_server.url + "/account/api-tokens/")
    press(page, "Create a calendar link")
    expect(page.locator("h1")).to_contain_text("Calendar link created")
    scanner.scan("calendar link created")
    url = page.locator("#calendar-url").inner_text().strip()

    # A calendar app subscribes: no session, only the secret address.
    feed = page.context.browser.new_context().request.get(url)
    assert feed.status == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    events = {str(e["UID"]): e for e in Calendar.from_ical(feed.body()).walk("VEVENT")}
    end = events[f"contract-{contract.pk}-end@127.0.0.1"]
    assert end.decoded("DTSTART") == contract.initial_end_date
    assert str(end["SUMMARY"]) == "CAL-CON-1 ends"
    assert str(end["URL"]).endswith(f"/contracts/{contract.pk}/")

    page.goto(live_server.url + "/account/api-tokens/")
    page.locator("main").get_by_role("button", name="Turn off your calendar link").click()
    expect_heading(page, "Are you sure you want to turn off your calendar link?")
    scanner.scan("turn off calendar link")
    press(page, "Turn off calendar link")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("turned off")
    assert page.context.browser.new_context().request.get(url).status == 404
    scanner.check()


@pytest.mark.covers("api:organisation_access")
def test_a_partnership_administrator_turns_api_access_off_and_on(page: Page, live_server, world):
    contract_for(world, reference="OFF-CON-1")
    secret = tokens.token_create(user=world.commissioner_a, name="x", days=5).secret
    headers = {"Authorization": f"Bearer {secret}"}
    scanner = Scanner(page)
    sign_in_verified(page, live_server.url, world.partnership_admin_a)
    page.goto(live_server.url + "/account/api-tokens/")
    expect(page.locator("main")).to_contain_text(
        f"API access is on for {world.council_a.name}")
    page.locator("main").get_by_role("button", name="Turn API access off").click()
    expect_heading(page, "Are you sure you want to turn API access off for "
                         f"{world.council_a.name}?")
    scanner.scan("turn API access off")
    press(page, "Turn API access off")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is now off")
    refused = page.request.get(live_server.url + "/api/v1/contracts/", headers=headers)
    assert (refused.status, refused.json()["code"]) == (403, "api_access_off")
    page.locator("main").get_by_role("button", name="Turn API access on").click()
    press(page, "Turn API access on")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is now on")
    assert page.request.get(live_server.url + "/api/v1/contracts/",
                            headers=headers).status == 200
    scanner.check()
