"""Forms for reports."""

from __future__ import annotations

from datetime import date

from django import forms

from commissioning.forms import GovUKForm
from monitoring.reports.committee import MAX_SECTION_LENGTH
from monitoring.reports.models import CommitteeReportType, DecisionMakerChoice

MONTHS = [(str(i), date(2000, i, 1).strftime("%B")) for i in range(1, 13)]


class MonthlyReportRequestForm(GovUKForm):
    partnership = forms.ModelChoiceField(
        label="Partnership", queryset=None,
        error_messages={"required": "Select the partnership",
                        "invalid_choice": "Select a partnership you belong to"})
    month = forms.TypedChoiceField(
        label="Month", choices=MONTHS, coerce=int,
        error_messages={"required": "Select the month",
                        "invalid_choice": "Select a month from the list"})
    year = forms.IntegerField(
        label="Year", min_value=2015, max_value=2100,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-4"}),
        error_messages={"required": "Enter the year", "invalid": "Enter the year as 4 digits",
                        "min_value": "Enter a year from 2015", "max_value": "Enter a real year"})

    def __init__(self, *args, partnerships, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partnership"].queryset = partnerships

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("month") and cleaned.get("year"):
            cleaned["first_day"] = date(cleaned["year"], cleaned["month"], 1)
        return cleaned


class ReportArchiveFilterForm(forms.Form):
    partnership = forms.ModelChoiceField(label="Partnership", queryset=None, required=False,
                                         empty_label="All partnerships")
    year = forms.IntegerField(label="Year", required=False, min_value=2000, max_value=2100,
                              widget=forms.TextInput(attrs={"inputmode": "numeric"}))

    def __init__(self, *args, partnerships, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partnership"].queryset = partnerships


class CommitteeReportStartForm(GovUKForm):
    report_type = forms.ChoiceField(
        label="Type of report", choices=CommitteeReportType.choices, widget=forms.RadioSelect,
        error_messages={"required": "Select the type of report",
                        "invalid_choice": "Select a type of report from the list"})
    title = forms.CharField(label="Title", max_length=250,
                            error_messages={"required": "Enter the report's title"})
    decision_maker = forms.ChoiceField(
        label="Decision maker", choices=DecisionMakerChoice.choices,
        error_messages={"required": "Select the decision maker"})
    meeting_name = forms.CharField(
        label="Meeting", max_length=200, help_text="For example, Care Services PDS Committee",
        error_messages={"required": "Enter the meeting"})
    meeting_date = forms.DateField(
        label="Meeting date", help_text="For example, 04/07/2027",
        widget=forms.TextInput(attrs={"class": "govuk-input--width-10"}),
        error_messages={"required": "Enter the meeting date",
                        "invalid": "Enter the meeting date as a real date, like 04/07/2027"})
    is_key_decision = forms.BooleanField(label="This is a key decision", required=False)
    is_urgent = forms.BooleanField(label="This is an urgent decision", required=False)
    contact_name = forms.CharField(label="Contact officer", max_length=150,
                                   error_messages={"required": "Enter the contact officer"})
    contact_phone = forms.CharField(label="Contact telephone", max_length=40, required=False,
                                    widget=forms.TextInput(attrs={"autocomplete": "tel"}))
    contact_email = forms.EmailField(
        label="Contact e-mail", required=False,
        error_messages={"invalid": "Enter an e-mail address like name@example.gov.uk"})
    chief_officer = forms.CharField(label="Chief officer", max_length=200,
                                    error_messages={"required": "Enter the chief officer"})
    ward = forms.CharField(label="Ward", max_length=100, initial="Borough-wide",
                           error_messages={"required": "Enter the ward, or Borough-wide"})
    report_reference = forms.CharField(label="Report number (optional)", max_length=30,
                                       required=False, help_text="For example, CS17033")


class SectionForm(forms.Form):
    """One section's prose and whether it is exempt (Part 2)."""

    body = forms.CharField(required=False, max_length=MAX_SECTION_LENGTH,
                           widget=forms.Textarea(attrs={"rows": 6, "class": "govuk-textarea"}))
    exempt = forms.BooleanField(required=False)
