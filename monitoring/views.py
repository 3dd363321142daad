"""Monitoring views: the dashboard."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from commissioning import access
from monitoring.selectors import dashboard_for_user


def dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "monitoring/dashboard.html",
        {
            "dashboard": dashboard_for_user(user=request.user),
            "is_commissioner": access.is_commissioner_side(request.user),
            "is_provider": access.is_provider_user(request.user),
            "can_manage_people": access.can_manage_people(request.user),
        },
    )
