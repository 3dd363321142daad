"""Missing evidence: the error summary's link goes to the KPI's evidence upload, in a real
browser (issue 20, item 5)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from commissioning.tests.browser import Scanner, expect_heading, press, sign_in_verified
from contracts.tests.factories import contract_for
from monitoring.models import Evidence, PerformanceReturn
from monitoring.tests.factories import kpi_with_target
from monitoring.tests.test_browser import expect_error, latest_quarter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_the_missing_evidence_error_takes_the_provider_to_the_evidence_upload(
        page: Page, live_server, world):
    base = live_server.url
    contract = contract_for(world, reference="DH-001", title="Dementia hub")
    plain = kpi_with_target(contract, code="D1", name="People referred", target="50")
    needs = kpi_with_target(contract, code="D2", name="Carers' assessments completed",
                            target="20", evidence_required=True)
    period = latest_quarter()

    sign_in_verified(page, base, world.provider_x_user)
    page.goto(f"{base}/returns/{contract.pk}/{period.code}/")
    expect_heading(page, f"{period.label} return")
    for kpi, figure in ((plain, "61"), (needs, "18")):
        page.locator(f"#kpi-{kpi.pk}").get_by_label("Figure (people)").fill(figure)
    press(page, "Continue to check your answers")
    message = "Upload evidence for Carers' assessments completed before you submit"
    expect_error(page, message)
    Scanner(page).scan("return form with missing evidence")

    page.locator(".govuk-error-summary").get_by_role("link", name=message).click()
    control = page.locator(f"#id_kpi-{needs.pk}-evidence")
    expect(control).to_be_focused()
    expect(control).to_be_in_viewport()
    expect(control).to_have_attribute("aria-describedby", f"kpi-{needs.pk}-evidence-error")
    expect(page.locator(f"#kpi-{needs.pk}-evidence-error")).to_contain_text(message)
    expect(page.locator(f"#kpi-{needs.pk}-evidence-error")).to_be_in_viewport()

    with page.expect_navigation():
        page.keyboard.press("Enter")  # follow the focused link
    expect_heading(page, "Upload evidence")
    expect(page.get_by_label("Which KPI is it evidence for?")).to_have_value(str(needs.pk))
    page.get_by_label("Upload a file").set_input_files(
        {"name": "assessments.pdf", "mimeType": "application/pdf", "buffer": PDF})
    press(page, "Upload evidence")
    expect_heading(page, f"{period.label} return")
    assert Evidence.objects.get().kpi == needs
    expect(page.locator(f"#kpi-{needs.pk}")).to_contain_text("assessments.pdf")
    press(page, "Continue to check your answers")
    expect_heading(page, f"Check your answers before submitting the {period.label} return")
    assert PerformanceReturn.objects.get().values.count() == 2
