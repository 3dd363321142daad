"""GOV.UK forms for funding. Forms parse and check input; services decide the rules."""

from __future__ import annotations

from datetime import date

from crispy_forms.layout import LayoutObject
from crispy_forms_gds.layout import Layout
from django import forms
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string

from commissioning.forms import GovUKForm
from commissioning.inputs import MoneyField, UKDateField
from commissioning.locking import VersionField
from commissioning.models import Organisation, User
from commissioning.widgets import autocomplete_select
from funding.models import (
    AgreementKind,
    AllocationBasis,
    AreaOfSpend,
    ArrangementType,
    BudgetType,
    Commissioner,
    FundingSource,
    RiskShareRule,
    SchemeType,
    UnderspendRule,
    month_label,
    year_label,
)
from funding.selectors import year_months
from funding.services import AgreementInput, DecisionInput, PartnerInput, SchemeInput

YES_NO = [("yes", "Yes"), ("no", "No")]


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError next to the field it names (else at the top)."""
    if hasattr(error, "error_dict"):
        aliases = getattr(form, "error_fields", {})
        for name, messages in error.message_dict.items():
            name = aliases.get(name, name)
            form.add_error(name if name in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


class PercentField(forms.DecimalField):
    def __init__(self, *, label: str, noun: str, **kwargs) -> None:
        kwargs.setdefault("help_text", "For example, 15 or 44.5")
        super().__init__(
            label=label, max_digits=5, decimal_places=2, min_value=0, max_value=100,
            widget=forms.TextInput(attrs={"inputmode": "decimal",
                                          "class": "govuk-input govuk-input--width-4"}),
            error_messages={"required": f"Enter the {noun}",
                            "invalid": f"Enter the {noun} as a number, like 15",
                            # Django fills these in with "message % params": a lone % would
                            # be read as a format (500 for anyone typing 101), hence %%.
                            "min_value": f"The {noun} must be 0%% or more",
                            "max_value": f"The {noun} must be 100%% or less",
                            "max_decimal_places": f"The {noun} can have up to 2 decimal places",
                            "max_digits": f"The {noun} must be 100%% or less"},
            **kwargs,
        )


def _choice(label: str, choices, noun: str, **kwargs) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=[("", f"Select {noun}"), *choices],
                             error_messages={"required": f"Select {noun}",
                                             "invalid_choice": f"Select {noun} in the list"},
                             **kwargs)


def _radios(label: str, choices, noun: str, **kwargs) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=choices, widget=forms.RadioSelect,
                             error_messages={"required": f"Select {noun}",
                                             "invalid_choice": f"Select {noun} in the list"},
                             **kwargs)


def _model_choice(label: str, queryset, noun: str, **kwargs) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(label=label, queryset=queryset, empty_label=f"Select {noun}",
                                  error_messages={"required": f"Select {noun}",
                                                  "invalid_choice": f"Select {noun} in the "
                                                                    "list"},
                                  **kwargs)


def year_choices(years: list[int]) -> list[tuple[str, str]]:
    return [(str(y), year_label(y)) for y in years]


class PartnerCheckboxes(LayoutObject):
    """GOV.UK checkboxes, one per organisation, each revealing its percentage when ticked.

    ``pairs`` lists (check box field, percentage field) names. Each box and each percentage
    has its own label, hint and error message, and keeps the id the error summary links to.
    """

    def __init__(self, pairs: list[tuple[str, str]], *, legend: str = "Partners in the agreement",
                 hint: str = "Select every organisation that is party to the agreement. "
                             "For a fixed split, enter each partner's share of the risk.") -> None:
        self.pairs = pairs
        self.legend = legend
        self.hint = hint
        self.fields = [name for pair in pairs for name in pair]

    def render(self, form, context, template_pack=None, **kwargs):
        rows = []
        for box_name, share_name in self.pairs:
            box, share = form[box_name], form[share_name]
            described = [f"{share.auto_id}-hint"]
            if share.errors:
                described.append(f"{share.auto_id}-error")
            classes = share.field.widget.attrs.get("class", "govuk-input")
            if share.errors:
                classes += " govuk-input--error"
            rows.append({
                "box": box, "share": share, "checked": bool(box.value()),
                "share_input": share.as_widget(attrs={"aria-describedby": " ".join(described),
                                                      "class": classes}),
            })
        errors = [e for box_name, _share in self.pairs for e in form[box_name].errors]
        return render_to_string("funding/includes/partner_checkboxes.html", {
            "rows": rows, "legend": self.legend, "hint": self.hint, "errors": errors,
            "group_id": self.pairs[0][0] if self.pairs else "partners",
        })


# --- Agreement -------------------------------------------------------------------------------

class PartnershipChoiceForm(GovUKForm):
    partnership = _model_choice("Partnership", None, "the partnership")

    def __init__(self, *args, partnerships, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partnership"].queryset = partnerships


class AgreementForm(GovUKForm):
    kind = _radios("Type of agreement", AgreementKind.choices, "the type of agreement")
    title = forms.CharField(label="Title", max_length=250,
                            error_messages={"required": "Enter the agreement's title"})
    reference = forms.CharField(label="Reference", max_length=50, required=False)
    arrangement_type = _radios("Arrangement", ArrangementType.choices, "the arrangement")
    host_partner = _model_choice("Host partner", None, "the host partner",
                                 help_text="The partner that hosts the pooled fund",
                                 widget=autocomplete_select())
    pooled_fund_manager = _model_choice("Pooled fund manager", None, "the pooled fund manager",
                                        required=False, widget=autocomplete_select())
    start_date = UKDateField(label="Start date")
    end_date = UKDateField(label="End date")
    review_date = UKDateField(label="Review date", required=False)
    governance_board = forms.CharField(label="Governance board", max_length=200, required=False,
                                       help_text="For example, Integrated Commissioning Board")
    aims = forms.CharField(label="Aims and outcomes", widget=forms.Textarea, required=False)
    risk_share_rule = _radios("How are overspends and underspends shared?",
                              RiskShareRule.choices, "how the risk is shared")
    underspend_rule = _radios("What happens to an underspend?", UnderspendRule.choices,
                              "what happens to an underspend")
    parallel_reduction = _radios(
        "Does a reduction by one partner trigger a parallel reduction by the others?", YES_NO,
        "yes if a reduction triggers a parallel reduction")
    version = VersionField()

    def __init__(self, *args, organisations: list[Organisation], users, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The change page shows the version it started from; the add page has none.
        self.fields["version"].required = self.initial.get("version") is not None
        self.organisations = organisations
        ids = [o.pk for o in organisations]
        self.fields["host_partner"].queryset = Organisation.objects.filter(pk__in=ids)
        self.fields["pooled_fund_manager"].queryset = users
        for organisation in organisations:
            self.fields[f"partner_{organisation.pk}"] = forms.BooleanField(
                label=organisation.name, required=False)
            self.fields[f"share_{organisation.pk}"] = PercentField(
                label=f"{organisation.display_name}'s share of the risk (%)",
                noun=f"{organisation.display_name}'s share", required=False,
                help_text="Only for a fixed split. The shares must add up to 100")
        # The partner boxes are built per organisation, so the layout is written out here:
        # crispy's default layout lists only the fields that existed before them.
        before = ["kind", "title", "reference", "arrangement_type"]
        self.helper.layout = Layout(
            *before,
            PartnerCheckboxes([(f"partner_{o.pk}", f"share_{o.pk}") for o in organisations]),
            *[name for name in self.fields if name not in before
              and not name.startswith(("partner_", "share_"))],
        )
        first = f"partner_{organisations[0].pk}" if organisations else None
        # A service error about the partners is shown on the first partner's box.
        self.error_fields = {"partners": first} if first else {}

    def partner_inputs(self) -> list[PartnerInput]:
        return [
            PartnerInput(o, self.cleaned_data.get(f"share_{o.pk}"))
            for o in self.organisations if self.cleaned_data.get(f"partner_{o.pk}")
        ]

    def clean(self):
        cleaned = super().clean()
        for o in self.organisations:
            # A share typed for a partner then unticked is hidden on the page: ignore it.
            if not cleaned.get(f"partner_{o.pk}"):
                self.errors.pop(f"share_{o.pk}", None)
                cleaned[f"share_{o.pk}"] = None
        if not any(cleaned.get(f"partner_{o.pk}") for o in self.organisations):
            first = self.organisations[0].pk if self.organisations else None
            self.add_error(f"partner_{first}" if first else None,
                           "Select the partners in the agreement")
        return cleaned

    def to_input(self, partnership) -> AgreementInput:
        c = self.cleaned_data
        return AgreementInput(
            partnership=partnership, kind=c["kind"], title=c["title"].strip(),
            reference=c.get("reference", ""), host_partner=c["host_partner"],
            arrangement_type=c["arrangement_type"], start_date=c["start_date"],
            end_date=c["end_date"], review_date=c.get("review_date"),
            governance_board=c.get("governance_board", ""), aims=c.get("aims", ""),
            risk_share_rule=c["risk_share_rule"], underspend_rule=c["underspend_rule"],
            parallel_reduction=c["parallel_reduction"] == "yes",
            pooled_fund_manager=c.get("pooled_fund_manager"), partners=self.partner_inputs(),
        )

    @classmethod
    def initial_for(cls, agreement) -> dict:
        initial = {name: getattr(agreement, name) for name in (
            "kind", "title", "reference", "arrangement_type", "start_date", "end_date",
            "review_date", "governance_board", "aims", "risk_share_rule", "underspend_rule")}
        initial["host_partner"] = agreement.host_partner_id
        initial["pooled_fund_manager"] = agreement.pooled_fund_manager_id
        initial["parallel_reduction"] = "yes" if agreement.parallel_reduction else "no"
        initial["version"] = agreement.version
        for partner in agreement.agreement_partners.all():
            initial[f"partner_{partner.organisation_id}"] = True
            initial[f"share_{partner.organisation_id}"] = partner.risk_share_percent
        return initial


# --- Scheme ----------------------------------------------------------------------------------

class SchemeForm(GovUKForm):
    code = forms.CharField(label="Scheme ID", max_length=30, help_text='For example, "BCF-07"',
                           widget=forms.TextInput(attrs={"class": "govuk-input "
                                                         "govuk-input--width-10",
                                                         "spellcheck": "false"}),
                           error_messages={"required": "Enter the scheme ID"})
    name = forms.CharField(label="Name", max_length=200,
                           error_messages={"required": "Enter the scheme's name"})
    lead_partner = _model_choice("Nominated lead", None, "the nominated lead",
                                 widget=autocomplete_select())
    scheme_type = _choice("Scheme type", SchemeType.choices, "the scheme type")
    sub_type = forms.CharField(label="Sub-type", max_length=120, required=False)
    budget_type = _radios("Pooled or aligned budget", BudgetType.choices,
                          "pooled or aligned")
    is_bcf = _radios("Is it funded through the Better Care Fund?", YES_NO,
                     "yes if the scheme is part of the Better Care Fund")
    commissioner = _radios("Commissioner", Commissioner.choices, "the commissioner")
    nhs_percent = PercentField(label="% NHS (joint commissioning only)", noun="NHS percentage",
                               required=False)
    la_percent = PercentField(label="% local authority (joint commissioning only)",
                              noun="local authority percentage", required=False)
    provider = _model_choice("Provider", None, "the provider", required=False,
                             widget=autocomplete_select())
    provider_text = forms.CharField(label="Provider, if not in the list", max_length=200,
                                    required=False)
    area_of_spend = _choice("Area of spend", AreaOfSpend.choices, "the area of spend")
    planned_outputs = forms.DecimalField(
        label="Planned outputs", required=False, max_digits=12, decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal",
                                      "class": "govuk-input govuk-input--width-10"}),
        error_messages={"invalid": "Enter the planned outputs as a number"})
    output_units = forms.CharField(label="Output units", max_length=80, required=False,
                                   help_text="For example, hours of care")
    is_new = _radios("New or existing scheme", [("yes", "New"), ("no", "Existing")],
                     "new or existing")
    version = VersionField()

    def __init__(self, *args, partners, providers, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The change page shows the version it started from; the add page has none.
        self.fields["version"].required = self.initial.get("version") is not None
        self.fields["lead_partner"].queryset = partners
        self.fields["provider"].queryset = providers

    def to_input(self) -> SchemeInput:
        c = self.cleaned_data
        return SchemeInput(
            code=c["code"], name=c["name"].strip(), lead_partner=c["lead_partner"],
            scheme_type=c["scheme_type"], budget_type=c["budget_type"],
            is_bcf=c["is_bcf"] == "yes", commissioner=c["commissioner"],
            nhs_percent=c.get("nhs_percent"), la_percent=c.get("la_percent"),
            provider=c.get("provider"), provider_text=c.get("provider_text", ""),
            sub_type=c.get("sub_type", ""), area_of_spend=c["area_of_spend"],
            planned_outputs=c.get("planned_outputs"), output_units=c.get("output_units", ""),
            is_new=c["is_new"] == "yes",
        )

    @classmethod
    def initial_for(cls, scheme) -> dict:
        initial = {name: getattr(scheme, name) for name in (
            "code", "name", "scheme_type", "sub_type", "budget_type", "commissioner",
            "nhs_percent", "la_percent", "provider_text", "area_of_spend", "planned_outputs",
            "output_units")}
        initial.update(lead_partner=scheme.lead_partner_id, provider=scheme.provider_id,
                       is_bcf="yes" if scheme.is_bcf else "no",
                       is_new="yes" if scheme.is_new else "no", version=scheme.version)
        return initial


# --- Money -----------------------------------------------------------------------------------

class BudgetForm(GovUKForm):
    year = _choice("Financial year", [], "the financial year")
    amount = MoneyField(label="Budget", noun="budget", allow_negative=True)
    version = VersionField()

    def __init__(self, *args, years: list[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", "Select the financial year"),
                                       *year_choices(years)]


class ContributionForm(GovUKForm):
    partner = _model_choice("Partner", None, "the partner", widget=autocomplete_select())
    year = _choice("Financial year", [], "the financial year")
    source = _model_choice("Funding source", FundingSource.objects.filter(is_active=True),
                           "the funding source")
    amount = MoneyField(label="Contribution", noun="contribution", allow_negative=True)

    def __init__(self, *args, partners, years: list[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = partners
        self.fields["year"].choices = [("", "Select the financial year"),
                                       *year_choices(years)]


class InstalmentForm(GovUKForm):
    due_date = UKDateField(label="Due date")
    amount = MoneyField(label="Amount", noun="instalment amount", allow_negative=True)
    paid_date = UKDateField(label="Date paid", required=False,
                            help_text="Leave blank if not yet paid. For example, 27/03/2026")


class DecisionFieldsMixin(forms.Form):
    decision_maker = forms.CharField(
        label="Decision maker", max_length=200,
        help_text="For example, Executive, or Integrated Commissioning Board",
        error_messages={"required": "Enter who made the decision"})
    decision_date = UKDateField(label="Date of decision", noun="date of the decision")
    decision_reference = forms.CharField(
        label="Report or decision reference", max_length=80, help_text="For example, CS17033",
        error_messages={"required": "Enter the report or decision reference"})

    def decision(self) -> DecisionInput:
        c = self.cleaned_data
        return DecisionInput(decision_maker=c["decision_maker"].strip(),
                             decision_date=c["decision_date"],
                             decision_reference=c["decision_reference"].strip())


class ContributionReduceForm(GovUKForm, DecisionFieldsMixin):
    new_amount = MoneyField(label="New contribution", noun="new contribution",
                            allow_negative=True)
    reason = forms.CharField(label="Reason", widget=forms.Textarea, required=False)
    version = VersionField()
    field_order = ["new_amount", "reason", "decision_maker", "decision_date",
                   "decision_reference", "version"]


class TopSliceForm(GovUKForm):
    name = forms.CharField(label="Name", max_length=120, help_text="For example, Innovation fund",
                           error_messages={"required": "Enter a name for the top-slice"})
    scheme = _model_choice("Taken from scheme", None, "the scheme", required=False,
                           help_text="Leave blank to take it from the whole agreement's budget")
    year = _choice("Financial year", [], "the financial year")
    percent = PercentField(label="Percentage held back", noun="percentage")

    def __init__(self, *args, schemes, years: list[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scheme"].queryset = schemes
        self.fields["scheme"].empty_label = "The whole agreement"
        self.fields["year"].choices = [("", "Select the financial year"),
                                       *year_choices(years)]


class DrawdownForm(GovUKForm, DecisionFieldsMixin):
    amount = MoneyField(label="Amount to draw down", noun="amount", allow_negative=True)
    purpose = forms.CharField(label="Purpose", max_length=250,
                              error_messages={"required": "Enter what the money is for"})
    field_order = ["amount", "purpose", "decision_maker", "decision_date",
                   "decision_reference"]


class ContractFundingForm(GovUKForm):
    contract = _model_choice("Contract", None, "the contract")
    scheme = _model_choice("Scheme", None, "the scheme")
    source = _model_choice("Funding source", FundingSource.objects.filter(is_active=True),
                           "the funding source")
    basis = _radios("How is it funded?", AllocationBasis.choices, "how it is funded")
    amount = MoneyField(label="Annual amount", noun="annual amount", required=False,
                        allow_negative=True, help_text="For a fixed amount, in pounds")
    share_percent = PercentField(label="Share of the annual value (%)", noun="share",
                                 required=False, help_text="For a share, for example 44")

    def __init__(self, *args, contracts, schemes, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contract"].queryset = contracts
        self.fields["scheme"].queryset = schemes

    def clean(self):
        cleaned = super().clean()
        basis = cleaned.get("basis")
        if basis == AllocationBasis.AMOUNT and cleaned.get("amount") is None \
                and "amount" not in self.errors:
            self.add_error("amount", "Enter the annual amount")
        if basis == AllocationBasis.SHARE and cleaned.get("share_percent") is None \
                and "share_percent" not in self.errors:
            self.add_error("share_percent", "Enter the share of the annual value")
        return cleaned


class ActualForm(GovUKForm):
    month = _choice("Month", [], "the month")
    actual = MoneyField(label="Actual spend in the month", noun="actual spend",
                        allow_negative=True,
                        help_text="In pounds, for example £1,234.50. A credit is negative")
    forecast_outturn = MoneyField(label="Forecast outturn for the year", required=False,
                                  noun="forecast outturn", allow_negative=True)

    def __init__(self, *args, agreement, closed: set[date], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Every month of the agreement, grouped by financial year (closed ones say so).
        self.fields["month"].choices = [("", "Select the month")] + [
            (year_label(year), [
                (m.isoformat(), month_label(m) + (" (closed)" if m in closed else ""))
                for m in year_months(year) if agreement.covers_month(m)])
            for year in agreement.years
        ]

    def clean_month(self) -> date:
        return date.fromisoformat(self.cleaned_data["month"])


class ImportForm(GovUKForm):
    file = forms.FileField(
        label="Upload a file",
        help_text="A CSV or Excel workbook (.xlsx) with the columns Scheme code, Month, "
                  "Actual and Forecast",
        error_messages={"required": "Select a CSV or Excel file",
                        "empty": "The selected file is empty"})


class ConfirmForm(GovUKForm):
    """An empty form for confirmation pages (a POST with the CSRF token)."""


def users_of(organisations) -> forms.ModelChoiceField:
    return User.objects.filter(memberships__organisation__in=organisations,
                               memberships__is_active=True).distinct().order_by("full_name")
