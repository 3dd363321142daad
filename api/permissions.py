"""The API reads and never writes: any other method is a 405 before a view runs."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission


class ReadOnlyForSignedIn(BasePermission):
    def has_permission(self, request, view) -> bool:
        if request.method not in SAFE_METHODS:
            raise exceptions.MethodNotAllowed(request.method)
        return bool(request.user and request.user.is_authenticated)
