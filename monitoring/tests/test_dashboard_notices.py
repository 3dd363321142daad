"""The dashboard lists each transparency notice due with its deadline ("due in 5 days",
"overdue"), and recording the notice's publication clears it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from contracts.models import ContractStatus, ProcurementRegime, ProcurementRoute
from contracts.tests.factories import contract_for

pytestmark = pytest.mark.django_db


def test_the_dashboard_shows_notices_due_and_recording_one_clears_it(world, client_for,
                                                                    settings):
    settings.OCDS_PREFIX = "ocds-a1b2c3"
    today = timezone.localdate()
    soon = contract_for(world, reference="PA-SOON", procurement_regime=ProcurementRegime.PA_2023,
                        procurement_route=ProcurementRoute.PA_OPEN, status=ContractStatus.LIVE,
                        start_date=today - timedelta(days=25), awarded_on=today - timedelta(
                            days=40), standstill_end_date=today - timedelta(days=25),
                        initial_end_date=date(2099, 3, 31))
    late = contract_for(world, reference="PA-LATE", procurement_regime=ProcurementRegime.PA_2023,
                        procurement_route=ProcurementRoute.PA_OPEN, status=ContractStatus.LIVE,
                        start_date=today - timedelta(days=33), standstill_end_date=today -
                        timedelta(days=33), initial_end_date=date(2099, 3, 31))
    contract_for(world, reference="PB-OTHER", partnership=world.partnership_b,
                 holder=world.council_b, lead_commissioner=world.council_b,
                 procurement_regime=ProcurementRegime.PA_2023,
                 procurement_route=ProcurementRoute.PA_OPEN, start_date=today)
    client = client_for(world.commissioner_a)
    page = client.get(reverse("dashboard")).content.decode()
    assert "Transparency notices to publish" in page
    assert "PA-LATE" in page and "overdue by 3 days" in page
    assert "PA-SOON" in page and "due in 5 days" in page
    assert "PB-OTHER" not in page  # another partnership's contract
    assert page.index("PA-LATE") < page.index("PA-SOON")

    url = reverse("contracts:notice", args=[late.pk, "uk7", "award"])
    response = client.post(url, {"notice_identifier": "2026/S 000-000001",
                                 "published_on": today.strftime("%d/%m/%Y")})
    assert response.status_code == 302
    page = client.get(reverse("dashboard")).content.decode()
    assert "PA-LATE" not in page and "PA-SOON" in page
    assert soon.pk


def test_a_provider_is_not_shown_notices(world, client_for):
    contract_for(world, procurement_regime=ProcurementRegime.PA_2023,
                 procurement_route=ProcurementRoute.PA_OPEN)
    page = client_for(world.provider_x_user).get(reverse("dashboard")).content.decode()
    assert "Transparency notices" not in page
