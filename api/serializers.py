"""The API's shapes: stable field names, money as decimal strings, dates ISO 8601.

Each serializer reads rows its view already scoped with the visibility rule; nothing here
decides who sees what, except that a provider user reads a contract without its decisions and
variations, as the contract page shows it to them (``is_provider`` in the context)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from rest_framework import serializers
from rest_framework.settings import api_settings

from commissioning.models import Organisation
from contracts.frameworks.models import CallOff, Framework, Lot, ProviderApplication
from contracts.models import (
    CommissioningShare,
    Contract,
    Decision,
    ExtensionOption,
    ReviewDate,
    ServiceLine,
    Variation,
)
from funding.models import Contribution, Scheme, SchemeBudget, Section75Agreement
from monitoring.models import KPI, KPITarget, PerformanceReturn, ReportingPeriod


class OrganisationRef(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "short_name", "kind"]


class ProviderSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "short_name", "kind", "ods_code", "registration_number",
                  "is_sme", "is_vcse"]


class ShareSerializer(serializers.ModelSerializer):
    organisation = OrganisationRef(read_only=True)

    class Meta:
        model = CommissioningShare
        fields = ["organisation", "share_percent", "joint_monitoring"]


class ServiceLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = ServiceLine
        fields = ["id", "name", "order"]


class ExtensionOptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExtensionOption
        fields = ["sequence", "length_months", "exercised", "exercised_decision"]


class ReviewDateSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReviewDate
        fields = ["date", "description"]


class DecisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Decision
        fields = ["id", "purpose", "decision_maker", "body_name", "meeting_date",
                  "report_reference", "is_key", "is_urgent", "call_in_applies", "outcome"]


class VariationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Variation
        fields = ["id", "date", "description", "value_change", "term_change_months",
                  "decision"]


class ContractSerializer(serializers.ModelSerializer):
    provider = OrganisationRef(read_only=True)
    holder = OrganisationRef(read_only=True)
    lead_commissioner = OrganisationRef(read_only=True)
    status = serializers.CharField(source="status_now", read_only=True,
                                   help_text="The status shown: a passed end date is expired")
    recorded_status = serializers.CharField(source="status", read_only=True)
    current_end_date = serializers.DateField(source="current_end", read_only=True)
    shares = ShareSerializer(many=True, read_only=True)
    service_lines = ServiceLineSerializer(many=True, read_only=True)
    extension_options = ExtensionOptionSerializer(many=True, read_only=True)
    review_dates = ReviewDateSerializer(many=True, read_only=True)
    decisions = DecisionSerializer(many=True, read_only=True, allow_null=True,
                                   help_text="null for provider users")
    variations = VariationSerializer(many=True, read_only=True, allow_null=True,
                                     help_text="null for provider users")
    url = serializers.SerializerMethodField()

    class Meta:
        model = Contract
        fields = ["id", "reference", "title", "description", "service_area", "partnership",
                  "provider", "holder", "lead_commissioner", "procurement_regime",
                  "procurement_route", "tendered", "start_date", "initial_end_date",
                  "current_end_date", "notice_period_months", "annual_value",
                  "status", "recorded_status", "awarded_on", "standstill_end_date",
                  "shares", "service_lines", "extension_options", "review_dates",
                  "decisions", "variations", "url"]

    def get_url(self, contract) -> str:
        return self.context["request"].build_absolute_uri(contract.get_absolute_url())

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if self.context.get("is_provider"):
            data["decisions"] = data["variations"] = None
        return data


class FrameworkSerializer(serializers.ModelSerializer):
    parties = OrganisationRef(many=True, read_only=True)

    class Meta:
        model = Framework
        fields = ["id", "reference", "title", "description", "partnership", "parties",
                  "start_date", "initial_term_months", "extension_months",
                  "estimated_total_value", "open_to_new_providers", "call_off_rules",
                  "status"]


class LotSerializer(serializers.ModelSerializer):
    class Meta:
        model = Lot
        fields = ["id", "framework", "number", "title", "description", "status"]


class AdmissionSerializer(serializers.ModelSerializer):
    provider = OrganisationRef(read_only=True)
    framework = serializers.IntegerField(source="lot.framework_id", read_only=True)

    class Meta:
        model = ProviderApplication
        fields = ["id", "framework", "lot", "provider", "submitted_on", "evaluation",
                  "evaluated_on", "decision", "framework_agreement_date"]


class CallOffSerializer(serializers.ModelSerializer):
    framework = serializers.IntegerField(source="lot.framework_id", read_only=True)

    class Meta:
        model = CallOff
        fields = ["id", "framework", "lot", "contract", "award_method",
                  "funding_arrangement", "called_off_on"]


class AgreementSerializer(serializers.ModelSerializer):
    partners = OrganisationRef(many=True, read_only=True)
    host_partner = OrganisationRef(read_only=True)

    class Meta:
        model = Section75Agreement
        fields = ["id", "kind", "reference", "title", "partnership", "partners",
                  "host_partner", "arrangement_type", "start_date", "end_date", "review_date",
                  "risk_share_rule", "underspend_rule", "parallel_reduction"]


class SchemeSerializer(serializers.ModelSerializer):
    lead_partner = OrganisationRef(read_only=True)

    class Meta:
        model = Scheme
        fields = ["id", "agreement", "code", "name", "lead_partner", "scheme_type",
                  "sub_type", "budget_type", "is_bcf", "commissioner", "provider",
                  "area_of_spend"]


class BudgetSerializer(serializers.ModelSerializer):
    financial_year = serializers.SerializerMethodField()

    class Meta:
        model = SchemeBudget
        fields = ["id", "scheme", "year", "financial_year", "amount"]

    def get_financial_year(self, row) -> str:
        return f"{row.year}/{(row.year + 1) % 100:02d}"


class ContributionSerializer(BudgetSerializer):
    partner = OrganisationRef(read_only=True)
    source = serializers.StringRelatedField()

    class Meta:
        model = Contribution
        fields = ["id", "scheme", "partner", "year", "financial_year", "source", "amount"]


class TargetSerializer(serializers.ModelSerializer):
    valid_from = serializers.CharField(source="valid_from.code", read_only=True)

    class Meta:
        model = KPITarget
        fields = ["valid_from", "target_value", "upper_value", "amber_tolerance"]


class KPISerializer(serializers.ModelSerializer):
    targets = TargetSerializer(many=True, read_only=True)

    class Meta:
        model = KPI
        fields = ["id", "contract", "service_line", "code", "name", "quadrant", "data_type",
                  "direction", "frequency", "unit", "definition", "is_active", "targets"]


class PeriodSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReportingPeriod
        fields = ["id", "kind", "code", "label", "financial_year", "quarter", "month",
                  "start_date", "end_date", "due_date"]


class ReturnSerializer(serializers.ModelSerializer):
    period = serializers.CharField(source="period.code", read_only=True)

    class Meta:
        model = PerformanceReturn
        fields = ["id", "contract", "period", "status", "submitted_at", "reviewed_at",
                  "rag_red", "rag_amber", "rag_green", "rag_kpis"]


# --- Flat tables ------------------------------------------------------------------------------

class KPIValueRow(serializers.Serializer):
    """One KPI value of a submitted or accepted return, flat, with its RAG."""

    value_id = serializers.IntegerField()
    return_id = serializers.IntegerField()
    return_status = serializers.CharField()
    kpi_id = serializers.IntegerField()
    kpi_code = serializers.CharField()
    kpi_name = serializers.CharField()
    data_type = serializers.CharField()
    unit = serializers.CharField()
    contract_id = serializers.IntegerField()
    contract_reference = serializers.CharField()
    contract_title = serializers.CharField()
    provider_id = serializers.IntegerField()
    provider_name = serializers.CharField()
    partnership_id = serializers.IntegerField()
    partnership_name = serializers.CharField()
    period_code = serializers.CharField()
    period_label = serializers.CharField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    financial_year = serializers.CharField()
    value = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    numerator = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    denominator = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    yes_no = serializers.BooleanField(allow_null=True)
    text = serializers.CharField(allow_blank=True)
    target = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    rag = serializers.ChoiceField(choices=["red", "amber", "green"], allow_null=True)


class MonthlyActualRow(serializers.Serializer):
    """One monthly actual of a scheme, flat."""

    actual_id = serializers.IntegerField()
    month = serializers.DateField()
    financial_year = serializers.CharField()
    scheme_id = serializers.IntegerField()
    scheme_code = serializers.CharField()
    scheme_name = serializers.CharField()
    agreement_id = serializers.IntegerField()
    agreement_title = serializers.CharField()
    partnership_id = serializers.IntegerField()
    partnership_name = serializers.CharField()
    partner_id = serializers.IntegerField()
    partner_name = serializers.CharField()
    actual = serializers.DecimalField(max_digits=14, decimal_places=2)
    forecast_outturn = serializers.DecimalField(max_digits=14, decimal_places=2,
                                                allow_null=True)


# --- Flat rows, plainly -----------------------------------------------------------------------
#
# A page of a flat table is up to 1,000 rows of about 25 fields. DRF's serializer finds each
# value through a field's get_attribute and a generator of readable fields, about a fifth of
# the KPI values page's time in Python (issue 18). ``plain_rows`` gives the same output from
# the same field objects: each value goes through its field's own ``to_representation`` (None
# stays None, as in ``Serializer.to_representation``), except values already in their final
# form: an int for an IntegerField, a str for a CharField, a Decimal with the field's
# decimal places for a DecimalField (written as DRF writes it). The suite checks the rows
# equal the serializer's.

def _converter(field: serializers.Field) -> Callable:
    represent = field.to_representation
    kind = type(field)
    if kind is serializers.IntegerField:
        return lambda value: value if type(value) is int else represent(value)
    if kind is serializers.CharField:
        return lambda value: value if type(value) is str else represent(value)
    if (kind is serializers.DecimalField
            and getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
            and not field.localize and not field.normalize_output
            and field.decimal_places is not None and field.max_digits is not None):
        exponent, digits = -field.decimal_places, field.max_digits

        def decimal(value):
            if type(value) is Decimal:
                shape = value.as_tuple()
                if shape.exponent == exponent and len(shape.digits) <= digits:
                    return f"{value:f}"
            return represent(value)
        return decimal
    return represent


def plain_rows(serializer_class: type[serializers.Serializer]) -> Callable[[list[dict]],
                                                                              list[dict]]:
    """A function giving ``serializer_class(rows, many=True).data`` for rows of plain dicts
    (each field read by its name; no ``source``, no nested serializers)."""
    fields = serializer_class().fields
    for name, field in fields.items():
        if field.source != name or isinstance(field, serializers.BaseSerializer):
            raise TypeError(f"{serializer_class.__name__}.{name}: plain rows read a field by "
                            "its own name")
    converters = [(name, _converter(field)) for name, field in fields.items()]

    def build(rows: list[dict]) -> list[dict]:
        return [{name: None if (value := row[name]) is None else convert(value)
                 for name, convert in converters} for row in rows]
    return build
