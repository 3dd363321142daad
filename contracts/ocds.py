"""Open Contracting Data Standard 1.1 releases and release packages of the register.

What a publisher's checker (Open Contracting's libcoveocds) asks of us, and how it is met:

- ``ocid``: the publisher's registered prefix (``settings.OCDS_PREFIX``, ``ocds-`` and six
  letters or digits, checked at start-up by ``commissioning.checks``) and the contract's id;
- every field either in the core schema or in an extension the package declares
  (``EXTENSIONS``: the Cabinet Office UK extension Find a Tender uses, with the extensions it
  depends on, and the official lots, party scale, legal basis, metrics and contract completion
  extensions; their files are kept in ``contracts/ocds_extensions/``);
- no empty strings, lists or objects and no nulls (``prune``);
- status from the dates, by the rule the contract page uses (``Contract.shown_status``);
- variations and exercised extension options as ``amendments``, and ``contractAmendment``
  only when there are some;
- the procurement method from the route, the regime from the framework for a call-off
  (``contracts.regimes``) and its legal basis as Find a Tender gives it (``tender.legalBasis``),
  the light touch regime as a UK special regime, the standstill period, and a call-off's
  framework as a related process with its lot;
- a transparency notice's release (``notice_release``) in Find a Tender's shape: the notice as
  a document with its UK notice type in the section it belongs to, a contract details notice's
  KPIs as agreed metrics, a performance notice's ratings as metrics with UK measure
  classifications, a change notice's variation as an amendment (proposed until it takes
  effect), a termination notice's end as the contract's completion.

Querysets come in already scoped by ``Contract.objects.for_user``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from commissioning.models import Organisation
from commissioning.periods import financial_year_bounds
from contracts import cpv, regimes
from contracts.models import (
    CommissioningShare,
    Contract,
    ContractStatus,
    Decision,
    DecisionPurpose,
    ExtensionOption,
    NoticeKind,
    ProcurementRegime,
    ProcurementRoute,
    ReviewDate,
    Variation,
    whole_life_value,
)

LONDON = ZoneInfo("Europe/London")

def _github(owner: str, repository: str, ref: str) -> str:
    return f"https://raw.githubusercontent.com/{owner}/{repository}/{ref}/extension.json"


OCE = "open-contracting-extensions"
# The extensions whose fields the releases use, at the version kept in
# contracts/ocds_extensions/ (its README names each source commit), so the schema a reader
# fetches is the one the suite checked. Find a Tender declares the Cabinet Office UK extension
# (and, through the OCDS for the EU profile, the extensions it depends on); OCDS asks a
# publisher to declare an extension's dependencies too.
EXTENSIONS: dict[str, str] = {
    "lots": _github(OCE, "ocds_lots_extension", "v1.1.5"),
    "partyScale": _github(OCE, "ocds_partyDetails_scale_extension",
                          "152cd9fb74e021e537b17d84420615acf7dec032"),
    "legalBasis": _github(OCE, "ocds_legalBasis_extension",
                          "b8cad008a33695661bba0eb3fb41b74c603e6941"),
    "metrics": _github(OCE, "ocds_metrics_extension", "fad91df868907e339e5b3b4af5c334e02b80fa4f"),
    "contractCompletion": _github(OCE, "ocds_contract_completion_extension",
                                  "5c07b628802353251f0a22800f0003b556a2c209"),
    # The UK extension's own dependencies (its extension.json), in its order.
    "awardCriteria": _github(OCE, "ocds_awardCriteria_extension",
                             "9391240f353e8536992938fe9f7987cd89235331"),
    "bid": _github(OCE, "ocds_bid_extension", "v1.1.5"),
    "communication": _github(OCE, "ocds_communication_extension",
                             "57a1567a85b9480ca10210fabbdbbbea5378f3f9"),
    "location": _github(OCE, "ocds_location_extension", "fcd56abaea4214d7f4d712087be32141badbe60c"),
    "otherRequirements": _github(OCE, "ocds_otherRequirements_extension",
                                 "143e56e3166073b5d317826a745e46b9889e379b"),
    "performanceFailures": _github(OCE, "ocds_performance_failures_extension",
                                   "ba848ad627309a76e19a5ed9281ade5dbe080915"),
    "subcontracting": _github(OCE, "ocds_subcontracting_extension",
                              "65d06d0af7e5dc56f0f28beb54e5d7dc5d9155e7"),
    "suitability": _github(OCE, "ocds_suitability_extension",
                           "271f51cef1160e66d8952a7e683f1d8375efcc95"),
    "techniques": _github(OCE, "ocds_techniques_extension",
                          "5568b00a8dd694a3d34441bdd9ef2bd3f9d44b11"),
    "uk": _github("cabinetoffice", "ocds_uk_extension", "aa0e43b84dfad0cb9b839a8135e0bc4b285d32fc"),
}

R = ProcurementRoute
# OCDS method codelist: open (anyone may bid), selective (only those chosen or qualified may
# bid: restricted, competitive dialogue, flexible, framework competitions), limited (the buyer
# approaches chosen suppliers), direct (one supplier, no competition).
PROCUREMENT_METHODS: dict[str, str] = {
    R.PCR_OPEN: "open", R.PA_OPEN: "open",
    R.PCR_RESTRICTED: "selective", R.PCR_COMPETITIVE_DIALOGUE: "selective",
    R.PA_COMPETITIVE_FLEXIBLE: "selective", R.PSR_COMPETITIVE_PROCESS: "selective",
    R.PCR_LIGHT_TOUCH: "open",  # advertised; "limited" when it was not tendered (below)
    R.PCR_NEGOTIATED_WITHOUT_NOTICE: "limited", R.PSR_MOST_SUITABLE_PROVIDER: "limited",
    R.PA_FRAMEWORK_CALL_OFF: "selective",  # among the framework's suppliers (below)
    R.PA_DIRECT_AWARD: "direct", R.PSR_DIRECT_AWARD_A: "direct",
    R.PSR_DIRECT_AWARD_B: "direct", R.PSR_DIRECT_AWARD_C: "direct",
    R.GRANT: "direct", R.SPOT_PURCHASE: "direct",
}

S = ContractStatus
TAGS: dict[str, str] = {
    S.PLANNED: "planning", S.IN_PROCUREMENT: "tender", S.AWARDED: "award",
    S.LIVE: "contract", S.EXTENDED: "contract",
    S.EXPIRED: "contractTermination", S.TERMINATED: "contractTermination",
}
TENDER_STATUS = {S.PLANNED: "planning", S.IN_PROCUREMENT: "active"}  # else "complete"
CONTRACT_STATUS = {S.AWARDED: "pending", S.LIVE: "active", S.EXTENDED: "active",
                   S.EXPIRED: "terminated", S.TERMINATED: "terminated"}
AWARDED_STATUSES = tuple(CONTRACT_STATUS)

# tender.legalBasis as Find a Tender gives it: the Procurement Act 2023 as a UK Public General
# Act (scheme UKPGA, "2023/54") and, for the Public Contracts Regulations 2015, the directive
# they implement (CELEX 32014L0024). The Provider Selection Regime's regulations (SI 2023/1348)
# are made under the Health and Care Act 2022 (c. 31); no scheme in the declared codelists
# names a statutory instrument, so the Act is the identifier and the description names both.
LEGAL_BASIS: dict[str, dict[str, str]] = {
    ProcurementRegime.PA_2023: {"scheme": "UKPGA", "id": "2023/54",
                                "description": "Procurement Act 2023"},
    ProcurementRegime.PCR_2015: {"scheme": "CELEX", "id": "32014L0024",
                                 "description": "Directive 2014/24/EU, implemented by the "
                                                "Public Contracts Regulations 2015"},
    ProcurementRegime.PSR: {"scheme": "UKPGA", "id": "2022/31",
                            "description": "Health and Care Act 2022: the Health Care Services "
                                           "(Provider Selection Regime) Regulations 2023"},
}
LIGHT_TOUCH = "lightTouch"  # the UK extension's tender.specialRegime (free text, no codelist)


FIND_A_TENDER_NOTICE_URL = "https://www.find-tender.service.gov.uk/Notice/{}"


def prefix() -> str:
    return settings.OCDS_PREFIX


def ocid(contract: Contract) -> str:
    return f"{prefix()}-{contract.pk}"


def framework_ocid(framework: Any) -> str:
    return f"{prefix()}-framework-{framework.pk}"


def prune(value: Any) -> Any:
    """The value without nulls, empty strings, empty lists and empty objects, at any depth
    (OCDS: "fields should not be published with empty values")."""
    if isinstance(value, dict):
        pruned = {key: prune(item) for key, item in value.items()}
        return {key: item for key, item in pruned.items() if not _empty(item)}
    if isinstance(value, list):
        return [item for item in (prune(item) for item in value) if not _empty(item)]
    if isinstance(value, str):
        return value.strip()
    return value


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def date_time(day: date | None, *, end_of_day: bool = False) -> str | None:
    """OCDS dates are date-times: a UK calendar day becomes London midnight (or 23:59:59)."""
    if day is None:
        return None
    moment = datetime.combine(day, time(23, 59, 59) if end_of_day else time.min, tzinfo=LONDON)
    return moment.isoformat()


def amount(value: Decimal) -> dict[str, object]:
    # JSON numbers, not strings: a Decimal with 2 places prints exactly as a float would.
    number = int(value) if value == value.to_integral_value() else float(value)
    return {"amount": number, "currency": "GBP"}


# --- Parties ----------------------------------------------------------------------------------

def party_id(organisation: Organisation) -> str:
    found = organisation.identifiers
    if found:
        scheme, number = found[0]
        return f"{scheme}-{number}"
    return f"{prefix()}-org-{organisation.pk}"


def reference(organisation: Organisation) -> dict[str, str]:
    return {"id": party_id(organisation), "name": organisation.name}


def party(organisation: Organisation, roles: list[str], *, supplier: bool) -> dict[str, Any]:
    """An organisation as OCDS describes it: identifiers (PPON first), address, contact point
    and, for a supplier, its size (party scale extension)."""
    found = organisation.identifiers
    data: dict[str, Any] = {
        "id": party_id(organisation), "name": organisation.name, "roles": roles,
        "identifier": ({"scheme": found[0][0], "id": found[0][1],
                        "legalName": organisation.name} if found else None),
        "additionalIdentifiers": [{"scheme": scheme, "id": number}
                                  for scheme, number in found[1:]],
        "address": {
            "streetAddress": organisation.street_address,
            "locality": organisation.locality,
            "postalCode": organisation.postal_code,
            "countryName": "United Kingdom" if (
                organisation.street_address or organisation.postal_code) else "",
        },
        "contactPoint": {
            "name": organisation.contact_name, "email": organisation.contact_email,
            "telephone": organisation.contact_telephone,
        },
    }
    if supplier:
        data["details"] = {"scale": "sme" if organisation.is_sme else "large"}
    return data


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
    awarded = contract.status in AWARDED_STATUSES
    add(contract.provider, "supplier" if awarded else "tenderer")
    return [party(organisation, roles[pk], supplier=pk == contract.provider_id and awarded)
            for pk, organisation in organisations.items()]


# --- The release ------------------------------------------------------------------------------

def ocds_queryset(contracts: QuerySet[Contract]) -> QuerySet[Contract]:
    """Contracts with every related row a release shows, in a fixed number of queries."""
    return contracts.select_related(
        "provider", "holder", "lead_commissioner", "call_off__lot__framework",
    ).prefetch_related(
        Prefetch("shares", queryset=CommissioningShare.objects.select_related("organisation")),
        Prefetch("extension_options",
                 queryset=ExtensionOption.objects.select_related("exercised_decision")),
        Prefetch("review_dates", queryset=ReviewDate.objects.order_by("date")),
        Prefetch("variations", queryset=Variation.objects.select_related("decision")),
        Prefetch("decisions", queryset=Decision.objects.filter(purpose=DecisionPurpose.AWARD),
                 to_attr="award_decisions"),
    )


def _award_date(contract: Contract) -> date:
    decisions = getattr(contract, "award_decisions", None) or []
    if contract.awarded_on:
        return contract.awarded_on
    if decisions:
        return decisions[-1].meeting_date
    return contract.start_date


def variation_amendment(variation: Variation) -> dict[str, Any]:
    changes = []
    if variation.value_change:
        sign = "+" if variation.value_change > 0 else "−"
        changes.append(f"value {sign}£{abs(variation.value_change):,.2f} a year")
    if variation.term_change_months:
        changes.append(f"term {variation.term_change_months:+d} months")
    rationale = "; ".join(changes).capitalize() or "No change of value or term"
    if variation.decision_id:
        decision = variation.decision
        rationale += f". Authorised by {decision}: {decision.outcome}"
    return {"id": f"variation-{variation.pk}", "date": date_time(variation.date),
            "description": variation.description, "rationale": rationale}


def option_amendment(option: ExtensionOption) -> dict[str, Any]:
    decision = option.exercised_decision
    return {
        "id": f"extension-{option.sequence}",
        "date": date_time(decision.meeting_date) if decision else None,
        "description": f"Extension option {option.sequence} exercised: "
                       f"the term runs {option.length_months} months longer",
        "rationale": (f"An extension the contract provides for. Authorised by {decision}"
                      if decision else "An extension the contract provides for"),
    }


def amendments(contract: Contract) -> list[dict[str, Any]]:
    """Exercised extension options and variations, in date order (undated last)."""
    found = [option_amendment(o) for o in contract.extension_options.all() if o.exercised]
    found += [variation_amendment(v) for v in contract.variations.all()]
    return sorted(found, key=lambda a: (a["date"] is None, a["date"] or "", a["id"]))


def procurement_method(contract: Contract) -> str:
    if contract.procurement_route == R.PCR_LIGHT_TOUCH and not contract.tendered:
        return "limited"
    call_off = getattr(contract, "call_off", None) if _has_call_off(contract) else None
    if call_off is not None and call_off.award_method == "direct_award":
        return "limited"  # awarded from the framework's suppliers without a competition
    return PROCUREMENT_METHODS.get(contract.procurement_route, "direct")


def procurement_method_details(contract: Contract) -> str:
    """The route in words with the regime it was procured under, e.g. "Competitive dialogue
    (Public Contracts Regulations 2015)"; a call-off names its framework's regime."""
    route = contract.get_procurement_route_display()
    if _has_call_off(contract):
        route = "Call-off from a framework"
    return f"{route} ({regimes.regime_label(contract)})"


def _has_call_off(contract: Contract) -> bool:
    try:
        return contract.call_off is not None
    except Contract.call_off.RelatedObjectDoesNotExist:
        return False


def release(contract: Contract) -> dict[str, Any]:
    """One OCDS 1.1 release describing the contract as it stands now."""
    release_ocid = ocid(contract)
    options = list(contract.extension_options.all())
    total_value = whole_life_value(
        start=contract.start_date, initial_end=contract.initial_end_date,
        annual_value=contract.annual_value, option_months=[o.length_months for o in options],
    )
    status = contract.shown_status  # the page's rule: expired once the end date has passed
    period = {
        "startDate": date_time(contract.start_date),
        "endDate": date_time(contract.current_end_date, end_of_day=True),
        "maxExtentDate": date_time(contract.maximum_end_date, end_of_day=True),
    }
    changes = amendments(contract) if status in AWARDED_STATUSES else []
    call_off = contract.call_off if _has_call_off(contract) else None
    tags = [TAGS[status]] + (["contractAmendment"] if changes else [])
    data: dict[str, Any] = {
        "ocid": release_ocid,
        "id": f"{release_ocid}-{contract.updated_at:%Y%m%dT%H%M%S}-v{contract.version}",
        "date": contract.updated_at.isoformat(),
        "tag": tags,
        "initiationType": "tender",
        "language": "en",
        "parties": _parties(contract),
        "buyer": reference(contract.holder),
        "tender": {
            "id": f"{release_ocid}-tender",
            "title": contract.title,
            "description": contract.description,
            "status": TENDER_STATUS.get(contract.status, "complete"),
            "procuringEntity": reference(contract.lead_commissioner),
            "procurementMethod": procurement_method(contract),
            "procurementMethodDetails": procurement_method_details(contract),
            "mainProcurementCategory": "works" if contract.works else "services",
            "value": amount(total_value),
            "contractPeriod": period,
            "legalBasis": LEGAL_BASIS.get(regimes.regime(contract)),
            "specialRegime": ([LIGHT_TOUCH] if contract.procurement_route == R.PCR_LIGHT_TOUCH
                              else []),
        },
    }
    classifications = [{"scheme": cpv.SCHEME, "id": code, "description": text}
                       for code, text in contract.cpv_classifications]
    if classifications:
        data["tender"]["items"] = [{
            "id": "1", "description": contract.title,
            "classification": classifications[0],
            "additionalClassifications": classifications[1:],
        }]
    if contract.find_a_tender_notice_id:
        data["tender"]["documents"] = [{
            "id": f"find-a-tender-{contract.find_a_tender_notice_id}",
            "documentType": "awardNotice", "format": "text/html", "language": "en",
            "title": f"Find a Tender notice {contract.find_a_tender_notice_id}",
            "url": FIND_A_TENDER_NOTICE_URL.format(contract.find_a_tender_notice_id),
        }]
    if call_off is not None:
        lot, framework = call_off.lot, call_off.lot.framework
        data["tender"]["lots"] = [{"id": f"lot-{lot.number}", "title": lot.title,
                                   "description": lot.description}]
        data["relatedProcesses"] = [{
            "id": "framework", "relationship": ["framework"], "title": framework.title,
            "scheme": "ocid", "identifier": framework_ocid(framework),
        }]
    if contract.find_a_tender_procedure_id:
        data.setdefault("relatedProcesses", []).append({
            "id": "find-a-tender", "relationship": ["parent"],
            "title": "This procurement as published on Find a Tender",
            "scheme": "ocid", "identifier": contract.find_a_tender_procedure_id,
        })
    if status in AWARDED_STATUSES:
        award_id = f"{release_ocid}-award-1"
        data["awards"] = [{
            "id": award_id,
            "title": contract.title,
            "status": "pending" if status == S.AWARDED else "active",
            "date": date_time(_award_date(contract)),
            "value": amount(total_value),
            "suppliers": [reference(contract.provider)],
            "contractPeriod": period,
            "relatedLots": [f"lot-{call_off.lot.number}"] if call_off else [],
            "standstillPeriod": ({
                "startDate": date_time(contract.awarded_on),
                "endDate": date_time(contract.standstill_end_date, end_of_day=True),
            } if contract.standstill_end_date else None),
        }]
        data["contracts"] = [{
            "id": f"{release_ocid}-contract-1",
            "awardID": award_id,
            "title": contract.title,
            "description": contract.description,
            "status": CONTRACT_STATUS[status],
            "period": period,
            "value": amount(total_value),
            "dateSigned": date_time(contract.awarded_on),
            "implementation": {
                "milestones": [
                    {"id": f"review-{review.pk}", "title": review.description,
                     "type": "assessment", "dueDate": date_time(review.date),
                     "status": "met" if review.date < timezone.localdate() else "scheduled"}
                    for review in contract.review_dates.all()
                ],
            },
            "amendments": changes,
        }]
    return prune(data)


# --- A transparency notice's release --------------------------------------------------------

K = NoticeKind
# Each notice as Find a Tender publishes it: the release's tags, the section of the release
# that carries the notice as a document, its OCDS document type and the UK notice type
# (``documents[].noticeType``, the UK extension). UK7 and UK10 were seen in Find a Tender's
# contracts section as contract notices; UK9 and UK11 use the document types the UK extension
# adds for the implementation section. Find a Tender's notice type for the Provider Selection
# Regime's notices was not found, so theirs carry none.
NOTICE_SHAPES: dict[str, tuple[list[str], str, str, str | None]] = {
    K.UK7: (["contract"], "contract", "contractNotice", "UK7"),
    K.UK9: (["implementation"], "implementation", "implementationNotice", "UK9"),
    K.UK10: (["contractAmendment"], "contract", "contractNotice", "UK10"),
    K.UK11: (["contractTermination"], "implementation", "contractTerminationNotice", "UK11"),
    K.PSR_INTENTION: (["award"], "award", "awardNotice", None),
    K.PSR_AWARD: (["award"], "award", "awardNotice", None),
}
# A Procurement Act performance rating as the UK extension's measure classification of an
# observation ("met, slightlyBelow, below, significantlyBelow and other").
MEASURE_CLASSIFICATIONS: dict[str, str] = {
    "good": "met", "approaching": "slightlyBelow", "requires_improvement": "below",
    "inadequate": "significantlyBelow", "other": "other",
}


def notice_document(notice: Any) -> dict[str, Any]:
    """The notice itself as a document of the release, with its UK notice type and, once an
    officer recorded its publication, the identifier and date Find a Tender gave it."""
    _tags, _section, document_type, notice_type = NOTICE_SHAPES[notice.kind]
    published = notice.published
    return {
        "id": f"{notice.kind}-{notice.event}",
        "documentType": document_type,
        "noticeType": notice_type,
        "title": (f"{notice.title} {published.notice_identifier}" if published
                  else notice.title),
        "language": "en",
        "datePublished": date_time(published.published_on) if published else None,
    }


def agreed_metrics(contract: Contract) -> list[dict[str, Any]]:
    """The contract's active KPIs as the metrics extension's agreed metrics (the UK extension
    calls KPIs "agreed metrics"). Reached through the reverse relation: the register may not
    import monitoring."""
    return [{"id": kpi.code, "title": kpi.name, "description": kpi.definition}
            for kpi in contract.kpis.all() if kpi.is_active]


def assessed_metrics(assessment: Any) -> list[dict[str, Any]]:
    """A final s.52 assessment's ratings as implementation metrics, one observation each over
    the assessment's financial year, classified as the UK extension asks."""
    start, end = financial_year_bounds(assessment.financial_year)
    period = {"startDate": date_time(start), "endDate": date_time(end, end_of_day=True)}
    return [{
        "id": rating.kpi.code, "title": rating.kpi.name,
        "observations": [{
            "id": f"{assessment.financial_year}-{rating.kpi.code}",
            "period": period,
            "measure": rating.get_rating_display(),
            "measureClassification": {"id": MEASURE_CLASSIFICATIONS[rating.rating],
                                      "description": rating.get_rating_display()},
            "notes": rating.explanation,
        }],
    } for rating in assessment.ratings.select_related("kpi")]


def notice_release(notice: Any) -> dict[str, Any]:
    """A transparency notice (``contracts.notices.DueNotice``) as an OCDS release in the shape
    Find a Tender publishes, built from the contract's own release so the two never disagree:
    its tags, the notice as a document with its UK notice type, and what the notice adds."""
    contract = notice.contract
    data = release(contract)
    tags, section, _document_type, _notice_type = NOTICE_SHAPES[notice.kind]
    data["id"] = f"{data['ocid']}-{notice.kind}-{notice.event}"
    data["date"] = timezone.now().isoformat()
    data["tag"] = tags
    document = notice_document(notice)
    award = (data.get("awards") or [None])[0]
    awarded = (data.get("contracts") or [None])[0]
    if section == "award" and award is not None:
        award.setdefault("documents", []).append(document)
    elif awarded is not None:
        if section == "implementation":
            awarded.setdefault("implementation", {}).setdefault("documents", []).append(
                document)
        else:
            awarded.setdefault("documents", []).append(document)
    if awarded is not None:
        if notice.kind == K.UK7:
            awarded["agreedMetrics"] = agreed_metrics(contract)
        elif notice.kind == K.UK9:
            awarded.setdefault("implementation", {})["metrics"] = assessed_metrics(
                notice.subject)
        elif notice.kind == K.UK10:
            wanted = f"variation-{notice.subject.pk}"
            change = [a for a in awarded.pop("amendments", []) if a["id"] == wanted]
            # Published before the change takes effect: proposed until then (UK extension).
            key = "proposedAmendments" if notice.subject.date > timezone.localdate() \
                else "amendments"
            awarded[key] = change
        elif notice.kind == K.UK11:
            awarded["status"] = "terminated"
            awarded.setdefault("implementation", {}).update({
                "endDate": date_time(contract.current_end_date, end_of_day=True),
                "endDateDetails": ("Terminated" if contract.status == S.TERMINATED
                                   else "Expired at the end of its term"),
            })
    return prune(data)


def release_package(releases: Iterable[dict[str, Any]], *, uri: str) -> dict[str, Any]:
    return {
        "uri": uri,
        "version": "1.1",
        "extensions": list(EXTENSIONS.values()),
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
