"""A contract's status is shown from its dates: one recorded as live or extended whose
current end date has passed reads "Expired" on its page, in the register (and its filter) and
in the OCDS export; and every date on the contract page is written the same way."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from django.urls import reverse

from contracts.models import ContractStatus, Decision, DecisionPurpose, ExtensionOption
from contracts.tests.factories import contract_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def ended_in_2022(world):
    """Started 12 July 2017, extended by a year on 11 February 2020, ended 31 March 2022 and
    still recorded as "Extended"."""
    contract = contract_for(world, reference="BW-2017", title="Carers support 2017",
                            start_date=date(2017, 7, 12), initial_end_date=date(2021, 3, 31),
                            status=ContractStatus.EXTENDED)
    decision = Decision.objects.create(
        contract=contract, purpose=DecisionPurpose.EXTENSION,
        decision_maker=Decision._meta.get_field("decision_maker").choices[0][0],
        meeting_date=date(2020, 2, 11), report_reference="CS20011", outcome="Extend a year")
    ExtensionOption.objects.create(contract=contract, sequence=1, length_months=12,
                                   exercised=True, exercised_decision=decision)
    return contract


@pytest.fixture
def running(world):
    return contract_for(world, reference="BW-2026", title="Carers support 2026",
                        start_date=date(2024, 4, 1), initial_end_date=date(2099, 3, 31),
                        status=ContractStatus.LIVE)


def tag_text(html: str) -> list[str]:
    return [t.strip() for t in re.findall(r'class="govuk-tag[^"]*">([^<]*)<', html)]


def test_it_shows_a_contract_whose_end_date_has_passed_as_expired_on_its_page(
        world, client_for, ended_in_2022):
    html = client_for(world.commissioner_a).get(ended_in_2022.get_absolute_url()) \
        .content.decode()
    assert "Expired" in tag_text(html)
    assert "Extended" not in tag_text(html)
    assert "Exercise an extension" not in html


def test_it_writes_every_date_on_the_contract_page_the_same_way(world, client_for,
                                                               ended_in_2022):
    html = client_for(world.commissioner_a).get(ended_in_2022.get_absolute_url()) \
        .content.decode()
    # The project's date format (|date, en-GB: "12 Jul 2017") for every date on the page.
    assert "Extension decision, 11 Feb 2020 (CS20011)" in html
    assert "12 Jul 2017" in html
    assert re.findall(r"\b\d{1,2}/\d{1,2}/\d{4}\b", html) == []
    assert re.findall(r"\b\d{1,2} (?:January|February|March|April|June|July|August|September"
                      r"|October|November|December) \d{4}\b", html) == []


def test_it_shows_and_filters_the_register_by_the_status_from_the_dates(
        world, client_for, ended_in_2022, running):
    client = client_for(world.commissioner_a)
    html = client.get(reverse("contracts:list")).content.decode()
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*BW-2017(?:(?!</tr>).)*</tr>", html, re.S).group(0)
    assert tag_text(row) == ["Expired"]
    expired = client.get(reverse("contracts:list"), {"status": "expired"}).content.decode()
    extended = client.get(reverse("contracts:list"), {"status": "extended"}).content.decode()
    live = client.get(reverse("contracts:list"), {"status": "live"}).content.decode()
    assert "BW-2017" in expired and "BW-2026" not in expired
    assert "BW-2017" not in extended
    assert "BW-2026" in live


def test_it_exports_a_contract_whose_end_date_has_passed_as_ended_in_ocds(
        world, client_for, ended_in_2022, running):
    client = client_for(world.commissioner_a)
    ended = json.loads(client.get(reverse("contracts:ocds", args=[ended_in_2022.pk])).content)
    release = ended["releases"][0] if "releases" in ended else ended
    # Ended, and its exercised extension is an amendment (contracts.ocds).
    assert release["tag"] == ["contractTermination", "contractAmendment"]
    assert release["contracts"][0]["status"] == "terminated"
    assert release["contracts"][0]["amendments"][0]["date"].startswith("2020-02-11")
    ongoing = json.loads(client.get(reverse("contracts:ocds", args=[running.pk])).content)
    release = ongoing["releases"][0] if "releases" in ongoing else ongoing
    assert release["contracts"][0]["status"] == "active"
