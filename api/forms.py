from __future__ import annotations

from django import forms
from django.conf import settings

from commissioning.forms import GovUKForm


class TokenForm(GovUKForm):
    name = forms.CharField(
        label="Name", max_length=100,
        help_text="What the token is for, so you can tell your tokens apart, for example "
                  "\u201cPower BI performance dashboard\u201d",
        error_messages={"required": "Enter a name for the token",
                        "max_length": "Name must be 100 characters or fewer"},
        widget=forms.TextInput(attrs={"class": "govuk-input", "spellcheck": "false"}))
    days = forms.CharField(
        label="Days until it expires", initial=str(settings.API_TOKEN_DEFAULT_DAYS),
        help_text=f"From 1 to {settings.API_TOKEN_MAX_DAYS} days (one year). "
                  f"{settings.API_TOKEN_DEFAULT_DAYS} days unless you change it.",
        error_messages={"required": "Enter how many days the token lasts"},
        widget=forms.TextInput(attrs={"class": "govuk-input govuk-input--width-4",
                                      "inputmode": "numeric", "spellcheck": "false"}))

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Enter a name for the token")
        return name

    def clean_days(self) -> int:
        raw = self.cleaned_data["days"].strip()
        limit = settings.API_TOKEN_MAX_DAYS
        if not raw.isdigit() or len(raw) > 4:
            raise forms.ValidationError(f"Days must be a whole number from 1 to {limit}")
        days = int(raw)
        if not 1 <= days <= limit:
            raise forms.ValidationError(f"Days must be a whole number from 1 to {limit}")
        return days
