"""Every refusal of the API as JSON: ``{"status": 400, "code": "...", "detail": ...}``."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.views import exception_handler


def json_exception_handler(exc, context):
    if isinstance(exc, (Http404, PermissionDenied)):
        exc = exceptions.NotFound("Not found: there is nothing here you can see.")
    response = exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and set(data) == {"detail"}:
        detail = data["detail"]
        code = getattr(detail, "code", None) or exc.default_code
    else:
        detail, code = data, "invalid"
    response.data = {"status": response.status_code, "code": str(code), "detail": detail}
    return response
