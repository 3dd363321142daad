from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from monitoring.models import (
    KPI,
    Evidence,
    KPITarget,
    KPITemplate,
    KPITemplateSet,
    PerformanceAssessment,
    PerformanceReturn,
    ReminderSent,
    ReportingPeriod,
    ReturnVersion,
)
from monitoring.overview import rag_counts_refresh


class KPITargetInline(admin.TabularInline):
    model = KPITarget
    extra = 0
    raw_id_fields = ["valid_from", "set_by"]


@admin.register(KPI)
class KPIAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "contract", "data_type", "frequency", "is_s52", "is_active"]
    list_filter = ["data_type", "quadrant", "frequency", "is_s52"]
    search_fields = ["code", "name", "contract__reference", "contract__title"]
    raw_id_fields = ["contract", "service_line"]
    inlines = [KPITargetInline]

    # A KPI or its targets changed here change the overview's RAG counts, as the KPI services'
    # changes do: the admin keeps them right the same way.
    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        rag_counts_refresh(contract_ids=[form.instance.contract_id])

    def delete_model(self, request, obj: KPI) -> None:
        contract_id = obj.contract_id
        super().delete_model(request, obj)
        rag_counts_refresh(contract_ids=[contract_id])

    def delete_queryset(self, request, queryset) -> None:
        contract_ids = list(queryset.values_list("contract_id", flat=True).distinct())
        super().delete_queryset(request, queryset)
        rag_counts_refresh(contract_ids=contract_ids)


class KPITemplateInline(admin.TabularInline):
    model = KPITemplate
    extra = 0


@admin.register(KPITemplateSet)
class KPITemplateSetAdmin(SimpleHistoryAdmin):
    list_display = ["name"]
    inlines = [KPITemplateInline]


@admin.register(ReportingPeriod)
class ReportingPeriodAdmin(SimpleHistoryAdmin):
    list_display = ["label", "kind", "start_date", "end_date", "due_date"]
    list_filter = ["kind", "financial_year"]


@admin.register(PerformanceReturn)
class PerformanceReturnAdmin(SimpleHistoryAdmin):
    """Read-only: returns change only through the portal and the review pages."""

    list_display = ["contract", "period", "status", "submitted_at", "version"]
    list_filter = ["status", "period"]
    search_fields = ["contract__reference", "contract__title"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ReturnVersion)
class ReturnVersionAdmin(SimpleHistoryAdmin):
    list_display = ["performance_return", "number", "submitted_at", "submitted_by"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False


admin.site.register(Evidence, SimpleHistoryAdmin)
admin.site.register(ReminderSent, SimpleHistoryAdmin)
admin.site.register(PerformanceAssessment, SimpleHistoryAdmin)
