from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from contracts.frameworks.models import (
    CallOff,
    Framework,
    FrameworkParty,
    Lot,
    ProcurementWindow,
    ProviderApplication,
)
from contracts.models import (
    CommissioningShare,
    Contract,
    ContractDocument,
    Decision,
    ExtensionOption,
    KeyDateAlert,
    ReviewDate,
    ServiceLine,
    Variation,
)


class ServiceLineInline(admin.TabularInline):
    model = ServiceLine
    extra = 0


class ShareInline(admin.TabularInline):
    model = CommissioningShare
    extra = 0
    autocomplete_fields = ["organisation"]


class ExtensionOptionInline(admin.TabularInline):
    model = ExtensionOption
    extra = 0
    raw_id_fields = ["exercised_decision"]


@admin.register(Contract)
class ContractAdmin(SimpleHistoryAdmin):
    list_display = ["reference", "title", "provider", "lead_commissioner", "status",
                    "initial_end_date", "annual_value"]
    list_filter = ["status", "service_area", "procurement_regime", "partnership"]
    search_fields = ["reference", "title", "provider__name"]
    list_select_related = ["provider", "lead_commissioner"]
    autocomplete_fields = ["provider", "holder", "lead_commissioner"]
    raw_id_fields = ["contract_manager"]
    readonly_fields = ["version", "created_at", "updated_at"]
    inlines = [ServiceLineInline, ShareInline, ExtensionOptionInline]


@admin.register(Decision)
class DecisionAdmin(SimpleHistoryAdmin):
    list_display = ["contract", "purpose", "decision_maker", "meeting_date", "report_reference"]
    list_filter = ["purpose", "decision_maker"]
    search_fields = ["contract__reference", "report_reference"]
    raw_id_fields = ["contract", "recorded_by"]


@admin.register(Variation)
class VariationAdmin(SimpleHistoryAdmin):
    list_display = ["contract", "date", "value_change", "term_change_months"]
    raw_id_fields = ["contract", "decision", "recorded_by"]


@admin.register(ReviewDate)
class ReviewDateAdmin(SimpleHistoryAdmin):
    list_display = ["contract", "date", "description"]
    raw_id_fields = ["contract"]


@admin.register(ContractDocument)
class ContractDocumentAdmin(SimpleHistoryAdmin):
    list_display = ["original_name", "contract", "kind", "size", "uploaded_at"]
    raw_id_fields = ["contract", "uploaded_by"]
    exclude = ["file"]  # downloads go through the permission-checked view only


@admin.register(KeyDateAlert)
class KeyDateAlertAdmin(admin.ModelAdmin):
    list_display = ["contract", "kind", "due_date", "threshold", "recipient", "sent_at"]
    list_filter = ["kind"]
    raw_id_fields = ["contract", "recipient"]


# --- Frameworks (reference data and support; day-to-day work happens in the service) --------

class FrameworkPartyInline(admin.TabularInline):
    model = FrameworkParty
    extra = 0
    autocomplete_fields = ["organisation"]


class LotInline(admin.TabularInline):
    model = Lot
    extra = 0
    fields = ["number", "title", "status"]


@admin.register(Framework)
class FrameworkAdmin(SimpleHistoryAdmin):
    list_display = ["reference", "title", "partnership", "status", "start_date"]
    list_filter = ["status", "partnership"]
    search_fields = ["reference", "title"]
    inlines = [FrameworkPartyInline, LotInline]


@admin.register(ProcurementWindow)
class ProcurementWindowAdmin(SimpleHistoryAdmin):
    list_display = ["framework", "opens", "closes"]


@admin.register(ProviderApplication)
class ProviderApplicationAdmin(SimpleHistoryAdmin):
    list_display = ["provider", "lot", "submitted_on", "evaluation", "decision"]
    list_filter = ["decision", "evaluation"]
    search_fields = ["provider__name", "lot__title"]
    raw_id_fields = ["provider", "lot"]


@admin.register(CallOff)
class CallOffAdmin(SimpleHistoryAdmin):
    list_display = ["contract", "lot", "award_method", "funding_arrangement", "called_off_on"]
    list_filter = ["award_method", "funding_arrangement"]
    raw_id_fields = ["contract", "lot"]
