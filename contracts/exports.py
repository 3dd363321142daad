"""Statutory exports of the register: the Local Government Transparency Code 2015 layout
(CSV and XLSX). The OCDS release packages are ``contracts.ocds``.

Querysets come in already scoped by ``Contract.objects.for_user`` and filtered by the
register's FilterSet; this module only shapes rows. The transparency rows need nothing but
annotations (one SQL query whatever the size).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Min, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from contracts.models import (
    Contract,
    ExtensionOption,
    ReviewDate,
    ServiceArea,
    whole_life_value,
)

XLSX_CHUNK = 2000

# --- Local Government Transparency Code 2015 -------------------------------------------------

TRANSPARENCY_HEADER = [
    "Reference", "Title", "Department / service area", "Description", "Supplier name",
    "Supplier registration number", "Annual value (£)", "Whole-life value (£)",
    "VAT not recoverable (£)", "Start date", "End date", "Review date", "Tendered", "SME",
    "VCSE", "Contract holder", "Lead commissioner",
]
TRANSPARENCY_WIDTHS = [14, 40, 22, 50, 34, 16, 16, 18, 14, 12, 12, 12, 10, 6, 6, 30, 30]
SERVICE_AREAS = dict(ServiceArea.choices)


def transparency_queryset(contracts: QuerySet[Contract]) -> QuerySet[Contract]:
    """Everything a transparency row needs as joins and annotations: no prefetching, so the
    export is one query for 10 rows or 10,000 and can be streamed with ``iterator()``.

    ``contracts`` must already carry ``current_end`` (``with_term()``, as the register does).
    """
    option_months = (
        ExtensionOption.objects.filter(contract=OuterRef("pk")).order_by().values("contract")
        .annotate(total=Sum("length_months")).values("total")
    )
    today = timezone.localdate()
    next_review = (
        ReviewDate.objects.filter(contract=OuterRef("pk"), date__gte=today).order_by()
        .values("contract").annotate(first=Min("date")).values("first")
    )
    return (
        contracts.select_related("provider", "holder", "lead_commissioner")
        .annotate(option_months_total=Coalesce(Subquery(option_months), 0),
                  next_review_date=Subquery(next_review))
        .only(
            "provider", "holder", "lead_commissioner", "reference", "title", "service_area",
            "description", "annual_value", "vat_not_recoverable", "start_date",
            "initial_end_date", "tendered",
            "provider__name", "provider__registration_number", "provider__is_sme",
            "provider__is_vcse", "holder__name", "lead_commissioner__name",
        )
    )


def transparency_row(contract: Contract) -> list[object]:
    return [
        contract.reference, contract.title, SERVICE_AREAS.get(contract.service_area, ""),
        contract.description, contract.provider.name, contract.provider.registration_number,
        contract.annual_value,
        whole_life_value(start=contract.start_date, initial_end=contract.initial_end_date,
                         annual_value=contract.annual_value,
                         option_months=[contract.option_months_total]),
        contract.vat_not_recoverable, contract.start_date, contract.current_end,
        contract.next_review_date, contract.tendered, contract.provider.is_sme,
        contract.provider.is_vcse, contract.holder.name, contract.lead_commissioner.name,
    ]


def transparency_rows(contracts: QuerySet[Contract]) -> Iterator[list[object]]:
    """Rows in the Transparency Code layout, read in chunks (a server-side cursor on
    PostgreSQL) so memory does not grow with the register."""
    for contract in transparency_queryset(contracts).iterator(chunk_size=XLSX_CHUNK):
        yield transparency_row(contract)
