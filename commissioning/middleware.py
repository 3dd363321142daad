"""Request middleware: the organisation a signed-in user is acting as."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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
