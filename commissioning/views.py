"""Core views: sign-in, invitations, organisation switching, people, history, static pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods, require_POST

from commissioning import access, forms, history, services, sso, two_factor
from commissioning.middleware import SESSION_KEY
from commissioning.models import Invitation, Organisation

# --- Sign-in --------------------------------------------------------------------------------

class SignInView(auth_views.LoginView):
    form_class = forms.SignInForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["end_session_url"] = self.request.session.pop(sso.END_SESSION_SESSION_KEY, "")
        return context


class SignOutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        # Read before the session ends: a person who signed in through their organisation's
        # account is offered, on the sign-in page, to end that session too (a shared
        # computer, a leaver's last day).
        end_session_url = sso.end_session_url(request)
        response = super().post(request, *args, **kwargs)
        if end_session_url:
            request.session[sso.END_SESSION_SESSION_KEY] = end_session_url
        return response


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
    return render(request, "commissioning/account.html", {
        "memberships": memberships,
        "two_factor_on": two_factor.has_second_factor(request.user),
        "two_factor_required": two_factor.is_required(request.user),
        "backup_codes_left": two_factor.remaining_backup_codes(request.user),
    })


# --- Two-factor sign-in ----------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    # Someone who already has a second factor must prove it before replacing it: a password
    # alone never lets anyone swap the authenticator.
    if two_factor.has_second_factor(user) and not user.is_verified():
        return redirect("two_factor_verify")
    device = two_factor.pending_app_device(user)
    form = forms.TwoFactorCodeForm(
        request.POST or None, label="Enter the 6-digit code from your authenticator app"
    )
    if request.method == "POST" and form.is_valid():
        codes = two_factor.confirm_app_device(request=request,
                                              token=form.cleaned_data["otp_token"])
        if codes is not None:
            request.session.pop(two_factor.NOT_NEEDED_SESSION_KEY, None)
            return render(request, "commissioning/two_factor_backup_codes.html",
                          {"codes": codes, "first_time": True})
        form.add_error("otp_token", "The code is not correct. Check the time on your phone "
                       "is set automatically and enter the newest code")
    return render(request, "commissioning/two_factor_setup.html", {
        "form": form, "qr_svg": two_factor.qr_code_svg(device),
        "secret": two_factor.readable_secret(device),
        "required": two_factor.is_required(user),
    })


@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        next_url = reverse("dashboard")
    # HttpResponseRedirect, not redirect(): "next" is a URL, never a view name to reverse.
    if request.user.is_verified() or not two_factor.has_second_factor(request.user):
        return HttpResponseRedirect(next_url)
    form = forms.TwoFactorCodeForm(
        request.POST or None, label="Security code",
        hint="The 6-digit code from your authenticator app, or one of your backup codes.",
    )
    if request.method == "POST" and form.is_valid():
        if two_factor.verify(request=request, token=form.cleaned_data["otp_token"]):
            return HttpResponseRedirect(next_url)
        form.add_error("otp_token", "The security code is not correct or has expired. "
                       "Enter the newest code from your app, or a backup code")
    return render(request, "commissioning/two_factor_verify.html",
                  {"form": form, "next": next_url})


@require_POST
def two_factor_backup_codes(request: HttpRequest) -> HttpResponse:
    if not request.user.is_verified():
        raise Http404
    codes = two_factor.regenerate_backup_codes(user=request.user)
    return render(request, "commissioning/two_factor_backup_codes.html",
                  {"codes": codes, "first_time": False})


@require_http_methods(["GET", "POST"])
def two_factor_remove(request: HttpRequest) -> HttpResponse:
    """Turn off two-factor sign-in, after an "Are you sure" page."""
    if two_factor.is_required(request.user) or not request.user.is_verified():
        raise Http404
    if request.method == "GET":
        return render(request, "commissioning/two_factor_remove.html")
    two_factor.remove(user=request.user)
    messages.success(request, "Two-factor sign-in has been turned off")
    return redirect("account")


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
    if services.invitation_has_account(invitation):
        return _invitation_for_an_account(request, token, invitation)
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


def _invitation_for_an_account(request: HttpRequest, token: str,
                               invitation: Invitation) -> HttpResponse:
    """An invitation to someone who has an account: they accept it signed in as that account,
    by pressing a button. Nothing is granted by opening the link or by the inviter."""
    user = request.user
    is_theirs = user.is_authenticated and user.email.lower() == invitation.email.lower()
    if request.method == "POST" and is_theirs:
        try:
            services.invitation_accept_as(token=token, user=user)
        except services.InvitationError as error:
            return render(request, "registration/invitation_invalid.html",
                          {"message": str(error)}, status=410)
        request.session[SESSION_KEY] = invitation.organisation_id
        messages.success(request, f"You now have access to {invitation.organisation}")
        return redirect("dashboard")
    sign_in_url = f"{reverse('login')}?{urlencode({'next': request.path})}"
    return render(request, "registration/invitation_existing_account.html", {
        "invitation": invitation, "is_theirs": is_theirs, "sign_in_url": sign_in_url,
    })


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
    editable = set(access.organisations_user_can_invite_to(request.user)
                   .filter(pk__in=[m.organisation_id for m in members])
                   .values_list("pk", flat=True))
    return render(
        request,
        "commissioning/partnership_detail.html",
        {"partnership": partnership, "members": members, "editable": editable},
    )


@require_http_methods(["GET", "POST"])
def organisation_details(request: HttpRequest, pk: int) -> HttpResponse:
    """Change an organisation's identifiers, address and contact point (what Find a Tender
    and the OCDS feed carry). Only whoever manages its people may; others get a 404."""
    organisation = get_object_or_404(Organisation, pk=pk)
    if not access.can_edit_organisation(request.user, organisation):
        raise Http404
    form = forms.OrganisationDetailsForm(request.POST or None, instance=organisation)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"{organisation.name}'s details saved")
        return redirect("organisation_details", pk=organisation.pk)
    return render(request, "commissioning/organisation_details.html",
                  {"organisation": organisation, "form": form})


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
        try:
            invitation = services.invitation_create(invited_by=request.user,
                                                    **form.cleaned_data)
        except services.InvitationError as error:
            form.add_error("role", str(error))
        else:
            messages.success(request, f"Invitation sent to {invitation.email}")
            return redirect("people")
    return render(request, "commissioning/invite.html", {"form": form})


@require_http_methods(["GET", "POST"])
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke a pending invitation, after an "Are you sure" page."""
    invitation = get_object_or_404(
        Invitation.objects.pending().filter(
            organisation__in=access.organisations_user_can_invite_to(request.user)
        ),
        pk=pk,
    )
    if request.method == "GET":
        return render(request, "commissioning/invitation_revoke.html",
                      {"invitation": invitation})
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

