"""The baseline of issue 19: a bare Django ``ListView`` of the same rows as the filtered
register page (``/contracts/?status=live&service_area=adult_social_care``): the contracts the
user may see whose shown status is live (``status_now``, as the register's filter reads it)
in adult social care, 25 a page, ordered as that page orders them (reference, then id),
through a tiny six-column template. No filter form, no base template, no navigation: the
floor Django itself costs for this list.

Served at ``/bench/bare/`` by ``bench.urls`` (mounted by ``bench.settings`` for the
saturation run, and by ``bench_register`` for the in-process run through the whole
middleware stack); ``bench_register.BareListClient`` calls the view without middleware.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.template import engines
from django.views.generic import ListView

from contracts.models import Contract

TEMPLATE = engines["django"].from_string(
    "<p><strong>{{ paginator.count }}</strong> contracts</p><table>"
    "{% for c in object_list %}<tr><td>{{ c.reference }}</td><td>{{ c.title }}</td>"
    "<td>{{ c.provider.name }}</td><td>{{ c.status }}</td><td>{{ c.initial_end_date }}</td>"
    "<td>{{ c.annual_value }}</td></tr>{% endfor %}</table>")


class BareContractList(ListView):
    paginate_by = 25

    def get_queryset(self):
        return Contract.objects.for_user(self.request.user).with_term().filter(
            status_now="live", service_area="adult_social_care",
        ).select_related("provider").order_by("reference", "pk")

    def render_to_response(self, context, **kwargs):
        return HttpResponse(TEMPLATE.render(context))


class StoredStatusList(BareContractList):
    """The baseline as first measured (bench/RESULTS.md, 7 December): the stored status
    ``live`` (750 rows here), not the register's shown status (217): NOT the same rows, kept
    only so that runs before and after the change can be compared."""

    def get_queryset(self):
        return Contract.objects.for_user(self.request.user).filter(
            status="live", service_area="adult_social_care",
        ).select_related("provider").order_by("reference", "pk")


bare_contract_list = BareContractList.as_view()
stored_status_list = StoredStatusList.as_view()
