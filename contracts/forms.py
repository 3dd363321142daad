"""GOV.UK forms for the contract register. Forms parse and check input; services decide."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from crispy_forms_gds.helper import FormHelper
from django import forms
from django.core.exceptions import ValidationError

from commissioning import identifiers
from commissioning.forms import GovUKForm
from commissioning.inputs import MoneyField, UKDateField
from commissioning.locking import VersionField
from commissioning.models import Organisation, OrganisationKind, PartnershipMember, User
from commissioning.widgets import autocomplete_select
from contracts import cpv, validation
from contracts.cpv_fields import CpvCodeField
from contracts.models import (
    ROUTES_BY_REGIME,
    Contract,
    ContractStatus,
    DecisionMaker,
    DecisionPurpose,
    DocumentKind,
    OngoingCosts,
    ProcurementRegime,
    ProcurementRoute,
    ServiceArea,
)
from contracts.services import DecisionInput, ShareInput

YES_NO = [("yes", "Yes"), ("no", "No")]


def _yes_no(value: object) -> bool:
    return value in (True, "yes", "True", "true", "on", "1")


class WholeNumberField(forms.IntegerField):
    def __init__(self, *, label: str, noun: str, min_value: int | None = 0,
                 max_value: int | None = 600, **kwargs) -> None:
        super().__init__(
            label=label, min_value=min_value, max_value=max_value,
            widget=forms.TextInput(attrs={"inputmode": "numeric",
                                          "class": "govuk-input govuk-input--width-4"}),
            error_messages={
                "required": f"Enter the {noun}",
                "invalid": f"Enter the {noun} as a whole number",
                "min_value": f"The {noun} must be {min_value} or more",
                "max_value": f"The {noun} must be {max_value} or fewer",
            },
            **kwargs,
        )


def route_choices() -> list:
    """Routes grouped under their regime (optgroups), so the select reads as a tree."""
    groups: list = [("", "Select a route")]
    for regime, routes in ROUTES_BY_REGIME.items():
        groups.append(
            (ProcurementRegime(regime).label, [(r, ProcurementRoute(r).label) for r in routes])
        )
    return groups


def rebuild_helper(form: forms.Form) -> None:
    """Re-make the crispy helper after fields were removed (its layout lists the fields)."""
    form.helper = FormHelper(form)
    form.helper.form_tag = False
    form.helper.disable_csrf = True


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError next to the field it names (else at the top)."""
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            form.add_error(name if name in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


# --- Create journey pages --------------------------------------------------------------------

class ContractDetailsForm(GovUKForm):
    reference = forms.CharField(
        label="Contract reference", max_length=50,
        help_text="Unique within the organisation that holds the contract",
        widget=forms.TextInput(attrs={"class": "govuk-input govuk-input--width-20",
                                      "spellcheck": "false"}),
        error_messages={"required": "Enter the contract reference",
                        "max_length": "The contract reference must be 50 characters or fewer"},
    )
    title = forms.CharField(
        label="Title", max_length=250,
        error_messages={"required": "Enter the contract title",
                        "max_length": "The title must be 250 characters or fewer"},
    )
    description = forms.CharField(label="Description", required=False, widget=forms.Textarea)
    service_area = forms.ChoiceField(
        label="Service area", choices=ServiceArea.choices, widget=forms.RadioSelect,
        error_messages={"required": "Select the service area",
                        "invalid_choice": "Select a service area from the list"},
    )

    def clean_reference(self) -> str:
        return self.cleaned_data["reference"].strip()


class ContractPartiesForm(GovUKForm):
    partnership = forms.ModelChoiceField(
        label="Partnership", queryset=None, empty_label="Select a partnership",
        help_text="Its holder, lead commissioner and the partners with a share will see "
                  "this contract, not the other partners",
        error_messages={"required": "Select the partnership",
                        "invalid_choice": "Select a partnership from the list"},
    )
    holder = forms.ModelChoiceField(
        label="Contract holder", queryset=None, empty_label="Select an organisation",
        widget=autocomplete_select(),
        help_text="The partner that signs the contract",
        error_messages={"required": "Select the contract holder",
                        "invalid_choice": "Select a contract holder from the list"},
    )
    lead_commissioner = forms.ModelChoiceField(
        label="Lead commissioner", queryset=None, empty_label="Select an organisation",
        widget=autocomplete_select(),
        error_messages={"required": "Select the lead commissioner",
                        "invalid_choice": "Select a lead commissioner from the list"},
    )
    provider = forms.ModelChoiceField(
        label="Provider", queryset=None, empty_label="Select a provider", required=False,
        widget=autocomplete_select(),
        help_text="Providers that deliver a contract for the partnership or applied to one of "
                  "its frameworks",
        error_messages={"invalid_choice": "Select a provider from the list, or add a new "
                                          "provider"},
    )
    new_provider_name = forms.CharField(
        label="Or add a provider that is new to the service (optional)", required=False,
        max_length=200, help_text="Its full legal name, if it is not in the list",
    )
    new_provider_kind = forms.ChoiceField(
        label="What kind of provider is it?", required=False, widget=forms.RadioSelect,
        choices=[(k.value, k.label) for k in (
            OrganisationKind.VCSE, OrganisationKind.INDEPENDENT_PROVIDER,
            OrganisationKind.NHS_TRUST, OrganisationKind.OTHER_PUBLIC_BODY)],
        error_messages={"invalid_choice": "Select what kind of provider it is"},
    )
    contract_manager = forms.ModelChoiceField(
        label="Contract manager (optional)", queryset=None, required=False,
        empty_label="No contract manager yet",
        help_text="They get the key-date alert e-mails",
        error_messages={"invalid_choice": "Select a contract manager from the list"},
    )

    def __init__(self, *args, partnerships, providers, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        partner_orgs = Organisation.objects.filter(
            partnership_memberships__partnership__in=partnerships
        ).distinct()
        self.fields["partnership"].queryset = partnerships
        self.fields["holder"].queryset = partner_orgs
        self.fields["lead_commissioner"].queryset = partner_orgs
        self.fields["provider"].queryset = providers  # contracts.selectors.provider_choices
        self.fields["contract_manager"].queryset = User.objects.filter(
            is_active=True, memberships__is_active=True,
            memberships__organisation__in=partner_orgs,
        ).distinct()

    def clean(self):
        cleaned = super().clean()
        provider, new_name = cleaned.get("provider"), cleaned.get("new_provider_name", "")
        if provider and new_name:
            self.add_error("new_provider_name", "Select a provider from the list or add a new "
                                                "provider, not both")
        elif not provider and not new_name and "provider" not in self.errors:
            self.add_error("provider", "Select the provider, or add a new provider")
        elif new_name and not cleaned.get("new_provider_kind") and \
                "new_provider_kind" not in self.errors:
            self.add_error("new_provider_kind", "Select what kind of provider it is")
        partnership = cleaned.get("partnership")
        if partnership:
            members = set(
                PartnershipMember.objects.filter(partnership=partnership).values_list(
                    "organisation_id", flat=True
                )
            )
            for name, label in (("holder", "contract holder"),
                                ("lead_commissioner", "lead commissioner")):
                org = cleaned.get(name)
                if org and org.pk not in members:
                    self.add_error(name, f"The {label} must be a partner in {partnership.name}")
            manager = cleaned.get("contract_manager")
            if manager and not manager.memberships.filter(
                organisation_id__in=members, is_active=True
            ).exists():
                self.add_error("contract_manager",
                               f"The contract manager must work for a partner in "
                               f"{partnership.name}")
        return cleaned


class ClassificationForm(GovUKForm):
    """What a contract buys (CPV codes from the shipped CPV 2008 list, ``contracts.cpv``) and its
    Find a Tender notice and procedure (``commissioning.identifiers``): the same fields and
    checks on the add-a-contract journey and on "Change details"."""

    cpv_code = CpvCodeField()  # a text input with suggestions, not a select of 9,454 codes
    additional_cpv_codes = forms.CharField(
        label="Additional CPV codes (optional)", required=False, max_length=500,
        help_text="8-digit codes from the same list, separated by commas, like 85312000, "
                  "85323000",
        widget=forms.TextInput(attrs={"class": "govuk-input", "spellcheck": "false"}),
        error_messages={"max_length": "Additional CPV codes must be 500 characters or fewer"},
    )
    find_a_tender_notice_id = forms.CharField(
        label="Find a Tender notice identifier (optional)", required=False, max_length=20,
        help_text="The contract details notice on Find a Tender, like 012345-2025",
        widget=forms.TextInput(attrs={"class": "govuk-input govuk-input--width-10",
                                      "spellcheck": "false"}),
    )
    find_a_tender_procedure_id = forms.CharField(
        label="Find a Tender procedure identifier (optional)", required=False, max_length=30,
        help_text="The procurement's identifier on Find a Tender, like ocds-h6vhtk-04f3a1",
        widget=forms.TextInput(attrs={"class": "govuk-input govuk-input--width-20",
                                      "spellcheck": "false"}),
    )

    def clean_additional_cpv_codes(self) -> list[str]:
        codes = cpv.check_list(self.cleaned_data["additional_cpv_codes"])
        if self.cleaned_data.get("cpv_code") in codes:
            codes.remove(self.cleaned_data["cpv_code"])
        return codes

    def clean_find_a_tender_notice_id(self) -> str:
        value = self.cleaned_data["find_a_tender_notice_id"]
        return identifiers.check_find_a_tender_notice(value) if value.strip() else ""

    def clean_find_a_tender_procedure_id(self) -> str:
        value = self.cleaned_data["find_a_tender_procedure_id"]
        return identifiers.check_find_a_tender_procedure(value) if value.strip() else ""


class ContractProcurementForm(ClassificationForm):
    procurement_regime = forms.ChoiceField(
        label="Procurement regime", choices=ProcurementRegime.choices, widget=forms.RadioSelect,
        error_messages={"required": "Select the procurement regime",
                        "invalid_choice": "Select a procurement regime from the list"},
    )
    procurement_route = forms.ChoiceField(
        label="Procurement route", choices=route_choices,
        error_messages={"required": "Select the procurement route",
                        "invalid_choice": "Select a procurement route from the list"},
    )
    tendered = forms.ChoiceField(
        label="Was the contract tendered?", choices=YES_NO, widget=forms.RadioSelect,
        error_messages={"required": "Select yes if the contract was tendered"},
    )
    status = forms.ChoiceField(
        label="Where is the contract now?", widget=forms.RadioSelect,
        choices=[(s.value, s.label) for s in (ContractStatus.PLANNED,
                                               ContractStatus.IN_PROCUREMENT,
                                               ContractStatus.AWARDED, ContractStatus.LIVE)],
        error_messages={"required": "Select where the contract is now",
                        "invalid_choice": "Select a status from the list"},
    )
    awarded_on = UKDateField(label="Award date", required=False,
                             help_text="If awarded: the date of the award decision, "
                                       "for example 27/03/2026")

    field_order = ["procurement_regime", "procurement_route", "tendered", "status",
                   "awarded_on", "cpv_code", "additional_cpv_codes", "find_a_tender_notice_id",
                   "find_a_tender_procedure_id"]

    def clean(self):
        cleaned = super().clean()
        add_rule_problems(self, cleaned, procurement_regime=cleaned.get("procurement_regime"),
                          procurement_route=cleaned.get("procurement_route"))
        if cleaned.get("status") == ContractStatus.AWARDED and not cleaned.get("awarded_on") \
                and "awarded_on" not in self.errors:
            self.add_error("awarded_on", "Enter the award date")
        return cleaned


OPTIONS_FORMAT = ("Enter each extension option as a number of months between 1 and 120, "
                  "separated by commas, like 12, 12")


def parse_option_lengths(text: str) -> list[int]:
    """"12, 12" → [12, 12]; how long an option may be is ``validation``'s rule."""
    parts = [p for p in re.split(r"[,;+\s]+", text.strip()) if p]
    if any(not (p.isascii() and p.isdigit()) or len(p) > 4 for p in parts):
        raise ValidationError(OPTIONS_FORMAT)  # and never int() a 10,000-digit run
    lengths = [int(p) for p in parts]
    problem = validation.extension_options_problem(lengths)
    if problem:
        raise ValidationError(problem)
    return lengths


def add_rule_problems(form: forms.Form, cleaned: dict, **values: object) -> None:
    """Check what this page knows against the register's rules (``validation``, the same
    function the services and the import call) and show each problem next to its field."""
    options = values.pop("extension_option_months", ())
    problems = validation.contract_problems(Contract(**values),
                                            extension_option_months=options)
    for name, message in problems.items():
        if name in form.fields and name in values and name not in form.errors:
            form.add_error(name, message)


class ContractDatesForm(GovUKForm):
    start_date = UKDateField(label="Start date")
    initial_end_date = UKDateField(label="End date of the initial term",
                                   noun="end date of the initial term")
    notice_period_months = WholeNumberField(
        label="Notice period, in months", noun="notice period", max_value=60,
        help_text="How long before the end date an extension must be decided",
    )
    extension_options = forms.CharField(
        label="Extension options (optional)", required=False,
        help_text="The length of each option in months, separated by commas. For '+ up to 2 "
                  "years' as two 1-year options, enter 12, 12",
        widget=forms.TextInput(attrs={"class": "govuk-input govuk-input--width-10",
                                      "spellcheck": "false"}),
    )

    def clean_extension_options(self) -> list[int]:
        return parse_option_lengths(self.cleaned_data.get("extension_options") or "")

    def clean(self):
        cleaned = super().clean()
        add_rule_problems(self, cleaned, **{name: cleaned.get(name) for name in (
            "start_date", "initial_end_date", "notice_period_months")})
        return cleaned


class ContractValuesForm(GovUKForm):
    annual_value = MoneyField(label="Annual value")
    vat_not_recoverable = MoneyField(
        label="VAT not recoverable", required=False, noun="VAT not recoverable",
        help_text="Leave blank if none. In pounds, for example £1,234.50",
    )


class ServiceLinesForm(GovUKForm):
    service_lines = forms.CharField(
        label="Service lines or pathways (optional)", required=False, widget=forms.Textarea,
        help_text="One per line, for example 'Carers' Support Services'",
    )

    def clean_service_lines(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["service_lines"].splitlines()]
        lines = [line for line in lines if line]
        if any(len(line) > 200 for line in lines):
            raise ValidationError("Each service line must be 200 characters or fewer")
        return lines


class SharesForm(GovUKForm):
    """One share and one joint-monitoring box per partner organisation."""

    def __init__(self, *args, organisations, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organisations = list(organisations)
        for org in self.organisations:
            self.fields[f"share_{org.pk}"] = forms.CharField(
                label=f"{org.name}: share of the cost (%)", required=False,
                widget=forms.TextInput(attrs={"inputmode": "numeric",
                                              "class": "govuk-input govuk-input--width-5"}),
            )
            self.fields[f"monitor_{org.pk}"] = forms.BooleanField(
                label=f"{org.display_name} jointly monitors the contract", required=False,
            )

    def clean(self):
        cleaned = super().clean()
        total = Decimal("0")
        self.shares: list[ShareInput] = []
        for org in self.organisations:
            raw = (cleaned.get(f"share_{org.pk}") or "").strip().rstrip("%").strip()
            if not raw:
                if cleaned.get(f"monitor_{org.pk}"):
                    # A partner that pays nothing but monitors: 0%, as the page says.
                    self.shares.append(ShareInput(org, Decimal("0.00"), True))
                continue
            try:
                percent = Decimal(raw)
                if not percent.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                self.add_error(f"share_{org.pk}",
                               f"Enter {org.display_name}'s share as a percentage, like 50")
                continue
            if not Decimal("0") <= percent <= Decimal("100"):
                self.add_error(f"share_{org.pk}",
                               f"{org.display_name}'s share must be between 0% and 100%")
                continue
            if percent.as_tuple().exponent < -2:
                self.add_error(f"share_{org.pk}",
                               f"{org.display_name}'s share can have up to 2 decimal places")
                continue
            total += percent
            self.shares.append(ShareInput(org, percent.quantize(Decimal("0.01")),
                                          bool(cleaned.get(f"monitor_{org.pk}"))))
        if not self.errors:
            if not self.shares:
                self.add_error(None, "Enter each partner's share of the cost")
            elif total != Decimal("100"):
                first = f"share_{self.organisations[0].pk}" if self.organisations else None
                self.add_error(first, f"The shares must add up to 100%. They add up to "
                                      f"{total.normalize():f}%")
        return cleaned


# --- Forms on an existing contract -----------------------------------------------------------

class ContractEditForm(ContractDetailsForm, ContractDatesForm, ContractValuesForm,
                       ClassificationForm):
    """Details, dates and values of an existing contract, with its version for locking."""

    version = VersionField()
    provider = forms.ModelChoiceField(
        label="Provider", queryset=Organisation.objects.none(), widget=autocomplete_select(),
        error_messages={"required": "Select the provider",
                        "invalid_choice": "Select a provider from the list"},
    )
    procurement_regime = ContractProcurementForm.base_fields["procurement_regime"]
    procurement_route = ContractProcurementForm.base_fields["procurement_route"]
    tendered = forms.BooleanField(label="The contract was tendered", required=False)
    works = forms.BooleanField(label="This is a works contract (15% modification threshold)",
                               required=False)

    field_order = ["reference", "title", "description", "service_area", "provider",
                   "procurement_regime", "procurement_route", "tendered", "works",
                   "start_date", "initial_end_date", "notice_period_months", "annual_value",
                   "vat_not_recoverable", "cpv_code", "additional_cpv_codes",
                   "find_a_tender_notice_id", "find_a_tender_procedure_id", "version"]

    def __init__(self, *args, providers, **kwargs) -> None:
        initial = kwargs.get("initial")
        if initial and isinstance(initial.get("additional_cpv_codes"), list):
            initial["additional_cpv_codes"] = ", ".join(initial["additional_cpv_codes"])
        super().__init__(*args, **kwargs)
        del self.fields["extension_options"]
        # contracts.selectors.provider_choices: never every provider on the service.
        self.fields["provider"].queryset = providers
        rebuild_helper(self)

    def clean_extension_options(self) -> list[int]:  # not on this form
        return []

    def clean(self):
        cleaned = super().clean()
        add_rule_problems(self, cleaned, **{name: cleaned.get(name) for name in (
            "reference", "title", "start_date", "initial_end_date", "notice_period_months",
            "annual_value", "vat_not_recoverable", "procurement_regime",
            "procurement_route")})
        return cleaned


class StatusForm(GovUKForm):
    status = forms.ChoiceField(
        label="New status", choices=ContractStatus.choices, widget=forms.RadioSelect,
        error_messages={"required": "Select the new status",
                        "invalid_choice": "Select a status from the list"},
    )
    on = UKDateField(label="Date of the change", noun="date of the change",
                     help_text="For an award, the date of the award decision. "
                               "For example, 27/03/2026")
    version = VersionField()


class ContractCoverForm(GovUKForm):
    """What committee papers' financial and customer-impact boxes say about the contract
    (seed 000: cost, ongoing costs, budget head, total current budget, source of funding,
    estimated users). Every field is optional: the paper says what is not recorded."""

    funding_sources_text = forms.CharField(
        label="Sources of funding (optional)", required=False, max_length=250,
        help_text="As committee papers state them, for example 'Core LBB/CCG/BCF'. Leave "
                  "blank to name the funding sources of the schemes that fund the contract",
        error_messages={"max_length": "Sources of funding must be 250 characters or fewer"},
        widget=forms.TextInput(attrs={"class": "govuk-input", "spellcheck": "false"}),
    )
    ongoing_costs = forms.ChoiceField(
        label="Ongoing costs (optional)", required=False, choices=OngoingCosts.choices,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Select recurring or non-recurring cost"},
    )
    ongoing_annual_cost = MoneyField(
        label="Ongoing annual cost (optional)", required=False, noun="ongoing annual cost",
        help_text="Leave blank if it is the annual value. In pounds, for example £1,234.50",
    )
    budget_head = forms.CharField(
        label="Budget head or performance centre (optional)", required=False, max_length=120,
        help_text="For example, 'Various' or a cost centre code",
        error_messages={"max_length": "The budget head must be 120 characters or fewer"},
        widget=forms.TextInput(attrs={"class": "govuk-input govuk-input--width-20"}),
    )
    total_current_budget = MoneyField(
        label="Total current budget for this head (optional)", required=False,
        noun="total current budget for this head",
    )
    estimated_users = WholeNumberField(
        label="Estimated number of users or beneficiaries (optional)", required=False,
        noun="estimated number of users or beneficiaries", max_value=100_000_000,
        help_text="Current and projected, as a whole number, for example 5000",
    )
    version = VersionField()

    field_order = ["funding_sources_text", "ongoing_costs", "ongoing_annual_cost",
                   "budget_head", "total_current_budget", "estimated_users", "version"]


class DecisionForm(GovUKForm):
    purpose = forms.ChoiceField(
        label="What was decided about?", choices=DecisionPurpose.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select what the decision was about"},
    )
    decision_maker = forms.ChoiceField(
        label="Decision maker", choices=DecisionMaker.choices, widget=forms.RadioSelect,
        error_messages={"required": "Select who made the decision",
                        "invalid_choice": "Select a decision maker from the list"},
    )
    body_name = forms.CharField(label="Committee or body (optional)", required=False,
                                max_length=200,
                                help_text="For example, Care Services PDS Committee")
    meeting_date = UKDateField(label="Date of decision", noun="date of the decision")
    report_reference = forms.CharField(
        label="Report reference (optional)", required=False, max_length=50,
        help_text="For example, CS17033",
        widget=forms.TextInput(attrs={"class": "govuk-input govuk-input--width-10",
                                      "spellcheck": "false"}),
    )
    is_key = forms.BooleanField(label="Key decision", required=False)
    is_urgent = forms.BooleanField(label="Urgent decision", required=False)
    call_in_applies = forms.BooleanField(label="Call-in applies", required=False)
    outcome = forms.CharField(label="What was decided", widget=forms.Textarea,
                              error_messages={"required": "Enter what was decided"})

    def decision_input(self) -> DecisionInput:
        c = self.cleaned_data
        return DecisionInput(
            decision_maker=c["decision_maker"], meeting_date=c["meeting_date"],
            outcome=c["outcome"], body_name=c.get("body_name", ""),
            report_reference=c.get("report_reference", ""), is_key=c.get("is_key", False),
            is_urgent=c.get("is_urgent", False), call_in_applies=c.get("call_in_applies", False),
        )


class ExtensionForm(DecisionForm):
    option = forms.ModelChoiceField(
        label="Extension option to exercise", queryset=None, widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": "Select the extension option",
                        "invalid_choice": "Select an extension option from the list"},
    )
    version = VersionField()
    field_order = ["option"]

    def __init__(self, *args, contract, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["purpose"]
        rebuild_helper(self)
        self.fields["option"].queryset = contract.extension_options.filter(exercised=False)
        self.fields["option"].label_from_instance = (
            lambda o: f"Option {o.sequence}: {o.length_months} months"
        )


class VariationForm(GovUKForm):
    date = UKDateField(label="Date of the variation", noun="date of the variation")
    description = forms.CharField(label="What changed", widget=forms.Textarea,
                                  error_messages={"required": "Describe the variation"})
    value_change = MoneyField(
        label="Change in whole-life value", noun="change in value", allow_negative=True,
        required=False,
        help_text="In pounds. Use a minus sign for a reduction, for example -£25,000",
    )
    term_change_months = WholeNumberField(
        label="Change in term, in months (optional)", noun="change in term", required=False,
        min_value=-120, max_value=120,
        help_text="Use a minus sign to shorten the term. Leave blank if the term is unchanged",
    )
    decision = forms.ModelChoiceField(
        label="Decision that authorised it (optional)", queryset=None, required=False,
        empty_label="No decision recorded",
        error_messages={"invalid_choice": "Select a decision from the list"},
    )

    def __init__(self, *args, contract, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["decision"].queryset = contract.decisions.all()


class DocumentForm(GovUKForm):
    kind = forms.ChoiceField(label="Kind of document", choices=DocumentKind.choices,
                             widget=forms.RadioSelect,
                             error_messages={"required": "Select what kind of document this is"})
    file = forms.FileField(
        label="Upload a file",
        help_text="PDF, Word (DOCX), Excel (XLSX), OpenDocument text (ODT), CSV or text",
        error_messages={"required": "Select a file",
                        "empty": "The selected file is empty",
                        "invalid": "Select a file"},
    )


class ReviewDateForm(GovUKForm):
    date = UKDateField(label="Review date")
    description = forms.CharField(label="What will be reviewed", max_length=200,
                                  error_messages={"required": "Enter what will be reviewed"})


def bool_from(value: object) -> bool:
    return _yes_no(value)


# --- Register import -------------------------------------------------------------------------

class RegisterUploadForm(GovUKForm):
    partnership = forms.ModelChoiceField(
        label="Partnership", queryset=None, empty_label="Select a partnership",
        help_text="The contracts are added to this partnership's register. Contract holders "
                  "and lead commissioners must be its partners",
        error_messages={"required": "Select the partnership",
                        "invalid_choice": "Select a partnership from the list"},
    )
    file = forms.FileField(
        label="Upload the register", help_text="A CSV or Excel (XLSX) file, with a header row",
        error_messages={"required": "Select a CSV or XLSX file",
                        "empty": "The selected file is empty", "invalid": "Select a file"},
    )

    def __init__(self, *args, partnerships, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partnership"].queryset = partnerships


class ColumnMappingForm(GovUKForm):
    """For each register field: the file's column that holds it (one column may feed two
    fields, like a register's one organisation column for holder and lead commissioner), or
    one value for every row (the partnership's organisations for holder and lead)."""

    def __init__(self, *args, fields, headers: list[str], organisations=(),
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.import_fields = fields
        partners = [(o.name, o.name) for o in organisations]
        for fld in fields:
            self.fields[fld.name] = forms.ChoiceField(
                label=fld.label if fld.required else f"{fld.label} (optional)",
                required=False, help_text=fld.hint,
                choices=[("", "Select a column" if fld.required else "Not in the file")]
                + [(h, h) for h in headers],
                widget=forms.Select(attrs={"class": "govuk-select"}),
                error_messages={"invalid_choice": "Select a column from the list"},
            )
            fixed_label = f"{fld.label}: or the same for every row (optional)"
            if fld.name in ("holder", "lead_commissioner"):
                self.fields[f"{fld.name}__fixed"] = forms.ChoiceField(
                    label=fixed_label, required=False,
                    choices=[("", "Not the same for every row"), *partners],
                    widget=forms.Select(attrs={"class": "govuk-select"}),
                    error_messages={"invalid_choice": "Select an organisation from the list"},
                )
            else:
                self.fields[f"{fld.name}__fixed"] = forms.CharField(
                    label=fixed_label, required=False, max_length=250,
                    widget=forms.TextInput(attrs={"class": "govuk-input govuk-input--width-20"}),
                )
        rebuild_helper(self)

    def clean(self):
        cleaned = super().clean()
        for fld in self.import_fields:
            header, fixed = cleaned.get(fld.name), cleaned.get(f"{fld.name}__fixed")
            if header and fixed:
                self.add_error(f"{fld.name}__fixed", f"Choose a column or one value for every "
                                                     f"row for the {fld.label.lower()}, not both")
            elif fld.required and not header and not fixed and fld.name not in self.errors:
                self.add_error(fld.name, f"Select the column that holds the "
                                         f"{fld.label.lower()}, or give one value for every row")
        return cleaned

    def mapping(self) -> tuple[dict[str, str], dict[str, str]]:
        """(field → column, field → the value for every row)."""
        columns = {f.name: self.cleaned_data.get(f.name) or "" for f in self.import_fields}
        fixed = {f.name: self.cleaned_data.get(f"{f.name}__fixed") or ""
                 for f in self.import_fields}
        return columns, {k: v for k, v in fixed.items() if v}


class ImportConfirmForm(GovUKForm):
    create_providers = forms.BooleanField(required=False)
    provider_kind = forms.ChoiceField(
        label="What kind of providers are the new providers whose row does not say whether "
              "they are a VCSE?", required=False, widget=forms.RadioSelect,
        choices=[("vcse", "Voluntary, community or social enterprise (VCSE)"),
                 ("independent_provider", "Independent provider")],
    )

    def __init__(self, *args, new_provider_count: int = 0, unflagged: int = 0,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if new_provider_count:
            plural = "s" if new_provider_count != 1 else ""
            self.fields["create_providers"].label = (
                f"Create these {new_provider_count} provider{plural}")
        else:
            del self.fields["create_providers"]
        if not unflagged:
            del self.fields["provider_kind"]
        rebuild_helper(self)
