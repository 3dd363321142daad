from datetime import date

import pytest
from django.core import mail

from contracts.tests.factories import contract_for
from monitoring import reporting_periods
from monitoring.models import ReminderKind, ReminderSent
from monitoring.services import reminders as reminder_services
from monitoring.tasks import send_return_reminders
from monitoring.tests.factories import fill_and_submit, kpi_with_target


@pytest.fixture
def contract(world):
    contract = contract_for(world, reference="REM-1")
    kpi_with_target(contract)
    return contract


def run(today, capture):
    with capture(execute=True):
        return reminder_services.reminders_send(today=today)


def test_it_reminds_5_working_days_before_and_1_day_after_each_once(
    world, contract, django_capture_on_commit_callbacks
):
    q2 = reporting_periods.period_get(kind="quarter", day=date(2025, 8, 1))
    assert q2.due_date == date(2025, 10, 28)
    dates = reporting_periods.reminder_dates(q2)
    assert dates[ReminderKind.BEFORE_DUE] == date(2025, 10, 21)
    assert run(date(2025, 10, 20), django_capture_on_commit_callbacks).sent == 0
    result = run(date(2025, 10, 21), django_capture_on_commit_callbacks)
    assert result.sent == 1
    assert len(mail.outbox) == 1
    assert "Due soon: 2025/26 Q2 return for REM-1" in mail.outbox[0].subject
    assert sorted(mail.outbox[0].to) == sorted([world.provider_x_user.email,
                                                world.provider_x_approver.email])
    # A second run the same day, and the next day, send nothing more.
    assert run(date(2025, 10, 21), django_capture_on_commit_callbacks).already_sent == 1
    assert run(date(2025, 10, 22), django_capture_on_commit_callbacks).sent == 0
    assert len(mail.outbox) == 1
    overdue = run(date(2025, 10, 29), django_capture_on_commit_callbacks)
    assert overdue.sent == 1 and "Overdue" in mail.outbox[1].subject
    run(date(2025, 10, 29), django_capture_on_commit_callbacks)
    run(date(2025, 10, 30), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2
    assert ReminderSent.objects.count() == 2


def test_it_does_not_chase_a_submitted_return(world, contract,
                                              django_capture_on_commit_callbacks):
    q2 = reporting_periods.period_get(kind="quarter", day=date(2025, 8, 1))
    fill_and_submit(contract, q2, world.provider_x_user)
    mail.outbox.clear()
    assert run(date(2025, 10, 29), django_capture_on_commit_callbacks).sent == 0
    assert mail.outbox == []


def test_the_daily_task_is_thin_and_safe_to_run_twice(world, contract):
    first = send_return_reminders.apply().get()
    second = send_return_reminders.apply().get()
    assert second["sent"] == 0
    assert first["sent"] >= 0
