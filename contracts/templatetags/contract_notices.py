"""The contract page's "Transparency notices" section (rules in ``contracts.notices``)."""

from __future__ import annotations

from django import template
from django.utils import timezone

from contracts import notices

register = template.Library()


@register.inclusion_tag("contracts/includes/contract_notices.html")
def contract_notices(contract) -> dict:
    return {"contract": contract, "notices": notices.notices_for_contract(contract),
            "today": timezone.localdate()}
