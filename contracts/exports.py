"""Statutory exports of the register: the Local Government Transparency Code 2015 layout
(CSV and XLSX) and Open Contracting Data Standard 1.1 release packages (JSON).

Querysets come in already scoped by ``Contract.objects.for_user`` and filtered by the
register's FilterSet; this module only shapes rows. The transparency rows need nothing but
annotations (one SQL query whatever the size); OCDS releases prefetch their related rows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Min, OuterRef, Prefetch, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from commissioning.models import Organisation, OrganisationKind
from contracts.models import (
    CommissioningShare,
    Contract,
    ContractStatus,
    Decision,
    DecisionPurpose,
    ExtensionOption,
    ProcurementRoute,
    ReviewDate,
    ServiceArea,
    Variation,
    whole_life_value,
)

LONDON = ZoneInfo("Europe/London")
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


# --- OCDS 1.1 --------------------------------------------------------------------------------

R = ProcurementRoute
PROCUREMENT_METHODS: dict[str, str] = {
    R.PCR_OPEN: "open", R.PA_OPEN: "open",
    R.PCR_RESTRICTED: "selective", R.PCR_COMPETITIVE_DIALOGUE: "selective",
    R.PA_COMPETITIVE_FLEXIBLE: "selective", R.PSR_COMPETITIVE_PROCESS: "selective",
    R.PCR_LIGHT_TOUCH: "open",  # advertised; "limited" when it was not tendered (below)
    R.PCR_NEGOTIATED_WITHOUT_NOTICE: "limited", R.PA_FRAMEWORK_CALL_OFF: "limited",
    R.PSR_MOST_SUITABLE_PROVIDER: "limited",
    R.PA_DIRECT_AWARD: "direct", R.PSR_DIRECT_AWARD_A: "direct",
    R.PSR_DIRECT_AWARD_B: "direct", R.PSR_DIRECT_AWARD_C: "direct",
    R.GRANT: "direct", R.SPOT_PURCHASE: "direct",
}

S = ContractStatus
TAGS: dict[str, list[str]] = {
    S.PLANNED: ["planning"], S.IN_PROCUREMENT: ["tender"], S.AWARDED: ["award"],
    S.LIVE: ["contract"], S.EXTENDED: ["contract", "contractAmendment"],
    S.EXPIRED: ["contractTermination"], S.TERMINATED: ["contractTermination"],
}
TENDER_STATUS = {S.PLANNED: "planning", S.IN_PROCUREMENT: "active"}  # else "complete"
CONTRACT_STATUS = {S.AWARDED: "pending", S.LIVE: "active", S.EXTENDED: "active",
                   S.EXPIRED: "terminated", S.TERMINATED: "terminated"}
AWARDED_STATUSES = tuple(CONTRACT_STATUS)

COMPANY_NUMBER = re.compile(r"^(?:\d{8}|[A-Z]{2}\d{6})$")
CHARITY_NUMBER = re.compile(r"^\d{6,7}(?:-\d+)?$")


def ocds_prefix() -> str:
    return getattr(settings, "OCDS_PREFIX", "ocds-jcomm")


def ocid(contract: Contract) -> str:
    return f"{ocds_prefix()}-{contract.pk}"


def _date_time(day: date | None, *, end_of_day: bool = False) -> str | None:
    """OCDS dates are date-times: a UK calendar day becomes London midnight (or 23:59:59)."""
    if day is None:
        return None
    moment = datetime.combine(day, time(23, 59, 59) if end_of_day else time.min, tzinfo=LONDON)
    return moment.isoformat()


def _amount(value: Decimal) -> dict[str, object]:
    # JSON numbers, not strings: a Decimal with 2 places prints exactly as a float would.
    number = int(value) if value == value.to_integral_value() else float(value)
    return {"amount": number, "currency": "GBP"}


def organisation_identifier(organisation: Organisation) -> dict[str, str] | None:
    """org-id.guide identifier: Companies House (GB-COH) or Charity Commission (GB-CHC) for
    a registration number, NHS ODS (GB-NHS) for an ODS code."""
    number = organisation.registration_number.strip().upper().replace(" ", "")
    if number:
        if COMPANY_NUMBER.match(number):
            scheme = "GB-COH"
        elif CHARITY_NUMBER.match(number) or organisation.kind == OrganisationKind.VCSE:
            scheme = "GB-CHC"
        else:
            scheme = "GB-COH"
        return {"scheme": scheme, "id": number, "legalName": organisation.name}
    if organisation.ods_code:
        return {"scheme": "GB-NHS", "id": organisation.ods_code, "legalName": organisation.name}
    return None


def _party_id(organisation: Organisation) -> str:
    identifier = organisation_identifier(organisation)
    if identifier:
        return f"{identifier['scheme']}-{identifier['id']}"
    return f"{ocds_prefix()}-org-{organisation.pk}"


def _reference(organisation: Organisation) -> dict[str, str]:
    return {"id": _party_id(organisation), "name": organisation.name}


def ocds_queryset(contracts: QuerySet[Contract]) -> QuerySet[Contract]:
    """Contracts with every related row a release shows, in a fixed number of queries."""
    return contracts.select_related("provider", "holder", "lead_commissioner").prefetch_related(
        Prefetch("shares", queryset=CommissioningShare.objects.select_related("organisation")),
        "extension_options",
        Prefetch("review_dates", queryset=ReviewDate.objects.order_by("date")),
        Prefetch("variations", queryset=Variation.objects.select_related("decision")),
        Prefetch("decisions", queryset=Decision.objects.filter(purpose=DecisionPurpose.AWARD),
                 to_attr="award_decisions"),
    )


def _parties(contract: Contract) -> list[dict[str, Any]]:
    roles: dict[int, list[str]] = {}
    organisations: dict[int, Organisation] = {}

    def add(organisation: Organisation, *new_roles: str) -> None:
        organisations[organisation.pk] = organisation
        current = roles.setdefault(organisation.pk, [])
        current.extend(r for r in new_roles if r not in current)

    add(contract.holder, "buyer")
    add(contract.lead_commissioner, "buyer", "procuringEntity")
    for share in contract.shares.all():
        # Joint commissioners buy together; a partner with a share also pays.
        add(share.organisation, "buyer", *(["payer"] if share.share_percent > 0 else []))
    if contract.status in AWARDED_STATUSES:
        add(contract.provider, "supplier")
    else:
        add(contract.provider, "tenderer")
    parties = []
    for pk, organisation in organisations.items():
        party: dict[str, Any] = {"id": _party_id(organisation), "name": organisation.name,
                                 "roles": roles[pk]}
        identifier = organisation_identifier(organisation)
        if identifier:
            party["identifier"] = identifier
        if organisation.pk == contract.provider_id:
            party["details"] = {"scale": "sme" if organisation.is_sme else "large",
                                "vcse": organisation.is_vcse}
        parties.append(party)
    return parties


def _award_date(contract: Contract) -> date:
    decisions = getattr(contract, "award_decisions", None) or []
    if contract.awarded_on:
        return contract.awarded_on
    if decisions:
        return decisions[-1].meeting_date
    return contract.start_date


def _amendment(variation: Variation) -> dict[str, Any]:
    changes = []
    if variation.value_change:
        sign = "+" if variation.value_change > 0 else "−"
        changes.append(f"value {sign}£{abs(variation.value_change):,.2f}")
    if variation.term_change_months:
        changes.append(f"term {variation.term_change_months:+d} months")
    rationale = "; ".join(changes).capitalize() or "No change of value or term"
    if variation.decision_id:
        decision = variation.decision
        rationale += f". Authorised by {decision}: {decision.outcome}"
    return {"id": f"variation-{variation.pk}", "date": _date_time(variation.date),
            "description": variation.description, "rationale": rationale}


def release(contract: Contract) -> dict[str, Any]:
    """One OCDS 1.1 release describing the contract as it stands now."""
    release_ocid = ocid(contract)
    options = list(contract.extension_options.all())
    total_value = whole_life_value(
        start=contract.start_date, initial_end=contract.initial_end_date,
        annual_value=contract.annual_value, option_months=[o.length_months for o in options],
    )
    method = PROCUREMENT_METHODS.get(contract.procurement_route, "direct")
    if contract.procurement_route == R.PCR_LIGHT_TOUCH and not contract.tendered:
        method = "limited"
    period = {
        "startDate": _date_time(contract.start_date),
        "endDate": _date_time(contract.current_end_date, end_of_day=True),
        "maxExtentDate": _date_time(contract.maximum_end_date, end_of_day=True),
    }
    data: dict[str, Any] = {
        "ocid": release_ocid,
        "id": f"{release_ocid}-{contract.updated_at:%Y%m%dT%H%M%S}-v{contract.version}",
        "date": contract.updated_at.isoformat(),
        "tag": TAGS[contract.shown_status],  # expired once its end date has passed
        "initiationType": "tender",
        "language": "en",
        "parties": _parties(contract),
        "buyer": _reference(contract.holder),
        "tender": {
            "id": f"{release_ocid}-tender",
            "title": contract.title,
            "description": contract.description,
            "status": TENDER_STATUS.get(contract.status, "complete"),
            "procuringEntity": _reference(contract.lead_commissioner),
            "procurementMethod": method,
            "procurementMethodDetails": (
                f"{contract.get_procurement_regime_display()}: "
                f"{contract.get_procurement_route_display()}"
            ),
            "mainProcurementCategory": "works" if contract.works else "services",
            "value": _amount(total_value),
            "contractPeriod": period,
        },
    }
    if contract.status in AWARDED_STATUSES:
        award_id = f"{release_ocid}-award-1"
        data["awards"] = [{
            "id": award_id,
            "title": contract.title,
            "status": "pending" if contract.status == S.AWARDED else "active",
            "date": _date_time(_award_date(contract)),
            "value": _amount(total_value),
            "suppliers": [_reference(contract.provider)],
            "contractPeriod": period,
        }]
        amendments = [_amendment(v) for v in contract.variations.all()]
        contract_data: dict[str, Any] = {
            "id": f"{release_ocid}-contract-1",
            "awardID": award_id,
            "title": contract.title,
            "description": contract.description,
            "status": CONTRACT_STATUS[contract.shown_status],
            "period": period,
            "value": _amount(total_value),
            "implementation": {
                "milestones": [
                    {"id": f"review-{review.pk}", "title": review.description,
                     "type": "assessment", "dueDate": _date_time(review.date),
                     "status": "met" if review.date < timezone.localdate() else "scheduled"}
                    for review in contract.review_dates.all()
                ],
            },
        }
        if contract.awarded_on:
            contract_data["dateSigned"] = _date_time(contract.awarded_on)
        if amendments:
            contract_data["amendments"] = amendments
        data["contracts"] = [contract_data]
    return data


def release_package(releases: Iterable[dict[str, Any]], *, uri: str) -> dict[str, Any]:
    return {
        "uri": uri,
        "version": "1.1",
        "publishedDate": timezone.now().isoformat(),
        "publisher": {"name": settings.SERVICE_NAME, "uri": settings.SITE_URL},
        "releases": list(releases),
    }


def release_package_chunks(contracts: QuerySet[Contract], *, uri: str) -> Iterator[str]:
    """The release package as JSON text in pieces, one release at a time, so a large
    register streams instead of being built in memory."""
    head = release_package([], uri=uri)
    opening = json.dumps(head, ensure_ascii=False)[:-2]  # drop the closing "]}"
    yield opening
    first = True
    for contract in ocds_queryset(contracts).iterator(chunk_size=500):
        yield ("" if first else ",") + json.dumps(release(contract), ensure_ascii=False)
        first = False
    yield "]}"
