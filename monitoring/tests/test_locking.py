"""Returns lock through the one optimistic lock (commissioning/locking.py) and say so in the
same words as every other page."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from commissioning.tests.page_forms import rendered_form
from contracts.tests.factories import contract_for
from monitoring.models import PerformanceReturn, ReturnValue
from monitoring.tests.factories import fill_and_submit, kpi_with_target, quarter

STANDARD = ("Someone else changed this return since you opened it. Your changes have not been "
            "saved. Reload to see their changes.")


def test_it_refuses_a_draft_saved_from_a_page_opened_before_another_save(world, client_for):
    contract = contract_for(world)
    kpi = kpi_with_target(contract, code="K1", name="People supported")
    period = quarter()
    url = reverse("monitoring:return_form", args=[contract.pk, period.code])
    client = client_for(world.provider_x_user)
    first = rendered_form(client.get(url).content.decode())
    assert client.post(url, first.with_changes(**{f"kpi-{kpi.pk}-value": "120"})).status_code \
        == 302
    older, newer = (rendered_form(client.get(url).content.decode()) for _ in range(2))
    assert client.post(url, newer.with_changes(**{f"kpi-{kpi.pk}-value": "130"})).status_code \
        == 302
    stale = client.post(url, older.with_changes(**{f"kpi-{kpi.pk}-value": "140"}))
    html = stale.content.decode()
    assert "govuk-error-summary" in html and STANDARD in html and 'value="140"' in html
    assert ReturnValue.objects.get(kpi=kpi).value == Decimal("130")


def test_it_refuses_a_review_from_a_page_opened_before_the_return_changed(world, client_for):
    contract = contract_for(world)
    kpi_with_target(contract, code="K1", name="People supported")
    fill_and_submit(contract, quarter(), world.provider_x_user)
    performance_return = PerformanceReturn.objects.get()
    url = reverse("monitoring:return_review", args=[performance_return.pk])
    page = rendered_form(client_for(world.commissioner_a).get(url).content.decode())
    # The return moves on (its version changes) while the review page is open.
    PerformanceReturn.objects.filter(pk=performance_return.pk).update(version=99)
    response = client_for(world.commissioner_a).post(
        url, page.with_changes(decision="accept"))
    assert STANDARD in response.content.decode()
    performance_return.refresh_from_db()
    assert performance_return.status == "submitted"
