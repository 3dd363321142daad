"""The register's filters. Choices come only from organisations the user can already see."""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django import forms
from django.db.models import BooleanField, Case, Exists, OuterRef, Q, Value, When
from django.urls import reverse_lazy
from django.utils import timezone

from commissioning import access, datacache
from commissioning.models import COMMISSIONING_KINDS, Organisation, PartnershipMember
from commissioning.periods import add_months
from commissioning.widgets import autocomplete_input
from contracts.models import (
    ACTIVE_STATUSES,
    CommissioningShare,
    Contract,
    ContractStatus,
    ProcurementRegime,
    ServiceArea,
)

EXPIRY_CHOICES = [("3", "3 months"), ("6", "6 months"), ("12", "12 months"),
                  ("18", "18 months"), ("24", "24 months")]

VALUE_BANDS = {
    "under_5k": ("Under £5,000", None, Decimal("5000")),
    "5k_100k": ("£5,000 to £99,999", Decimal("5000"), Decimal("100000")),
    "100k_1m": ("£100,000 to £999,999", Decimal("100000"), Decimal("1000000")),
    "1m_5m": ("£1 million to £4.99 million", Decimal("1000000"), Decimal("5000000")),
    "over_5m": ("£5 million or more", Decimal("5000000"), None),
}

SORT_CHOICES = [
    ("reference", "Reference (A to Z)"), ("-reference", "Reference (Z to A)"),
    ("title", "Title (A to Z)"), ("provider", "Provider (A to Z)"),
    ("end", "End date (soonest first)"), ("-end", "End date (latest first)"),
    ("-value", "Annual value (highest first)"), ("value", "Annual value (lowest first)"),
]


class _OrganisationChoices:
    """The lead commissioner and partner organisation options, worked out once per request
    (the filter panel, the selected-filter tags and validation all read them): the lead
    commissioners of the contracts the user can see, and the members of those contracts'
    partnerships (every commissioning organisation for a platform administrator). Two
    queries, only when read: the API, which only validates, reads them only when one of the
    two filters is given."""

    def __init__(self, request) -> None:
        self.user = getattr(request, "user", None)
        self._loaded: tuple[list, list] | None = None

    def _load(self) -> tuple[list, list]:
        if self._loaded is not None:
            return self._loaded
        user = self.user
        if user is None or not user.is_authenticated:
            self._loaded = ([], [])
            return self._loaded
        self._loaded = datacache.remember("contracts.register-organisations", user, (),
                                          lambda: self._organisations(user))
        return self._loaded

    @staticmethod
    def _organisations(user) -> tuple[list, list]:
        pairs = set(Contract.objects.for_user(user).order_by()
                    .values_list("lead_commissioner_id", "partnership_id").distinct())
        lead_ids = {lead for lead, _partnership in pairs}
        if access.is_platform_admin(user):
            partners = Q(kind__in=COMMISSIONING_KINDS)
        else:
            partners = Q(pk__in=PartnershipMember.objects.filter(
                partnership_id__in={partnership for _lead, partnership in pairs})
                .values("organisation_id"))
        rows = (Organisation.objects.filter(Q(pk__in=lead_ids) | partners)
                .annotate(is_partner=Case(When(partners, then=Value(True)), default=Value(False),
                                          output_field=BooleanField()))
                .order_by("name", "pk").values_list("pk", "name", "is_partner"))
        leads, partner_choices = [], []
        for pk, name, is_partner in rows:
            if pk in lead_ids:
                leads.append((str(pk), name))
            if is_partner:
                partner_choices.append((str(pk), name))
        return leads, partner_choices

    def leads(self) -> list[tuple[str, str]]:
        return self._load()[0]

    def partners(self) -> list[tuple[str, str]]:
        return self._load()[1]


def shown_status_q(value: str, today) -> Q:
    """Contracts (annotated ``with_term``) whose shown status on ``today`` is ``value``: the
    same rows as ``status_now=value`` (``contracts.models.status_on``), written on the stored
    status first, so that PostgreSQL narrows by it before working out ``current_end`` (two
    subqueries a row) for what is left, instead of for every visible contract."""
    if value in ACTIVE_STATUSES:
        return Q(status=value, current_end__gte=today)
    if value == ContractStatus.EXPIRED:
        return Q(status=value) | Q(status__in=ACTIVE_STATUSES, current_end__lt=today)
    return Q(status=value)


def _no_choices() -> list:
    """Replaced per request (``ContractFilter.__init__``); a callable, so the API schema does
    not list organisations."""
    return []


def _select(**attrs):
    return forms.Select(attrs={"class": "govuk-select", **attrs})


def search_contracts(queryset, value: str):
    """The register's search box: reference, title or provider, wherever contracts are listed."""
    value = value.strip()
    if not value:
        return queryset
    return queryset.filter(
        Q(reference__icontains=value) | Q(title__icontains=value)
        | Q(provider__name__icontains=value) | Q(provider__short_name__icontains=value)
    )

def _provider_input() -> forms.TextInput:
    """The provider text filter; with JavaScript an accessible autocomplete suggesting the
    names of providers the person can see (``contracts:provider_names``); part of a name typed
    and submitted still filters as before."""
    return autocomplete_input(reverse_lazy("contracts:provider_names"),
                              attrs={"class": "govuk-input"})


class ContractFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search", method="filter_search",
        help_text="Reference, title or provider",
        widget=forms.TextInput(attrs={"class": "govuk-input", "type": "search",
                                      "spellcheck": "false"}),
    )
    # The status shown (contracts.models.status_on): a passed end date reads as expired.
    status = django_filters.ChoiceFilter(choices=ContractStatus.choices, empty_label="Any",
                                         method="filter_status", label="Status",
                                         widget=_select())
    # A text filter, not a select: registers hold hundreds of providers, and a select of
    # them all was most of the page's rendering time (bench/RESULTS.md). A number still
    # picks one provider, so links from other pages keep working.
    provider = django_filters.CharFilter(
        label="Provider", method="filter_provider", help_text="Part of the provider's name",
        widget=_provider_input(),
    )
    # Organisations the user can already see (``_OrganisationChoices``), by id.
    lead_commissioner = django_filters.ChoiceFilter(
        choices=_no_choices, empty_label="Any", label="Lead commissioner", widget=_select(),
    )
    partner = django_filters.ChoiceFilter(
        choices=_no_choices, empty_label="Any", label="Partner organisation",
        method="filter_partner", widget=_select(),
    )
    service_area = django_filters.ChoiceFilter(choices=ServiceArea.choices, empty_label="Any",
                                               widget=_select())
    procurement_regime = django_filters.ChoiceFilter(
        choices=ProcurementRegime.choices, empty_label="Any", label="Procurement regime",
        widget=_select(),
    )
    expiring_within = django_filters.ChoiceFilter(
        choices=EXPIRY_CHOICES, empty_label="Any time", label="Ending within",
        method="filter_expiring", widget=_select(),
    )
    value_band = django_filters.ChoiceFilter(
        choices=[(key, band[0]) for key, band in VALUE_BANDS.items()], empty_label="Any",
        label="Annual value", method="filter_value_band", widget=_select(),
    )
    sort = django_filters.ChoiceFilter(
        choices=SORT_CHOICES, empty_label=None, label="Sort by", method="filter_noop",
        widget=_select(),
    )

    class Meta:
        model = Contract
        fields: list[str] = []

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        organisations = _OrganisationChoices(self.request)
        self.filters["lead_commissioner"].extra["choices"] = organisations.leads
        self.filters["partner"].extra["choices"] = organisations.partners

    def filter_status(self, queryset, name, value):
        return queryset.filter(shown_status_q(value, timezone.localdate()))

    def filter_search(self, queryset, name, value):
        return search_contracts(queryset, value)

    def filter_provider(self, queryset, name, value):
        return filter_by_provider_text(queryset, value)

    def filter_partner(self, queryset, name, value):
        shares = CommissioningShare.objects.filter(contract=OuterRef("pk"), organisation=value)
        return queryset.filter(
            Q(holder=value) | Q(lead_commissioner=value) | Exists(shares)
        )

    def filter_expiring(self, queryset, name, value):
        today = timezone.localdate()
        return queryset.filter(
            current_end__gte=today, current_end__lte=add_months(today, int(value))
        ).exclude(status__in=(ContractStatus.EXPIRED, ContractStatus.TERMINATED))

    def filter_value_band(self, queryset, name, value):
        _label, low, high = VALUE_BANDS[value]
        if low is not None:
            queryset = queryset.filter(annual_value__gte=low)
        if high is not None:
            queryset = queryset.filter(annual_value__lt=high)
        return queryset

    def filter_noop(self, queryset, name, value):
        return queryset  # ordering is applied by the selector


def provider_text_filter(field_prefix: str = "") -> django_filters.CharFilter:
    """The provider filter of every list: text, not a select (see ContractFilter)."""
    return django_filters.CharFilter(
        label="Provider", help_text="Part of the provider's name",
        method=lambda queryset, name, value: filter_by_provider_text(
            queryset, value, field_prefix=field_prefix),
        widget=_provider_input(),
    )


def filter_by_provider_text(queryset, value: str, *, field_prefix: str = ""):
    """Rows whose provider's name or short name contains ``value``; a number picks one
    provider by id, so links from other pages keep working."""
    value = value.strip()
    if not value:
        return queryset
    if value.isdigit() and len(value) <= 9:  # an id; longer digit runs would overflow
        return queryset.filter(**{f"{field_prefix}provider_id": int(value)})
    return queryset.filter(
        Q(**{f"{field_prefix}provider__name__icontains": value})
        | Q(**{f"{field_prefix}provider__short_name__icontains": value})
    )
