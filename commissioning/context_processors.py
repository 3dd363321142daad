"""What every page's shell needs: header name, organisation switcher and navigation."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from commissioning.access import is_provider_user, partnerships_for_user, user_organisations

# (label, url name, path prefix that marks the item active). An item whose view does not
# exist is left out, so the navigation never leads to a missing page.
NAVIGATION = [
    ("Dashboard", "dashboard", "/"),
    ("Contracts", "contracts:list", "/contracts/"),
    ("Frameworks", "contracts:framework_list", "/frameworks/"),
    ("Funding", "funding:agreement_list", "/funding/"),
    ("Monitoring", "monitoring:overview", "/monitoring/"),
    ("Reports", "monitoring:report_list", "/reports/"),
]
# Providers see their own contracts, framework applications and returns; nothing else.
PROVIDER_NAVIGATION = [
    ("Dashboard", "dashboard", "/"),
    ("Contracts", "contracts:list", "/contracts/"),
    ("Frameworks", "contracts:framework_list", "/frameworks/"),
    ("Returns", "monitoring:return_list", "/returns/"),
]


def _navigation(path: str, items_spec: list) -> list[dict]:
    items = []
    for label, name, prefix in items_spec:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        active = path == "/" if prefix == "/" else path.startswith(prefix)
        items.append({"label": label, "url": url, "active": active})
    return items


def shell(request: HttpRequest) -> dict:
    context = {"service_name": settings.SERVICE_NAME, "header_name": settings.SERVICE_NAME}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return context
    organisation = getattr(request, "organisation", None)
    header_name = settings.SERVICE_NAME
    if organisation is not None:
        # The header carries the partnership's own name (never the GOV.UK crown).
        partnerships = list(partnerships_for_user(user)[:2])
        header_name = (
            partnerships[0].name if len(partnerships) == 1 else organisation.name
        )
    context.update(
        {
            "header_name": header_name,
            "current_organisation": organisation,
            "user_organisations": user_organisations(user),
            # Django's admin site lets in active staff only; the footer link follows it.
            "can_open_admin": bool(user.is_active and user.is_staff),
            "navigation": _navigation(
                request.path,
                PROVIDER_NAVIGATION if is_provider_user(user) else NAVIGATION,
            ),
        }
    )
    return context
