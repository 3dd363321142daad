"""Contract register views: thin. Parse input, call one service, render or redirect.

Every view finds contracts through ``Contract.objects.for_user`` (via the selectors), so a
user who may not see a contract gets a 404; one who may see it but not change it also gets a
404 on the change pages.
"""

from __future__ import annotations

import functools
import json
from pathlib import PurePath

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from commissioning import access
from commissioning.downloads import as_download
from commissioning.locking import ConcurrentEditError
from commissioning.models import Organisation, PartnershipMember
from commissioning.spreadsheets import csv_response, xlsx_response
from contracts import (
    cpv,
    documents,
    exports,
    imports,
    lifecycle,
    ocds,
    permissions,
    selectors,
    services,
)
from contracts.filters import ContractFilter
from contracts.forms import (
    ColumnMappingForm,
    ContractCoverForm,
    ContractDatesForm,
    ContractDetailsForm,
    ContractEditForm,
    ContractPartiesForm,
    ContractProcurementForm,
    ContractValuesForm,
    DecisionForm,
    DocumentForm,
    ExtensionForm,
    ImportConfirmForm,
    RegisterUploadForm,
    ReviewDateForm,
    ServiceLinesForm,
    SharesForm,
    StatusForm,
    VariationForm,
    add_service_errors,
    bool_from,
)
from contracts.models import (
    Contract,
    ContractDocument,
    ContractStatus,
    ProcurementRoute,
    RegisterImport,
    RegisterImportStatus,
    term_description,
    whole_life_value,
)

PAGE_SIZE = 25


def _editable_contract(request: HttpRequest, pk: int) -> Contract:
    contract = selectors.get_contract_for_user(request.user, pk)
    if not permissions.can_edit_contract(request.user, contract):
        raise Http404
    return contract


def _form_page(request, *, contract: Contract | None, form, title: str, button: str,
               intro: str = "", multipart: bool = False, back_url: str | None = None,
               caption: str | None = None) -> HttpResponse:
    return render(request, "contracts/form.html", {
        "contract": contract, "form": form, "title": title, "button": button,
        "intro": intro, "multipart": multipart,
        "back_url": back_url or (contract.get_absolute_url() if contract else
                                 reverse("contracts:list")),
        "caption": caption or (f"{contract.reference} {contract.title}" if contract else ""),
    })


# --- Register and contract page --------------------------------------------------------------

def _filtered_register(request: HttpRequest):
    """The register as the list shows it: visible rows, the user's filters and sort. The
    exports use exactly this, so a download matches the page."""
    sort = request.GET.get("sort") or "reference"
    queryset = selectors.contract_register(user=request.user, sort=sort)
    filterset = ContractFilter(request.GET or None, queryset=queryset, request=request)
    rows = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
    return filterset, rows


def contract_list(request: HttpRequest) -> HttpResponse:
    """The register. Its filters, rows and count are worked out only when the page's list
    part is rendered, and that part is remembered for everyone who sees the same contracts
    until the data changes (``{% remembered %}``, commissioning.datacache): a page served
    from there builds no filter and runs no contract query."""

    @functools.cache
    def filtered():
        return _filtered_register(request)

    @functools.cache
    def page():
        return Paginator(selectors.register_page_rows(filtered()[1]),
                         PAGE_SIZE).get_page(request.GET.get("page"))

    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "contracts/contract_list.html", {
        "filter": lambda: filtered()[0], "page_obj": page,
        "contracts": lambda: page().object_list, "count": lambda: page().paginator.count,
        "query": query.urlencode(),
        "filtered": any(v for k, v in request.GET.items() if k not in ("page", "sort")),
        "can_create": permissions.can_create_contract(request.user),
        "can_export": permissions.can_export_register(request.user),
        "can_import": permissions.can_import_register(request.user),
        "today": timezone.localdate(),
    })


def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contract = selectors.get_contract_for_user(request.user, pk, detail=True)
    can_edit = permissions.can_edit_contract(request.user, contract)
    documents = [d for d in contract.documents.all()
                 if permissions.can_download_document(request.user, d)]
    return render(request, "contracts/contract_detail.html", {
        "contract": contract, "can_edit": can_edit, "documents": documents,
        "allowed_transitions": lifecycle.allowed_transitions(contract.status),
        "next_key_date": selectors.contract_next_key_date(contract,
                                                          today=timezone.localdate()),
        **_commissioning_details(request, contract),
    })


def _commissioning_details(request: HttpRequest, contract: Contract) -> dict[str, bool]:
    """What the page shows of the commissioners' side, decided by access.py, not the template:
    the provider sees the contract, its KPIs' returns and shared documents, nothing more."""
    party = access.can_see_commissioning_details(request.user, contract)
    return {"can_see_funding": party, "can_see_decisions": party,
            "can_see_performance": party, "can_open_framework": party}


# --- Create journey --------------------------------------------------------------------------

SESSION_KEY = "contract_create"
STEPS = [
    ("details", "Contract details", ContractDetailsForm),
    ("parties", "Who is involved", ContractPartiesForm),
    ("procurement", "Procurement", ContractProcurementForm),
    ("dates", "Dates and extension options", ContractDatesForm),
    ("values", "Value", ContractValuesForm),
    ("service-lines", "Service lines", ServiceLinesForm),
    ("shares", "Commissioning partners' shares", SharesForm),
]
STEP_NAMES = [name for name, _title, _form in STEPS]
FIELD_STEPS = {
    "reference": "details", "title": "details", "service_area": "details",
    "holder": "parties", "lead_commissioner": "parties", "provider": "parties",
    "new_provider_name": "parties", "new_provider_kind": "parties",
    "partnership": "parties", "contract_manager": "parties",
    "procurement_regime": "procurement", "procurement_route": "procurement",
    "status": "procurement", "awarded_on": "procurement",
    "cpv_code": "procurement", "additional_cpv_codes": "procurement",
    "find_a_tender_notice_id": "procurement", "find_a_tender_procedure_id": "procurement",
    "start_date": "dates", "initial_end_date": "dates", "notice_period_months": "dates",
    "extension_options": "dates", "annual_value": "values", "vat_not_recoverable": "values",
    "shares": "shares",
}


def _creator_partnerships(user):
    return access.partnerships_for_user(user).order_by("name")


def _journey_form(request: HttpRequest, step: str, data=None, *, stored=None):
    """The form for a journey page; the shares page depends on the chosen partnership."""
    stored = stored if stored is not None else request.session.get(SESSION_KEY, {})
    form_class = {n: f for n, _t, f in STEPS}[step]
    if step == "parties":
        partnerships = _creator_partnerships(request.user)
        return form_class(data, partnerships=partnerships,
                          providers=selectors.provider_choices(request.user, partnerships))
    if step == "shares":
        parties = _journey_form(request, "parties", stored.get("parties"), stored=stored)
        if not parties.is_bound or not parties.is_valid():
            return None
        organisations = [
            m.organisation for m in PartnershipMember.objects.filter(
                partnership=parties.cleaned_data["partnership"]
            ).select_related("organisation").order_by("organisation__name")
        ]
        return form_class(data, organisations=organisations)
    return form_class(data)


def _require_creator(request: HttpRequest) -> None:
    if not permissions.can_create_contract(request.user):
        raise Http404


@require_http_methods(["GET"])
def contract_create_start(request: HttpRequest) -> HttpResponse:
    _require_creator(request)
    request.session[SESSION_KEY] = {}
    return redirect("contracts:create_step", step=STEP_NAMES[0])


@require_http_methods(["GET", "POST"])
def contract_create_step(request: HttpRequest, step: str) -> HttpResponse:
    _require_creator(request)
    if step not in STEP_NAMES:
        raise Http404
    stored = request.session.get(SESSION_KEY, {})
    index = STEP_NAMES.index(step)
    # Pages are answered in order; a later page cannot be reached before the earlier ones.
    for earlier in STEP_NAMES[:index]:
        if earlier not in stored:
            return redirect("contracts:create_step", step=earlier)
    returning = request.GET.get("change") == "1"
    if request.method == "POST":
        form = _journey_form(request, step, request.POST)
        if form is None:
            return redirect("contracts:create_step", step="parties")
        if form.is_valid():
            stored[step] = {name: request.POST.get(name) for name in form.fields}
            if step == "parties" and returning:
                stored.pop("shares", None)  # another partnership means other partners
                returning = False
            request.session[SESSION_KEY] = stored
            if returning or index + 1 == len(STEPS):
                return redirect("contracts:create_check")
            return redirect("contracts:create_step", step=STEP_NAMES[index + 1])
    else:
        form = _journey_form(request, step, stored.get(step))
        if form is None:
            return redirect("contracts:create_step", step="parties")
    title = STEPS[index][1]
    previous = (reverse("contracts:create_step", args=[STEP_NAMES[index - 1]])
                if index else reverse("contracts:list"))
    return render(request, "contracts/create_step.html", {
        "form": form, "title": title, "step": step, "step_number": index + 1,
        "step_count": len(STEPS), "back_url": reverse("contracts:create_check")
        if returning else previous, "returning": returning,
    })


def _journey_answers(request: HttpRequest):
    """Bind every page's stored answers; return (cleaned forms, first step to fix)."""
    stored = request.session.get(SESSION_KEY, {})
    forms = {}
    for step in STEP_NAMES:
        if step not in stored:
            return forms, step
        form = _journey_form(request, step, stored[step], stored=stored)
        if form is None or not form.is_valid():
            return forms, step
        forms[step] = form
    return forms, None


def _contract_input(user, forms) -> services.ContractInput:
    details = forms["details"].cleaned_data
    parties = forms["parties"].cleaned_data
    procurement = forms["procurement"].cleaned_data
    dates = forms["dates"].cleaned_data
    values = forms["values"].cleaned_data
    return services.ContractInput(
        reference=details["reference"], title=details["title"],
        description=details["description"], service_area=details["service_area"],
        partnership=parties["partnership"], holder=parties["holder"],
        lead_commissioner=parties["lead_commissioner"],
        # A provider new to the service is added with the contract (services.contract_create).
        provider=parties["provider"] or Organisation(name=parties["new_provider_name"],
                                                     kind=parties["new_provider_kind"]),
        contract_manager=parties["contract_manager"],
        procurement_regime=procurement["procurement_regime"],
        procurement_route=procurement["procurement_route"],
        tendered=bool_from(procurement["tendered"]), status=procurement["status"],
        awarded_on=procurement.get("awarded_on"),
        cpv_code=procurement["cpv_code"],
        additional_cpv_codes=procurement["additional_cpv_codes"],
        find_a_tender_notice_id=procurement["find_a_tender_notice_id"],
        find_a_tender_procedure_id=procurement["find_a_tender_procedure_id"],
        start_date=dates["start_date"], initial_end_date=dates["initial_end_date"],
        notice_period_months=dates["notice_period_months"],
        extension_option_months=dates["extension_options"],
        annual_value=values["annual_value"],
        vat_not_recoverable=values["vat_not_recoverable"] or 0,
        service_lines=forms["service-lines"].cleaned_data["service_lines"],
        shares=forms["shares"].shares,
    )


@require_http_methods(["GET", "POST"])
def contract_create_check(request: HttpRequest) -> HttpResponse:
    _require_creator(request)
    forms, missing = _journey_answers(request)
    if missing:
        return redirect("contracts:create_step", step=missing)
    errors: list[tuple[str, str]] = []
    if request.method == "POST":
        try:
            contract = services.contract_create(
                data=_contract_input(request.user, forms), created_by=request.user
            )
        except ValidationError as error:
            for name, messages_ in error.message_dict.items():
                step = FIELD_STEPS.get(name, "details")
                url = reverse("contracts:create_step", args=[step]) + "?change=1"
                errors.extend((message, url) for message in messages_)
        else:
            request.session.pop(SESSION_KEY, None)
            messages.success(request, f"Contract {contract.reference} added to the register")
            return redirect(contract)
    data = _contract_input(request.user, forms)
    return render(request, "contracts/create_check.html", {
        "data": data, "sections": _check_sections(data), "errors": errors,
    })


def _check_sections(data: services.ContractInput):
    def url(step: str) -> str:
        return reverse("contracts:create_step", args=[step]) + "?change=1"

    def money(value) -> str:
        return f"£{value:,.2f}"

    shares = "; ".join(
        f"{s.organisation.display_name} {s.share_percent.normalize():f}%"
        f"{' (jointly monitors)' if s.joint_monitoring else ''}" for s in data.shares
    )
    route = ProcurementRoute(data.procurement_route).label
    return [
        ("Contract details", [
            ("Reference", data.reference, url("details")),
            ("Title", data.title, url("details")),
            ("Description", data.description, url("details")),
            ("Service area", dict(ContractDetailsForm.base_fields["service_area"].choices)
             [data.service_area], url("details")),
        ]),
        ("Who is involved", [
            ("Partnership", data.partnership.name, url("parties")),
            ("Contract holder", data.holder.name, url("parties")),
            ("Lead commissioner", data.lead_commissioner.name, url("parties")),
            ("Provider", data.provider.name + ("" if data.provider.pk else
                                               " (a new provider, added with the contract)"),
             url("parties")),
            ("Contract manager", str(data.contract_manager or ""), url("parties")),
        ]),
        ("Procurement", [
            ("Route", route, url("procurement")),
            ("Tendered", "Yes" if data.tendered else "No", url("procurement")),
            ("Status", ContractStatus(data.status).label, url("procurement")),
            ("Award date", data.awarded_on.strftime("%-d %B %Y") if data.awarded_on else "",
             url("procurement")),
            ("CPV codes", "; ".join(
                f"{code} {cpv.label(code)}{' (main)' if code == data.cpv_code else ''}"
                for code in dict.fromkeys([data.cpv_code, *data.additional_cpv_codes]) if code)
             or "None", url("procurement")),
            ("Find a Tender notice", data.find_a_tender_notice_id or "None",
             url("procurement")),
            ("Find a Tender procedure", data.find_a_tender_procedure_id or "None",
             url("procurement")),
        ]),
        ("Dates", [
            ("Start date", data.start_date.strftime("%-d %B %Y"), url("dates")),
            ("End of initial term", data.initial_end_date.strftime("%-d %B %Y"), url("dates")),
            ("Notice period", f"{data.notice_period_months} months", url("dates")),
            ("Extension options", ", ".join(f"{m} months" for m in
                                            data.extension_option_months) or "None",
             url("dates")),
            ("Term", term_description(start=data.start_date, initial_end=data.initial_end_date,
                                      option_months=list(data.extension_option_months)),
             url("dates")),
        ]),
        ("Value", [
            ("Annual value", money(data.annual_value), url("values")),
            ("VAT not recoverable", money(data.vat_not_recoverable), url("values")),
            ("Whole-life value (including all options)", money(whole_life_value(
                start=data.start_date, initial_end=data.initial_end_date,
                annual_value=data.annual_value,
                option_months=list(data.extension_option_months))),
             url("values")),
        ]),
        ("Service lines", [
            ("Service lines", "; ".join(data.service_lines) or "None", url("service-lines")),
        ]),
        ("Commissioning partners", [("Shares", shares, url("shares"))]),
    ]


# --- Changes to a contract -------------------------------------------------------------------

EDIT_FIELDS = [n for n in ContractEditForm.base_fields if n not in ("version", "extension_options")]


@require_http_methods(["GET", "POST"])
def contract_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _editable_contract(request, pk)
    providers = selectors.provider_choices(request.user, contract.partnership,
                                           current=contract.provider_id)
    if request.method == "POST":
        form = ContractEditForm(request.POST, providers=providers)
        if form.is_valid():
            changes = {n: form.cleaned_data[n] for n in EDIT_FIELDS}
            changes["vat_not_recoverable"] = changes["vat_not_recoverable"] or 0
            try:
                services.contract_update(
                    contract=contract, expected_version=form.cleaned_data["version"],
                    updated_by=request.user, **changes,
                )
            except ConcurrentEditError as error:
                form.add_error(None, str(error))
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Contract details saved")
                return redirect(contract)
    else:
        initial = {n: getattr(contract, n) for n in EDIT_FIELDS if hasattr(contract, n)}
        initial["version"] = contract.version
        form = ContractEditForm(initial=initial, providers=providers)
    return _form_page(request, contract=contract, form=form, title="Change contract details",
                      button="Save changes")


@require_http_methods(["GET", "POST"])
def contract_cover(request: HttpRequest, pk: int) -> HttpResponse:
    """What committee papers say about the contract's funding and users (issue 15)."""
    contract = _editable_contract(request, pk)
    if request.method == "POST":
        form = ContractCoverForm(request.POST)
        if form.is_valid():
            try:
                services.contract_cover_update(
                    contract=contract, expected_version=form.cleaned_data["version"],
                    updated_by=request.user,
                    **{name: form.cleaned_data[name] for name in services.COVER_FIELDS})
            except ConcurrentEditError as error:
                form.add_error(None, str(error))
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Funding details for committee papers saved")
                return redirect(contract)
    else:
        initial = {name: getattr(contract, name) for name in services.COVER_FIELDS}
        form = ContractCoverForm(initial=initial | {"version": contract.version})
    return _form_page(
        request, contract=contract, form=form,
        title="Change funding details for committee papers", button="Save funding details",
        intro="Committee reports about this contract take their financial and customer "
              "impact figures from here, so nobody types them into the report.")


@require_http_methods(["GET", "POST"])
def contract_status(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _editable_contract(request, pk)
    allowed = lifecycle.allowed_transitions(contract.status)
    if request.method == "POST":
        form = StatusForm(request.POST)
        if form.is_valid():
            try:
                lifecycle.contract_change_status(
                    contract=contract, new_status=form.cleaned_data["status"],
                    changed_by=request.user, expected_version=form.cleaned_data["version"],
                    on=form.cleaned_data["on"],
                )
            except ConcurrentEditError as error:
                form.add_error(None, str(error))
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Contract status changed")
                return redirect(contract)
    else:
        form = StatusForm(initial={"version": contract.version, "on": timezone.localdate()})
    form.fields["status"].choices = [
        (value, label) for value, label in ContractStatus.choices if value in allowed
    ] or form.fields["status"].choices
    intro = (f"The contract is {ContractStatus(contract.status).label.lower()}. "
             + ("It cannot change status any more." if not allowed else ""))
    return _form_page(request, contract=contract, form=form, title="Change status",
                      button="Change status", intro=intro)


@require_http_methods(["GET", "POST"])
def extension_exercise(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _editable_contract(request, pk)
    if request.method == "POST":
        form = ExtensionForm(request.POST, contract=contract)
        if form.is_valid():
            try:
                lifecycle.extension_exercise(
                    contract=contract, option=form.cleaned_data["option"],
                    decision=form.decision_input(), exercised_by=request.user,
                    expected_version=form.cleaned_data["version"],
                )
            except ConcurrentEditError as error:
                form.add_error(None, str(error))
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Extension option exercised")
                return redirect(contract)
    else:
        form = ExtensionForm(contract=contract, initial={"version": contract.version})
    return _form_page(request, contract=contract, form=form, title="Exercise an extension",
                      button="Exercise extension",
                      intro="Record the decision that authorised the extension. The end date "
                            "moves on by the option's length.")


@require_http_methods(["GET", "POST"])
def decision_record(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _editable_contract(request, pk)
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            lifecycle.decision_record(contract=contract, purpose=form.cleaned_data["purpose"],
                                     decision=form.decision_input(), recorded_by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Decision recorded")
            return redirect(contract)
    return _form_page(request, contract=contract, form=form, title="Record a decision",
                      button="Record decision")


@require_http_methods(["GET", "POST"])
def variation_record(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _editable_contract(request, pk)
    form = VariationForm(request.POST or None, contract=contract)
    if request.method == "POST" and form.is_valid():
        c = form.cleaned_data
        try:
            lifecycle.variation_record(
                contract=contract, recorded_by=request.user, date=c["date"],
                description=c["description"], value_change=c["value_change"] or 0,
                term_change_months=c["term_change_months"] or 0, decision=c["decision"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Variation recorded")
            return redirect(contract)
    return _form_page(request, contract=contract, form=form, title="Record a variation",
                      button="Record variation",
                      intro="Under the Procurement Act 2023 a change of more than 10% of the "
                            "contract's value (15% for works), or any change of term, needs a "
                            "contract change notice.")


@require_http_methods(["GET", "POST"])
def review_date_add(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _editable_contract(request, pk)
    form = ReviewDateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            lifecycle.review_date_add(contract=contract, added_by=request.user,
                                     date=form.cleaned_data["date"],
                                     description=form.cleaned_data["description"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Review date added")
            return redirect(contract)
    return _form_page(request, contract=contract, form=form, title="Add a review date",
                      button="Add review date",
                      intro="The contract manager is e-mailed 30 days before the review.")


@require_http_methods(["GET", "POST"])
def shares_set(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _editable_contract(request, pk)
    members = [m.organisation for m in PartnershipMember.objects.filter(
        partnership_id=contract.partnership_id).select_related("organisation")
        .order_by("organisation__name")]
    if request.method == "POST":
        form = SharesForm(request.POST, organisations=members)
        if form.is_valid():
            try:
                lifecycle.shares_set(contract=contract, shares=form.shares, set_by=request.user)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Commissioning shares saved")
                return redirect(contract)
    else:
        initial = {}
        for share in contract.shares.all():
            initial[f"share_{share.organisation_id}"] = f"{share.share_percent.normalize():f}"
            initial[f"monitor_{share.organisation_id}"] = share.joint_monitoring
        form = SharesForm(initial=initial, organisations=members)
    return _form_page(request, contract=contract, form=form,
                      title="Commissioning partners' shares", button="Save shares",
                      intro="Each partner's share of the cost. The shares must add up to "
                            "100%. Leave a partner blank if it pays nothing: if it jointly "
                            "monitors the contract, it is recorded with a 0% share.")


# --- Documents -------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def document_upload(request: HttpRequest, pk: int) -> HttpResponse:
    contract = selectors.get_contract_for_user(request.user, pk)
    if not permissions.can_upload_document(request.user, contract):
        raise Http404
    form = DocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            documents.document_upload(contract=contract, kind=form.cleaned_data["kind"],
                                     upload=form.cleaned_data["file"], uploaded_by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Document uploaded")
            return redirect(contract)
    return _form_page(request, contract=contract, form=form, title="Upload a document",
                      button="Upload", multipart=True)


@require_http_methods(["GET"])
def document_download(request: HttpRequest, pk: int, document_pk: int) -> FileResponse:
    document = get_object_or_404(
        ContractDocument.objects.select_related("contract"),
        pk=document_pk, contract_id=pk,
        contract__in=Contract.objects.for_user(request.user),
    )
    if not permissions.can_download_document(request.user, document):
        raise Http404
    try:
        handle = document.file.open("rb")
    except FileNotFoundError as error:
        raise Http404 from error
    return as_download(FileResponse(handle, content_type=document.content_type),
                       document.original_name)


# --- Exports: Transparency Code (CSV, XLSX) and OCDS 1.1 (JSON) ------------------------------

@require_GET
def register_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The register, filtered exactly like the list, as a download."""
    if fmt not in ("csv", "xlsx", "json") or not permissions.can_export_register(request.user):
        raise Http404
    _filterset, rows = _filtered_register(request)
    name = f"contract-register-{timezone.localdate():%Y-%m-%d}"
    if fmt == "csv":
        return csv_response(f"{name}.csv", exports.TRANSPARENCY_HEADER,
                            exports.transparency_rows(rows))
    if fmt == "xlsx":
        return xlsx_response(f"{name}.xlsx", exports.TRANSPARENCY_HEADER,
                             exports.transparency_rows(rows), sheet_title="Contracts",
                             column_widths=exports.TRANSPARENCY_WIDTHS)
    chunks = ocds.release_package_chunks(rows, uri=request.build_absolute_uri())
    response = StreamingHttpResponse((chunk.encode("utf-8") for chunk in chunks),
                                     content_type="application/json")
    return as_download(response, f"{name}-ocds.json")


@require_GET
def contract_ocds(request: HttpRequest, pk: int) -> HttpResponse:
    """One contract as an OCDS 1.1 release package."""
    contract = get_object_or_404(
        ocds.ocds_queryset(Contract.objects.for_user(request.user).with_term()), pk=pk
    )
    package = ocds.release_package([ocds.release(contract)],
                                      uri=request.build_absolute_uri())
    response = HttpResponse(json.dumps(package, ensure_ascii=False, indent=2),
                            content_type="application/json")
    return as_download(response, f"{ocds.ocid(contract)}.json")


# --- Register import -------------------------------------------------------------------------

IMPORT_PREVIEW_PAGE = 100


def _require_importer(request: HttpRequest) -> None:
    if not permissions.can_import_register(request.user):
        raise Http404


def _import_for_user(request: HttpRequest, pk: int) -> RegisterImport:
    """An import is seen only by the person who uploaded it (``RegisterImport.for_user``);
    anyone else gets a 404."""
    _require_importer(request)
    return get_object_or_404(
        RegisterImport.objects.for_user(request.user).select_related("partnership"), pk=pk)


@require_http_methods(["GET", "POST"])
def import_start(request: HttpRequest) -> HttpResponse:
    _require_importer(request)
    partnerships = access.partnerships_for_user(request.user).order_by("name")
    form = RegisterUploadForm(request.POST or None, request.FILES or None,
                              partnerships=partnerships)
    if request.method == "POST" and form.is_valid():
        try:
            register_import = services.register_import_start(
                partnership=form.cleaned_data["partnership"],
                upload=form.cleaned_data["file"], created_by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("contracts:import_map", pk=register_import.pk)
    return render(request, "contracts/import_upload.html", {
        "form": form, "max_rows": imports.MAX_ROWS,
        "max_megabytes": f"{settings.MAX_UPLOAD_BYTES / (1024 * 1024):g}",
    })


@require_http_methods(["GET", "POST"])
def import_map(request: HttpRequest, pk: int) -> HttpResponse:
    register_import = _import_for_user(request, pk)
    if register_import.status not in (RegisterImportStatus.UPLOADED,
                                      RegisterImportStatus.VALIDATED,
                                      RegisterImportStatus.FAILED):
        return redirect(register_import)
    initial: dict[str, str] = {}
    for name in imports.FIELDS_BY_NAME:
        initial[name] = imports.column_of(register_import.mapping, name) or ""
        initial[f"{name}__fixed"] = imports.fixed_value(register_import.mapping, name) or ""
    organisations = Organisation.objects.filter(
        partnership_memberships__partnership=register_import.partnership).order_by("name")
    form = ColumnMappingForm(request.POST or None, fields=imports.FIELDS,
                             headers=register_import.headers, organisations=organisations,
                             initial=initial)
    if request.method == "POST" and form.is_valid():
        mapping, fixed = form.mapping()
        try:
            services.register_import_map(register_import=register_import, mapping=mapping,
                                         fixed=fixed)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect(register_import)
    return render(request, "contracts/import_map.html", {
        "form": form, "register_import": register_import,
        "matched": sum(1 for f in imports.FIELDS if register_import.mapping.get(f.name)),
    })


@require_http_methods(["GET", "POST"])
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Progress while a task works, the preview of every row, then the result."""
    register_import = _import_for_user(request, pk)
    form = ImportConfirmForm(request.POST if request.method == "POST" else None,
                             new_provider_count=len(register_import.new_providers),
                             unflagged=services.providers_without_vcse_flag(
                                 register_import.new_providers))
    if request.method == "POST" and form.is_valid():
        try:
            services.register_import_confirm(
                register_import=register_import, confirmed_by=request.user,
                create_providers=bool(form.cleaned_data.get("create_providers")),
                provider_kind=form.cleaned_data.get("provider_kind") or "",
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if register_import.status == RegisterImportStatus.IMPORTED:
                messages.success(request, f"{register_import.imported_count} contracts "
                                          "imported into the register")
            return redirect(register_import)
    preview = register_import.preview
    paginator = Paginator(preview, IMPORT_PREVIEW_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    rows_with_errors = sum(1 for row in preview if row["errors"])
    existing = sum(1 for row in preview if row.get("existing"))
    return render(request, "contracts/import_detail.html", {
        "register_import": register_import, "form": form, "page_obj": page,
        "rows": page.object_list, "rows_with_errors": rows_with_errors,
        "existing": existing, "importable": len(preview) - rows_with_errors - existing,
        "warnings": [(row["row"], w) for row in preview for w in row.get("warnings", ())],
        "statuses": RegisterImportStatus,
        "percent": (100 * register_import.processed_rows // register_import.row_count)
        if register_import.row_count else 0,
    })


@require_GET
def import_problems(request: HttpRequest, pk: int) -> HttpResponse:
    """The rows with problems, in the file's own layout (its headings, in its order) with a
    "Problems" column added: fix them and upload the file again."""
    register_import = _import_for_user(request, pk)
    if not any(row["errors"] for row in register_import.preview):
        raise Http404
    table = imports.table_from_file(register_import.file, register_import.original_name)
    header, rows = imports.problem_rows(table, register_import.preview)
    stem = PurePath(register_import.original_name).stem or "register"
    if register_import.file_kind == "xlsx":
        return xlsx_response(f"{stem} - rows with problems.xlsx", header, rows,
                             sheet_title="Rows with problems")
    return csv_response(f"{stem} - rows with problems.csv", header, rows)
