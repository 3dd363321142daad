"""Risk share: who bears how much of an overspend or underspend, exactly to the penny.

``risk_share`` applies an agreement's rule (a fixed split, in proportion to contributions, or
each lead partner bears its own schemes' variance); ``allocate`` does the splitting.

A variance (or any sum) is shared by weights (percentages, contributions); each share is
rounded to whole pence with the largest-remainder method, so the shares always add up to the
total exactly, and no share is more than a penny from its exact value.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from commissioning.models import Organisation
from funding.models import AgreementPartner, RiskShareRule, Section75Agreement

PENNY = Decimal("0.01")
ZERO = Decimal("0.00")


def to_pennies(amount: Decimal) -> int:
    return int((amount / PENNY).to_integral_value(rounding=ROUND_HALF_UP))


def from_pennies(pennies: int) -> Decimal:
    return (Decimal(pennies) * PENNY).quantize(PENNY)


def allocate(total: Decimal, weights: Sequence[tuple[Hashable, Decimal]]) -> dict:
    """Share ``total`` between the keys in proportion to their weights.

    Weights must not be negative. When every weight is zero the total is shared equally. Ties
    in the remainders go to the earlier key, so the result does not depend on dict ordering
    elsewhere. ``allocate(Decimal("100.00"), [("a", 1), ("b", 1), ("c", 1)])`` gives
    33.34, 33.33, 33.33.
    """
    if not weights:
        if total:
            raise ValueError("There is no one to share the amount between")
        return {}
    if any(weight < 0 for _key, weight in weights):
        raise ValueError("Weights must not be negative")
    total_pennies = to_pennies(total)
    sign = -1 if total_pennies < 0 else 1
    pennies = abs(total_pennies)
    integer_weights = _as_integers([Decimal(weight) for _key, weight in weights])
    weight_sum = sum(integer_weights)
    if weight_sum == 0:
        integer_weights = [1] * len(weights)
        weight_sum = len(weights)
    floors: list[int] = []
    remainders: list[tuple[int, int]] = []
    for index, weight in enumerate(integer_weights):
        # Whole-number arithmetic throughout: no Decimal context can round a floor up.
        floor, remainder = divmod(pennies * weight, weight_sum)
        floors.append(floor)
        remainders.append((remainder, index))
    left = pennies - sum(floors)
    for _remainder, index in sorted(remainders, key=lambda item: (-item[0], item[1]))[:left]:
        floors[index] += 1
    return {key: from_pennies(sign * share) for (key, _weight), share in zip(weights, floors,
                                                                              strict=True)}


def _as_integers(values: list[Decimal]) -> list[int]:
    """Scale Decimal weights to whole numbers with the same ratios."""
    places = max((-value.as_tuple().exponent for value in values if value), default=0)
    places = max(places, 0)
    scale = 10**places
    return [int(value * scale) for value in values]


def reserved_amount(base: Decimal, percent: Decimal) -> Decimal:
    """A top-slice's reserve: ``percent`` of ``base``, rounded half up to the penny."""
    return (base * percent / Decimal(100)).quantize(PENNY, rounding=ROUND_HALF_UP)


ODD_PENNY_RULE = ("Shares are worked out to the penny. A penny that cannot be split goes to "
                  "the partner whose exact share was rounded down the most; if two are level, "
                  "to the host partner.")


@dataclass
class PartnerShare:
    partner: Organisation
    weight: Decimal
    amount: Decimal


def risk_share(agreement: Section75Agreement, partners: list[AgreementPartner],
               variance: Decimal, contributions: dict[int, Decimal],
               scheme_variances: list[tuple[int, Decimal]]) -> list[PartnerShare]:
    """Each partner's share of ``variance`` under the agreement's rule, exact to the penny.

    ``contributions`` maps partner id to the year's contributions (for the proportional rule);
    ``scheme_variances`` lists (lead partner id, variance) per scheme (for "bears its own").

    Pennies that cannot be split exactly go by the largest remainder (the partner whose exact
    share lost most in rounding down gets the first odd penny); when remainders tie, the host
    partner comes first, then the others in name order. ``ODD_PENNY_RULE`` says so on the
    pages that show a split.
    """
    organisations = [p.organisation for p in partners]
    if agreement.risk_share_rule == RiskShareRule.OWN:
        own: dict[int, Decimal] = defaultdict(lambda: ZERO)
        for lead_id, scheme_variance in scheme_variances:
            own[lead_id] += scheme_variance
        return [PartnerShare(o, ZERO, own[o.pk]) for o in organisations]
    if agreement.risk_share_rule == RiskShareRule.FIXED_SPLIT:
        weights = [(p.organisation.pk, p.risk_share_percent or ZERO) for p in partners]
    else:
        weights = [(o.pk, contributions.get(o.pk, ZERO)) for o in organisations]
    if not weights:
        return []
    # allocate() gives tied remainders to the earlier key: put the host partner first.
    host = agreement.host_partner_id
    shares = allocate(variance, sorted(weights, key=lambda item: item[0] != host))
    weight_by_id = dict(weights)
    return [PartnerShare(o, weight_by_id[o.pk], shares[o.pk]) for o in organisations]
