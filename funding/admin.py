from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from funding.models import (
    AgreementPartner,
    Contribution,
    FundingSource,
    Instalment,
    MonthClose,
    Scheme,
    Section75Agreement,
    TopSlice,
)


@admin.register(FundingSource)
class FundingSourceAdmin(SimpleHistoryAdmin):
    """Reference data administrators may extend (e.g. a new national grant)."""

    list_display = ("name", "code", "is_bcf", "order", "is_active")
    list_editable = ("order", "is_active")
    prepopulated_fields = {"code": ("name",)}


class AgreementPartnerInline(admin.TabularInline):
    model = AgreementPartner
    extra = 0


@admin.register(Section75Agreement)
class AgreementAdmin(SimpleHistoryAdmin):
    list_display = ("title", "partnership", "kind", "arrangement_type", "start_date", "end_date")
    list_filter = ("kind", "arrangement_type", "partnership")
    search_fields = ("title", "reference")
    inlines = [AgreementPartnerInline]
    readonly_fields = ("version",)


@admin.register(Scheme)
class SchemeAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "agreement", "lead_partner", "scheme_type", "is_bcf")
    list_filter = ("is_bcf", "scheme_type", "agreement")
    search_fields = ("code", "name")


class InstalmentInline(admin.TabularInline):
    model = Instalment
    extra = 0


@admin.register(Contribution)
class ContributionAdmin(SimpleHistoryAdmin):
    list_display = ("scheme", "partner", "year", "source", "amount")
    list_filter = ("year", "source")
    inlines = [InstalmentInline]


@admin.register(TopSlice)
class TopSliceAdmin(SimpleHistoryAdmin):
    list_display = ("name", "agreement", "scheme", "year", "percent")


@admin.register(MonthClose)
class MonthCloseAdmin(SimpleHistoryAdmin):
    """Read-only: months are closed and reopened by finance officers in the service."""

    list_display = ("agreement", "month", "is_closed", "closed_by", "closed_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
