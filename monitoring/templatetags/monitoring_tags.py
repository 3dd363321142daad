"""Template helpers owned by monitoring, for other apps' pages (e.g. the contract page)."""

from django import template

from monitoring.overview import performance_overview
from monitoring.permissions import can_write_committee_report

register = template.Library()


@register.simple_tag(takes_context=True)
def may_write_committee_report(context) -> bool:
    return can_write_committee_report(context["request"].user)


@register.simple_tag
def contract_rag(contract):
    """The contract's overall RAG from its latest submitted or accepted return (the row the
    performance overview shows), or None when it has no KPIs or returns yet. For the summary
    at the top of the contract page."""
    rows = performance_overview(contracts=type(contract).objects.filter(pk=contract.pk),
                                attach=False)
    return rows[0] if rows and rows[0].latest_period is not None else None
