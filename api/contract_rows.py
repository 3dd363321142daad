"""Contracts as the API shows them, built from plain rows.

``serializers.ContractSerializer`` documents the shape (the schema) and is the reference: the
suite checks that these rows equal what it gives for the same contracts. Building a page this
way reads each related table once for the whole page (values, not model instances) instead of
Django's prefetch, which clones a queryset for every contract and relation (about 600 clones
for a page of 100, most of the page's time on the generated data set; bench/RESULTS.md).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.urls import reverse

from contracts.models import (
    CommissioningShare,
    Decision,
    ExtensionOption,
    ReviewDate,
    ServiceLine,
    Variation,
)


def _text(value):
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, date):
        return value.isoformat()
    return value


def _grouped(model, ids, fields: list[str]) -> dict[int, list[dict]]:
    found: dict[int, list[dict]] = defaultdict(list)
    # "contract_id", not "contract": ordering by the relation would join the contracts table
    # only to sort by the contract's own ordering.
    ordering = ["contract_id" if f == "contract" else f for f in model._meta.ordering]
    rows = model.objects.filter(contract_id__in=ids).order_by(*ordering).values_list(
        "contract_id", *fields)
    for contract_id, *values in rows:
        found[contract_id].append({f: _text(v) for f, v in zip(fields, values, strict=True)})
    return found


def _organisation(org) -> dict:
    return {"id": org.pk, "name": org.name, "short_name": org.short_name, "kind": org.kind}


def contract_rows(contracts: list, *, request, is_provider: bool) -> list[dict]:
    """The API's representation of ``contracts`` (from ``contract_register``, with provider,
    holder and lead commissioner loaded): six queries whatever their number."""
    ids = [c.pk for c in contracts]
    shares: dict[int, list[dict]] = defaultdict(list)
    for contract_id, org_id, name, short, kind, percent, joint in (
        CommissioningShare.objects.filter(contract_id__in=ids)
        .order_by("contract_id", "-share_percent", "organisation__name")
        .values_list("contract_id", "organisation_id", "organisation__name",
                     "organisation__short_name", "organisation__kind", "share_percent",
                     "joint_monitoring")
    ):
        shares[contract_id].append({
            "organisation": {"id": org_id, "name": name, "short_name": short, "kind": kind},
            "share_percent": _text(percent), "joint_monitoring": joint})
    lines = _grouped(ServiceLine, ids, ["id", "name", "order"])
    options = _grouped(ExtensionOption, ids, ["sequence", "length_months", "exercised",
                                              "exercised_decision"])
    reviews = _grouped(ReviewDate, ids, ["date", "description"])
    decisions = variations = {}
    if not is_provider:
        decisions = _grouped(Decision, ids, [
            "id", "purpose", "decision_maker", "body_name", "meeting_date", "report_reference",
            "is_key", "is_urgent", "call_in_applies", "outcome"])
        variations = _grouped(Variation, ids, ["id", "date", "description", "value_change",
                                               "term_change_months", "decision"])
    rows = []
    for c in contracts:
        rows.append({
            "id": c.pk, "reference": c.reference, "title": c.title,
            "description": c.description, "service_area": c.service_area,
            "partnership": c.partnership_id, "provider": _organisation(c.provider),
            "holder": _organisation(c.holder),
            "lead_commissioner": _organisation(c.lead_commissioner),
            "procurement_regime": c.procurement_regime,
            "procurement_route": c.procurement_route, "tendered": c.tendered,
            "start_date": _text(c.start_date), "initial_end_date": _text(c.initial_end_date),
            "current_end_date": _text(c.current_end),
            "notice_period_months": c.notice_period_months,
            "annual_value": _text(c.annual_value), "status": c.status_now,
            "recorded_status": c.status, "awarded_on": _text(c.awarded_on),
            "standstill_end_date": _text(c.standstill_end_date),
            "shares": shares.get(c.pk, []), "service_lines": lines.get(c.pk, []),
            "extension_options": options.get(c.pk, []),
            "review_dates": reviews.get(c.pk, []),
            "decisions": None if is_provider else decisions.get(c.pk, []),
            "variations": None if is_provider else variations.get(c.pk, []),
            "url": request.build_absolute_uri(reverse("contracts:detail", args=[c.pk])),
        })
    return rows
