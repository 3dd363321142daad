"""The odd penny of a risk share: largest remainder first, ties to the host partner, and the
page that shows the split says so."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from funding.selectors import agreement_page
from funding.tests.factories import actual, agreement_for, scheme_for

pytestmark = pytest.mark.django_db


def one_penny_over(world, *, host, shares=("50", "50")):
    """An agreement whose forecast is one penny over budget, split 50/50."""
    agreement = agreement_for(world, shares=shares, host_partner=host)
    scheme = scheme_for(agreement, budget="100.00", year=2025)
    actual(scheme, date(2025, 4, 1), "10.00", forecast="100.01")
    return agreement


def test_it_gives_a_tied_odd_penny_to_the_host_partner_not_the_first_in_the_list(world):
    # The council's name ("London Borough of Bromley") sorts before the ICB's: the host
    # decides, whichever it is.
    for host, other in ((world.icb_a, world.council_a), (world.council_a, world.icb_a)):
        agreement = one_penny_over(world, host=host)
        page = agreement_page(agreement, 2025)
        assert page.totals.variance == Decimal("0.01")
        shares = {s.partner: s.amount for s in page.projection}
        assert shares == {host: Decimal("0.01"), other: Decimal("0.00")}


def test_it_gives_the_odd_penny_to_the_largest_remainder_before_the_host(world):
    # 0.01 split 40/60: the ICB's exact share (0.006) loses more in rounding down.
    agreement = one_penny_over(world, host=world.council_a, shares=("40", "60"))
    shares = {s.partner: s.amount
              for s in agreement_page(agreement, 2025).projection}
    assert shares == {world.council_a: Decimal("0.00"), world.icb_a: Decimal("0.01")}


def test_it_states_the_odd_penny_rule_where_the_split_is_shown(world, client_for):
    agreement = one_penny_over(world, host=world.icb_a)
    client = client_for(world.commissioner_a)
    for url in (f"{agreement.get_absolute_url()}?year=2025",
                f"{agreement.get_absolute_url()}statements/2025/"):
        html = client.get(url).content.decode()
        assert "A penny that cannot be split goes to the partner whose exact share was " \
               "rounded down the most; if two are level, to the host partner." in html, url
