"""Template helpers owned by monitoring, for other apps' pages (e.g. the contract page)."""

from django import template

from monitoring.permissions import can_write_committee_report

register = template.Library()


@register.simple_tag(takes_context=True)
def may_write_committee_report(context) -> bool:
    return can_write_committee_report(context["request"].user)
