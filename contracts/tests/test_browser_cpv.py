"""CPV codes and Find a Tender identifiers on a contract, chosen and typed in a real browser
(issue 16): the edit page's CPV select offers the shipped CPV 2008 list, bad codes and
identifiers are refused next to their fields, and what was saved is on the contract page and in
its OCDS release (checked by Open Contracting's checker)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from commissioning.tests.browser import (
    Scanner,
    expect_heading,
    press,
    sign_in_verified,
    type_into,
)
from contracts.models import Contract
from contracts.tests.factories import contract_for
from contracts.tests.ocds_checker import check, problems

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.covers("contracts:edit")
def test_it_lets_an_officer_choose_cpv_codes_and_record_find_a_tender_identifiers(
        page: Page, live_server, world, settings, client_for):
    settings.OCDS_PREFIX = "ocds-a1b2c3"
    base = live_server.url
    contract = contract_for(world, reference="CPV-1", title="Community health hub")

    sign_in_verified(page, base, world.commissioner_a)
    page.goto(base + contract.get_absolute_url())
    page.get_by_role("link", name="Change details").click()
    expect_heading(page, "Change contract details")
    # The main code is typed (with suggestions: test_browser_autocomplete picks from them).
    expect(page.locator("input#id_cpv_code[role=combobox]")).to_be_visible(timeout=20_000)
    type_into(page, "Main CPV code (optional)", "85323000")
    type_into(page, "Additional CPV codes (optional)", "85312000, 85399999")
    type_into(page, "Find a Tender notice identifier (optional)", "12345/2025")
    type_into(page, "Find a Tender procedure identifier (optional)", "ocds-h6vhtk-04f3a1")
    press(page, "Save changes")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("85399999 is not a code in the CPV 2008 list")
    expect(summary).to_contain_text("like 012345-2025")
    expect(page.locator(".govuk-form-group--error")).to_have_count(2)
    for group_text in ("85399999 is not a code", "like 012345-2025"):
        expect(page.locator(".govuk-form-group--error", has_text=group_text)).to_have_count(1)
    scanner = Scanner(page)
    scanner.scan("contract edit with CPV errors")
    scanner.check()
    contract.refresh_from_db()
    assert (contract.cpv_code, contract.find_a_tender_notice_id) == ("", "")

    retype = page.get_by_label("Additional CPV codes (optional)", exact=True)
    retype.fill("")
    type_into(page, "Additional CPV codes (optional)", "85312000-9, 85323000")
    field = page.get_by_label("Find a Tender notice identifier (optional)", exact=True)
    field.fill("")
    type_into(page, "Find a Tender notice identifier (optional)", "012345-2025")
    press(page, "Save changes")
    expect_heading(page, "Community health hub")
    main = page.locator("main")
    expect(main).to_contain_text("85323000 Community health services (main)")
    expect(main).to_contain_text("85312000")
    expect(main).to_contain_text("Notice 012345-2025; procedure ocds-h6vhtk-04f3a1")

    contract = Contract.objects.get(pk=contract.pk)
    assert contract.cpv_code == "85323000"
    assert contract.additional_cpv_codes == ["85312000"]  # the main code is not repeated

    url = reverse("contracts:ocds", args=[contract.pk])
    package = json.loads(client_for(world.commissioner_a).get(url).content)
    tender = package["releases"][0]["tender"]
    assert tender["items"][0]["classification"] == {
        "scheme": "CPV", "id": "85323000", "description": "Community health services"}
    assert [c["id"] for c in tender["items"][0]["additionalClassifications"]] == ["85312000"]
    assert tender["documents"][0]["url"].endswith("/Notice/012345-2025")
    assert {"scheme": "ocid", "identifier": "ocds-h6vhtk-04f3a1"}.items() <= \
        package["releases"][0]["relatedProcesses"][0].items()
    assert problems(package) == {}
    report = check(package)
    assert report["validation_errors"] == [] and report["additional_fields"] == []
