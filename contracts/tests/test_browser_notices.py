"""Browser journey: a commissioner sees a contract's notice due, opens its preview, makes a
mistake recording its publication, then records it; the notice shows as published (Chromium,
axe on each page)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from commissioning.tests.browser import Scanner, expect_heading, press, sign_in_verified, type_into
from contracts.models import ContractStatus, NoticePublication, ProcurementRegime, ProcurementRoute
from contracts.tests.factories import contract_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.covers("contracts:notice")
def test_it_lets_a_commissioner_record_a_published_contract_details_notice(page: Page,
                                                                          live_server, world,
                                                                          settings):
    settings.OCDS_PREFIX = "ocds-a1b2c3"
    base = live_server.url
    contract = contract_for(
        world, reference="PA-2026-001", title="Home care north", annual_value=Decimal("900000"),
        procurement_regime=ProcurementRegime.PA_2023, procurement_route=ProcurementRoute.PA_OPEN,
        start_date=date(2026, 4, 1), initial_end_date=date(2029, 3, 31),
        awarded_on=date(2026, 2, 2), standstill_end_date=date(2026, 2, 12),
        status=ContractStatus.LIVE)
    scanner = Scanner(page)

    sign_in_verified(page, base, world.commissioner_a)
    page.goto(base + contract.get_absolute_url())
    expect_heading(page, "Home care north")
    notices = page.get_by_role("table", name="Transparency notices for PA-2026-001")
    expect(notices).to_contain_text("UK7 contract details notice")
    notices.get_by_role("link", name="UK7 contract details notice").click()
    expect_heading(page, "UK7 contract details notice")
    expect(page.locator("main")).to_contain_text(
        "within 30 days of entering into the contract: by 14 Mar 2026")
    page.get_by_text("Show the data").click()
    expect(page.locator("pre")).to_contain_text('"contract"')
    scanner.scan("notice preview")

    press(page, "Record publication")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the notice identifier")
    assert not NoticePublication.objects.exists()
    scanner.scan("notice preview with errors")

    type_into(page, "Notice identifier", "2026/S 000-004321")
    type_into(page, "Date published", timezone.localdate().strftime("%d/%m/%Y"))
    press(page, "Record publication")
    expect_heading(page, "Home care north")
    expect(page.get_by_role("table", name="Transparency notices for PA-2026-001")).to_contain_text(
        "Published 004321-2026")
    scanner.scan("contract page after recording")
    assert NoticePublication.objects.get().recorded_by == world.commissioner_a
    assert not scanner.problems, "\n".join(scanner.problems)


@pytest.mark.covers("contracts:payments_notice")
def test_it_lets_a_commissioner_record_a_published_payments_compliance_notice(
        page: Page, live_server, world):
    base = live_server.url
    contract_for(
        world, reference="PA-BIG-1", title="Integrated care at home",
        annual_value=Decimal("3000000"), procurement_regime=ProcurementRegime.PA_2023,
        procurement_route=ProcurementRoute.PA_OPEN, start_date=date(2025, 11, 1),
        initial_end_date=date(2030, 10, 31), awarded_on=date(2025, 10, 1),
        standstill_end_date=date(2025, 10, 11), status=ContractStatus.LIVE)
    today = timezone.localdate()
    scanner = Scanner(page)

    sign_in_verified(page, base, world.commissioner_a)
    due = page.get_by_role("table", name="Transparency notices to publish")
    expect(due).to_contain_text(f"{world.council_a.name} (all its contracts)")
    links = due.get_by_role("link", name="Payments compliance notice")
    count = links.count()
    assert count >= 2  # entered into in October 2025: periods to 31 March and 30 September 2026
    links.first.click()
    expect_heading(page, "Payments compliance notice")
    main = page.locator("main")
    expect(main).to_contain_text("1 Oct 2025 to 31 Mar 2026")
    expect(main).to_contain_text(
        "within 30 days of the end of the six-month reporting period: by 30 Apr 2026")
    expect(main).to_contain_text("PA-BIG-1")
    scanner.scan("payments compliance notice")

    type_into(page, "Notice identifier", "2026/S 000-009999")
    type_into(page, "Date published", "31/12/2999")
    press(page, "Record publication")
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Date published must be today or in the past")
    assert not NoticePublication.objects.exists()
    scanner.scan("payments compliance notice with errors")

    page.get_by_label("Date published", exact=True).fill("")
    type_into(page, "Date published", today.strftime("%d/%m/%Y"))
    press(page, "Record publication")
    expect(page.locator("h1")).to_have_text("Your dashboard")
    expect(page.get_by_role("table", name="Transparency notices to publish").get_by_role(
        "link", name="Payments compliance notice")).to_have_count(count - 1)
    record = NoticePublication.objects.get()
    assert (record.kind, record.event, record.contract, record.organisation) == (
        "payments", "2025-10-01/2026-03-31", None, world.council_a)
    assert not scanner.problems, "\n".join(scanner.problems)
