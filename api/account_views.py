"""Your account: API tokens and the calendar feed link (create, show once, list, revoke)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from drf_spectacular.generators import SchemaGenerator

from commissioning import access
from commissioning.downloads import as_download

from . import tokens
from .calendar import key_date_calendar
from .forms import TokenForm
from .models import CalendarFeed
from .permissions import can_switch_api_access


def _api_allowed(request: HttpRequest) -> bool:
    organisation = access.current_organisation(request.user)
    return organisation is None or organisation.api_access_enabled


@require_GET
def token_list(request: HttpRequest) -> HttpResponse:
    return render(request, "api/token_list.html", {
        "tokens": tokens.tokens_of(request.user),
        "feed": tokens.live_feed(request.user),
        "api_allowed": _api_allowed(request),
        "organisation": access.current_organisation(request.user),
        "can_switch": can_switch_api_access(request.user),
    })


@require_http_methods(["GET", "POST"])
def token_create(request: HttpRequest) -> HttpResponse:
    if not _api_allowed(request):
        raise Http404
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = tokens.token_create(user=request.user, name=form.cleaned_data["name"],
                                      days=form.cleaned_data["days"])
        return render(request, "api/token_created.html",
                      {"token": created.token, "secret": created.secret})
    return render(request, "api/token_create.html", {"form": form})


@require_http_methods(["GET", "POST"])
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = tokens.get_own_token(request.user, pk)  # someone else's token: 404
    if request.method == "POST":
        tokens.token_revoke(token=token)
        messages.success(request, f"The token \u201c{token.name}\u201d has been revoked")
        return redirect("api:tokens")
    return render(request, "api/token_revoke.html", {"token": token})


@require_http_methods(["GET", "POST"])
def organisation_access(request: HttpRequest) -> HttpResponse:
    """Turn the current organisation's API access off or on, after a confirmation page."""
    if not can_switch_api_access(request.user):
        raise Http404
    organisation = access.current_organisation(request.user)
    turning_on = not organisation.api_access_enabled
    if request.method == "POST":
        tokens.organisation_api_access_set(organisation=organisation, enabled=turning_on)
        messages.success(request, f"API access for {organisation.name} is now "
                         f"{'on' if turning_on else 'off'}")
        return redirect("api:tokens")
    return render(request, "api/organisation_access.html",
                  {"organisation": organisation, "turning_on": turning_on})


@require_POST
def feed_create(request: HttpRequest) -> HttpResponse:
    if not _api_allowed(request):
        raise Http404
    created = tokens.feed_create(user=request.user)
    url = request.build_absolute_uri(reverse("api:calendar", args=[created.secret]))
    return render(request, "api/feed_created.html", {"url": url})


@require_http_methods(["GET", "POST"])
def feed_revoke(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        tokens.feed_revoke(user=request.user)
        messages.success(request, "Your calendar link has been turned off")
        return redirect("api:tokens")
    return render(request, "api/feed_revoke.html")


@login_not_required  # the secret in the address is the credential (calendar apps have no
@require_GET         # session); api.tokens.check_secret decides
def calendar_feed(request: HttpRequest, secret: str) -> HttpResponse:
    try:
        feed = tokens.check_secret(CalendarFeed, secret)
    except tokens.SecretRefused:
        raise Http404 from None
    response = HttpResponse(key_date_calendar(feed.user),
                            content_type="text/calendar; charset=utf-8")
    return as_download(response, "key-dates.ics", inline=True)


_SCHEMA: dict | None = None


def _schema() -> dict:
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
    return _SCHEMA


@require_GET
def api_docs(request: HttpRequest) -> HttpResponse:
    """The API's documentation, from its OpenAPI schema, as a GOV.UK page."""
    schema = _schema()
    components = schema.get("components", {}).get("schemas", {})
    endpoints = []
    for path, operations in schema["paths"].items():
        operation = operations.get("get")
        if not operation:
            continue
        fields = []
        for response in operation.get("responses", {}).values():
            body = response.get("content", {}).get("application/json", {}).get("schema", {})
            ref = body.get("$ref", "")
            name = ref.rsplit("/", 1)[-1]
            item = components.get(name, {})
            if "results" in item.get("properties", {}):
                ref = item["properties"]["results"]["items"].get("$ref", "")
                item = components.get(ref.rsplit("/", 1)[-1], {})
            for field, spec in item.get("properties", {}).items():
                fields.append((field, spec.get("type") or "object", spec.get("format", ""),
                               spec.get("description", "")))
        endpoints.append({
            "path": path, "summary": (operation.get("description") or "").strip(),
            "tag": (operation.get("tags") or [""])[0],
            "parameters": [(p["name"], p.get("in", ""), p.get("description", ""))
                           for p in operation.get("parameters", [])],
            "fields": fields,
        })
    return render(request, "api/docs.html", {"endpoints": endpoints, "info": schema["info"]})
