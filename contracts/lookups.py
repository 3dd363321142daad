"""JSON lookups behind the accessible autocomplete (issue 19): what a picker suggests as a person
types. Each answers ``?q=`` with ``{"results": [{"value": ..., "label": ...}]}`` (the shape
``static/js/autocomplete.js`` reads) and needs sign-in, like every page
(``LoginRequiredMiddleware``). Suggestions only help: the form that receives the choice checks
it on the server as it always did, so a page works without them."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from contracts import cpv_search as cpv_lookup
from contracts.filters import filter_by_provider_text
from contracts.models import Contract

PROVIDER_LIMIT = 20


@require_GET
def cpv_search(request: HttpRequest) -> JsonResponse:
    """CPV codes for the start of a code or words of a label (public vocabulary, no scoping)."""
    results = [{"value": f"{code} {label}", "label": f"{code} {label}"}
               for code, label in cpv_lookup.search(request.GET.get("q", ""))]
    return JsonResponse({"results": results})


@require_GET
def provider_names(request: HttpRequest) -> JsonResponse:
    """Names of the providers of the contracts the user may see (``Contract.objects.for_user``)
    that the register's provider filter would match, so a suggestion never names a provider
    the person could not find in their register."""
    query = request.GET.get("q", "").strip()
    names: list[str] = []
    if len(query) >= 2 and not query.isdigit():
        names = list(
            filter_by_provider_text(Contract.objects.for_user(request.user), query)
            .exclude(provider__isnull=True)
            .order_by("provider__name").values_list("provider__name", flat=True)
            .distinct()[:PROVIDER_LIMIT])
    return JsonResponse({"results": [{"value": name, "label": name} for name in names]})
