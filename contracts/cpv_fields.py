"""The main CPV code field (issue 16 / 19): a text input, enhanced into an accessible
autocomplete (``commissioning.widgets.autocomplete_input``) that asks
``contracts:cpv_search`` as the person types.

Why not a select of the list: CPV 2008 has 9,454 codes, and a select of them all was 644 KB of
HTML on every "Change details" page (122 KB compressed; the rest of the page is about 40 KB),
written for every form that shows it. The text input is a few hundred bytes; the suggestions
come 20 at a time.

Without JavaScript the person types the code ("85323000", "85323000-3", or the code followed
by its label, as a suggestion fills it in) or words from its label: words that name one code
take it; words that name several are answered, next to the field, with the codes they match.
"""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse_lazy

from commissioning.widgets import autocomplete_input
from contracts import cpv
from contracts.cpv_search import full_matches, search

_CODE_LIKE = re.compile(r"^\d+(?:-\d)?$")
SHOWN = 5


class CpvCodeField(forms.CharField):
    """One CPV code, stored as its 8 digits ("" when optional and left empty)."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("label", "Main CPV code (optional)")
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "What the contract buys, from the Common Procurement "
                                       "Vocabulary (CPV 2008): type its code, like 85323000, "
                                       "or words from its name, like community health")
        kwargs.setdefault("max_length", 250)
        kwargs.setdefault("widget", autocomplete_input(reverse_lazy("contracts:cpv_search"),
                                                       attrs={"class": "govuk-input"}))
        kwargs.setdefault("error_messages", {
            "required": "Enter the main CPV code",
            "max_length": "Enter a CPV code as 8 digits, like 85323000"})
        super().__init__(**kwargs)

    def prepare_value(self, value):
        """A known code is shown with its label, as a suggestion fills it in."""
        text = str(value or "").strip()
        if re.fullmatch(r"\d{8}", text) and cpv.label(text):
            return f"{text} {cpv.label(text)}"
        return value

    def clean(self, value) -> str:
        text = super().clean(value)
        text = " ".join(str(text or "").split())
        if not text:
            return ""
        first = text.split()[0]
        if _CODE_LIKE.match(first):
            return cpv.check(first)  # the words after a code are its label
        exact = [code for code, label in cpv.codes().items() if label.lower() == text.lower()]
        if exact:
            return exact[0]
        named = full_matches(text)
        if len(named) == 1:  # the words name one code
            return named[0][0]
        found = search(text, limit=SHOWN + 1)
        if not found:
            raise ValidationError(f"No CPV code matches “{text}”. Enter the 8-digit code, "
                                  f"like 85323000, or other words from its name", code="none")
        listed = "; ".join(f"{code} {label}" for code, label in found[:SHOWN])
        more = " and others" if len(found) > SHOWN else ""
        raise ValidationError(f"More than one CPV code matches “{text}”: {listed}{more}. "
                              f"Enter the code of the one you mean", code="several")
