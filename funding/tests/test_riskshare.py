"""Partner shares of any variance add up to the variance exactly, to the penny."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from funding.riskshare import allocate, reserved_amount

pennies = st.integers(min_value=-10**13, max_value=10**13)
percent_lists = st.lists(st.integers(min_value=0, max_value=10000), min_size=1, max_size=8)
contribution_lists = st.lists(st.integers(min_value=0, max_value=10**13), min_size=1,
                              max_size=8)


def _as_money(p: int) -> Decimal:
    return (Decimal(p) / 100).quantize(Decimal("0.01"))


@given(pennies, percent_lists)
def test_it_shares_any_variance_exactly_whatever_the_percentage_split(variance, raw):
    # Percentages with two decimal places (0.00–100.00), in any mix: not necessarily 100.
    total = _as_money(variance)
    weights = [(i, Decimal(w) / 100) for i, w in enumerate(raw)]
    shares = allocate(total, weights)
    assert sum(shares.values(), Decimal("0.00")) == total
    assert all(s == s.quantize(Decimal("0.01")) for s in shares.values())
    weight_sum = sum(w for _k, w in weights)
    for key, weight in weights:
        exact = total * weight / weight_sum if weight_sum else total / len(weights)
        assert abs(shares[key] - exact) < Decimal("0.01")


@given(pennies, contribution_lists)
def test_it_shares_any_variance_exactly_in_proportion_to_any_contributions(variance, raw):
    total = _as_money(variance)
    weights = [(i, _as_money(w)) for i, w in enumerate(raw)]
    shares = allocate(total, weights)
    assert sum(shares.values(), Decimal("0.00")) == total
    # Every share has the variance's sign (or is zero): nobody gains from an overspend.
    assert all(s * total >= 0 for s in shares.values())


def test_it_gives_the_odd_penny_to_the_largest_remainder_then_the_first_partner():
    shares = allocate(Decimal("100.00"), [("a", Decimal(1)), ("b", Decimal(1)),
                                         ("c", Decimal(1))])
    assert shares == {"a": Decimal("33.34"), "b": Decimal("33.33"), "c": Decimal("33.33")}
    shares = allocate(Decimal("-0.05"), [("a", Decimal(50)), ("b", Decimal(50))])
    assert shares == {"a": Decimal("-0.03"), "b": Decimal("-0.02")}


def test_it_splits_equally_when_every_weight_is_zero():
    assert allocate(Decimal("10.00"), [("a", Decimal(0)), ("b", Decimal(0))]) == {
        "a": Decimal("5.00"), "b": Decimal("5.00")}


def test_it_reserves_a_percentage_to_the_penny():
    assert reserved_amount(Decimal("2700000.00"), Decimal("15")) == Decimal("405000.00")
    assert reserved_amount(Decimal("0.10"), Decimal("15")) == Decimal("0.02")
