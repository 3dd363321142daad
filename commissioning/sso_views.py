"""Views of single sign-on: the organisation sign-in page and the provider's callback.

The rules live in ``commissioning/sso.py``; these pages ask, call it, and explain refusals.
"""

from __future__ import annotations

import logging

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from commissioning import forms, sign_in_log, sso
from commissioning.models import SignInMethod

logger = logging.getLogger(__name__)

# A provider that cannot be reached is not the person's doing: it is logged but not counted
# towards their lock-out.
_NOT_COUNTED = frozenset({"provider_unavailable"})


def _safe_next(request: HttpRequest, value: str) -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()},
                                                 require_https=request.is_secure()):
        return value
    return ""


def _locked_out(request: HttpRequest) -> HttpResponse:
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, status=429)


def _refused(request: HttpRequest, refusal: sso.Refusal) -> HttpResponse:
    logger.warning("Single sign-on refused (%s) for %r at %s: %s", refusal.reason,
                   refusal.email, refusal.provider, refusal.detail)
    sign_in_log.record(request, method=SignInMethod.SSO, succeeded=False,
                       outcome=refusal.reason.replace("_", " "), email=refusal.email,
                       provider=refusal.provider)
    if refusal.reason not in _NOT_COUNTED:
        sign_in_log.count_failure(request, email=refusal.email)
    # Bad input from the browser or the provider: a 400 page that says what happened (a 403
    # would suggest the person lacks a permission they could be given).
    status = 503 if refusal.reason == "provider_unavailable" else 400
    return render(request, "registration/sso_refused.html", {
        "refusal": refusal,
        "password_allowed": sso.password_allowed_for(refusal.provider),
    }, status=status)


@login_not_required
@require_http_methods(["GET", "POST"])
def organisation_sign_in(request: HttpRequest) -> HttpResponse:
    """Ask for the e-mail address and send the person to their organisation's provider."""
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next") or "")
    if request.user.is_authenticated:
        return HttpResponseRedirect(next_url or reverse("dashboard"))
    form = forms.OrganisationSignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        provider = sso.provider_for_email(email)
        if provider is None:
            form.add_error("email", "Your organisation does not sign in to this service with "
                           "its own account. Sign in with your email address and password")
        elif not AxesProxyHandler.is_allowed(request, {"username": email}):
            return _locked_out(request)
        else:
            try:
                response = HttpResponseRedirect(sso.start(request, provider, email=email,
                                                          next_url=next_url))
                response._csp_update = {"form-action": sso.sign_in_origins()}
                return response
            except sso.Refusal as refusal:
                refusal.provider = refusal.provider or provider
                refusal.email = email
                return _refused(request, refusal)
    response = render(request, "registration/sso_sign_in.html",
                      {"form": form, "next": next_url},
                      status=400 if form.errors else 200)
    # The form's answer redirects to the provider: the page's form-action must allow it.
    response._csp_update = {"form-action": sso.sign_in_origins()}
    return response


@login_not_required
@require_GET
def organisation_callback(request: HttpRequest) -> HttpResponse:
    """Where the provider sends the person back: check its answer, then sign them in."""
    try:
        signed_in = sso.finish(request)
    except sso.Refusal as refusal:
        return _refused(request, refusal)
    if not AxesProxyHandler.is_allowed(request, {"username": signed_in.user.email}):
        return _locked_out(request)
    sso.sign_in(request, signed_in)
    return redirect(_safe_next(request, signed_in.next_url) or "dashboard")
