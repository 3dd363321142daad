"""Core views: sign-in, invitations, organisation switching, people, history, static pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_http_methods, require_POST

from commissioning import access, forms, history, services
from commissioning.middleware import SESSION_KEY
from commissioning.models import Invitation

# --- Sign-in --------------------------------------------------------------------------------

class SignInView(auth_views.LoginView):
    form_class = forms.SignInForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    pass


@method_decorator(login_not_required, name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    form_class = forms.PasswordResetRequestForm
    template_name = "registration/password_reset_form.html"
    email_template_name = "emails/password_reset.txt"
    subject_template_name = "emails/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        # Build links to the public address, not to whatever host the request came in on.
        self.extra_email_context = {"site_url": settings.SITE_URL,
                                    "service_name": settings.SERVICE_NAME}
        return super().form_valid(form)


@method_decorator(login_not_required, name="dispatch")
class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


@method_decorator(login_not_required, name="dispatch")
class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = forms.NewPasswordForm
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")


@method_decorator(login_not_required, name="dispatch")
class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = forms.ChangePasswordForm
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("account")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password has been changed")
        return response


def account(request: HttpRequest) -> HttpResponse:
    memberships = access.active_memberships(request.user)
    return render(request, "commissioning/account.html", {"memberships": memberships})


# --- Invitations ----------------------------------------------------------------------------

@login_not_required
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_for_token(token)
    except services.InvitationError as error:
        return render(
            request, "registration/invitation_invalid.html", {"message": str(error)}, status=410
        )
    form = forms.AcceptInvitationForm(
        request.POST or None, email=invitation.email, full_name=invitation.full_name
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                token=token, password=form.cleaned_data["new_password1"]
            )
        except services.InvitationError as error:
            return render(
                request, "registration/invitation_invalid.html", {"message": str(error)},
                status=410,
            )
        auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        request.session[SESSION_KEY] = invitation.organisation_id
        messages.success(request, "Your account has been created")
        return redirect("dashboard")
    return render(
        request, "registration/invitation_accept.html", {"form": form, "invitation": invitation}
    )


# --- Organisation switching -----------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def switch_organisation(request: HttpRequest) -> HttpResponse:
    organisations = access.user_organisations(request.user)
    error = None
    if request.method == "POST":
        raw = request.POST.get("organisation", "")
        chosen = next((o for o in organisations if str(o.pk) == raw), None)
        if chosen is None:
            error = "Select an organisation you belong to"
        else:
            request.session[SESSION_KEY] = chosen.pk
            messages.success(request, f"You are now working as {chosen.name}")
            return redirect("dashboard")
    return render(
        request,
        "commissioning/switch_organisation.html",
        {"organisations": organisations, "error": error},
        status=400 if error else 200,
    )


# --- Partnerships and people ----------------------------------------------------------------

def partnership_list(request: HttpRequest) -> HttpResponse:
    partnerships = access.partnerships_for_user(request.user).prefetch_related(
        "members__organisation"
    )
    return render(request, "commissioning/partnership_list.html", {"partnerships": partnerships})


def partnership_detail(request: HttpRequest, pk: int) -> HttpResponse:
    partnership = access.get_partnership_for_user(request.user, pk)
    members = partnership.members.select_related("organisation").order_by("organisation__name")
    return render(
        request,
        "commissioning/partnership_detail.html",
        {"partnership": partnership, "members": members},
    )


def people(request: HttpRequest) -> HttpResponse:
    memberships = (
        access.memberships_visible_to(request.user)
        .select_related("user", "organisation")
        .order_by("organisation__name", "user__full_name", "role")
    )
    invitations = []
    if access.can_manage_people(request.user):
        invitations = (
            Invitation.objects.pending()
            .filter(organisation__in=access.organisations_user_can_invite_to(request.user))
            .select_related("organisation", "invited_by")
        )
    return render(
        request,
        "commissioning/people.html",
        {"memberships": memberships, "invitations": invitations,
         "can_invite": access.can_manage_people(request.user)},
    )


@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest) -> HttpResponse:
    if not access.can_manage_people(request.user):
        raise Http404
    form = forms.InvitationForm(
        request.POST or None, organisations=access.organisations_user_can_invite_to(request.user)
    )
    if request.method == "POST" and form.is_valid():
        result = services.invitation_create(invited_by=request.user, **form.cleaned_data)
        if isinstance(result, Invitation):
            messages.success(request, f"Invitation sent to {result.email}")
        else:
            messages.success(request, f"{result.user} now has access to {result.organisation}")
        return redirect("people")
    return render(request, "commissioning/invite.html", {"form": form})


@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(
        Invitation.objects.pending().filter(
            organisation__in=access.organisations_user_can_invite_to(request.user)
        ),
        pk=pk,
    )
    services.invitation_revoke(invitation=invitation)
    messages.success(request, f"Invitation for {invitation.email} revoked")
    return redirect("people")


# --- History --------------------------------------------------------------------------------

def object_history(request: HttpRequest, label: str, pk: int) -> HttpResponse:
    queryset = history.visible_queryset(label, request.user)
    if queryset is None:
        raise Http404
    obj = get_object_or_404(queryset, pk=pk)
    return render(
        request,
        "commissioning/history.html",
        {"object": obj, "entries": history.history_entries(obj),
         "back_url": obj.get_absolute_url() if hasattr(obj, "get_absolute_url") else None},
    )


# --- Public pages ---------------------------------------------------------------------------

@login_not_required
def accessibility_statement(request: HttpRequest) -> HttpResponse:
    return render(request, "commissioning/accessibility.html")


@login_not_required
def healthcheck(request: HttpRequest) -> JsonResponse:
    """For load balancers: the app is up and can reach its database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any database error means "not healthy"
        return JsonResponse({"status": "database unavailable"}, status=503)
    return JsonResponse({"status": "ok"})

