"""Template helpers for GOV.UK patterns: money, status tags, page titles."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import forms as django_forms
from django import template

register = template.Library()

# Status values across the service mapped to GOV.UK tag colours. Text always says the status,
# so colour is never the only signal.
TAG_COLOURS = {
    "green": "green", "amber": "yellow", "red": "red",
    "live": "green", "extended": "turquoise", "awarded": "blue", "planned": "grey",
    "in_procurement": "purple", "expired": "grey", "terminated": "red",
    "accepted": "green", "submitted": "blue", "queried": "orange", "draft": "grey",
    "overdue": "red", "done": "green", "failed": "red", "queued": "grey", "running": "blue",
    "pending": "blue", "revoked": "grey", "active": "green", "withdrawn": "grey",
    "under_review": "yellow", "open": "green", "closed": "grey",
    "open_for_applications": "turquoise", "admitted": "green", "rejected": "red",
    "applied": "blue", "sent": "green",
}


@register.inclusion_tag("includes/status_tag.html")
def status_tag(value: str, label: str | None = None) -> dict:
    key = str(value or "").lower().replace(" ", "_")
    return {"colour": TAG_COLOURS.get(key, "grey"), "label": label or str(value or "")}


@register.filter
def money(value, places: int = 0) -> str:
    """£1,234 (or £1,234.56 with ``|money:2``); negative as −£1,234; blank for None."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    places = int(places)
    # Round first: −0.40 shown to the pound is £0, never "−£0".
    amount = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{abs(amount):,.{places}f}"
    return f"−£{text}" if amount < 0 else f"£{text}"


@register.simple_tag(takes_context=True)
def page_title(context, title: str) -> str:
    """The <title>: 'Error: ' first when the page shows form errors, as GOV.UK asks."""
    form = context.get("form")
    has_errors = bool(form is not None and getattr(form, "errors", None))
    service = context.get("service_name", "")
    return f"{'Error: ' if has_errors else ''}{title} – {service}"


def _field_anchor(bound_field) -> str:
    """The id of the element a person lands on for this field: radios and check box lists
    (crispy-forms-gds numbers their inputs from 1) go to the first option."""
    widget = bound_field.field.widget
    if isinstance(widget, django_forms.RadioSelect | django_forms.CheckboxSelectMultiple):
        return f"id_{bound_field.html_name}_1"
    if isinstance(widget, django_forms.MultiWidget):
        return f"{bound_field.auto_id}_0"
    return bound_field.auto_id


@register.filter
def error_summary_links(form) -> list[tuple[str, str]]:
    """(anchor, message) for every error of ``form``, each pointing at an element that the
    page renders: the error summary's links must land on the field (GOV.UK)."""
    visible = form.visible_fields()
    first = _field_anchor(visible[0]) if visible else ""
    links = [(first, str(error)) for error in form.non_field_errors()]
    for bound_field in visible:
        links += [(_field_anchor(bound_field), str(error)) for error in bound_field.errors]
    return links
