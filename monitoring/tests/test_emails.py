"""Plain-text e-mails as people receive them (issue 20, item 7): no HTML escaping, the
commissioner's comments in the query e-mail, one name for the partnership."""

from datetime import date

import pytest
from django.core import mail
from django.urls import reverse

from commissioning import services as core_services
from commissioning.models import OutboundEmail, Role
from contracts.tests.factories import contract_for
from monitoring.reports import services as report_services
from monitoring.tests.factories import fill_and_submit, kpi_with_target, quarter

pytestmark = pytest.mark.django_db


def test_the_query_email_carries_the_commissioners_comments_unescaped(
        world, client_for, django_capture_on_commit_callbacks):
    contract = contract_for(world, reference="CB-001", title="Carers' breaks")
    kpi = kpi_with_target(contract, code="CB1", name="Breaks given")
    ret = fill_and_submit(contract, quarter(), world.provider_x_user)
    client = client_for(world.commissioner_a)
    url = reverse("monitoring:return_review", args=[ret.pk])
    page = client.get(url).content.decode()
    assert 'name="comment"' in page and f'name="query-{kpi.pk}"' in page
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"decision": "query", "version": ret.version,
                          "comment": "Please check the carers' figures before we accept",
                          f"query-{kpi.pk}": "Seems high for a quarter – we'd expect ~90"})
    [message] = mail.outbox
    assert message.subject == f"Return queried: CB-001 {ret.period.label}"
    assert "Carers' breaks" in message.body
    assert "Please check the carers' figures before we accept" in message.body
    assert "CB1 Breaks given: \"Seems high for a quarter – we'd expect ~90\"" in message.body
    assert "&#x27;" not in message.body and "&quot;" not in message.body


def test_an_invitation_names_the_organisation_as_written(world):
    world.provider_x.name = "Alzheimer's Society"
    world.provider_x.save()
    core_services.invitation_create(
        invited_by=world.provider_x_approver, email="new.person@alzheimers.example.org",
        full_name="Nia O'Neill", organisation=world.provider_x, role=Role.PROVIDER_SUBMITTER)
    body = OutboundEmail.objects.get(to=["new.person@alzheimers.example.org"]).body
    assert "Dear Nia O'Neill," in body
    assert "for Alzheimer's Society" in body
    assert "&#x27;" not in body


def test_the_report_ready_email_names_the_partnership_one_way(
        world, django_capture_on_commit_callbacks):
    partnership = world.partnership_a
    partnership.name = "Bromley Council and St Christopher's Joint Partnership"
    partnership.short_name = "Bromley Joint Commissioning"
    partnership.save()
    with django_capture_on_commit_callbacks(execute=True):
        report_services.monthly_report_request(partnership=partnership, month=date(2025, 7, 1),
                                               requested_by=world.report_officer_a)
    email = OutboundEmail.objects.get(subject__startswith="Joint monitoring report ready")
    name = "Bromley Council and St Christopher's Joint Partnership, July 2025"
    assert email.subject == f"Joint monitoring report ready: {name}"
    assert f"The joint monitoring report for {name} is ready." in email.body
    assert "Bromley Joint Commissioning" not in email.subject + email.body
    assert "&#x27;" not in email.body
