"""Funding views: thin. Parse input, call one service, render or redirect.

Every view finds the agreement through ``Section75Agreement.objects.for_user`` (via the
selectors), so a user who may not see it gets a 404; one who may see it but not change it
also gets a 404 on the change pages.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from commissioning import access
from commissioning.downloads import as_download
from commissioning.locking import ConcurrentEditError
from commissioning.models import Organisation
from commissioning.pdf import render_pdf
from commissioning.periods import financial_year_start
from commissioning.spreadsheets import csv_response, xlsx_response
from contracts.models import Contract
from funding import forms, imports, permissions, selectors, services
from funding.models import (
    Contribution,
    FinanceImport,
    ImportStatus,
    MonthlyActual,
    SchemeBudget,
    Section75Agreement,
    TopSlice,
    month_label,
    year_label,
)


def _agreement(request: HttpRequest, pk: int,
               check: Callable[[object, Section75Agreement], bool] | None = None
               ) -> Section75Agreement:
    agreement = selectors.get_agreement_for_user(request.user, pk)
    if check is not None and not check(request.user, agreement):
        raise Http404
    return agreement


def _form_page(request: HttpRequest, *, form, title: str, button: str, back_url: str,
               caption: str = "", intro: str = "", multipart: bool = False,
               status: int | None = None) -> HttpResponse:
    return render(request, "funding/form.html", {
        "form": form, "title": title, "button": button, "back_url": back_url,
        "caption": caption, "intro": intro, "multipart": multipart,
    }, status=status or (400 if form.is_bound and form.errors else 200))


def _save(form, call: Callable[[], object]) -> bool:
    """Run a service; put its errors on the form. True when it succeeded."""
    try:
        call()
    except ValidationError as error:
        forms.add_service_errors(form, error)
        return False
    except ConcurrentEditError as error:
        form.add_error(None, str(error))
        return False
    return True


# --- Agreements ------------------------------------------------------------------------------

def agreement_list(request: HttpRequest) -> HttpResponse:
    return render(request, "funding/agreement_list.html", {
        "agreements": selectors.agreement_list(request.user),
        "can_create": permissions.can_create_agreement(request.user),
    })


@require_http_methods(["GET", "POST"])
def agreement_create(request: HttpRequest) -> HttpResponse:
    if not permissions.can_create_agreement(request.user):
        raise Http404
    partnerships = access.partnerships_for_user(request.user).order_by("name")
    raw = request.GET.get("partnership") or (
        str(partnerships[0].pk) if len(partnerships) == 1 else "")
    partnership = next((p for p in partnerships if str(p.pk) == raw), None)
    if partnership is None:
        choice = forms.PartnershipChoiceForm(request.GET or None, partnerships=partnerships)
        if choice.is_valid():
            partnership = choice.cleaned_data["partnership"]
            return redirect(f"{reverse('funding:agreement_create')}?partnership={partnership.pk}")
        return render(request, "funding/choose_partnership.html", {"form": choice})
    organisations = list(partnership.organisations.order_by("name"))
    form = forms.AgreementForm(request.POST or None, organisations=organisations,
                               users=forms.users_of(organisations))
    if request.method == "POST" and form.is_valid():
        result = {}
        if _save(form, lambda: result.setdefault("agreement", services.agreement_create(
                user=request.user, data=form.to_input(partnership)))):
            messages.success(request, "Agreement recorded")
            return redirect(result["agreement"])
    return _form_page(request, form=form, title="Record a Section 75 agreement",
                      button="Save agreement", back_url=reverse("funding:agreement_list"),
                      caption=partnership.name)


def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = _agreement(request, pk)
    year = selectors.parse_year(agreement, request.GET.get("year"))
    page = selectors.agreement_page(agreement, year,
                                    selectors.parse_as_at(year, request.GET.get("as_at")))
    user = request.user
    return render(request, "funding/agreement_detail.html", {
        "page": page, "agreement": agreement,
        "years": [(y, year_label(y)) for y in agreement.years],
        "can_edit": permissions.can_edit_agreement(user, agreement),
        "can_edit_budgets": permissions.can_edit_budgets(user, agreement),
        "can_link_contracts": permissions.can_link_contracts(user, agreement),
        "can_close_months": permissions.can_close_months(user, agreement),
    })


@require_http_methods(["GET", "POST"])
def agreement_edit(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = _agreement(request, pk, permissions.can_edit_agreement)
    organisations = list(agreement.partnership.organisations.order_by("name"))
    form = forms.AgreementForm(request.POST or None, organisations=organisations,
                               users=forms.users_of(organisations),
                               initial=forms.AgreementForm.initial_for(agreement))
    if request.method == "POST" and form.is_valid() and _save(
            form, lambda: services.agreement_update(
                agreement=agreement, user=request.user,
                version=form.cleaned_data["version"],
                data=form.to_input(agreement.partnership))):
        messages.success(request, "Agreement updated")
        return redirect(agreement)
    return _form_page(request, form=form, title="Change the agreement", button="Save changes",
                      back_url=agreement.get_absolute_url(), caption=agreement.title)


# --- Schemes ---------------------------------------------------------------------------------

def _scheme_form(request, agreement, initial=None):
    partners = Organisation.objects.filter(agreement_memberships__agreement=agreement)
    return forms.SchemeForm(request.POST or None, initial=initial, partners=partners,
                            providers=Organisation.objects.providers().filter(is_active=True))


@require_http_methods(["GET", "POST"])
def scheme_create(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = _agreement(request, pk, permissions.can_edit_agreement)
    form = _scheme_form(request, agreement)
    result = {}
    if request.method == "POST" and form.is_valid() and _save(
            form, lambda: result.setdefault("scheme", services.scheme_create(
                agreement=agreement, user=request.user, data=form.to_input()))):
        messages.success(request, "Scheme added")
        return redirect(result["scheme"])
    return _form_page(request, form=form, title="Add a scheme", button="Save scheme",
                      back_url=agreement.get_absolute_url(), caption=agreement.title)


def scheme_detail(request: HttpRequest, pk: int, scheme_pk: int) -> HttpResponse:
    scheme = selectors.get_scheme_for_user(request.user, pk, scheme_pk)
    agreement = scheme.agreement
    year = selectors.parse_year(agreement, request.GET.get("year"))

    page = selectors.scheme_page(scheme, year, Contract.objects.for_user(request.user))
    return render(request, "funding/scheme_detail.html", {
        "page": page, "scheme": scheme, "agreement": agreement,
        "years": [(y, year_label(y)) for y in agreement.years],
        "year_label": year_label(year),
        "can_edit": permissions.can_edit_agreement(request.user, agreement),
        "can_edit_budgets": permissions.can_edit_budgets(request.user, agreement),
        "can_link_contracts": permissions.can_link_contracts(request.user, agreement),
    })


@require_http_methods(["GET", "POST"])
def scheme_edit(request: HttpRequest, pk: int, scheme_pk: int) -> HttpResponse:
    scheme = selectors.get_scheme_for_user(request.user, pk, scheme_pk)
    if not permissions.can_edit_agreement(request.user, scheme.agreement):
        raise Http404
    form = _scheme_form(request, scheme.agreement, forms.SchemeForm.initial_for(scheme))
    if request.method == "POST" and form.is_valid() and _save(
            form, lambda: services.scheme_update(
                scheme=scheme, version=form.cleaned_data["version"],
                user=request.user, data=form.to_input())):
        messages.success(request, "Scheme updated")
        return redirect(scheme)
    return _form_page(request, form=form, title="Change the scheme", button="Save changes",
                      back_url=scheme.get_absolute_url(), caption=str(scheme))


@require_http_methods(["GET", "POST"])
def budget_set(request: HttpRequest, pk: int, scheme_pk: int) -> HttpResponse:
    scheme = selectors.get_scheme_for_user(request.user, pk, scheme_pk)
    agreement = scheme.agreement
    if not permissions.can_edit_budgets(request.user, agreement):
        raise Http404
    year = selectors.parse_year(agreement, request.GET.get("year") or request.POST.get("year"))
    existing = SchemeBudget.objects.filter(scheme=scheme, year=year).first()
    form = forms.BudgetForm(request.POST or None, years=agreement.years, initial={
        "year": str(year), "amount": existing.amount if existing else None,
        "version": existing.version if existing else 0})
    if request.method == "POST" and form.is_valid() and _save(
            form, lambda: services.budget_set(
                scheme=scheme, year=int(form.cleaned_data["year"]),
                amount=form.cleaned_data["amount"], user=request.user,
                version=form.cleaned_data["version"])):
        messages.success(request, f"Budget for {year_label(int(form.cleaned_data['year']))} saved")
        return redirect(f"{scheme.get_absolute_url()}?year={form.cleaned_data['year']}")
    return _form_page(request, form=form, title="Set the budget", button="Save budget",
                      back_url=scheme.get_absolute_url(), caption=str(scheme))


# --- Contributions ---------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def contribution_set(request: HttpRequest, pk: int, scheme_pk: int) -> HttpResponse:
    scheme = selectors.get_scheme_for_user(request.user, pk, scheme_pk)
    agreement = scheme.agreement
    if not permissions.can_edit_budgets(request.user, agreement):
        raise Http404
    # Every partnership member is offered so a non-partner is refused with a clear message
    # by the service rather than silently missing from the list.
    form = forms.ContributionForm(
        request.POST or None, partners=agreement.partnership.organisations.order_by("name"),
        years=agreement.years,
        initial={"year": str(selectors.parse_year(agreement, request.GET.get("year")))})
    if request.method == "POST" and form.is_valid() and _save(
            form, lambda: services.contribution_set(
                scheme=scheme, partner=form.cleaned_data["partner"],
                year=int(form.cleaned_data["year"]), source=form.cleaned_data["source"],
                amount=form.cleaned_data["amount"], user=request.user)):
        messages.success(request, "Contribution saved")
        return redirect(f"{scheme.get_absolute_url()}?year={form.cleaned_data['year']}")
    return _form_page(request, form=form, title="Record a contribution",
                      button="Save contribution", back_url=scheme.get_absolute_url(),
                      caption=str(scheme))


def _contribution(request, pk: int, contribution_pk: int) -> Contribution:
    agreement = _agreement(request, pk, permissions.can_edit_budgets)
    contribution = get_object_or_404(
        Contribution.objects.select_related("scheme", "partner", "source"),
        pk=contribution_pk, scheme__agreement=agreement)
    contribution.scheme.agreement = agreement
    return contribution


@require_http_methods(["GET", "POST"])
def instalment_add(request: HttpRequest, pk: int, contribution_pk: int) -> HttpResponse:
    contribution = _contribution(request, pk, contribution_pk)
    form = forms.InstalmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _save(
            form, lambda: services.instalment_add(
                contribution=contribution, due_date=form.cleaned_data["due_date"],
                amount=form.cleaned_data["amount"], paid_date=form.cleaned_data["paid_date"],
                user=request.user)):
        messages.success(request, "Instalment added")
        return redirect(contribution.scheme)
    return _form_page(request, form=form, title="Add an instalment", button="Save instalment",
                      back_url=contribution.scheme.get_absolute_url(), caption=str(contribution))


@require_http_methods(["GET", "POST"])
def contribution_reduce(request: HttpRequest, pk: int, contribution_pk: int) -> HttpResponse:
    contribution = _contribution(request, pk, contribution_pk)
    agreement = contribution.scheme.agreement
    form = forms.ContributionReduceForm(request.POST or None,
                                        initial={"version": contribution.version})
    if request.method == "POST" and form.is_valid():
        result = {}
        if _save(form, lambda: result.setdefault("changes", services.contribution_reduce(
                contribution=contribution, new_amount=form.cleaned_data["new_amount"],
                decision=form.decision(), reason=form.cleaned_data["reason"],
                user=request.user, version=form.cleaned_data["version"]))):
            mirrored = len(result["changes"]) - 1
            messages.success(request, "Contribution reduced" + (
                f"; {mirrored} other contribution{'s' if mirrored != 1 else ''} reduced in "
                "parallel" if mirrored else ""))
            return redirect(contribution.scheme)
    intro = (f"{contribution.partner.name} contributes £{contribution.amount:,.2f} in "
             f"{contribution.year_label}.")
    if agreement.parallel_reduction:
        intro += (" This agreement has a parallel reduction clause: the other partners' "
                  "contributions to this scheme for the year will be reduced in the same "
                  "proportion.")
    return _form_page(request, form=form, title="Reduce a contribution",
                      button="Reduce contribution",
                      back_url=contribution.scheme.get_absolute_url(),
                      caption=str(contribution.scheme), intro=intro)


# --- Top-slices ------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def top_slice_create(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = _agreement(request, pk, permissions.can_edit_budgets)
    form = forms.TopSliceForm(request.POST or None, schemes=agreement.schemes.order_by("code"),
                              years=agreement.years)
    if request.method == "POST" and form.is_valid() and _save(
            form, lambda: services.top_slice_create(
                agreement=agreement, scheme=form.cleaned_data["scheme"],
                year=int(form.cleaned_data["year"]), name=form.cleaned_data["name"],
                percent=form.cleaned_data["percent"], user=request.user)):
        messages.success(request, "Top-slice added")
        return redirect(f"{agreement.get_absolute_url()}?year={form.cleaned_data['year']}")
    return _form_page(request, form=form, title="Hold back a top-slice", button="Save",
                      back_url=agreement.get_absolute_url(), caption=agreement.title)


@require_http_methods(["GET", "POST"])
def top_slice_draw(request: HttpRequest, pk: int, top_slice_pk: int) -> HttpResponse:
    agreement = _agreement(request, pk, permissions.can_edit_budgets)
    top_slice = get_object_or_404(TopSlice, pk=top_slice_pk, agreement=agreement)
    form = forms.DrawdownForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _save(
            form, lambda: services.top_slice_draw(
                top_slice=top_slice, amount=form.cleaned_data["amount"],
                purpose=form.cleaned_data["purpose"], decision=form.decision(),
                user=request.user)):
        messages.success(request, "Drawdown recorded")
        return redirect(f"{agreement.get_absolute_url()}?year={top_slice.year}")
    reserved = services.top_slice_reserved(top_slice)
    return _form_page(request, form=form, title=f"Draw down from {top_slice.name}",
                      button="Record drawdown", back_url=agreement.get_absolute_url(),
                      caption=agreement.title,
                      intro=f"£{reserved:,.2f} is reserved ({top_slice.percent}%) for "
                            f"{year_label(top_slice.year)}.")


# --- Contract funding ------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def contract_funding_add(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = _agreement(request, pk, permissions.can_link_contracts)

    contracts = Contract.objects.for_user(request.user).filter(
        partnership=agreement.partnership).order_by("reference")
    form = forms.ContractFundingForm(request.POST or None, contracts=contracts,
                                     schemes=agreement.schemes.order_by("code"),
                                     initial={"contract": request.GET.get("contract")})
    if request.method == "POST" and form.is_valid() and _save(
            form, lambda: services.contract_funding_set(
                contract=form.cleaned_data["contract"], scheme=form.cleaned_data["scheme"],
                source=form.cleaned_data["source"], basis=form.cleaned_data["basis"],
                amount=form.cleaned_data.get("amount"),
                share_percent=form.cleaned_data.get("share_percent"), user=request.user)):
        messages.success(request, "Contract funding saved")
        return redirect(form.cleaned_data["scheme"])
    return _form_page(request, form=form, title="Fund a contract from a scheme",
                      button="Save funding", back_url=agreement.get_absolute_url(),
                      caption=agreement.title)


# --- Actuals and months ----------------------------------------------------------------------

def _default_month(agreement: Section75Agreement, year: int) -> date:
    """Last month in the year, up to this month, that the agreement covers."""
    today = date.today().replace(day=1)
    months = [m for m in selectors.year_months(year) if agreement.covers_month(m)]
    earlier = [m for m in months if m <= today]
    return (earlier or months)[-1]


@require_http_methods(["GET", "POST"])
def actual_record(request: HttpRequest, pk: int, scheme_pk: int) -> HttpResponse:
    scheme = selectors.get_scheme_for_user(request.user, pk, scheme_pk)
    agreement = scheme.agreement
    if not permissions.can_edit_budgets(request.user, agreement):
        raise Http404
    year = selectors.parse_year(agreement, request.GET.get("year"))
    closed = set(agreement.month_closes.filter(is_closed=True).values_list("month", flat=True))
    initial = {}
    raw_month = request.GET.get("month")
    if raw_month:
        try:
            month = date.fromisoformat(raw_month)
        except ValueError:
            month = None
        existing = MonthlyActual.objects.filter(scheme=scheme, month=month).first() \
            if month else None
        if existing:
            initial = {"month": month.isoformat(), "actual": existing.actual,
                       "forecast_outturn": existing.forecast_outturn}
            year = financial_year_start(month)
    initial.setdefault("month", _default_month(agreement, year).isoformat())
    form = forms.ActualForm(request.POST or None, initial=initial, agreement=agreement,
                            closed=closed)
    if request.method == "POST" and form.is_valid() and _save(
            form, lambda: services.actual_record(
                scheme=scheme, month=form.cleaned_data["month"],
                actual=form.cleaned_data["actual"],
                forecast_outturn=form.cleaned_data["forecast_outturn"], user=request.user)):
        month = form.cleaned_data["month"]
        messages.success(request, f"Figures for {month_label(month)} saved")
        return redirect(f"{scheme.get_absolute_url()}?year={financial_year_start(month)}")
    return _form_page(request, form=form, title="Record actual spend and forecast",
                      button="Save figures", back_url=scheme.get_absolute_url(),
                      caption=str(scheme))


@require_http_methods(["GET", "POST"])
def months(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = _agreement(request, pk)
    if not permissions.can_close_months(request.user, agreement):
        raise Http404
    year = selectors.parse_year(agreement, request.GET.get("year"))
    error = None
    if request.method == "POST":
        try:
            month = date.fromisoformat(request.POST.get("month", ""))
            if request.POST.get("action") == "reopen":
                services.month_reopen(agreement=agreement, month=month, user=request.user)
                messages.success(request, f"{month_label(month)} reopened")
            else:
                services.month_close(agreement=agreement, month=month, user=request.user)
                messages.success(request, f"{month_label(month)} closed")
            year = financial_year_start(month)
            return redirect(f"{reverse('funding:months', args=[agreement.pk])}?year={year}")
        except ValueError:
            error = "Select a month"
        except ValidationError as exc:
            error = " ".join(exc.messages)
        except PermissionDenied as exc:
            raise Http404 from exc
    closes = {c.month: c for c in agreement.month_closes.select_related("closed_by")}
    rows = [(m, closes.get(m)) for m in selectors.year_months(year) if agreement.covers_month(m)]
    return render(request, "funding/months.html", {
        "agreement": agreement, "rows": rows, "year": year, "year_label": year_label(year),
        "years": [(y, year_label(y)) for y in agreement.years], "error": error,
        "year_closed": agreement.risk_share_outcomes.filter(year=year).exists(),
    }, status=400 if error else 200)


@require_http_methods(["GET", "POST"])
def year_end(request: HttpRequest, pk: int, year: int) -> HttpResponse:
    agreement = _agreement(request, pk, permissions.can_close_year)
    if year not in agreement.years:
        raise Http404
    form = forms.ConfirmForm(request.POST if request.method == "POST" else None)
    # is_valid() gives the (empty) form the cleaned_data that a service error is added to.
    if request.method == "POST" and form.is_valid() and _save(
            form, lambda: services.year_end_close(agreement=agreement, year=year,
                                                  user=request.user)):
        messages.success(request, f"{year_label(year)} closed and the risk share recorded")
        return redirect(f"{agreement.get_absolute_url()}?year={year}")
    page = selectors.agreement_page(agreement, year)
    return render(request, "funding/year_end.html", {
        "agreement": agreement, "page": page, "form": form, "year": year,
        "year_label": year_label(year),
    }, status=400 if form.errors else 200)


# --- Finance system import -------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = _agreement(request, pk, permissions.can_edit_budgets)
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            # One byte over the limit is enough for the size check to refuse the file.
            data = upload.read(settings.MAX_UPLOAD_BYTES + 1)
            finance_import = services.finance_import_preview(
                agreement=agreement, name=upload.name, data=data, user=request.user)
        except imports.UploadRefused as error:
            form.add_error("file", str(error))
        else:
            return redirect("funding:import_preview", pk=agreement.pk,
                            import_pk=finance_import.pk)
    return _form_page(request, form=form, title="Import actuals and forecasts",
                      button="Upload and check", back_url=agreement.get_absolute_url(),
                      caption=agreement.title, multipart=True,
                      intro="Every row is checked before anything is saved. You will see the "
                            "figures, or every problem with its row and column, before you "
                            "confirm.")


@require_http_methods(["GET", "POST"])
def import_preview(request: HttpRequest, pk: int, import_pk: int) -> HttpResponse:
    agreement = _agreement(request, pk, permissions.can_edit_budgets)
    finance_import = get_object_or_404(FinanceImport, pk=import_pk, agreement=agreement)
    form = forms.ConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            services.finance_import_cancel(finance_import=finance_import, user=request.user)
            messages.success(request, "Import cancelled. Nothing was saved")
            return redirect(agreement)
        saved = {}
        # is_valid() gives the (empty) form the cleaned_data that a service error is added to.
        if form.is_valid() and _save(form, lambda: saved.setdefault(
                "count", services.finance_import_confirm(finance_import=finance_import,
                                                         user=request.user))):
            messages.success(request, f"{saved['count']} rows of actuals and forecasts saved")
            return redirect(agreement)
        finance_import.refresh_from_db()
    rows = [{**row, "month": date.fromisoformat(row["month"])} for row in finance_import.rows]
    return render(request, "funding/import_preview.html", {
        "agreement": agreement, "finance_import": finance_import, "rows": rows,
        "form": form, "ready": finance_import.status == ImportStatus.READY,
    }, status=400 if form.errors or finance_import.status == ImportStatus.INVALID else 200)


# --- Statements and the BCF plan -------------------------------------------------------------

def _statement(request: HttpRequest, pk: int, year: int):
    agreement = _agreement(request, pk)
    if year not in agreement.years:
        raise Http404
    raw_quarter = request.GET.get("quarter")
    quarter = int(raw_quarter) if raw_quarter in ("1", "2", "3", "4") else None
    return agreement, selectors.statement(agreement, year, quarter)


def statement(request: HttpRequest, pk: int, year: int) -> HttpResponse:
    agreement, data = _statement(request, pk, year)
    return render(request, "funding/statement.html", {
        "agreement": agreement, "statement": data,
        "years": [(y, year_label(y)) for y in agreement.years],
    })


def statement_pdf(request: HttpRequest, pk: int, year: int) -> HttpResponse:
    agreement, data = _statement(request, pk, year)
    rendered = render_pdf("funding/pdf/statement.html", {
        "agreement": agreement, "statement": data, "document_title": data.title,
        "running_title": agreement.title, "running_period": data.title,
        "marking": "OFFICIAL", "service_name": "Joint commissioning",
    })
    name = f"pooled-fund-statement-{agreement.pk}-{year}" + (
        f"-q{data.quarter}" if data.quarter else "")
    return as_download(HttpResponse(rendered.content, content_type="application/pdf"),
                       f"{name}.pdf")


def bcf_plan(request: HttpRequest, pk: int, year: int) -> HttpResponse:
    agreement = _agreement(request, pk)
    if year not in agreement.years:
        raise Http404
    rows = selectors.bcf_plan(agreement, year)
    return render(request, "funding/bcf_plan.html", {
        "agreement": agreement, "rows": rows, "year": year, "year_label": year_label(year),
        "years": [(y, year_label(y)) for y in agreement.years],
        "columns": selectors.BCF_COLUMNS,
        "total": sum((r.amount for r in rows), services.ZERO),
    })


def bcf_plan_export(request: HttpRequest, pk: int, year: int, fmt: str) -> HttpResponse:
    agreement = _agreement(request, pk)
    if year not in agreement.years or fmt not in ("csv", "xlsx"):
        raise Http404
    rows = (r.cells() for r in selectors.bcf_plan(agreement, year))
    name = f"bcf-plan-{agreement.pk}-{year}.{fmt}"
    if fmt == "csv":
        return csv_response(name, selectors.BCF_COLUMNS, rows)
    return xlsx_response(name, selectors.BCF_COLUMNS, rows, sheet_title="Expenditure plan")


@require_POST
def contract_funding_remove(request: HttpRequest, pk: int, scheme_pk: int,
                            allocation_pk: int) -> HttpResponse:
    scheme = selectors.get_scheme_for_user(request.user, pk, scheme_pk)
    if not permissions.can_link_contracts(request.user, scheme.agreement):
        raise Http404
    allocation = get_object_or_404(scheme.contract_allocations, pk=allocation_pk)
    services.contract_funding_remove(allocation=allocation, user=request.user)
    messages.success(request, "Contract funding removed")
    return redirect(scheme)

