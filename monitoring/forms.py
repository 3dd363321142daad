"""Monitoring forms: they parse and describe input; the rules live in ``services``."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from commissioning import inputs
from commissioning.forms import GovUKForm
from contracts.models import Contract
from monitoring.models import (
    KPI,
    DataType,
    Direction,
    Frequency,
    KPITemplateSet,
    Quadrant,
    Rating,
    ReportingPeriod,
)
from monitoring.services.kpis import KPIInput
from monitoring.services.returns import EVIDENCE_PART, ValueInput, field_name, part_label


def parse_figure(raw: str, label: str) -> Decimal | None:
    """``commissioning.inputs.parse_figure``, its refusal as a GOV.UK style error naming the
    field."""
    try:
        return inputs.parse_figure(raw)
    except inputs.FigureError as error:
        raise ValidationError(inputs.figure_message(label, error)) from error


class FigureField(forms.CharField):
    """A number typed into a text input (``inputmode="decimal"``, as GOV.UK advises)."""

    def __init__(self, *, label_for_errors: str, **kwargs) -> None:
        self.label_for_errors = label_for_errors
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.TextInput(attrs={
            "inputmode": "decimal", "class": "govuk-input govuk-input--width-10",
            "spellcheck": "false", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        return parse_figure(value, self.label_for_errors)


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "class": "govuk-textarea"})


class ReturnForm(GovUKForm):
    """All the KPIs of one return. Field names are ``kpi-<id>-<part>`` so service errors
    land next to the right input."""

    overall_commentary = forms.CharField(
        label="Overall commentary", required=False, widget=_textarea(5),
        help_text="What went well, what did not, and anything the commissioners should know",
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, rows, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.rows = rows
        self.blocks = []
        self.evidence_errors: dict[int, str] = {}
        for row in rows:
            kpi = row.kpi
            parts: dict[str, str] = {}
            if kpi.data_type == DataType.PERCENTAGE:
                parts["numerator"] = FigureField(
                    label="Number achieving it",
                    label_for_errors=part_label(kpi, "numerator", sentence=True))
                parts["denominator"] = FigureField(
                    label="Out of (total)",
                    label_for_errors=part_label(kpi, "denominator", sentence=True))
            elif kpi.data_type == DataType.YES_NO:
                parts["yes_no"] = forms.TypedChoiceField(
                    label=kpi.name, required=False, widget=forms.RadioSelect,
                    choices=[("yes", "Yes"), ("no", "No")],
                    coerce=lambda v: {"yes": True, "no": False}.get(v), empty_value=None,
                )
            elif kpi.data_type == DataType.TEXT:
                parts["text"] = forms.CharField(label=kpi.name, required=False,
                                                widget=_textarea(3))
            else:
                unit = "£" if kpi.data_type == DataType.MONEY else (kpi.unit or "")
                parts["value"] = FigureField(label=f"Figure{f' ({unit})' if unit else ''}",
                                             label_for_errors=kpi.name)
            parts["commentary"] = forms.CharField(label="Commentary", required=False,
                                                  widget=_textarea(2))
            bound = {}
            for part, form_field in parts.items():
                name = field_name(kpi.pk, part)
                self.fields[name] = form_field
                bound[part] = name
            self.blocks.append((row, bound))
        if not self.is_bound:
            self.initial.update(self._initial_from_rows())

    def _initial_from_rows(self) -> dict:
        initial = {}
        for row in self.rows:
            current = row.current
            if current is None:
                continue
            pk = row.kpi.pk
            for part in ("value", "numerator", "denominator"):
                number = getattr(current, part)
                if number is not None:
                    initial[field_name(pk, part)] = f"{number.normalize():f}"
            if current.yes_no is not None:
                initial[field_name(pk, "yes_no")] = "yes" if current.yes_no else "no"
            initial[field_name(pk, "text")] = current.text
            initial[field_name(pk, "commentary")] = current.commentary
        return initial

    def bound_blocks(self):
        """(row, {part: BoundField}) for the template, in KPI order."""
        return [(row, {part: self[name] for part, name in names.items()})
                for row, names in self.blocks]

    def value_inputs(self) -> list[ValueInput]:
        data = self.cleaned_data
        inputs = []
        for row, names in self.blocks:
            item = ValueInput(kpi_id=row.kpi.pk)
            for part, name in names.items():
                value = data.get(name)
                if part in ("text", "commentary"):
                    value = value or ""
                setattr(item, part, value)
            inputs.append(item)
        return inputs

    def add_service_errors(self, error: ValidationError) -> None:
        evidence_keys = {field_name(row.kpi.pk, EVIDENCE_PART): row.kpi.pk
                         for row, _names in self.blocks}
        for key, messages in error.message_dict.items():
            if key in evidence_keys:
                # Missing evidence belongs to the KPI's evidence upload link, not to an input:
                # kept apart for the page, and in ``errors`` so the page reads as an error.
                self.evidence_errors[evidence_keys[key]] = messages[0]
                self._errors[key] = self.error_class(messages)
                continue
            target = None if key == "__all__" or key not in self.fields else key
            for message in messages:
                self.add_error(target, message)


class DeclarationForm(GovUKForm):
    declaration = forms.BooleanField(
        label="I confirm that the figures in this return are correct to the best of my "
              "knowledge and that the evidence supports them",
        required=False,
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class EvidenceForm(GovUKForm):
    file = forms.FileField(
        label="Upload a file", help_text="PDF, Word (DOCX), Excel (XLSX) or CSV",
        error_messages={"required": "Select a file to upload"},
    )
    kpi = forms.ModelChoiceField(
        label="Which KPI is it evidence for?", queryset=KPI.objects.none(), required=False,
        empty_label="The whole return",
        widget=forms.Select(attrs={"class": "govuk-select"}),
    )

    def __init__(self, *args, kpis, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kpi"].queryset = kpis


class SpreadsheetUploadForm(GovUKForm):
    file = forms.FileField(
        label="Upload the completed template", help_text="CSV or Excel (XLSX)",
        error_messages={"required": "Select the completed template to upload"},
    )


class ServiceUsersUploadForm(GovUKForm):
    file = forms.FileField(
        label="Upload a list of NHS numbers",
        help_text="A CSV file with one NHS number a line in the first column. Spaces and "
                  "dashes are fine, for example 943 476 5919",
        error_messages={"required": "Select a CSV file to upload"},
    )


class ReviewForm(GovUKForm):
    decision = forms.ChoiceField(
        label="What do you want to do with this return?", widget=forms.RadioSelect,
        choices=[("accept", "Accept it: the figures are locked"),
                 ("query", "Query it: send it back to the provider with comments")],
        error_messages={"required": "Select whether to accept or query the return"},
    )
    comment = forms.CharField(label="Comment for the provider", required=False,
                              widget=_textarea(4))
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, kpis, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kpi_names = []
        for kpi in kpis:
            name = f"query-{kpi.pk}"
            self.fields[name] = forms.CharField(
                label=f"Query about {kpi.code} {kpi.name}", required=False,
                widget=_textarea(2))
            self.kpi_names.append((kpi, name))

    def kpi_comments(self) -> dict[int, str]:
        return {kpi.pk: self.cleaned_data.get(name, "") for kpi, name in self.kpi_names}

    def query_field(self, kpi_id: int):
        return self[f"query-{kpi_id}"]


def _select(**attrs) -> forms.Select:
    return forms.Select(attrs={"class": "govuk-select", **attrs})


class KPIForm(GovUKForm):
    code = forms.CharField(label="Code", max_length=20,
                           widget=forms.TextInput(attrs={"class": "govuk-input--width-10"}),
                           error_messages={"required": "Enter a code for the KPI, like DH1"})
    name = forms.CharField(label="Name", max_length=250,
                           error_messages={"required": "Enter the KPI's name"})
    definition = forms.CharField(label="Definition", required=False, widget=_textarea(3),
                                 help_text="How it is counted, and from which records")
    service_line = forms.ModelChoiceField(label="Pathway", queryset=None, required=False,
                                          empty_label="The whole contract", widget=_select())
    quadrant = forms.ChoiceField(label="Outcomes Based Accountability quadrant",
                                 choices=Quadrant.choices, widget=forms.RadioSelect,
                                 error_messages={"required": "Select the OBA quadrant"})
    data_type = forms.ChoiceField(label="Type of figure", choices=DataType.choices,
                                  widget=forms.RadioSelect,
                                  error_messages={"required": "Select the type of figure"})
    unit = forms.CharField(label="Unit", required=False, max_length=40,
                           widget=forms.TextInput(attrs={"class": "govuk-input--width-10"}),
                           help_text='For example "referrals" or "hours"')
    direction = forms.ChoiceField(label="Which way is better?", choices=Direction.choices,
                                  widget=forms.RadioSelect, initial=Direction.HIGHER)
    frequency = forms.ChoiceField(label="How often is it reported?",
                                  choices=Frequency.choices, widget=forms.RadioSelect,
                                  initial=Frequency.QUARTERLY)
    baseline = FigureField(label="Baseline (optional)", label_for_errors="The baseline")
    evidence_required = forms.BooleanField(label="Providers must upload evidence",
                                           required=False)
    is_s52 = forms.BooleanField(label="This is a Procurement Act 2023 section 52 KPI",
                                required=False)

    def __init__(self, *args, contract: Contract, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service_line"].queryset = contract.service_lines.all()

    def to_input(self) -> KPIInput:
        data = self.cleaned_data
        return KPIInput(
            code=data["code"], name=data["name"], quadrant=data["quadrant"],
            data_type=data["data_type"], direction=data["direction"],
            frequency=data["frequency"], definition=data["definition"], unit=data["unit"],
            baseline=data["baseline"], evidence_required=data["evidence_required"],
            is_s52=data["is_s52"],
            service_line_id=data["service_line"].pk if data["service_line"] else None,
        )


class TargetForm(GovUKForm):
    valid_from = forms.ModelChoiceField(
        label="From which period?", queryset=ReportingPeriod.objects.none(), widget=_select(),
        help_text="Earlier periods keep the target they had",
        error_messages={"required": "Select the first period the target applies to"},
    )
    target_value = FigureField(label="Target", label_for_errors="The target",
                               help_text="Leave blank until a baseline exists. For yes or no, "
                                         "enter 1 for yes")
    upper_value = FigureField(label="Top of the range (within a range only)",
                              label_for_errors="The top of the range")
    amber_tolerance = FigureField(label="Amber tolerance",
                                  label_for_errors="The amber tolerance",
                                  help_text="How far from the target is still amber")

    def __init__(self, *args, periods, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["valid_from"].queryset = periods


class TemplateCopyForm(GovUKForm):
    template_set = forms.ModelChoiceField(
        label="KPI library set", queryset=KPITemplateSet.objects.all(),
        widget=forms.RadioSelect, empty_label=None,
        error_messages={"required": "Select a set of KPIs to copy"},
    )


class AssessmentForm(GovUKForm):
    summary = forms.CharField(label="Summary for the contract performance notice",
                              required=False, widget=_textarea(4))
    finalise = forms.BooleanField(
        label="Finalise the assessment (it cannot be changed afterwards)", required=False)

    def __init__(self, *args, ratings, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.rating_names = []
        for row in ratings:
            self.fields[f"rating-{row.kpi_id}"] = forms.ChoiceField(
                label=f"Rating for {row.kpi.code} {row.kpi.name}", choices=Rating.choices,
                initial=row.rating, widget=_select())
            self.fields[f"explanation-{row.kpi_id}"] = forms.CharField(
                label="Explanation", required=False, initial=row.explanation,
                widget=_textarea(2))
            self.rating_names.append(row)

    def bound_rows(self):
        return [(row, self[f"rating-{row.kpi_id}"], self[f"explanation-{row.kpi_id}"])
                for row in self.rating_names]

    def ratings(self) -> dict[int, tuple[str, str]]:
        return {row.kpi_id: (self.cleaned_data[f"rating-{row.kpi_id}"],
                             self.cleaned_data.get(f"explanation-{row.kpi_id}", ""))
                for row in self.rating_names}

    def add_service_errors(self, error: ValidationError) -> None:
        for key, messages in error.message_dict.items():
            for message in messages:
                self.add_error(key if key in self.fields else None, message)
