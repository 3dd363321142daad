from datetime import date, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts.models import AlertKind, ContractStatus, DecisionPurpose, KeyDateAlert
from contracts.selectors import key_date_alerts_due
from contracts.tasks import send_key_date_alerts
from contracts.tests.factories import (
    DecisionFactory,
    ExtensionOptionFactory,
    ReviewDateFactory,
    contract_for,
)

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 22)


def kinds(alerts):
    return sorted((a.kind, a.threshold) for a in alerts)


def test_it_alerts_the_nearest_expiry_threshold_passed(world):
    contract_for(world, initial_end_date=date(2027, 4, 30), notice_period_months=0)
    assert kinds(key_date_alerts_due(today=TODAY)) == [(AlertKind.EXPIRY, "6 months")]


def test_it_does_not_alert_expiry_once_re_commissioning_is_decided(world):
    contract = contract_for(world, initial_end_date=date(2027, 4, 30))
    DecisionFactory(contract=contract, purpose=DecisionPurpose.RECOMMISSIONING,
                    meeting_date=date(2026, 6, 1))
    assert key_date_alerts_due(today=TODAY) == []


def test_it_alerts_standstill_ends_reviews_and_extension_decisions(world):
    contract_for(world, status=ContractStatus.AWARDED, standstill_end_date=TODAY,
                 initial_end_date=date(2030, 3, 31))
    reviewed = contract_for(world, initial_end_date=date(2030, 3, 31))
    ReviewDateFactory(contract=reviewed, date=TODAY + timedelta(days=10))
    extendable = contract_for(world, initial_end_date=date(2027, 7, 31),
                              notice_period_months=6)
    ExtensionOptionFactory(contract=extendable, sequence=1)
    found = kinds(key_date_alerts_due(today=TODAY))
    assert (AlertKind.STANDSTILL_END, "") in found
    assert (AlertKind.REVIEW, "") in found
    assert (AlertKind.EXTENSION_DECISION, "option 1") in found
    assert (AlertKind.EXPIRY, "12 months") in found


def test_the_alert_task_sends_each_alert_once(world, django_capture_on_commit_callbacks,
                                              monkeypatch):
    contract = contract_for(world, initial_end_date=date.today() + timedelta(days=60),
                            contract_manager=world.contract_manager_a, notice_period_months=0)
    contract_for(world, initial_end_date=date.today() + timedelta(days=60))  # no manager
    with django_capture_on_commit_callbacks(execute=True):
        first = send_key_date_alerts()
    with django_capture_on_commit_callbacks(execute=True):
        second = send_key_date_alerts()
    assert first == {"created": 1, "already_sent": 0}
    assert second == {"created": 0, "already_sent": 1}
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [world.contract_manager_a.email]
    assert contract.reference in mail.outbox[0].subject
    assert KeyDateAlert.objects.get().sent_at is not None


def test_the_dashboard_lists_alerts_for_the_commissioner_only(world, client_for):
    contract_for(world, reference="SOON-1", initial_end_date=date.today() + timedelta(days=40))
    response = client_for(world.commissioner_a).get("/")
    assert "SOON-1" in response.content.decode()
    assert "SOON-1" not in client_for(world.commissioner_b).get("/").content.decode()
    assert "SOON-1" not in client_for(world.provider_x_user).get("/").content.decode()


def test_the_next_unexercised_option_is_the_one_alerted(world):
    extendable = contract_for(world, initial_end_date=date(2027, 1, 31), notice_period_months=6)
    ExtensionOptionFactory(contract=extendable, sequence=1, length_months=12, exercised=True)
    ExtensionOptionFactory(contract=extendable, sequence=3, length_months=12)
    ExtensionOptionFactory(contract=extendable, sequence=2, length_months=12)
    # Option 1 moved the end to 31 January 2028: deadline 31 July 2027, warned from April.
    assert kinds(key_date_alerts_due(today=date(2027, 5, 1))) == [
        (AlertKind.EXPIRY, "12 months"), (AlertKind.EXTENSION_DECISION, "option 2")]
    assert kinds(key_date_alerts_due(today=date(2027, 4, 29))) == [
        (AlertKind.EXPIRY, "12 months")]


def test_the_dashboard_counts_every_alert_but_loads_only_the_twenty_shown(
        world, client_for):
    client = client_for(world.commissioner_a)

    def make(count, start):
        for n in range(start, start + count):
            contract_for(world, reference=f"DUE-{n:03}", notice_period_months=0,
                         initial_end_date=date.today() + timedelta(days=40 + n),
                         contract_manager=world.commissioner_a if n % 2 else None)

    make(3, 0)
    with CaptureQueriesContext(connection) as few:
        text = client.get("/").content.decode()
    assert "3 key dates need attention, 1 on contracts you manage" in text
    make(27, 3)
    with CaptureQueriesContext(connection) as many:
        text = client.get("/").content.decode()
    assert len(many) == len(few)
    assert "30 key dates need attention, 15 on contracts you manage" in text
    assert "DUE-019" in text and "DUE-020" not in text
    assert "Showing the 20 soonest" in text
