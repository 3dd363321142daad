"""The read-only API (``/api/v1/``). Every queryset starts from the visibility rule the pages
use (``for_user`` querysets and the selectors built on ``commissioning.access``); nothing here
decides who sees what. Views read and never write: other methods are a 405."""

from __future__ import annotations

from functools import cache

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, mixins, viewsets
from rest_framework.response import Response

from commissioning import access
from commissioning.models import Organisation
from commissioning.spreadsheets import csv_response
from contracts.filters import ContractFilter
from contracts.frameworks.models import CallOff, Framework, Lot, ProviderApplication
from contracts.models import Contract
from contracts.selectors import contract_register
from funding.models import Contribution, Scheme, SchemeBudget, Section75Agreement
from monitoring.filters import InboxFilter
from monitoring.models import KPI, KPITarget, PerformanceReturn, ReportingPeriod

from . import facts, serializers
from .contract_rows import contract_rows
from .filters import KPIValueFilter, MonthlyActualFilter

ID = r"[0-9]{1,18}"


class ReadOnly(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ID
    http_method_names = ["get", "head", "options"]

    def scoped(self, user):  # pragma: no cover - every view defines it
        raise NotImplementedError

    def get_queryset(self):
        return self.scoped(self.request.user)


@extend_schema(tags=["Contracts"])
class ContractViewSet(ReadOnly):
    """Contracts you can see in the register, with their parties, shares, values, dates,
    status, service lines, extension options, review dates, decisions and variations.
    Filters are the register's."""

    serializer_class = serializers.ContractSerializer
    filterset_class = ContractFilter

    def scoped(self, user):
        return contract_register(user=user)

    def _rows(self, contracts) -> list[dict]:
        return contract_rows(list(contracts), request=self.request,
                             is_provider=access.is_provider_user(self.request.user))

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self._rows(page))

    def retrieve(self, request, *args, **kwargs):
        return Response(self._rows([self.get_object()])[0])


@extend_schema(tags=["Contracts"])
class ProviderViewSet(ReadOnly):
    """Providers of the contracts and framework applications you can see."""

    serializer_class = serializers.ProviderSerializer

    def scoped(self, user):
        return Organisation.objects.filter(
            pk__in=Contract.objects.for_user(user).values("provider_id")
        ) | Organisation.objects.filter(
            pk__in=ProviderApplication.objects.for_user(user).values("provider_id"))


@extend_schema(tags=["Frameworks"])
class FrameworkViewSet(ReadOnly):
    """Frameworks you are a party to."""

    serializer_class = serializers.FrameworkSerializer

    def scoped(self, user):
        return Framework.objects.for_user(user).prefetch_related("parties")


@extend_schema(tags=["Frameworks"])
class LotViewSet(ReadOnly):
    """Lots of the frameworks you are a party to."""

    serializer_class = serializers.LotSerializer

    def scoped(self, user):
        return Lot.objects.filter(framework__in=Framework.objects.for_user(user))


@extend_schema(tags=["Frameworks"])
class AdmissionViewSet(ReadOnly):
    """Providers' applications to, and admissions on, lots: the framework parties see their
    frameworks' applications, a provider its own."""

    serializer_class = serializers.AdmissionSerializer

    def scoped(self, user):
        return ProviderApplication.objects.for_user(user).select_related("provider", "lot")


@extend_schema(tags=["Frameworks"])
class CallOffViewSet(ReadOnly):
    """Call-offs whose contract you are a party to."""

    serializer_class = serializers.CallOffSerializer

    def scoped(self, user):
        return CallOff.objects.for_user(user).select_related("lot")


@extend_schema(tags=["Funding"])
class AgreementViewSet(ReadOnly):
    """Section 75 agreements you are a partner in."""

    serializer_class = serializers.AgreementSerializer

    def scoped(self, user):
        return Section75Agreement.objects.for_user(user).select_related(
            "host_partner").prefetch_related("partners")


@extend_schema(tags=["Funding"])
class SchemeViewSet(ReadOnly):
    """Schemes of the agreements you are a partner in."""

    serializer_class = serializers.SchemeSerializer

    def scoped(self, user):
        return Scheme.objects.filter(access.visible_agreements_q(user, "agreement__")) \
            .select_related("lead_partner")


@extend_schema(tags=["Funding"])
class BudgetViewSet(ReadOnly):
    """Schemes' budgets by financial year."""

    serializer_class = serializers.BudgetSerializer

    def scoped(self, user):
        return SchemeBudget.objects.filter(
            access.visible_agreements_q(user, "scheme__agreement__"))


@extend_schema(tags=["Funding"])
class ContributionViewSet(ReadOnly):
    """Partners' contributions to schemes by financial year."""

    serializer_class = serializers.ContributionSerializer

    def scoped(self, user):
        return Contribution.objects.filter(
            access.visible_agreements_q(user, "scheme__agreement__")).select_related(
            "partner", "source")


@extend_schema(tags=["Performance"])
class KPIViewSet(ReadOnly):
    """KPI definitions of the contracts you can see, with their targets."""

    serializer_class = serializers.KPISerializer

    def scoped(self, user):
        return KPI.objects.for_user(user).prefetch_related(
            Prefetch("targets", queryset=KPITarget.objects.select_related("valid_from")))


@extend_schema(tags=["Performance"])
class ReturnViewSet(ReadOnly):
    """Providers' returns of the contracts you can see. Filters are the review inbox's."""

    serializer_class = serializers.ReturnSerializer
    filterset_class = InboxFilter

    def scoped(self, user):
        return PerformanceReturn.objects.for_user(user).select_related("period")


@extend_schema(tags=["Performance"])
class PeriodViewSet(ReadOnly):
    """Reporting periods (financial quarters and months) and their return due dates."""

    serializer_class = serializers.PeriodSerializer

    def scoped(self, user):
        return ReportingPeriod.objects.all()


# --- Flat tables --------------------------------------------------------------------------

_plain_rows = cache(serializers.plain_rows)


class FactViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    http_method_names = ["get", "head", "options"]
    finish = staticmethod(lambda rows: rows)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        rows = self.finish(list(page))
        # What get_serializer(rows, many=True).data gives, without DRF's per-value machinery.
        return self.get_paginated_response(_plain_rows(self.serializer_class)(rows))


@extend_schema(tags=["Flat tables"])
class KPIValueFacts(FactViewSet):
    """One row per KPI value of a submitted or accepted return of the contracts you can see,
    with its contract, provider, partnership, period, target in force and RAG. The same rows
    as CSV: ``kpi-values.csv``."""

    serializer_class = serializers.KPIValueRow
    filterset_class = KPIValueFilter
    finish = staticmethod(facts.finish_kpi_values)

    def get_queryset(self):
        return facts.kpi_values_for_user(self.request.user)


@extend_schema(tags=["Flat tables"])
class MonthlyActualFacts(FactViewSet):
    """One row per monthly actual of the schemes of the agreements you are a partner in, with
    its scheme, agreement, lead partner and financial year. As CSV: ``monthly-actuals.csv``."""

    serializer_class = serializers.MonthlyActualRow
    filterset_class = MonthlyActualFilter
    finish = staticmethod(facts.with_financial_year)

    def get_queryset(self):
        return facts.monthly_actuals_for_user(self.request.user)


class FactCSV(generics.GenericAPIView):
    """A flat table as a streamed CSV (UTF-8 with BOM, formula-like text neutralised), all
    rows at once: the same filters as the JSON table, no paging."""

    http_method_names = ["get", "head", "options"]
    pagination_class = None
    filename = ""
    header: list[str] = []
    filterset_class = None
    extra_query_parameters: tuple[str, ...] = ()

    def rows(self, user):  # pragma: no cover - every view defines it
        raise NotImplementedError

    def finish(self, rows):  # pragma: no cover
        raise NotImplementedError

    @extend_schema(responses={(200, "text/csv"): str}, parameters=[
        OpenApiParameter("cursor", exclude=True)])
    def get(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.rows(request.user))
        return csv_response(self.filename, self.header,
                            facts.csv_rows(queryset, self.finish, self.header))


@extend_schema(tags=["Flat tables"])
class KPIValueCSV(FactCSV):
    filename = "kpi-values.csv"
    header = facts.KPI_VALUE_HEADER
    filterset_class = KPIValueFilter

    def rows(self, user):
        return facts.kpi_values_for_user(user)

    def finish(self, rows):
        return facts.finish_kpi_values(rows)


@extend_schema(tags=["Flat tables"])
class MonthlyActualCSV(FactCSV):
    filename = "monthly-actuals.csv"
    header = facts.ACTUAL_HEADER
    filterset_class = MonthlyActualFilter

    def rows(self, user):
        return facts.monthly_actuals_for_user(user)

    def finish(self, rows):
        return facts.with_financial_year(rows)
