"""The regime a contract's page shows: the rule its OCDS and notices use (``contracts.regimes``:
a call-off follows its framework)."""

from __future__ import annotations

from django import template

from contracts import regimes

register = template.Library()


@register.filter
def regime(contract) -> str:
    return regimes.regime_label(contract)
