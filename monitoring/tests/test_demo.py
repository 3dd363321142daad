from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commissioning.models import User
from contracts.models import Contract
from monitoring.models import PerformanceReturn, ReturnStatus


@pytest.mark.django_db
def test_the_demo_loads_twice_with_returns_in_every_state(client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("load_demo", stdout=StringIO())
    counts = {s: PerformanceReturn.objects.filter(status=s).count() for s in ReturnStatus}
    call_command("load_demo", stdout=StringIO())
    assert {s: PerformanceReturn.objects.filter(status=s).count()
            for s in ReturnStatus} == counts
    assert all(counts[s] for s in ReturnStatus), counts

    manager = client_for(User.objects.get(email="alicia.munday@bromley.example.org"))
    overview = manager.get(reverse("monitoring:overview")).content.decode()
    assert "Bromley Dementia Hub" in overview and 'govuk-tag--red">Red<' in overview
    hub = Contract.objects.get(reference="ECHS-DH-01")
    page = manager.get(reverse("monitoring:contract_performance", args=[hub.pk]))
    assert page.status_code == 200 and "DH1 Referrals" in page.content.decode()
    assert manager.get(reverse("monitoring:inbox")).status_code == 200
    for ret in PerformanceReturn.objects.all():
        assert manager.get(reverse("monitoring:return_review", args=[ret.pk])).status_code == 200
    assert manager.get(reverse("monitoring:service_users")).status_code == 200

    provider = client_for(User.objects.get(email="submitter@bromleywell.example.org"))
    tasks = provider.get(reverse("monitoring:return_list")).content.decode()
    assert "Queried" in tasks and "Overdue" in tasks
    well = Contract.objects.get(reference="CS17033-PSIS")
    for ret in PerformanceReturn.objects.filter(contract=well):
        assert provider.get(reverse("monitoring:return_form",
                                    args=[well.pk, ret.period.code])).status_code == 200


@pytest.mark.django_db
def test_the_demo_writes_nothing_the_second_time_not_even_history(settings, tmp_path):
    """README promises that running the demo again changes nothing: no row is inserted,
    updated or deleted (history rows included) the second time."""

    settings.MEDIA_ROOT = tmp_path
    call_command("load_demo", stdout=StringIO())
    with CaptureQueriesContext(connection) as queries:
        call_command("load_demo", stdout=StringIO())
    writes = [q["sql"] for q in queries.captured_queries
              if q["sql"].lstrip().split(" ", 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}]
    assert writes == []


@pytest.mark.django_db
def test_the_demo_has_people_at_every_partner_and_at_the_dementia_hub(client_for, settings,
                                                                         tmp_path):
    """Issue 20, item 12: newcomers can sign in as Cambridgeshire, Peterborough and the
    Dementia Hub, and each sees their own work."""
    settings.MEDIA_ROOT = tmp_path
    printed = StringIO()
    call_command("load_demo", stdout=printed)
    people = {
        "commissioner@cambridgeshire.example.org": "Cambridgeshire County Council",
        "commissioner@peterborough.example.org": "Peterborough City Council",
        "submitter@dementiahub.example.org": "Alzheimer's Society (Bromley Dementia Hub)",
    }
    for email, organisation in people.items():
        user = User.objects.get(email=email)
        assert user.memberships.filter(organisation__name=organisation).exists(), email
        assert email in printed.getvalue()
    for email in list(people)[:2]:
        council = client_for(User.objects.get(email=email))
        frameworks = council.get(reverse("contracts:framework_list")).content.decode()
        assert "EIP-2021" in frameworks, email
    hub = client_for(User.objects.get(email="submitter@dementiahub.example.org"))
    assert "ECHS-DH-01" in hub.get(reverse("monitoring:return_list")).content.decode()
    call_command("load_demo", stdout=StringIO())
    assert User.objects.filter(email__in=people).count() == 3
