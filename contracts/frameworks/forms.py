"""GOV.UK forms for frameworks, lots, windows, applications and call-offs.

Forms parse and check the shape of input; the rules (windows, admissions, call-off rules,
shares adding up to 100%) live in ``contracts.frameworks.services``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from crispy_forms_gds.layout import Fieldset, Layout, Size
from django import forms
from django.core.exceptions import ValidationError

from commissioning.forms import GovUKForm, IdsChoiceField
from commissioning.inputs import MoneyField, UKDateField
from commissioning.models import Organisation
from commissioning.widgets import autocomplete_select
from contracts.forms import WholeNumberField, parse_option_lengths, rebuild_helper
from contracts.frameworks.models import (
    AwardMethod,
    CallOffRules,
    EvaluationResult,
    FrameworkStatus,
    FundingArrangement,
    Lot,
    LotStatus,
)
from contracts.frameworks.services import BidInput, CallOffInput, FrameworkInput, LotInput
from contracts.models import ServiceArea
from contracts.services import ShareInput

TEXT_20 = {"class": "govuk-input govuk-input--width-20", "spellcheck": "false"}


class FrameworkForm(GovUKForm):
    partnership = forms.ModelChoiceField(
        label="Partnership", queryset=None, empty_label="Select a partnership",
        help_text="The framework's parties will see this framework, not the other partners",
        error_messages={"required": "Select the partnership",
                        "invalid_choice": "Select a partnership from the list"},
    )
    reference = forms.CharField(
        label="Framework reference", max_length=50, widget=forms.TextInput(attrs=TEXT_20),
        error_messages={"required": "Enter the framework reference",
                        "max_length": "The reference must be 50 characters or fewer"},
    )
    title = forms.CharField(label="Title", max_length=250,
                            error_messages={"required": "Enter the framework title"})
    description = forms.CharField(label="Description (optional)", required=False,
                                  widget=forms.Textarea)
    parties = IdsChoiceField(
        label="Parties to the Inter Authority Agreement", queryset=None,
        widget=forms.CheckboxSelectMultiple,
        help_text="The commissioners that set up the framework and may call off from it",
        error_messages={"required": "Select the parties to the Inter Authority Agreement",
                        "invalid_choice": "Select parties from the list"},
    )
    lead = forms.ModelChoiceField(
        label="Lead party", queryset=None, widget=forms.RadioSelect, empty_label=None,
        error_messages={"required": "Select the lead party",
                        "invalid_choice": "Select the lead party from the list"},
    )
    start_date = UKDateField(label="Start date")
    initial_term_months = WholeNumberField(label="Initial term, in months",
                                           noun="initial term", min_value=1, max_value=240,
                                           help_text="For 5 years, enter 60")
    extension_months = WholeNumberField(label="Extension, in months (optional)",
                                        noun="extension", required=False, max_value=240,
                                        help_text="For up to 2 more years, enter 24")
    estimated_total_value = MoneyField(label="Estimated total value")
    open_to_new_providers = forms.BooleanField(
        label="Open framework: new providers may join in later procurement windows",
        required=False,
        help_text="An open framework under the Procurement Act 2023",
    )
    call_off_rules = forms.ChoiceField(
        label="How can services be called off?", choices=CallOffRules.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how services can be called off"},
    )
    status = forms.ChoiceField(
        label="Status", choices=FrameworkStatus.choices, widget=forms.RadioSelect,
        error_messages={"required": "Select the framework's status"},
    )

    def __init__(self, *args, partnerships, commissioners, editing: bool = False,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partnership"].queryset = partnerships
        self.fields["parties"].queryset = commissioners
        self.fields["lead"].queryset = commissioners
        if editing:
            del self.fields["partnership"]
            rebuild_helper(self)

    def framework_input(self, partnership=None) -> FrameworkInput:
        c = self.cleaned_data
        return FrameworkInput(
            partnership=partnership or c["partnership"], reference=c["reference"],
            title=c["title"], description=c["description"], start_date=c["start_date"],
            initial_term_months=c["initial_term_months"],
            extension_months=c.get("extension_months") or 0,
            estimated_total_value=c["estimated_total_value"], parties=list(c["parties"]),
            lead=c["lead"], open_to_new_providers=c["open_to_new_providers"],
            call_off_rules=c["call_off_rules"], status=c["status"],
        )


class LotForm(GovUKForm):
    number = WholeNumberField(label="Lot number", noun="lot number", min_value=1, max_value=99)
    title = forms.CharField(label="Title", max_length=250,
                            error_messages={"required": "Enter the lot title"})
    description = forms.CharField(label="Description", required=False, widget=forms.Textarea)
    provider_skills = forms.CharField(label="Required provider skills", required=False,
                                      widget=forms.Textarea, help_text="One skill per line")
    outcomes = forms.CharField(label="High-level outcomes", required=False,
                               widget=forms.Textarea, help_text="One outcome per line")
    status = forms.ChoiceField(
        label="Status", widget=forms.RadioSelect,
        choices=[(s.value, s.label) for s in (LotStatus.ACTIVE, LotStatus.UNDER_REVIEW)],
        help_text="To withdraw a lot, use 'Withdraw this lot' on the lot's page",
        error_messages={"required": "Select the lot's status"},
    )

    def lot_input(self) -> LotInput:
        c = self.cleaned_data
        return LotInput(number=c["number"], title=c["title"], description=c["description"],
                        provider_skills=c["provider_skills"], outcomes=c["outcomes"],
                        status=c["status"])


class WindowForm(GovUKForm):
    opens = UKDateField(label="Opens on", noun="opening date")
    closes = UKDateField(label="Closes on", noun="closing date")

    def clean(self):
        cleaned = super().clean()
        opens, closes = cleaned.get("opens"), cleaned.get("closes")
        if opens and closes and closes < opens:
            self.add_error("closes",
                           "The closing date must be the same as or after the opening date")
        return cleaned


class ApplyForm(GovUKForm):
    lots = IdsChoiceField(
        label="Which lots are you applying to?", queryset=None,
        widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply. You must meet the lot's criteria to be admitted",
        error_messages={"required": "Select at least one lot",
                        "invalid_choice": "Select lots from the list"},
    )

    def __init__(self, *args, framework, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lots"].queryset = framework.lots.exclude(status=LotStatus.WITHDRAWN)
        self.fields["lots"].label_from_instance = lambda lot: str(lot)


ADMIT = [("admit", "Admit the provider to the lot"), ("reject", "Reject the application")]


class EvaluationForm(GovUKForm):
    submitted_on = UKDateField(
        label="Date the application was received", noun="date the application was received",
        required=False,
        help_text="Change it to the real date when you record an application made before it "
                  "was entered here, for example 10/02/2021")
    evaluation = forms.ChoiceField(
        label="Does the provider meet the lot's criteria?", choices=EvaluationResult.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether the provider meets the criteria"},
    )
    evaluated_on = UKDateField(label="Date of the evaluation", noun="date of the evaluation")
    evaluation_notes = forms.CharField(label="Evaluation notes (optional)", required=False,
                                       widget=forms.Textarea)
    decision = forms.ChoiceField(label="Decision", choices=ADMIT, widget=forms.RadioSelect,
                                 error_messages={"required": "Select admit or reject"})
    framework_agreement_date = UKDateField(
        label="Framework agreement date", noun="date of the framework agreement",
        required=False, help_text="If admitted: the date the provider signed the framework "
                                  "agreement, for example 01/04/2021")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "admit":
            if cleaned.get("evaluation") == EvaluationResult.CRITERIA_NOT_MET:
                self.add_error("decision",
                               "A provider that does not meet the criteria cannot be admitted")
            if not cleaned.get("framework_agreement_date") and \
                    "framework_agreement_date" not in self.errors:
                self.add_error("framework_agreement_date",
                               "Enter the date of the framework agreement")
        return cleaned


class CallOffForm(GovUKForm):
    """One page for a call-off: the service, the provider and how it was chosen (with the
    mini-competition's invited providers, bids and scores), dates and value, commissioners'
    shares and funding."""

    reference = forms.CharField(
        label="Contract reference", max_length=50, widget=forms.TextInput(attrs=TEXT_20),
        help_text="Unique within the lead commissioner's contracts",
        error_messages={"required": "Enter the contract reference"},
    )
    title = forms.CharField(label="Service title", max_length=250,
                            error_messages={"required": "Enter the service title"})
    description = forms.CharField(label="Description (optional)", required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    service_area = forms.ChoiceField(
        label="Service area", choices=ServiceArea.choices,
        error_messages={"required": "Select the service area"},
    )
    award_method = forms.ChoiceField(
        label="How was the provider chosen?", choices=AwardMethod.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how the provider was chosen"},
    )
    direct_award_justification = forms.CharField(
        label="Direct award: justification", required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the service is awarded without a mini-competition",
    )
    provider = forms.ModelChoiceField(
        label="Provider awarded the call-off", queryset=None,
        empty_label="Select a provider", widget=autocomplete_select(),
        help_text="Only providers admitted to this lot are listed",
        error_messages={"required": "Select the provider awarded the call-off",
                        "invalid_choice": "Select a provider admitted to this lot. Only "
                                          "providers admitted to the lot can be chosen"},
    )
    called_off_on = UKDateField(label="Date of the call-off decision",
                                noun="date of the call-off decision")
    start_date = UKDateField(label="Start date")
    initial_end_date = UKDateField(label="End date", noun="end date")
    annual_value = MoneyField(label="Annual value")
    extension_options = forms.CharField(
        label="Extension options (optional)", required=False,
        help_text="The length of each option in months, separated by commas, like 12, 12",
        widget=forms.TextInput(attrs={"class": "govuk-input govuk-input--width-10"}),
    )
    lead_commissioner = forms.ModelChoiceField(
        label="Lead commissioner", queryset=None, empty_label="Select a commissioner",
        widget=autocomplete_select(), help_text="Holds and signs the contract",
        error_messages={"required": "Select the lead commissioner",
                        "invalid_choice": "Select a lead commissioner from the list"},
    )
    funding_arrangement = forms.ChoiceField(
        label="How is it funded?", choices=FundingArrangement.choices, widget=forms.RadioSelect,
        error_messages={"required": "Select how the call-off is funded"},
    )

    def __init__(self, *args, lot: Lot, admitted, parties, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lot = lot
        self.admitted = list(admitted)
        self.parties = list(parties)
        self.fields["provider"].queryset = Organisation.objects.filter(
            pk__in=[o.pk for o in self.admitted]).order_by("name")
        self.fields["lead_commissioner"].queryset = Organisation.objects.filter(
            pk__in=[o.pk for o in self.parties]).order_by("name")
        bid_fields = []
        for org in self.admitted:
            self.fields[f"invite_{org.pk}"] = forms.BooleanField(
                label=f"{org.name} was invited", required=False)
            self.fields[f"bid_{org.pk}"] = forms.BooleanField(
                label=f"{org.name} sent a bid", required=False)
            self.fields[f"score_{org.pk}"] = forms.CharField(
                label=f"{org.name}: score out of 100 (optional)", required=False,
                widget=forms.TextInput(attrs={"inputmode": "decimal",
                                              "class": "govuk-input govuk-input--width-4"}))
            bid_fields += [f"invite_{org.pk}", f"bid_{org.pk}", f"score_{org.pk}"]
        share_fields = []
        for org in self.parties:
            self.fields[f"share_{org.pk}"] = forms.CharField(
                label=f"{org.name}: share of the cost (%)", required=False,
                widget=forms.TextInput(attrs={"inputmode": "decimal",
                                              "class": "govuk-input govuk-input--width-5"}))
            share_fields.append(f"share_{org.pk}")
        self.helper.layout = Layout(
            Fieldset("reference", "title", "description", "service_area",
                     legend="The service", legend_size=Size.MEDIUM),
            Fieldset("award_method", "direct_award_justification", "provider",
                     "called_off_on", legend="The provider and how it was chosen",
                     legend_size=Size.MEDIUM),
            Fieldset(*bid_fields, legend="Mini-competition: invited providers and bids",
                     legend_size=Size.MEDIUM),
            Fieldset("start_date", "initial_end_date", "annual_value", "extension_options",
                     legend="Dates and value", legend_size=Size.MEDIUM),
            Fieldset("lead_commissioner", *share_fields, "funding_arrangement",
                     legend="Commissioners and funding", legend_size=Size.MEDIUM),
        )

    def clean_extension_options(self) -> list[int]:
        return parse_option_lengths(self.cleaned_data.get("extension_options") or "")

    def _percent(self, name: str, text: str, what: str) -> Decimal | None:
        raw = (text or "").strip().rstrip("%").strip()
        if not raw:
            return None
        try:
            value = Decimal(raw)
            if not value.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            self.add_error(name, f"Enter {what} as a number, like 50")
            return None
        if not Decimal("0") <= value <= Decimal("100"):
            self.add_error(name, f"{what[0].upper()}{what[1:]} must be between 0 and 100")
            return None
        if value.as_tuple().exponent < -2:
            self.add_error(name, f"{what[0].upper()}{what[1:]} can have up to 2 decimal places")
            return None
        return value.quantize(Decimal("0.01"))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("initial_end_date")
        if start and end and end < start:
            self.add_error("initial_end_date",
                           "The end date must be the same as or after the start date")
        self.bids: list[BidInput] = []
        for org in self.admitted:
            score = self._percent(f"score_{org.pk}", cleaned.get(f"score_{org.pk}"),
                                  f"{org.display_name}'s score")
            invited = bool(cleaned.get(f"invite_{org.pk}"))
            bid = bool(cleaned.get(f"bid_{org.pk}"))
            if (bid or score is not None) and not invited:
                self.add_error(f"invite_{org.pk}",
                               f"Select that {org.display_name} was invited, or clear its bid")
            if invited:
                self.bids.append(BidInput(org, bid, score))
        self.shares: list[ShareInput] = []
        for org in self.parties:
            share = self._percent(f"share_{org.pk}", cleaned.get(f"share_{org.pk}"),
                                  f"{org.display_name}'s share")
            if share:
                self.shares.append(ShareInput(org, share))
        return cleaned

    def call_off_input(self) -> CallOffInput:
        c = self.cleaned_data
        method = c["award_method"]
        return CallOffInput(
            lot=self.lot, provider=c["provider"], award_method=method,
            funding_arrangement=c["funding_arrangement"], called_off_on=c["called_off_on"],
            reference=c["reference"].strip(), title=c["title"], description=c["description"],
            service_area=c["service_area"], start_date=c["start_date"],
            initial_end_date=c["initial_end_date"], annual_value=c["annual_value"],
            lead_commissioner=c["lead_commissioner"], shares=self.shares,
            direct_award_justification=c["direct_award_justification"],
            invitations=self.bids if method == AwardMethod.MINI_COMPETITION else (),
            extension_option_months=c["extension_options"],
        )

    def add_service_error(self, error: ValidationError) -> None:
        """A service's message next to the field it concerns: shares next to the first share,
        bids next to the first invitation."""
        first_share = f"share_{self.parties[0].pk}" if self.parties else None
        first_bid = f"invite_{self.admitted[0].pk}" if self.admitted else None
        aliases = {"shares": first_share, "invitations": first_bid, "lot": None,
                   "holder": "lead_commissioner"}
        if not hasattr(error, "error_dict"):
            self.add_error(None, error.messages)
            return
        for name, messages in error.message_dict.items():
            target = aliases.get(name, name)
            self.add_error(target if target in self.fields else None, messages)
