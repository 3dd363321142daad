"""Monitoring views: the dashboard, the provider portal (/returns/) and the commissioners'
pages (/monitoring/). Thin: parse input, call one service, render or redirect.

Every object is found through a ``for_user`` queryset, so a user who may not see it gets a
404; a user who may see it but not act on it also gets a 404 on the action's page.
"""

from __future__ import annotations

import functools

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from commissioning import access
from commissioning.downloads import as_download
from commissioning.locking import ConcurrentEditError
from commissioning.periods import FinancialYear, financial_year_for
from contracts.models import Contract
from monitoring import charts, permissions, reporting_periods, selectors
from monitoring.dashboard import dashboard_for_user
from monitoring.exports import table_response
from monitoring.filters import InboxListFilter, OverviewFilter
from monitoring.forms import (
    AssessmentForm,
    DeclarationForm,
    EvidenceForm,
    KPIForm,
    ReturnForm,
    ReviewForm,
    ServiceUsersUploadForm,
    SpreadsheetUploadForm,
    TargetForm,
    TemplateCopyForm,
)
from monitoring.models import (
    KPI,
    AssessmentStatus,
    Evidence,
    PerformanceAssessment,
    PerformanceReturn,
    ReportingPeriod,
    ReturnStatus,
    ServiceUserList,
)
from monitoring.overview import (
    attach_contracts,
    overview_assessments_due,
    overview_rows,
    rag_rows,
)
from monitoring.rag import RAG_LABELS
from monitoring.services import assessments as assessment_services
from monitoring.services import kpis as kpi_services
from monitoring.services import return_uploads
from monitoring.services import returns as return_services
from monitoring.services import service_users as service_user_services

# The inbox and the overview page as the register does (contracts.views.PAGE_SIZE).
LIST_PAGE_SIZE = 25


def dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "monitoring/dashboard.html",
        {
            "dashboard": dashboard_for_user(user=request.user),
            # Which parts the page shows is decided here (access.py), not in the template.
            "shows_returns_to_review": access.is_commissioner_side(request.user),
            "shows_own_returns": access.is_provider_user(request.user),
            "needs_a_role": (access.current_organisation(request.user) is None
                             and not access.is_platform_admin(request.user)),
            "can_manage_people": access.can_manage_people(request.user),
        },
    )


# --- Provider portal ---------------------------------------------------------------------------

def _provider_contract(request: HttpRequest, contract_pk: int) -> Contract:
    contract = selectors.get_monitored_contract_for_user(request.user, contract_pk)
    if not permissions.can_submit_return(request.user, contract):
        raise Http404
    return contract


def _period(code: str) -> ReportingPeriod:
    period = reporting_periods.period_by_code(code)
    if period is None:
        raise Http404
    return period


def _return_urls(contract: Contract, period: ReportingPeriod) -> dict[str, str]:
    args = [contract.pk, period.code]
    return {name: reverse(f"monitoring:{name}", args=args) for name in (
        "return_form", "return_check", "evidence_upload", "return_upload",
        "service_users_upload")} | {
        "template_csv": reverse("monitoring:return_template", args=[*args, "csv"]),
        "template_xlsx": reverse("monitoring:return_template", args=[*args, "xlsx"]),
    }


def return_list(request: HttpRequest) -> HttpResponse:
    """The provider's task list: returns due, overdue, in progress and submitted."""
    if not access.is_provider_user(request.user):
        raise Http404
    items = selectors.provider_task_list(user=request.user)
    to_do = [i for i in items if i.status in ("overdue", "pending", "draft", "queried")]
    done = [i for i in items if i not in to_do]
    return render(request, "monitoring/return_list.html", {"to_do": to_do, "done": done})


def _form_context(contract, period, performance_return, form, rows, **extra) -> dict:
    today = timezone.localdate()
    editable = performance_return is None or performance_return.is_editable
    return {
        "contract": contract, "period": period, "return": performance_return, "form": form,
        "blocks": form.bound_blocks(), "rows": rows, "urls": _return_urls(contract, period),
        "period_ended": period.end_date < today, "editable": editable,
        "evidence": list(performance_return.evidence.select_related("kpi"))
        if performance_return else [],
        "previous_label": reporting_periods.previous_period(period).label,
        "versions": list(performance_return.versions.select_related("submitted_by"))
        if performance_return else [], **extra,
    }


@require_http_methods(["GET", "POST"])
def return_form(request: HttpRequest, contract_pk: int, period_code: str) -> HttpResponse:
    contract = _provider_contract(request, contract_pk)
    period = _period(period_code)
    performance_return = PerformanceReturn.objects.filter(contract=contract,
                                                          period_id=period.pk).first()
    rows = selectors.return_form_rows(contract=contract, period=period,
                                      performance_return=performance_return)
    if request.method == "GET":
        form = ReturnForm(rows=rows, initial={
            "version": performance_return.version if performance_return else None,
            "overall_commentary": performance_return.overall_commentary
            if performance_return else "",
        })
        return render(request, "monitoring/return_form.html",
                      _form_context(contract, period, performance_return, form, rows))
    form = ReturnForm(request.POST, rows=rows)
    if form.is_valid():
        try:
            performance_return = return_services.return_save_draft(
                contract=contract, period=period, values=form.value_inputs(),
                overall_commentary=form.cleaned_data["overall_commentary"],
                expected_version=form.cleaned_data["version"], saved_by=request.user,
            )
        except ConcurrentEditError as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            if request.POST.get("action") != "continue":
                messages.success(request, f"Draft saved for {period.label}")
                return redirect("monitoring:return_form", contract.pk, period.code)
            # The draft is saved; now check it is complete. A failed check keeps both what
            # was typed (the bound form) and what was saved.
            rows = selectors.return_form_rows(contract=contract, period=period,
                                              performance_return=performance_return)
            errors = return_services.completeness_errors(
                performance_return, [r.kpi for r in rows],
                {r.kpi.pk: r.current for r in rows if r.current},
                set(performance_return.evidence.values_list("kpi_id", flat=True)),
            )
            if not errors:
                return redirect("monitoring:return_check", contract.pk, period.code)
            data = request.POST.copy()
            data["version"] = performance_return.version
            form = ReturnForm(data, rows=rows)
            form.is_valid()
            form.add_service_errors(ValidationError(errors))
    return render(request, "monitoring/return_form.html",
                  _form_context(contract, period, performance_return, form, rows),
                  status=200)


@require_http_methods(["GET", "POST"])
def return_check(request: HttpRequest, contract_pk: int, period_code: str) -> HttpResponse:
    """Check your answers, then submit with the declaration."""
    contract = _provider_contract(request, contract_pk)
    period = _period(period_code)
    performance_return = get_object_or_404(PerformanceReturn, contract=contract,
                                           period_id=period.pk)
    if not performance_return.is_editable:
        return redirect("monitoring:return_form", contract.pk, period.code)
    rows = selectors.return_form_rows(contract=contract, period=period,
                                      performance_return=performance_return)
    problems: list[tuple[str, str]] = []  # (the return form's field or anchor, message)
    if request.method == "POST":
        form = DeclarationForm(request.POST)
        if form.is_valid():
            try:
                return_services.return_submit(
                    performance_return=performance_return,
                    declaration=form.cleaned_data["declaration"],
                    expected_version=form.cleaned_data["version"], submitted_by=request.user,
                )
            except ConcurrentEditError as error:
                form.add_error(None, str(error))
            except ValidationError as error:
                for key, messages_ in error.message_dict.items():
                    if key == "declaration":
                        form.add_error("declaration", messages_[0])
                    else:
                        problems.extend((key, message) for message in messages_)
            else:
                return redirect("monitoring:return_submitted", contract.pk, period.code)
    else:
        form = DeclarationForm(initial={"version": performance_return.version})
    return render(request, "monitoring/return_check.html", {
        "contract": contract, "period": period, "return": performance_return, "rows": rows,
        "form": form, "problems": problems, "urls": _return_urls(contract, period),
        "evidence": list(performance_return.evidence.select_related("kpi")),
    })


def return_submitted(request: HttpRequest, contract_pk: int, period_code: str) -> HttpResponse:
    contract = _provider_contract(request, contract_pk)
    period = _period(period_code)
    performance_return = get_object_or_404(PerformanceReturn, contract=contract,
                                           period_id=period.pk)
    return render(request, "monitoring/return_submitted.html", {
        "contract": contract, "period": period, "return": performance_return})


def _uploads_closed(request: HttpRequest, contract: Contract, period: ReportingPeriod,
                    title: str) -> HttpResponse | None:
    """A return that is accepted (locked) or waiting for review takes no uploads: the page
    says why instead of offering a file input, and a POST is refused before its file is
    read, so nothing is parsed and nothing changes."""
    message = return_services.not_editable_message(
        PerformanceReturn.objects.filter(contract=contract, period_id=period.pk)
        .select_related("period").first())
    if message is None:
        return None
    return render(request, "monitoring/upload_form.html", {
        "contract": contract, "period": period, "title": title, "closed_message": message,
        "back_url": reverse("monitoring:return_form", args=[contract.pk, period.code]),
    })


@require_http_methods(["GET", "POST"])
def evidence_upload(request: HttpRequest, contract_pk: int, period_code: str) -> HttpResponse:
    contract = _provider_contract(request, contract_pk)
    period = _period(period_code)
    if closed := _uploads_closed(request, contract, period, "Upload evidence"):
        return closed
    kpis = contract.kpis.filter(is_active=True)
    # "Upload evidence" next to a KPI on the return form says which KPI it is for.
    chosen = kpis.filter(pk=request.GET.get("kpi")).first() \
        if request.GET.get("kpi", "").isdigit() else None
    form = EvidenceForm(request.POST or None, request.FILES or None, kpis=kpis,
                        initial={"kpi": chosen})
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():  # a refused file leaves no empty draft return behind
                performance_return = return_services.return_open(contract=contract, period=period,
                                                                 opened_by=request.user)
                return_uploads.evidence_upload(performance_return=performance_return,
                                               upload=form.cleaned_data["file"],
                                               kpi=form.cleaned_data["kpi"],
                                               uploaded_by=request.user)
        except ValidationError as error:
            for key, messages_ in error.message_dict.items():
                for message in messages_:
                    form.add_error(key if key in form.fields else "file", message)
        else:
            messages.success(request, "Evidence uploaded")
            return redirect("monitoring:return_form", contract.pk, period.code)
    return render(request, "monitoring/upload_form.html", {
        "form": form, "contract": contract, "period": period,
        "title": "Upload evidence", "button": "Upload evidence",
        "back_url": reverse("monitoring:return_form", args=[contract.pk, period.code]),
    })


def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    evidence = get_object_or_404(
        Evidence.objects.select_related("performance_return__contract"),
        pk=pk, performance_return__in=selectors.returns_for_user(request.user),
    )
    if not permissions.can_download_evidence(request.user, evidence):
        raise Http404
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError as error:
        raise Http404 from error
    return as_download(FileResponse(handle, content_type=evidence.content_type),
                       evidence.original_name)


def return_template(request: HttpRequest, contract_pk: int, period_code: str,
                    fmt: str) -> HttpResponse:
    """The spreadsheet template for a return, pre-filled with any saved figures."""
    contract = _provider_contract(request, contract_pk)
    period = _period(period_code)
    performance_return = PerformanceReturn.objects.filter(contract=contract,
                                                          period_id=period.pk).first()
    rows = selectors.return_form_rows(contract=contract, period=period,
                                      performance_return=performance_return)

    def figure(row, part):
        value = getattr(row.current, part, None) if row.current else None
        return "" if value is None else value

    body = []
    for row in rows:
        kpi = row.kpi
        if kpi.is_percentage:
            body.append([kpi.code, kpi.name, "", figure(row, "numerator"),
                         figure(row, "denominator"), row.current.commentary if row.current
                         else ""])
        else:
            value = figure(row, "value")
            if row.current and kpi.data_type == "yes_no" and row.current.yes_no is not None:
                value = "yes" if row.current.yes_no else "no"
            elif row.current and kpi.data_type == "text":
                value = row.current.text
            body.append([kpi.code, kpi.name, value, "", "",
                         row.current.commentary if row.current else ""])
    return table_response(fmt, f"return-{contract.reference}-{period.code}",
                          return_uploads.TEMPLATE_COLUMNS, body)


@require_http_methods(["GET", "POST"])
def return_upload(request: HttpRequest, contract_pk: int, period_code: str) -> HttpResponse:
    contract = _provider_contract(request, contract_pk)
    period = _period(period_code)
    if closed := _uploads_closed(request, contract, period,
                                 "Upload the return as a spreadsheet"):
        return closed
    form = SpreadsheetUploadForm(request.POST or None, request.FILES or None)
    row_errors = []
    if request.method == "POST" and form.is_valid():
        result = return_uploads.return_import(contract=contract, period=period,
                                              upload=form.cleaned_data["file"],
                                              imported_by=request.user)
        if not result.errors:
            messages.success(request, f"{result.rows} row{'s' if result.rows != 1 else ''} "
                                      "uploaded and saved as a draft. Check the figures, then "
                                      "continue")
            return redirect("monitoring:return_form", contract.pk, period.code)
        row_errors = result.errors
        form.add_error("file", f"The file has {len(row_errors)} "
                               f"problem{'s' if len(row_errors) != 1 else ''}. Nothing was "
                               "saved: correct the file and upload it again")
    return render(request, "monitoring/upload_form.html", {
        "form": form, "contract": contract, "period": period, "row_errors": row_errors,
        "title": "Upload the return as a spreadsheet", "button": "Upload",
        "urls": _return_urls(contract, period),
        "back_url": reverse("monitoring:return_form", args=[contract.pk, period.code]),
    })


@require_http_methods(["GET", "POST"])
def service_users_upload(request: HttpRequest, contract_pk: int,
                         period_code: str) -> HttpResponse:
    contract = _provider_contract(request, contract_pk)
    period = _period(period_code)
    if closed := _uploads_closed(request, contract, period,
                                 "Upload the NHS numbers of people supported"):
        return closed
    form = ServiceUsersUploadForm(request.POST or None, request.FILES or None)
    row_errors = []
    if request.method == "POST" and form.is_valid():
        result = service_user_services.service_users_upload(contract=contract, period=period,
                                                            upload=form.cleaned_data["file"],
                                                            uploaded_by=request.user)
        if not result.errors:
            count = result.service_user_list.count
            messages.success(request, f"{count} NHS number{'s' if count != 1 else ''} "
                                      f"recorded for {period.label}")
            return redirect("monitoring:return_form", contract.pk, period.code)
        row_errors = [(row, "NHS number", message) for row, message in result.errors]
        form.add_error("file", f"The file has {len(row_errors)} "
                               f"problem{'s' if len(row_errors) != 1 else ''}. Nothing was "
                               "saved: correct the file and upload it again")
    current = ServiceUserList.objects.filter(contract=contract, period_id=period.pk).first()
    return render(request, "monitoring/upload_form.html", {
        "form": form, "contract": contract, "period": period, "row_errors": row_errors,
        "title": "Upload the NHS numbers of people supported", "button": "Upload",
        "intro": "Only a protected code made from each number is kept, never the number "
                 f"itself. {current.count if current else 'No'} people recorded so far for "
                 f"{period.label}; a new upload replaces the list.",
        "back_url": reverse("monitoring:return_form", args=[contract.pk, period.code]),
    })


# --- Commissioners: review -----------------------------------------------------------------

def _commissioner_only(request: HttpRequest) -> None:
    if not permissions.can_view_performance(request.user):
        raise Http404


def _filtered(request: HttpRequest) -> bool:
    """Whether a list is filtered (its order, page or download format are not filters)."""
    return any(v for k, v in request.GET.items() if k not in ("page", "sort", "format"))


def inbox(request: HttpRequest) -> HttpResponse:
    """Submitted returns waiting for review, oldest first or as the column headers sort them."""
    _commissioner_only(request)
    filterset = InboxListFilter(request.GET or None, request=request,
                                queryset=selectors.inbox_for_user(
                                    user=request.user, sort=request.GET.get("sort")))
    counts = selectors.inbox_counts(user=request.user)
    filtered = _filtered(request)
    paginator = Paginator(selectors.inbox_values(filterset.qs), LIST_PAGE_SIZE)
    # Unfiltered, the count is the one just read with the queried returns' (count is a
    # cached property of the paginator: setting it saves its COUNT query).
    paginator.count = filterset.qs.count() if filtered else counts[ReturnStatus.SUBMITTED]
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "monitoring/inbox.html", {
        "returns": selectors.inbox_rows(page.object_list), "page_obj": page,
        "count": paginator.count, "filter": filterset,
        "queried_count": counts[ReturnStatus.QUERIED], "filtered": filtered,
    })


@require_http_methods(["GET", "POST"])
def return_review(request: HttpRequest, pk: int) -> HttpResponse:
    _commissioner_only(request)
    performance_return = selectors.get_return_for_user(request.user, pk)
    contract, period = performance_return.contract, performance_return.period
    rows = selectors.return_form_rows(contract=contract, period=period,
                                      performance_return=performance_return)
    can_review = (permissions.can_review_return(request.user, contract)
                  and performance_return.status == ReturnStatus.SUBMITTED)
    form = None
    if can_review:
        form = ReviewForm(request.POST or None, kpis=[r.kpi for r in rows],
                          initial={"version": performance_return.version})
        if request.method == "POST" and form.is_valid():
            try:
                if form.cleaned_data["decision"] == "accept":
                    return_services.return_accept(
                        performance_return=performance_return,
                        expected_version=form.cleaned_data["version"],
                        accepted_by=request.user, comment=form.cleaned_data["comment"])
                    messages.success(request, f"{contract.reference} {period.label} return "
                                              "accepted")
                else:
                    return_services.return_query(
                        performance_return=performance_return,
                        expected_version=form.cleaned_data["version"],
                        kpi_comments=form.kpi_comments(), comment=form.cleaned_data["comment"],
                        queried_by=request.user)
                    messages.success(request, f"{contract.reference} {period.label} return "
                                              "sent back to the provider")
            except ConcurrentEditError as error:
                form.add_error(None, str(error))
            except ValidationError as error:
                for key, messages_ in error.message_dict.items():
                    for message in messages_:
                        form.add_error(key if key in form.fields else None, message)
            else:
                return redirect("monitoring:inbox")
    elif request.method == "POST":
        raise Http404
    for row in rows:
        row.query_field = form.query_field(row.kpi.pk) if form else None
    return render(request, "monitoring/return_review.html", {
        "return": performance_return, "contract": contract, "period": period,
        "rows": rows, "form": form,
        "versions": list(performance_return.versions.select_related("submitted_by")),
        "reviews": list(performance_return.reviews.select_related("reviewed_by")),
        "evidence": list(performance_return.evidence.select_related("kpi")),
        "previous_label": reporting_periods.previous_period(period).label,
    })


def return_version(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """A submitted version of a return, read-only: for the provider and the commissioners
    who may see the return."""
    version = selectors.get_return_version_for_user(request.user, pk, number)
    performance_return = version.performance_return
    contract, period = performance_return.contract, performance_return.period
    # The same people as the return itself: its provider (the return form) and the
    # commissioner side (the review page).
    if permissions.can_submit_return(request.user, contract):
        back_url = reverse("monitoring:return_form", args=[contract.pk, period.code])
    else:
        _commissioner_only(request)
        back_url = reverse("monitoring:return_review", args=[performance_return.pk])
    return render(request, "monitoring/return_version.html", {
        "version": version, "return": performance_return, "contract": contract,
        "period": period, "rows": selectors.return_version_rows(version),
        "latest": performance_return.versions.count(),
        "reviews": [r for r in performance_return.reviews.select_related("reviewed_by")
                    if r.version_number == version.number],
        "back_url": back_url,
    })


# --- Commissioners: performance --------------------------------------------------------------

def overview(request: HttpRequest) -> HttpResponse:
    """Every jointly commissioned contract the user may see, worst performers first or as the
    column headers sort them (the downloads in the same order).

    The page's list part is remembered for everyone who sees the same contracts until the data
    changes (``{% remembered %}``, commissioning.datacache): what it shows is worked out only
    when that part is rendered."""
    _commissioner_only(request)

    @functools.cache
    def filtered():
        filterset = OverviewFilter(
            request.GET or None, request=request,
            # EXISTS rather than a join + DISTINCT over every column of every contract.
            queryset=selectors.monitored_contracts_for_user(request.user).filter(
                Exists(KPI.objects.filter(contract=OuterRef("pk")))),
        )
        return filterset, overview_rows(contracts=filterset.qs, sort=request.GET.get("sort"))

    fmt = request.GET.get("format")
    if fmt in ("csv", "xlsx"):
        return table_response(fmt, "performance-overview", [
            "Reference", "Title", "Provider", "Partnership", "Latest period", "Red", "Amber",
            "Green", "No target", "Worst"], [
            [r.contract.reference, r.contract.title, r.contract.provider.name,
             r.contract.partnership.name, r.latest_period.label if r.latest_period else "",
             r.red, r.amber, r.green, r.no_target, r.worst_label]
            for r in attach_contracts(rag_rows(filtered()[1]))])
    query = request.GET.copy()
    query.pop("format", None)
    query.pop("page", None)

    # Every row is read as a plain row (order, totals, assessments due) but only a page of
    # them is drawn, from the rows' own columns (no contracts loaded).
    @functools.cache
    def page():
        return Paginator(filtered()[1], LIST_PAGE_SIZE).get_page(request.GET.get("page"))

    @functools.cache
    def drawn():
        return rag_rows(page().object_list)

    @functools.cache
    def assessments_due():
        return overview_assessments_due(filtered()[1])

    @functools.cache
    def totals():
        return {k: sum(getattr(r, k) for r in filtered()[1]) for k in ("red", "amber", "green")}

    return render(request, "monitoring/overview.html", {
        "rows": drawn, "page_obj": page, "count": lambda: len(filtered()[1]),
        "filter": lambda: filtered()[0], "query": query.urlencode(),
        "filtered": _filtered(request), "assessments_due": assessments_due,
        "today": timezone.localdate(), "totals": totals,
    })


def contract_performance(request: HttpRequest, pk: int) -> HttpResponse:
    _commissioner_only(request)
    contract = selectors.get_monitored_contract_for_user(request.user, pk)
    periods, kpis = selectors.contract_performance(contract=contract)
    fmt = request.GET.get("format")
    if fmt in ("csv", "xlsx"):
        header = ["Code", "KPI", "Quadrant", "Target", *[p.label for p in periods],
                  "Latest RAG", "Trend"]
        body = [[row.kpi.code, row.kpi.name, row.kpi.get_quadrant_display(), row.target_text,
                 *[c.value.display if c.value else "" for c in row.cells], row.rag_label,
                 row.trend] for row in kpis]
        return table_response(fmt, f"kpis-{contract.reference}", header, body)
    charts_by_kpi = [
        (row, charts.bar_chart(
            [(c.period.label.split(" ")[-1] + " "
              + FinancialYear.parse(c.period.financial_year).short_label,
              c.value.value if c.value else None, c.rag) for c in row.cells],
            title=f"{row.kpi.code} {row.kpi.name} by quarter",
            target=row.target.value if row.target else None))
        for row in kpis if row.kpi.is_numeric
    ]
    returns = list(contract.returns.select_related("period").order_by("-period__start_date")[:8])
    return render(request, "monitoring/contract_performance.html", {
        "contract": contract, "periods": periods, "kpis": kpis, "charts": charts_by_kpi,
        "returns": returns, "rag_labels": RAG_LABELS,
        "can_manage": permissions.can_manage_kpis(request.user, contract),
        "s52_warning": selectors.s52_warning(contract, [r.kpi for r in kpis]),
        "assessment_due": selectors.assessment_due(contract),
        "assessments": list(contract.performance_assessments.all()),
        "current_year": financial_year_for(timezone.localdate()),
    })


def _manageable_contract(request: HttpRequest, pk: int) -> Contract:
    contract = selectors.get_monitored_contract_for_user(request.user, pk)
    if not permissions.can_manage_kpis(request.user, contract):
        raise Http404
    return contract


def _simple_form(request, form, *, title, button, back_url, contract=None, intro=""):
    return render(request, "monitoring/simple_form.html", {
        "form": form, "title": title, "button": button, "back_url": back_url,
        "contract": contract, "intro": intro})


def _add_errors(form, error: ValidationError) -> None:
    for key, messages_ in error.message_dict.items():
        for message in messages_:
            form.add_error(key if key in form.fields else None, message)


@require_http_methods(["GET", "POST"])
def kpi_create(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _manageable_contract(request, pk)
    form = KPIForm(request.POST or None, contract=contract)
    if request.method == "POST" and form.is_valid():
        try:
            kpi = kpi_services.kpi_create(contract=contract, data=form.to_input(),
                                          created_by=request.user)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"KPI {kpi.code} added. Set its target next")
            return redirect("monitoring:target_set", kpi.pk)
    return _simple_form(request, form, title="Add a KPI", button="Save KPI", contract=contract,
                        back_url=reverse("monitoring:contract_performance", args=[pk]))


@require_http_methods(["GET", "POST"])
def kpi_edit(request: HttpRequest, pk: int) -> HttpResponse:
    kpi = get_object_or_404(KPI.objects.for_user(request.user).select_related("contract"),
                            pk=pk)
    contract = _manageable_contract(request, kpi.contract_id)
    initial = {name: getattr(kpi, name) for name in (
        "code", "name", "definition", "service_line", "quadrant", "data_type", "unit",
        "direction", "frequency", "evidence_required", "is_s52")}
    initial["baseline"] = "" if kpi.baseline is None else f"{kpi.baseline.normalize():f}"
    form = KPIForm(request.POST or None, contract=contract, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            kpi_services.kpi_update(kpi=kpi, data=form.to_input(), updated_by=request.user)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"KPI {kpi.code} updated")
            return redirect("monitoring:contract_performance", contract.pk)
    return _simple_form(request, form, title=f"Change KPI {kpi.code}", button="Save changes",
                        contract=contract,
                        back_url=reverse("monitoring:contract_performance", args=[contract.pk]))


@require_http_methods(["GET", "POST"])
def target_set(request: HttpRequest, pk: int) -> HttpResponse:
    kpi = get_object_or_404(KPI.objects.for_user(request.user).select_related("contract"),
                            pk=pk)
    contract = _manageable_contract(request, kpi.contract_id)
    form = TargetForm(request.POST or None,
                      periods=reporting_periods.target_quarters(today=timezone.localdate()))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            kpi_services.target_set(kpi=kpi, valid_from=data["valid_from"],
                                    target_value=data["target_value"],
                                    upper_value=data["upper_value"],
                                    amber_tolerance=data["amber_tolerance"] or 0,
                                    set_by=request.user)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Target for {kpi.code} set from "
                                      f"{data['valid_from'].label}")
            return redirect("monitoring:contract_performance", contract.pk)
    targets = list(kpi.targets.select_related("valid_from"))
    intro = "Current targets: " + "; ".join(
        f"from {t.valid_from.label}: {t.target_value if t.target_value is not None else 'none'}"
        for t in targets) if targets else "This KPI has no target yet."
    return _simple_form(request, form, title=f"Set a target for {kpi.code} {kpi.name}",
                        button="Save target", contract=contract, intro=intro,
                        back_url=reverse("monitoring:contract_performance", args=[contract.pk]))


@require_http_methods(["GET", "POST"])
def templates_copy(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _manageable_contract(request, pk)
    form = TemplateCopyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = kpi_services.templates_copy(contract=contract,
                                              template_set=form.cleaned_data["template_set"],
                                              copied_by=request.user)
        messages.success(request, f"{len(created)} KPI{'s' if len(created) != 1 else ''} "
                                  f"copied from {form.cleaned_data['template_set']}")
        return redirect("monitoring:contract_performance", contract.pk)
    return _simple_form(request, form, title="Copy KPIs from the library", button="Copy KPIs",
                        contract=contract,
                        intro="KPIs with a code the contract already has are skipped.",
                        back_url=reverse("monitoring:contract_performance", args=[pk]))


# --- Procurement Act assessments -------------------------------------------------------------

@require_POST
def assessment_start(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _manageable_contract(request, pk)
    year = request.POST.get("financial_year", "")
    try:
        assessment = assessment_services.assessment_draft(contract=contract, financial_year=year,
                                                          drafted_by=request.user)
    except (ValidationError, ValueError):
        messages.error(request, "The assessment could not be drafted for that year")
        return redirect("monitoring:contract_performance", contract.pk)
    return redirect("monitoring:assessment", assessment.pk)


@require_http_methods(["GET", "POST"])
def assessment(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(
        PerformanceAssessment.objects.for_user(request.user).select_related("contract"), pk=pk)
    can_edit = permissions.can_manage_kpis(request.user, item.contract) and \
        item.status == AssessmentStatus.DRAFT
    ratings = list(item.ratings.select_related("kpi"))
    form = AssessmentForm(request.POST or None, ratings=ratings,
                          initial={"summary": item.summary}) if can_edit else None
    if request.method == "POST":
        if form is None:
            raise Http404
        if form.is_valid():
            try:
                assessment_services.assessment_update(
                    assessment=item, ratings=form.ratings(), summary=form.cleaned_data["summary"],
                    updated_by=request.user, finalise=form.cleaned_data["finalise"])
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, "Assessment finalised" if form.cleaned_data[
                    "finalise"] else "Assessment saved")
                return redirect("monitoring:assessment", item.pk)
    if request.GET.get("format") == "csv":
        return table_response("csv", f"performance-assessment-{item.contract.reference}-"
                                     f"{FinancialYear.parse(item.financial_year).slug}", [
            "Contract reference", "Contract title", "Financial year", "KPI code", "KPI",
            "Rating", "Explanation", "Status"], [
            [item.contract.reference, item.contract.title, item.financial_year, r.kpi.code,
             r.kpi.name, r.get_rating_display(), r.explanation, item.get_status_display()]
            for r in ratings])
    return render(request, "monitoring/assessment.html", {
        "assessment": item, "ratings": ratings, "form": form,
        "rows": form.bound_rows() if form else [],
    })


# --- Service users -----------------------------------------------------------------------------

def service_users_report(request: HttpRequest) -> HttpResponse:
    """Counts and overlaps between services, from pseudonymised lists: never the numbers."""
    _commissioner_only(request)
    contracts = selectors.monitored_contracts_for_user(request.user)
    periods = list(ReportingPeriod.objects.filter(
        pk__in=ServiceUserList.objects.filter(contract__in=contracts).values("period")
    ).order_by("-start_date"))
    chosen = next((p for p in periods if p.code == request.GET.get("period")),
                  periods[0] if periods else None)
    report = selectors.service_user_report(contracts=contracts, period=chosen)
    return render(request, "monitoring/service_users.html", {
        "report": report, "periods": periods, "chosen": chosen})
