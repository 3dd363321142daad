"""The demo world loads twice without duplicating anything, and tells the seed's story."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.apps import apps

from commissioning import demo as core_demo
from contracts import demo as contracts_demo
from funding import demo, selectors
from funding.models import Scheme, Section75Agreement


def _counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in apps.get_app_config("funding").get_models()}


@pytest.mark.django_db
def test_the_demo_loads_twice_and_adds_nothing_the_second_time():
    out = io.StringIO()
    core_demo.load(out)
    contracts_demo.load(out)
    demo.load(out)
    first = _counts()
    demo.load(out)
    assert _counts() == first  # history included: nothing is saved again

    bromley = Section75Agreement.objects.get(partnership__name=demo.BROMLEY_PARTNERSHIP)
    leads = dict(bromley.schemes.values_list("name", "lead_partner__short_name"))
    assert leads["Intermediate Care"] == "NHS South East London ICB"
    assert leads["Joint Community Contract"] == "Bromley Council"
    assert leads["Mental Health Services – Wellbeing"] == "NHS South East London ICB"
    well = bromley.schemes.get(code="BCF-01")
    assert well.contract_allocations.count() == 3  # Council, ICB and BCF
    page = selectors.agreement_page(bromley, bromley.years[0])
    equipment = next(s for s in page.schemes if s.name == "Community Equipment")
    assert equipment.variance > Decimal("50000")  # the overspend
    assert page.top_slices[0].reserved == Decimal("405000.00")  # 15% of £2.7m
    assert page.outcomes  # last year closed at year end
    merton = Section75Agreement.objects.get(partnership__name=demo.MERTON_PARTNERSHIP)
    bcf = sum(c.amount for c in Scheme.objects.get(agreement=merton, code="BCF-01")
              .contributions.filter(year=merton.years[0]))
    assert bcf == Decimal("12500000.00")
