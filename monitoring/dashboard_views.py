"""The lists behind the dashboard's bounded sections ("Showing the 20 soonest of 3,287"):
every item, a page at a time."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from contracts.models import Contract
from contracts.notices import OutstandingNotices
from contracts.selectors import DueAlerts
from monitoring.dashboard import shows_contracts

NOTICES_PAGE_SIZE = 50
KEY_DATES_PAGE_SIZE = 50


def notices_due(request: HttpRequest) -> HttpResponse:
    """Every transparency notice the user's contracts owe and that is not yet recorded as
    published, soonest first (the dashboard shows the first 20)."""
    if not shows_contracts(request.user):
        raise Http404
    due = OutstandingNotices(Contract.objects.for_user(request.user))
    page = Paginator(due, NOTICES_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "monitoring/notices_due.html", {
        "notices": page.object_list, "page_obj": page,
        "count": page.paginator.count,
    })


def key_dates(request: HttpRequest) -> HttpResponse:
    """Every contract key date that needs attention on the user's contracts (ends within
    18/12/6/3 months, standstill ends, reviews, extension decisions), soonest first (the
    dashboard shows the first 20)."""
    if not shows_contracts(request.user):
        raise Http404
    due = DueAlerts(Contract.objects.for_user(request.user), today=timezone.localdate())
    page = Paginator(due, KEY_DATES_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "monitoring/key_dates.html", {
        "alerts": page.object_list, "page_obj": page, "count": page.paginator.count,
    })
