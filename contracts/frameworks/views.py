"""Framework views: thin. Parse input, call one service, render or redirect.

Commissioner-side pages find frameworks through ``Framework.objects.for_user`` (via the
selectors) and change pages also need ``permissions.can_edit_framework``; providers reach
frameworks only through their own applications. Anything a user may not see is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from commissioning import access
from commissioning.models import Organisation
from contracts import permissions
from contracts.forms import add_service_errors
from contracts.frameworks import selectors, services
from contracts.frameworks.forms import (
    ApplyForm,
    CallOffForm,
    EvaluationForm,
    FrameworkForm,
    LotForm,
    WindowForm,
)
from contracts.frameworks.models import ApplicationDecision, Framework, Lot, LotStatus
from contracts.models import CommissioningShare

TEMPLATES = "contracts/frameworks/"


def _form_page(request, *, form, title: str, button: str, back_url: str, caption: str = "",
               intro: str = "", template: str = "form.html", **extra) -> HttpResponse:
    return render(request, TEMPLATES + template, {
        "form": form, "title": title, "button": button, "back_url": back_url,
        "caption": caption, "intro": intro, **extra,
    })


def _editable_framework(request: HttpRequest, pk: int) -> Framework:
    framework = selectors.get_framework_for_user(request.user, pk)
    if not permissions.can_edit_framework(request.user, framework):
        raise Http404
    return framework


def _editable_lot(request: HttpRequest, pk: int, lot_pk: int) -> Lot:
    lot = selectors.get_lot_for_user(request.user, pk, lot_pk)
    if not permissions.can_edit_framework(request.user, lot.framework):
        raise Http404
    return lot


def _commissioners_for(user):
    """Commissioning organisations in the partnerships the user may set frameworks up for."""
    return Organisation.objects.commissioners().filter(
        partnership_memberships__partnership__in=access.partnerships_for_user(user)
    ).distinct().order_by("name")


# --- Lists -----------------------------------------------------------------------------------

@require_http_methods(["GET"])
def framework_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    if permissions.can_apply_to_frameworks(request.user):
        return render(request, TEMPLATES + "provider_list.html", {
            "open_frameworks": selectors.frameworks_open_for_applications(
                request.user, today=today),
            "applications": selectors.own_applications(request.user),
            "organisation": access.current_organisation(request.user),
            "today": today,
        })
    return render(request, TEMPLATES + "list.html", {
        "frameworks": selectors.framework_list(user=request.user),
        "can_create": permissions.can_create_framework(request.user),
    })


# --- Frameworks ------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def framework_create(request: HttpRequest) -> HttpResponse:
    if not permissions.can_create_framework(request.user):
        raise Http404
    kwargs = {"partnerships": access.partnerships_for_user(request.user).order_by("name"),
              "commissioners": _commissioners_for(request.user)}
    form = FrameworkForm(request.POST or None, **kwargs)
    if request.method == "POST" and form.is_valid():
        try:
            framework = services.framework_create(data=form.framework_input(),
                                                  created_by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Framework {framework.reference} set up")
            return redirect(framework)
    return _form_page(request, form=form, title="Set up a framework", button="Set up framework",
                      back_url=reverse("contracts:framework_list"))


@require_http_methods(["GET", "POST"])
def framework_edit(request: HttpRequest, pk: int) -> HttpResponse:
    framework = _editable_framework(request, pk)
    commissioners = Organisation.objects.commissioners().filter(
        partnership_memberships__partnership=framework.partnership).order_by("name")
    if request.method == "POST":
        form = FrameworkForm(request.POST, partnerships=None, commissioners=commissioners,
                             editing=True)
        if form.is_valid():
            try:
                services.framework_update(framework=framework,
                                          data=form.framework_input(framework.partnership),
                                          updated_by=request.user)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Framework details saved")
                return redirect(framework)
    else:
        parties = list(framework.party_rows.all())
        initial = {name: getattr(framework, name) for name in (
            "reference", "title", "description", "start_date", "initial_term_months",
            "extension_months", "estimated_total_value", "open_to_new_providers",
            "call_off_rules", "status")}
        initial["parties"] = [p.organisation_id for p in parties]
        initial["lead"] = next((p.organisation_id for p in parties if p.is_lead), None)
        form = FrameworkForm(initial=initial, partnerships=None, commissioners=commissioners,
                             editing=True)
    return _form_page(request, form=form, title="Change framework details",
                      button="Save changes", back_url=framework.get_absolute_url(),
                      caption=str(framework))


@require_http_methods(["GET"])
def framework_detail(request: HttpRequest, pk: int) -> HttpResponse:
    framework = selectors.get_framework_for_user(request.user, pk)
    today = timezone.localdate()
    return render(request, TEMPLATES + "detail.html", {
        "framework": framework,
        "overview": selectors.framework_overview(framework, today=today, user=request.user),
        "can_edit": permissions.can_edit_framework(request.user, framework),
        "today": today,
    })


# --- Lots ------------------------------------------------------------------------------------

@require_http_methods(["GET"])
def lot_detail(request: HttpRequest, pk: int, lot_pk: int) -> HttpResponse:
    lot = selectors.get_lot_for_user(request.user, pk, lot_pk)
    call_offs = list(lot.call_offs.select_related("contract__provider")
                     .prefetch_related(Prefetch("contract__shares", queryset=CommissioningShare
                                                .objects.select_related("organisation")))
                     .order_by("called_off_on", "pk"))
    selectors.mark_openable(call_offs, request.user)
    return render(request, TEMPLATES + "lot_detail.html", {
        "lot": lot, "framework": lot.framework,
        "applications": lot.applications.select_related("provider").order_by(
            "provider__name", "pk"),
        "call_offs": call_offs,
        "can_edit": permissions.can_edit_framework(request.user, lot.framework),
    })


@require_http_methods(["GET", "POST"])
def lot_create(request: HttpRequest, pk: int) -> HttpResponse:
    framework = _editable_framework(request, pk)
    next_number = (framework.lots.order_by("-number").values_list("number", flat=True)
                   .first() or 0) + 1
    form = LotForm(request.POST or None, initial={"number": next_number, "status": "active"})
    if request.method == "POST" and form.is_valid():
        try:
            lot = services.lot_create(framework=framework, data=form.lot_input(),
                                      created_by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Lot {lot.number} added")
            return redirect(lot)
    return _form_page(request, form=form, title="Add a lot", button="Add lot",
                      back_url=framework.get_absolute_url(), caption=str(framework))


@require_http_methods(["GET", "POST"])
def lot_edit(request: HttpRequest, pk: int, lot_pk: int) -> HttpResponse:
    lot = _editable_lot(request, pk, lot_pk)
    initial = {n: getattr(lot, n) for n in ("number", "title", "description",
                                            "provider_skills", "outcomes", "status")}
    form = LotForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.lot_update(lot=lot, data=form.lot_input(), updated_by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Lot details saved")
            return redirect(lot)
    return _form_page(request, form=form, title=f"Change lot {lot.number}",
                      button="Save changes", back_url=lot.get_absolute_url(),
                      caption=str(lot.framework),
                      intro="This lot is withdrawn. Choosing a status here reinstates it."
                      if lot.status == LotStatus.WITHDRAWN else "")


@require_http_methods(["GET", "POST"])
def lot_withdraw(request: HttpRequest, pk: int, lot_pk: int) -> HttpResponse:
    lot = _editable_lot(request, pk, lot_pk)
    error = ""
    if request.method == "POST":
        try:
            services.lot_withdraw(lot=lot, withdrawn_by=request.user)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, f"Lot {lot.number} withdrawn")
            return redirect(lot)
    return render(request, TEMPLATES + "lot_withdraw.html", {
        "lot": lot, "framework": lot.framework, "error": error,
    })


# --- Procurement windows ---------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def windows(request: HttpRequest, pk: int) -> HttpResponse:
    framework = selectors.get_framework_for_user(request.user, pk)
    can_edit = permissions.can_edit_framework(request.user, framework)
    if request.method == "POST" and not can_edit:
        raise Http404
    form = WindowForm(request.POST or None) if can_edit else None
    if request.method == "POST" and form.is_valid():
        try:
            services.window_add(framework=framework, opens=form.cleaned_data["opens"],
                                closes=form.cleaned_data["closes"], added_by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Procurement window added")
            return redirect("contracts:framework_windows", pk=framework.pk)
    today = timezone.localdate()
    all_windows = list(framework.windows.all())
    return render(request, TEMPLATES + "windows.html", {
        "framework": framework, "form": form, "windows": all_windows, "today": today,
        "state": selectors.window_state(all_windows, today), "can_edit": can_edit,
    })


# --- Provider applications -------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def provider_apply(request: HttpRequest, pk: int) -> HttpResponse:
    if not permissions.can_apply_to_frameworks(request.user):
        raise Http404
    today = timezone.localdate()
    framework = selectors.get_framework_for_provider(request.user, pk, today=today)
    organisation = access.current_organisation(request.user)
    form = ApplyForm(request.POST or None, framework=framework)
    if request.method == "POST" and form.is_valid():
        try:
            applications = services.provider_apply(
                provider=organisation, lots=list(form.cleaned_data["lots"]),
                applied_by=request.user, today=today)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            numbers = ", ".join(str(a.lot.number) for a in applications)
            plural = "s" if len(applications) > 1 else ""
            messages.success(request, f"Application sent for lot{plural} {numbers}")
            return redirect("contracts:framework_list")
    all_windows = list(framework.windows.all())
    return _form_page(
        request, form=form, title=f"Apply to join {framework.title}", button="Send application",
        back_url=reverse("contracts:framework_list"), caption=framework.reference,
        template="apply.html", framework=framework,
        lots=framework.lots.exclude(status=LotStatus.WITHDRAWN),
        state=selectors.window_state(all_windows, today), organisation=organisation,
        accepting=services.accepts_new_providers(framework),
        own=selectors.own_applications(request.user).filter(lot__framework=framework),
    )


@require_http_methods(["GET"])
def application_list(request: HttpRequest, pk: int) -> HttpResponse:
    framework = selectors.get_framework_for_user(request.user, pk)
    return render(request, TEMPLATES + "applications.html", {
        "framework": framework,
        "applications": selectors.framework_applications(framework),
        "can_edit": permissions.can_edit_framework(request.user, framework),
    })


@require_http_methods(["GET"])
def application_detail(request: HttpRequest, application_pk: int) -> HttpResponse:
    application = selectors.get_application_for_user(request.user, application_pk)
    framework = application.lot.framework
    is_provider = access.is_provider_user(request.user)
    back_url = (reverse("contracts:framework_list") if is_provider
                else reverse("contracts:application_list", args=[framework.pk]))
    return render(request, TEMPLATES + "application_detail.html", {
        "application": application, "framework": framework, "back_url": back_url,
        "can_evaluate": not is_provider
        and permissions.can_edit_framework(request.user, framework)
        and application.decision == ApplicationDecision.PENDING,
    })


@require_http_methods(["GET", "POST"])
def application_evaluate(request: HttpRequest, application_pk: int) -> HttpResponse:
    if access.is_provider_user(request.user):
        raise Http404
    application = selectors.get_application_for_user(request.user, application_pk)
    framework = application.lot.framework
    if not permissions.can_edit_framework(request.user, framework):
        raise Http404
    form = EvaluationForm(request.POST or None,
                          initial={"evaluated_on": timezone.localdate(),
                                   "submitted_on": application.submitted_on})
    if request.method == "POST" and form.is_valid():
        c = form.cleaned_data
        try:
            services.application_decide(
                application=application, criteria_met=c["evaluation"] == "met",
                notes=c["evaluation_notes"], evaluated_on=c["evaluated_on"],
                admit=c["decision"] == "admit",
                agreement_date=c.get("framework_agreement_date"), decided_by=request.user,
                submitted_on=c.get("submitted_on"))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{application.provider.display_name}: application "
                                      "decided")
            return redirect("contracts:application_list", pk=framework.pk)
    return _form_page(
        request, form=form, title="Evaluate the application", button="Record decision",
        back_url=reverse("contracts:application_detail", args=[application.pk]),
        caption=f"{application.provider.name}, {application.lot}",
        intro="A light-touch evaluation: is the provider viable and robust, with the "
              "experience the lot needs?",
    )


# --- Call-offs -------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def call_off_create(request: HttpRequest, pk: int, lot_pk: int) -> HttpResponse:
    lot = _editable_lot(request, pk, lot_pk)
    framework = lot.framework
    admitted = selectors.admitted_providers(lot)
    parties = [p.organisation for p in framework.party_rows.select_related("organisation")
               .order_by("organisation__name")]
    form = CallOffForm(request.POST or None, lot=lot, admitted=admitted, parties=parties,
                       initial={"service_area": "adult_social_care"})
    if request.method == "POST" and form.is_valid():
        try:
            call_off = services.call_off_create(data=form.call_off_input(),
                                                created_by=request.user)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"Service called off. Contract "
                                      f"{call_off.contract.reference} added to the register")
            return redirect(call_off)
    return _form_page(
        request, form=form, title=f"Call off from lot {lot.number}", button="Call off",
        back_url=lot.get_absolute_url(), caption=str(framework), template="call_off_form.html",
        lot=lot, framework=framework,
    )


@require_http_methods(["GET"])
def call_off_detail(request: HttpRequest, call_off_pk: int) -> HttpResponse:
    call_off = selectors.get_call_off_for_user(request.user, call_off_pk)
    return render(request, TEMPLATES + "call_off_detail.html", {
        "call_off": call_off, "lot": call_off.lot, "framework": call_off.lot.framework,
        "contract": call_off.contract,
    })
