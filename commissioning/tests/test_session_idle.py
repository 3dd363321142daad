"""Issue 19: the idle sign-out (README: ``SESSION_IDLE_MINUTES``) without writing the session
row on every request. After any request the session lasts at least the idle time from that
request, and at most one refresh interval longer."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commissioning.middleware import SESSION_REFRESHED_KEY

IDLE = timedelta(minutes=settings.SESSION_IDLE_MINUTES)
SLACK = timedelta(seconds=settings.SESSION_REFRESH_SECONDS)


def _expiry(client) -> datetime:
    return Session.objects.get(session_key=client.session.session_key).expire_date


def _request_at_least_idle_time_before_expiry(client) -> list[str]:
    asked = datetime.now(UTC)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/contracts/").status_code == 200
    answered = datetime.now(UTC)
    expiry = _expiry(client)
    assert asked + IDLE - timedelta(seconds=1) <= expiry <= answered + IDLE + SLACK
    return [q["sql"] for q in queries.captured_queries
            if "django_session" in q["sql"] and q["sql"].lstrip().upper().startswith(
                ("INSERT", "UPDATE", "DELETE"))]


@pytest.mark.django_db
def test_it_keeps_the_idle_timeout_without_writing_the_session_on_every_request(
        world, client_for):
    client = client_for(world.commissioner_a)
    _request_at_least_idle_time_before_expiry(client)  # the first refresh may write
    assert _request_at_least_idle_time_before_expiry(client) == []
    assert _request_at_least_idle_time_before_expiry(client) == []

    # A refresh interval later (the stamp and the row's expiry moved back as time would have
    # left them), the next request pushes the expiry forward again.
    session = client.session
    earlier = int(time.time()) - settings.SESSION_REFRESH_SECONDS - 1
    session[SESSION_REFRESHED_KEY] = earlier
    session.save()
    Session.objects.filter(session_key=session.session_key).update(
        expire_date=datetime.fromtimestamp(earlier, UTC) + IDLE + SLACK)
    assert _request_at_least_idle_time_before_expiry(client) != []


@pytest.mark.django_db
def test_it_signs_out_a_session_idle_for_longer_than_the_timeout(world, client_for):
    client = client_for(world.commissioner_a)
    assert client.get("/contracts/").status_code == 200
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=datetime.now(UTC) - timedelta(seconds=1))
    response = client.get("/contracts/")
    assert response.status_code == 302 and "sign-in" in response["Location"]
