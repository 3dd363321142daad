"""Downloads in a real browser: Chromium saves a file under the name the service meant."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page

from commissioning.tests.browser import sign_in_verified
from contracts.tests.factories import contract_for
from monitoring import reporting_periods
from monitoring.tests.factories import kpi_with_target

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_chromium_saves_the_return_template_under_its_own_name(page: Page, live_server,
                                                                world):
    """A quote in a contract reference once ended the quoted file name and started a second
    one: Chromium saved the return template as ``evil.html``."""
    contract = contract_for(world, reference='DH"; filename="evil.html', title="Dementia Hub")
    kpi_with_target(contract, code="DH1", name="Referrals")
    period = reporting_periods.recent_periods(kind="quarter", today=timezone.localdate(),
                                              count=1)[-1]
    base = live_server.url
    assert sign_in_verified(page, base, world.provider_x_user) is None  # no two-factor
    page.goto(base + reverse("monitoring:return_form", args=[contract.pk, period.code]))
    for link, extension in (("download the template (CSV)", ".csv"), ("(Excel)", ".xlsx")):
        with page.expect_download() as download:
            page.get_by_role("link", name=link).first.click()
        name = download.value.suggested_filename
        assert name.endswith(extension), name
        assert name.startswith("return-DH") and '"' not in name, name
