"""The API reads and never writes: any other method is a 405 before a view runs."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission

from commissioning import access


class ReadOnlyForSignedIn(BasePermission):
    def has_permission(self, request, view) -> bool:
        if request.method not in SAFE_METHODS:
            raise exceptions.MethodNotAllowed(request.method)
        return bool(request.user and request.user.is_authenticated)


def can_switch_api_access(user) -> bool:
    """Who turns an organisation's API access (tokens and calendar links) off or on: the
    people who manage its people (its partnership administrators, a provider's approvers,
    platform administrators), acting for it."""
    return access.can_manage_people(user) and access.current_organisation(user) is not None
