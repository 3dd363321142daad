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
