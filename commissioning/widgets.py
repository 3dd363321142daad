"""Pickers that GOV.UK's accessible-autocomplete enhances (issue 19), as progressive enhancement.

Without JavaScript each is a plain GOV.UK control that works on its own: a select of the
choices, or a text input the form checks on the server. With JavaScript,
``static/js/autocomplete.js`` (loaded on every page by ``templates/base.html``) finds every
element carrying the ``data-app-autocomplete`` attribute and turns it into an accessible
autocomplete (the library is vendored in ``static/accessible-autocomplete/``). The label, hint,
error message and ``govuk-form-group--error`` of the field stay as crispy-forms-gds renders them.

Use them as a field's widget::

    from commissioning.widgets import autocomplete_select, autocomplete_input

    provider = forms.ModelChoiceField(..., widget=autocomplete_select())
    cpv_code = forms.CharField(..., widget=autocomplete_input(reverse_lazy("contracts:cpv_search")))

They are functions returning Django's own ``Select`` / ``TextInput`` rather than subclasses
because crispy-forms-gds picks the ``govuk-select`` / ``govuk-input`` class and the error
class by the widget's class *name*: a subclass would lose both.
"""

from __future__ import annotations

from django import forms

ATTRIBUTE = "data-app-autocomplete"
SOURCE_ATTRIBUTE = "data-app-autocomplete-source"


def autocomplete_select(attrs: dict | None = None) -> forms.Select:
    """A select of the field's choices; with JavaScript, an autocomplete over the same
    choices (``accessibleAutocomplete.enhanceSelectElement``). The select stays in the page
    (hidden) and is what the form posts, so the server checks the choice as before."""
    return forms.Select(attrs={ATTRIBUTE: "select", **(attrs or {})})


def autocomplete_input(source: str, attrs: dict | None = None) -> forms.TextInput:
    """A text input the server checks (a CPV code typed as its digits, a provider's name);
    with JavaScript, an autocomplete whose suggestions come from ``source``: a signed-in URL
    answering ``?q=<what was typed>`` with JSON ``{"results": [{"value": ..., "label": ...}]}``.
    Picking a suggestion puts its ``value`` in the input; free text is still posted as typed."""
    return forms.TextInput(attrs={ATTRIBUTE: "input", SOURCE_ATTRIBUTE: source,
                                  "spellcheck": "false", "autocomplete": "off",
                                  **(attrs or {})})
