"""The calendar feed, read over HTTP and parsed with the icalendar library."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from api import tokens
from commissioning.models import Membership
from commissioning.periods import add_months
from contracts.models import ContractStatus, ExtensionOption
from contracts.tests.factories import ExtensionOptionFactory, ReviewDateFactory, contract_for
from monitoring.tests.factories import kpi_with_target

pytestmark = pytest.mark.django_db


def subscribe(user) -> str:
    return reverse("api:calendar", args=[tokens.feed_create(user=user).secret])


def events(url: str) -> dict[str, object]:
    response = Client().get(url)  # a calendar app: no session
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    return {str(e["UID"]).split("@")[0]: e for e in calendar.walk("VEVENT")}


@pytest.fixture
def dated(world):
    today = date.today()
    end = add_months(today, 10)
    contract = contract_for(world, reference="CAL-1", start_date=today - timedelta(days=400),
                            initial_end_date=end, notice_period_months=6)
    ExtensionOptionFactory(contract=contract, sequence=1, length_months=12)
    review = ReviewDateFactory(contract=contract, date=today + timedelta(days=20),
                               description="Mid-term review")
    plain = contract_for(world, reference="CAL-2", initial_end_date=add_months(today, 14),
                         notice_period_months=3)
    kpi_with_target(contract)
    other = contract_for(world, reference="MERTON-1", partnership=world.partnership_b,
                         holder=world.council_b, lead_commissioner=world.council_b,
                         provider=world.provider_y, initial_end_date=end)
    return {"contract": contract, "review": review, "plain": plain, "other": other,
            "end": end, "today": today}


def test_it_lists_the_key_dates_a_commissioner_can_see(world, dated):
    c, plain = dated["contract"], dated["plain"]
    found = events(subscribe(world.commissioner_a))
    assert found[f"contract-{c.pk}-end"].decoded("DTSTART") == dated["end"]
    decision = found[f"contract-{c.pk}-extension-decision-1"]
    assert decision.decoded("DTSTART") == add_months(dated["end"], -6)
    assert "extension option 1" in str(decision["SUMMARY"])
    review = found[f"contract-{c.pk}-review-{dated['review'].pk}"]
    assert review.decoded("DTSTART") == dated["review"].date
    assert "Mid-term review" in str(review["SUMMARY"])
    notice = found[f"contract-{plain.pk}-notice"]
    assert notice.decoded("DTSTART") == add_months(plain.initial_end_date, -3)
    assert str(found[f"contract-{c.pk}-end"]["URL"]).endswith(f"/contracts/{c.pk}/")
    assert any(uid.startswith("returns-due-") for uid in found)
    assert not any(f"-{dated['other'].pk}-" in uid for uid in found)


def test_it_keeps_an_events_uid_when_its_date_moves(world, dated):
    url = subscribe(world.commissioner_a)
    c = dated["contract"]
    before = events(url)[f"contract-{c.pk}-end"].decoded("DTSTART")
    ExtensionOption.objects.filter(contract=c).update(exercised=True)
    c.status = ContractStatus.EXTENDED
    c.save()
    after = events(url)[f"contract-{c.pk}-end"].decoded("DTSTART")
    assert after == add_months(before + timedelta(days=1), 12) - timedelta(days=1)


def test_it_shows_a_provider_its_own_contracts_only(world, dated):
    found = events(subscribe(world.provider_y_user))
    assert f"contract-{dated['other'].pk}-end" in found
    assert not any(f"-{dated['contract'].pk}-" in uid for uid in found)


def test_it_refuses_a_revoked_unknown_or_cut_off_feed_with_a_404(world, dated):
    url = subscribe(world.commissioner_a)
    assert Client().get(url).status_code == 200
    newer = subscribe(world.commissioner_a)  # a new link replaces the old one
    assert Client().get(url).status_code == 404
    Membership.objects.filter(user=world.commissioner_a).update(is_active=False)
    assert Client().get(newer).status_code == 404
    for bad in ("jcal_nothing", "x" * 500, "%00"):
        assert Client().get(f"/api/v1/calendar/{bad}/").status_code == 404
