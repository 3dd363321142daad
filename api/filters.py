"""The API's filters: the pages' own FilterSets where a page has one (the register's
``ContractFilter``, the review inbox's ``InboxFilter``), and small ones for the flat tables.

``StrictFilterBackend`` refuses a query parameter no filter knows (a typo would otherwise
return every row) and a malformed value, each as a 400 naming the parameter.
"""

from __future__ import annotations

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions

from commissioning import access
from commissioning.models import Partnership
from commissioning.periods import financial_year_bounds
from contracts.filters import ContractFilter, provider_text_filter
from funding.models import MonthlyActual
from monitoring.models import ReturnValue

PAGING_PARAMETERS = frozenset({"cursor", "page_size"})

# The register's "Partner organisation" filter takes an organisation's id; its choices come
# from the person's partnerships at request time, so the schema is told the type.
extend_schema_field(OpenApiTypes.INT)(ContractFilter.base_filters["partner"])


class StrictFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        known = set(filterset_class.base_filters) if filterset_class else set()
        known |= PAGING_PARAMETERS | set(getattr(view, "extra_query_parameters", ()))
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            raise exceptions.ValidationError(
                {name[:40]: [f"Unknown filter. Filters here: {', '.join(sorted(known))}."]
                 for name in unknown[:10]}, "unknown_filter")
        return super().filter_queryset(request, queryset, view)


def _partnerships(request):
    # The choices only check a partnership asked for; without one, no query for them.
    user = getattr(request, "user", None)
    if user is None or "partnership" not in request.GET:
        return Partnership.objects.none()
    return access.partnerships_for_user(user)


class KPIValueFilter(django_filters.FilterSet):
    """One row per KPI value: by partnership, provider (name or id), contract, period,
    financial year (``2025/26``) and return status."""

    partnership = django_filters.ModelChoiceFilter(
        queryset=_partnerships, field_name="performance_return__contract__partnership")
    provider = provider_text_filter("performance_return__contract__")
    contract = django_filters.NumberFilter(field_name="performance_return__contract_id")
    period = django_filters.CharFilter(field_name="performance_return__period__code")
    financial_year = django_filters.CharFilter(
        field_name="performance_return__period__financial_year")
    status = django_filters.ChoiceFilter(
        field_name="performance_return__status",
        choices=[("submitted", "Submitted"), ("accepted", "Accepted")])

    class Meta:
        model = ReturnValue
        fields: list[str] = []


class MonthlyActualFilter(django_filters.FilterSet):
    """One row per monthly actual: by agreement, scheme, lead partner and financial year."""

    agreement = django_filters.NumberFilter(field_name="scheme__agreement_id")
    scheme = django_filters.NumberFilter(field_name="scheme_id")
    partner = django_filters.NumberFilter(field_name="scheme__lead_partner_id")
    financial_year = django_filters.CharFilter(method="filter_financial_year",
                                               help_text="For example 2025/26")

    def filter_financial_year(self, queryset, name, value):
        try:
            start, end = financial_year_bounds(value)
        except (ValueError, IndexError, TypeError):
            raise exceptions.ValidationError(
                {"financial_year": ["Enter a financial year like 2025/26."]}) from None
        return queryset.filter(month__gte=start, month__lte=end)

    class Meta:
        model = MonthlyActual
        fields: list[str] = []
