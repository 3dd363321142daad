"""Pages for a contract's transparency notices: the preview in plain words with the notice's
data, the data as an OCDS release, and recording that it was published. Rules live in
``contracts.notices``; visibility in ``selectors.get_contract_for_user`` (outsiders 404)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from commissioning import access, identifiers
from commissioning.downloads import as_download
from commissioning.forms import GovUKForm
from commissioning.inputs import UKDateField
from commissioning.models import Organisation
from commissioning.periods import FinancialYear
from contracts import notices, ocds, permissions, selectors
from contracts.models import Contract


class NoticePublicationForm(GovUKForm):
    notice_identifier = forms.CharField(
        label="Notice identifier", max_length=60,
        help_text="As Find a Tender shows it, for example 2026/S 000-012345",
        error_messages={"required": "Enter the notice identifier"})
    published_on = UKDateField(label="Date published", noun="date published")

    def clean_notice_identifier(self):
        # The same format rule as the contract's Find a Tender notice (one rule, one place):
        # '2026/S 000-012345' as the notice page shows it, or its address, is kept as 012345-2026.
        return identifiers.check_find_a_tender_notice(self.cleaned_data["notice_identifier"])

    def clean_published_on(self):
        day = self.cleaned_data["published_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("Date published must be today or in the past")
        return day


def _notice(request: HttpRequest, pk: int, kind: str, event: str) -> notices.DueNotice:
    # Notices are the buyer's duty: a provider sees the contract, not its notice work.
    if access.is_provider_user(request.user):
        raise Http404
    contract = selectors.get_contract_for_user(request.user, pk)
    contract = notices.notice_queryset(Contract.objects.filter(pk=contract.pk).with_term()).get()
    notice = notices.find_notice(contract, kind, event)
    if notice is None:
        raise Http404
    return notice


def _record_publication(request: HttpRequest, notice: notices.DueNotice, *, may_record: bool,
                        done: Any) -> tuple[NoticePublicationForm | None, HttpResponse | None]:
    """The form recording a notice's publication, shown while it is unpublished to someone who
    ``may_record``; on a valid POST the record is made and the redirect to ``done`` returned.
    A POST from anyone else is a 404, as the form does not exist for them."""
    form = (NoticePublicationForm(request.POST or None)
            if notice.published is None and may_record else None)
    if request.method == "POST":
        if form is None:
            raise Http404
        if form.is_valid():
            notices.notice_publish(notice=notice, user=request.user, **form.cleaned_data)
            messages.success(request, f"{notice.title} recorded as published")
            return form, redirect(done)
    return form, None


@require_http_methods(["GET", "POST"])
def notice_detail(request: HttpRequest, pk: int, kind: str, event: str) -> HttpResponse:
    """The notice in plain words, its data, and (for an editor) recording its publication."""
    notice = _notice(request, pk, kind, event)
    contract = notice.contract
    form, done = _record_publication(
        request, notice, may_record=permissions.can_edit_contract(request.user, contract),
        done=contract)
    if done is not None:
        return done
    release = ocds.notice_release(notice)
    return render(request, "contracts/notice.html", {
        "contract": contract, "notice": notice, "form": form, "today": timezone.localdate(),
        "state": notice.state(timezone.localdate()), "when": notice.when(timezone.localdate()),
        "release": release, "release_json": json.dumps(release, indent=2, ensure_ascii=False),
        "psr_year": (FinancialYear.from_date(contract.awarded_on)
                     if notice.kind.startswith("psr") and contract.awarded_on else None),
    })


@require_GET
def notice_ocds(request: HttpRequest, pk: int, kind: str, event: str) -> HttpResponse:
    """The notice's data as an OCDS release package, ready to paste into Find a Tender."""
    notice = _notice(request, pk, kind, event)
    package = ocds.release_package([ocds.notice_release(notice)],
                                   uri=request.build_absolute_uri())
    response = HttpResponse(json.dumps(package, ensure_ascii=False, indent=2),
                            content_type="application/json")
    return as_download(response, f"{ocds.ocid(notice.contract)}-{kind}-{event}.json")


@require_GET
def psr_summary(request: HttpRequest, organisation_pk: int, year: str) -> HttpResponse:
    """An ICB's (or council's) annual Provider Selection Regime summary: the contracts it
    awarded under the PSR in the financial year, from the register. Its partners' commissioners
    see it, listing only the contracts each may see."""
    if organisation_pk not in access.partner_organisation_ids(request.user):
        raise Http404
    organisation = get_object_or_404(Organisation.objects.commissioners(), pk=organisation_pk)
    try:
        financial_year = FinancialYear.from_slug(year)
    except ValueError:
        raise Http404 from None
    contracts = notices.psr_summary(Contract.objects.for_user(request.user),
                                    organisation=organisation,
                                    financial_year=financial_year.label)
    return render(request, "contracts/psr_summary.html", {
        "organisation": organisation, "financial_year": financial_year, "contracts": contracts,
        "previous": FinancialYear.of(financial_year.start - 1),
    })


@require_http_methods(["GET", "POST"])
def payments_notice(request: HttpRequest, organisation_pk: int, period_end: str) -> HttpResponse:
    """An organisation's six-monthly payments compliance notice (Procurement Act s.69): the
    period, its deadline, the contracts that make it due, and recording its publication.
    Seen by whoever sees one of those contracts (outsiders and providers 404); recorded by
    whoever may change one of them."""
    if access.is_provider_user(request.user) \
            or organisation_pk not in access.partner_organisation_ids(request.user):
        raise Http404
    organisation = get_object_or_404(Organisation.objects.commissioners(), pk=organisation_pk)
    notice = notices.find_payments_notice(Contract.objects.for_user(request.user).with_term(),
                                          organisation, period_end)
    if notice is None:
        raise Http404
    may_record = permissions.editable_contracts(
        request.user, Contract.objects.filter(pk__in=[c.pk for c in notice.contracts])).exists()
    form, done = _record_publication(request, notice, may_record=may_record, done="dashboard")
    if done is not None:
        return done
    start, end = (date.fromisoformat(day) for day in notice.event.split("/"))
    return render(request, "contracts/payments_notice.html", {
        "organisation": organisation, "notice": notice, "form": form,
        "state": notice.state(timezone.localdate()), "when": notice.when(timezone.localdate()),
        "start": start, "end": end,
    })
