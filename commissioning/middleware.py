"""Request middleware: the organisation a signed-in user is acting as."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

from commissioning.access import current_roles, set_current_organisation

SESSION_KEY = "current_organisation_id"


class CurrentOrganisationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        request.organisation = None
        request.roles = frozenset()
        if user.is_authenticated:
            wanted = request.session.get(SESSION_KEY)
            organisation = set_current_organisation(user, wanted)
            request.organisation = organisation
            request.roles = current_roles(user)
            if organisation and organisation.pk != wanted:
                request.session[SESSION_KEY] = organisation.pk
        return self.get_response(request)


# Browser features the service never uses, switched off for every page (and anything framed
# or injected into one).
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "autoplay", "camera", "display-capture", "encrypted-media",
    "geolocation", "gyroscope", "hid", "magnetometer", "microphone", "midi", "payment",
    "picture-in-picture", "publickey-credentials-get", "screen-wake-lock", "serial",
    "usb", "xr-spatial-tracking"))


class PrivateResponsesMiddleware:
    """Headers every response gets, in one place.

    ``Permissions-Policy`` on everything. ``Cache-Control: private, no-store`` on every
    response to a signed-in person and on every download, so no shared cache or the browser's
    disk keeps contract, budget or return data (a shared computer in a council office, a
    proxy). Static files (answered by WhiteNoise, no user) keep their long cache lifetimes.
    First in MIDDLEWARE, so it sees every response, including those answered early.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        signed_in = bool(user is not None and user.is_authenticated)
        download = response.get("Content-Disposition", "").lower().startswith("attachment")
        if signed_in or download:
            patch_cache_control(response, private=True, no_store=True)
        return response


SESSION_REFRESHED_KEY = "_idle_refreshed_at"


class SlidingSessionMiddleware:
    """The idle sign-out without writing the session row on every request.

    The row's expiry (``SESSION_COOKIE_AGE`` from its last save) is pushed forward only when it
    was last pushed more than ``SESSION_REFRESH_SECONDS`` ago; ``SESSION_COOKIE_AGE`` is the
    idle time plus that interval, so a person is signed out between ``SESSION_IDLE_MINUTES``
    and ``SESSION_IDLE_MINUTES`` plus one interval after their last request, never earlier.
    Sits after SessionMiddleware, which saves the session this marks as changed."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or session.is_empty():
            return response
        now = int(time.time())
        # A session changed by the request is saved (and its expiry pushed) anyway: note when.
        if session.modified or (now - session.get(SESSION_REFRESHED_KEY, 0)
                                >= settings.SESSION_REFRESH_SECONDS):
            session[SESSION_REFRESHED_KEY] = now
        return response
