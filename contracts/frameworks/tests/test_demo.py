"""The EIP framework demo (seed 004): lots, admissions and call-offs worth £614,836 a year."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from commissioning import demo as core_demo
from commissioning.models import User
from contracts import demo
from contracts.frameworks.models import (
    CallOff,
    Framework,
    LotStatus,
    ProcurementWindow,
    ProviderApplication,
)
from contracts.models import Contract, ProcurementRoute

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, ...]:
    return (Framework.objects.count(), CallOff.objects.count(), Contract.objects.count(),
            ProviderApplication.objects.count(), ProcurementWindow.objects.count())


def test_it_loads_the_eip_framework_twice_without_duplicates(client_for):
    core_demo.load(io.StringIO())
    demo.load(io.StringIO())
    counts = _counts()
    demo.load(io.StringIO())
    assert _counts() == counts
    framework = Framework.objects.get(reference="EIP-2021")
    assert framework.term_description == "5 years + up to 2 years"
    assert framework.end_date == date(2028, 3, 31)
    lead = framework.party_rows.get(is_lead=True)
    assert lead.organisation.name == "Cambridgeshire County Council"
    assert framework.party_rows.count() == 3
    assert [(lot.number, lot.status) for lot in framework.lots.all()] == [
        (1, LotStatus.ACTIVE), (2, LotStatus.ACTIVE), (3, LotStatus.ACTIVE),
        (4, LotStatus.UNDER_REVIEW)]
    admitted = {(a.provider.name, a.lot.number) for a in ProviderApplication.objects.filter(
        decision="admitted")}
    assert admitted == {
        ("Care Network Cambridgeshire", 1), ("Caring Together Charity", 1),
        ("Caring Together Charity", 3), ("Hunts Forum of Voluntary Organisations", 2),
        ("Age UK Cambridgeshire and Peterborough", 2),
        ("Age UK Cambridgeshire and Peterborough", 3),
        ("Cambridgeshire County Council Sensory Service", 2),
        ("Cambridgeshire County Council Sensory Service", 3),
        ("Volunteer Action Cambridgeshire", 2), ("Volunteer Action Cambridgeshire", 3)}
    call_offs = list(CallOff.objects.filter(lot__framework=framework)
                     .select_related("contract").prefetch_related("contract__shares"))
    assert sum(c.contract.annual_value for c in call_offs) == Decimal("614836.00")
    assert all(c.contract.procurement_route == ProcurementRoute.PA_FRAMEWORK_CALL_OFF
               for c in call_offs)
    share_counts = {len(c.contract.shares.all()) for c in call_offs}
    assert share_counts == {1, 2}  # some joint, some by one partner
    assert framework.windows.filter(opens__lte=date.today(),
                                    closes__gte=date.today()).exists()

    sandra = User.objects.get(email="sandra.pedley@cpicb.example.org")
    response = client_for(sandra).get(reverse("contracts:framework_detail",
                                              args=[framework.pk]))
    assert response.status_code == 200
    assert response.context["overview"].called_off_annual == Decimal("614836.00")
    assert "£614,836 a year" in response.content.decode()
    age_uk = User.objects.get(email="submitter@ageuk-cap.example.org")
    listing = client_for(age_uk).get(reverse("contracts:framework_list"))
    assert {a.provider.name for a in listing.context["applications"]} == {
        "Age UK Cambridgeshire and Peterborough"}
