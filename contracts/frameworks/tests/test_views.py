"""Framework pages: who may see and change what, the GOV.UK forms, and fixed query counts."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from commissioning.tests.factories import ProviderFactory
from contracts.frameworks.models import (
    ApplicationDecision,
    CallOff,
    Framework,
    LotStatus,
    ProcurementWindow,
    ProviderApplication,
)
from contracts.frameworks.tests.factories import (
    WindowFactory,
    admit,
    framework_for,
    quick_call_off,
)
from contracts.models import Contract

pytestmark = pytest.mark.django_db


@pytest.fixture
def framework(world):
    framework = framework_for(world)
    lot = framework.lots.get(number=1)
    admit(world.provider_x, lot)
    admit(world.provider_y, framework.lots.get(number=2),
          decision=ApplicationDecision.REJECTED)
    return framework


def _open_window(framework) -> ProcurementWindow:
    today = timezone.localdate()
    return WindowFactory(framework=framework, opens=today - timedelta(days=3),
                         closes=today + timedelta(days=10))


def _urls(framework) -> dict[str, str]:
    lot = framework.lots.get(number=1)
    return {
        "detail": reverse("contracts:framework_detail", args=[framework.pk]),
        "edit": reverse("contracts:framework_edit", args=[framework.pk]),
        "lot_create": reverse("contracts:lot_create", args=[framework.pk]),
        "lot_detail": reverse("contracts:lot_detail", args=[framework.pk, lot.pk]),
        "lot_edit": reverse("contracts:lot_edit", args=[framework.pk, lot.pk]),
        "lot_withdraw": reverse("contracts:lot_withdraw", args=[framework.pk, lot.pk]),
        "call_off": reverse("contracts:call_off_create", args=[framework.pk, lot.pk]),
        "windows": reverse("contracts:framework_windows", args=[framework.pk]),
        "applications": reverse("contracts:application_list", args=[framework.pk]),
        "history": reverse("object_history", args=["contracts.framework", framework.pk]),
    }


VIEW_PAGES = ["detail", "lot_detail", "windows", "applications", "history"]
CHANGE_PAGES = ["edit", "lot_create", "lot_edit", "lot_withdraw", "call_off"]


@pytest.mark.parametrize("persona", ["commissioner_b", "provider_x_user", "provider_y_user",
                                     "outsider"])
@pytest.mark.parametrize("page_name", VIEW_PAGES + CHANGE_PAGES)
def test_it_refuses_framework_pages_to_the_wrong_persona(world, client_for, framework,
                                                         persona, page_name):
    # Not "page": that name is Playwright's browser page fixture.
    client = client_for(getattr(world, persona))
    url = _urls(framework)[page_name]
    assert client.get(url).status_code == 404
    if page_name in CHANGE_PAGES or page_name == "windows":
        assert client.post(url, {}).status_code == 404


@pytest.mark.parametrize("persona", ["finance_officer_a", "read_only_a"])
def test_view_only_roles_see_the_framework_but_cannot_change_it(world, client_for, framework,
                                                                persona):
    client = client_for(getattr(world, persona))
    urls = _urls(framework)
    for page in VIEW_PAGES:
        assert client.get(urls[page]).status_code == 200, page
    for page in CHANGE_PAGES:
        assert client.get(urls[page]).status_code == 404, page
    assert client.post(urls["windows"], {}).status_code == 404


@pytest.mark.parametrize("persona", ["commissioner_a", "icb_commissioner_a", "staff_admin"])
def test_commissioners_of_the_partnership_and_admins_use_every_page(world, client_for,
                                                                    framework, persona):
    client = client_for(getattr(world, persona))
    for page, url in _urls(framework).items():
        assert client.get(url).status_code == 200, page


def test_the_list_shows_frameworks_to_their_partnership_only(world, client_for, framework):
    response = client_for(world.commissioner_a).get(reverse("contracts:framework_list"))
    assert framework.reference in response.content.decode()
    assert '<a class="govuk-service-navigation__link" href="/frameworks/"' in \
        response.content.decode()
    for persona in (world.commissioner_b, world.outsider):
        response = client_for(persona).get(reverse("contracts:framework_list"))
        assert response.status_code == 200
        assert framework.reference not in response.content.decode()


def test_the_framework_page_shows_the_matrix_as_an_accessible_table(world, client_for,
                                                                    framework):
    quick_call_off(world, framework.lots.get(number=1), world.provider_x, value="98500")
    response = client_for(world.commissioner_a).get(_urls(framework)["detail"])
    html = response.content.decode()
    overview = response.context["overview"]
    cells = {row.provider.name: row.cells for row in overview.matrix}
    assert cells == {"Age UK Cambridgeshire": ["–", "Rejected", "–", "–"],
                     "Bromley Third Sector Enterprise": ["Admitted", "–", "–", "–"]}
    assert '<th scope="row" class="govuk-table__header">Bromley Third Sector Enterprise</th>' \
        in html
    assert '<th scope="col" class="govuk-table__header">Lot 1<span class="govuk-visually-hidden">' \
        in html
    assert overview.called_off_annual == Decimal("98500.00")
    assert "31 March 2028" in html  # expiry
    assert "Bromley Council 50%; SEL ICB 50%" in html


def test_a_commissioner_sets_up_a_framework_with_the_form(world, client_for):
    client = client_for(world.commissioner_a)
    url = reverse("contracts:framework_create")
    response = client.post(url, {"partnership": world.partnership_a.pk, "reference": "",
                                 "parties": [world.council_a.pk]})
    html = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in html and "Enter the framework reference" in html
    assert "Select the lead party" in html
    response = client.post(url, {
        "partnership": world.partnership_a.pk, "reference": "EIP-2021",
        "title": "Early Intervention and Prevention", "parties": [world.council_a.pk,
                                                                 world.icb_a.pk],
        "lead": world.council_a.pk, "start_date": "01/04/2021", "initial_term_months": "60",
        "extension_months": "24", "estimated_total_value": "£4,303,852",
        "open_to_new_providers": "on", "call_off_rules": "direct_award_allowed",
        "status": "live",
    })
    framework = Framework.objects.get()
    assert response.status_code == 302 and response["Location"] == framework.get_absolute_url()
    assert framework.end_date == date(2028, 3, 31)
    assert framework.history.get().history_user == world.commissioner_a


def test_the_windows_page_refuses_an_overlapping_window_next_to_the_field(world, client_for,
                                                                         framework):
    client = client_for(world.commissioner_a)
    response = client.post(_urls(framework)["windows"], {"opens": "01/02/2021",
                                                        "closes": "28/02/2021"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in html
    assert "This window overlaps the window from 4 January 2021 to 12 February 2021" in html
    assert 'id="id_opens_error"' in html or "govuk-form-group--error" in html
    assert framework.windows.count() == 1


def test_a_provider_applies_and_sees_only_its_own_applications(world, client_for, framework):
    _open_window(framework)
    client = client_for(world.provider_y_user)
    listing = client.get(reverse("contracts:framework_list")).content.decode()
    assert "Open for applications" in listing and framework.title in listing
    apply_url = reverse("contracts:framework_apply", args=[framework.pk])
    assert client.get(apply_url).status_code == 200
    lots = [framework.lots.get(number=1).pk, framework.lots.get(number=3).pk]
    response = client.post(apply_url, {"lots": lots})
    assert response.status_code == 302
    own = ProviderApplication.objects.filter(provider=world.provider_y,
                                             decision=ApplicationDecision.PENDING)
    assert sorted(a.lot.number for a in own) == [1, 3]
    assert own.first().submitted_by == world.provider_y_user
    listing = client.get(reverse("contracts:framework_list"))
    assert {a.provider for a in listing.context["applications"]} == {world.provider_y}
    # Provider X's application is nobody else's business.
    other = ProviderApplication.objects.get(provider=world.provider_x)
    other_url = reverse("contracts:application_detail", args=[other.pk])
    assert client.get(other_url).status_code == 404
    assert client_for(world.commissioner_b).get(other_url).status_code == 404
    assert client_for(world.outsider).get(other_url).status_code == 404
    assert client_for(world.provider_x_user).get(other_url).status_code == 200
    assert client_for(world.commissioner_a).get(other_url).status_code == 200
    history = reverse("object_history", args=["contracts.providerapplication", other.pk])
    assert client.get(history).status_code == 404


def test_a_provider_cannot_apply_outside_a_window(world, client_for, framework):
    future = timezone.localdate() + timedelta(days=40)
    WindowFactory(framework=framework, opens=future, closes=future + timedelta(days=20))
    client = client_for(world.provider_x_user)
    url = reverse("contracts:framework_apply", args=[framework.pk])
    response = client.get(url)  # provider X applied before, so it can see the page
    assert response.status_code == 200
    assert f"Applications are closed. The next window opens on {future:%-d %B %Y}" in \
        response.content.decode()
    response = client.post(url, {"lots": [framework.lots.get(number=2).pk]})
    assert response.status_code == 200
    assert "Applications are closed. The next window opens on" in response.content.decode()
    assert ProviderApplication.objects.count() == 2
    # A provider that never applied cannot even find the closed framework.
    stranger = client_for(world.provider_y_user)
    ProviderApplication.objects.filter(provider=world.provider_y).delete()
    assert stranger.get(url).status_code == 404


def test_commissioners_cannot_use_the_provider_apply_page(world, client_for, framework):
    _open_window(framework)
    url = reverse("contracts:framework_apply", args=[framework.pk])
    for persona in (world.commissioner_a, world.outsider, world.staff_admin):
        assert client_for(persona).get(url).status_code == 404


def test_a_commissioner_evaluates_and_admits_an_application(world, client_for, framework):
    application = admit(world.provider_y, framework.lots.get(number=3),
                        decision=ApplicationDecision.PENDING)
    url = reverse("contracts:application_evaluate", args=[application.pk])
    client = client_for(world.commissioner_a)
    response = client.post(url, {"evaluation": "met", "evaluated_on": "01/03/2021",
                                 "decision": "admit"})
    assert "Enter the date of the framework agreement" in response.content.decode()
    response = client.post(url, {"evaluation": "met", "evaluated_on": "01/03/2021",
                                 "decision": "admit", "framework_agreement_date": "01/04/2021",
                                 "evaluation_notes": "Viable and robust"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.decision == ApplicationDecision.ADMITTED
    assert application.evaluated_by == world.commissioner_a
    for persona in (world.provider_y_user, world.finance_officer_a, world.commissioner_b):
        assert client_for(persona).get(url).status_code == 404


def _call_off_post(world, framework, **overrides) -> dict:
    data = {
        "reference": "EIP-L1-01", "title": "Home from hospital support",
        "service_area": "adult_social_care", "award_method": "direct_award",
        "direct_award_justification": "The incumbent", "provider": world.provider_x.pk,
        "called_off_on": "01/08/2021", "start_date": "01/10/2021",
        "initial_end_date": "30/09/2024", "annual_value": "98,500",
        "lead_commissioner": world.council_a.pk, "funding_arrangement": "section_75",
        f"share_{world.council_a.pk}": "50", f"share_{world.icb_a.pk}": "50",
    }
    data.update(overrides)
    return data


def test_a_commissioner_calls_off_and_the_call_off_links_its_contract(world, client_for,
                                                                      framework):
    client = client_for(world.commissioner_a)
    url = _urls(framework)["call_off"]
    response = client.post(url, _call_off_post(world, framework))
    call_off = CallOff.objects.get()
    assert response.status_code == 302 and response["Location"] == call_off.get_absolute_url()
    page = client.get(call_off.get_absolute_url()).content.decode()
    assert call_off.contract.get_absolute_url() in page
    assert "Joint call-off" in page
    for persona in (world.commissioner_b, world.provider_x_user, world.outsider):
        assert client_for(persona).get(call_off.get_absolute_url()).status_code == 404
    history = reverse("object_history", args=["contracts.calloff", call_off.pk])
    assert client.get(history).status_code == 200
    assert client_for(world.commissioner_b).get(history).status_code == 404


def test_the_call_off_form_shows_each_refusal_next_to_its_field(world, client_for,
                                                                framework):
    client = client_for(world.commissioner_a)
    url = _urls(framework)["call_off"]
    response = client.post(url, _call_off_post(world, framework,
                                               **{f"share_{world.icb_a.pk}": "40"}))
    html = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in html
    assert "The shares must add up to 100%. They add up to 90%" in html
    assert f'href="#id_share_{world.council_a.pk}"' in html
    response = client.post(url, _call_off_post(world, framework, provider=world.provider_y.pk))
    assert "Select a provider admitted to this lot" in response.content.decode()
    response = client.post(url, _call_off_post(world, framework, start_date="01/04/2028",
                                               initial_end_date="31/03/2029"))
    assert "The call-off cannot start after the framework ends on 31 March 2028" in \
        response.content.decode()
    response = client.post(url, _call_off_post(
        world, framework, award_method="mini_competition",
        **{f"invite_{world.provider_x.pk}": "on"}))
    assert "A mini-competition with no bids cannot be called off" in response.content.decode()
    lot = framework.lots.get(number=1)
    lot.status = LotStatus.WITHDRAWN
    lot.save()
    response = client.post(url, _call_off_post(world, framework))
    assert "You cannot call off from a withdrawn lot" in response.content.decode()
    assert (Contract.objects.count(), CallOff.objects.count()) == (0, 0)


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def _grow(world, framework, *, providers: int, call_offs: int) -> None:
    lots = list(framework.lots.all())
    new = [ProviderFactory() for _ in range(providers)]
    for index, provider in enumerate(new):
        for lot in lots:
            decision = [ApplicationDecision.ADMITTED, ApplicationDecision.PENDING,
                        ApplicationDecision.REJECTED][(index + lot.number) % 3]
            admit(provider, lot, decision=decision)
    admitted = [p for i, p in enumerate(new) if (i + 1) % 3 == 0]  # admitted to lot 1
    for index in range(call_offs):
        quick_call_off(world, lots[0], admitted[index % len(admitted)])


def test_the_framework_page_runs_a_fixed_number_of_queries_at_two_sizes(world, client_for):
    client = client_for(world.commissioner_a)
    small_framework = framework_for(world)
    _grow(world, small_framework, providers=5, call_offs=10)
    _open_window(small_framework)
    small = _queries(client, small_framework.get_absolute_url())
    large_framework = framework_for(world)
    _grow(world, large_framework, providers=50, call_offs=200)
    _open_window(large_framework)
    large = _queries(client, large_framework.get_absolute_url())
    response = client.get(large_framework.get_absolute_url())
    assert len(response.context["overview"].matrix) == 50
    assert response.context["overview"].call_off_count == 200
    assert small == large, (small, large)
    list_small = _queries(client, reverse("contracts:framework_list"))
    framework_for(world)
    assert _queries(client, reverse("contracts:framework_list")) == list_small
