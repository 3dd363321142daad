"""Earlier versions of a return can be opened and read (issue 20, item 3)."""

import re

import pytest
from django.urls import reverse

from monitoring.tests.factories import queried_then_resubmitted as resubmitted_return


@pytest.fixture
def queried_then_resubmitted(world):
    return (world, *resubmitted_return(world))


def _version_link(html: str, number: int) -> str:
    match = re.search(rf'<a class="govuk-link" href="([^"]+)">Version {number}</a>', html)
    assert match, f"no link to version {number}"
    return match.group(1)


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_it_lets_the_commissioner_open_an_earlier_version_and_read_its_figures(
        queried_then_resubmitted, client_for):
    world, _contract, _period, ret = queried_then_resubmitted
    client = client_for(world.commissioner_a)
    review = client.get(reverse("monitoring:return_review", args=[ret.pk])).content.decode()
    page = client.get(_version_link(review, 1))
    assert page.status_code == 200
    text = _text(page.content.decode())
    assert "Version 1 of the return" in text
    assert "BW1 People supported 120 people Busy quarter" in text
    assert "BW2 Improved quality of life 90% 9 of 10" in text
    assert "Steady quarter" in text  # the overall commentary as submitted
    assert "Queried" in text and "Check BW1" in text and "BW1: Seems high" in text
    assert "A later version (version 2) has been submitted since" in text
    latest = _text(client.get(_version_link(review, 2)).content.decode())
    assert "BW1 People supported 95 people Corrected" in latest
    assert "BW2 Improved quality of life 70% 7 of 10" in latest


def test_it_lets_the_provider_open_an_earlier_version_from_its_return(
        queried_then_resubmitted, client_for):
    world, contract, period, _ret = queried_then_resubmitted
    client = client_for(world.provider_x_user)
    form = client.get(reverse("monitoring:return_form", args=[contract.pk, period.code]))
    page = client.get(_version_link(form.content.decode(), 1))
    assert page.status_code == 200
    assert "BW1 People supported 120 people Busy quarter" in _text(page.content.decode())


@pytest.mark.parametrize("persona", ["provider_y_user", "commissioner_b", "outsider"])
def test_it_hides_a_version_from_those_who_cannot_see_the_return(
        queried_then_resubmitted, client_for, persona):
    world, _contract, _period, ret = queried_then_resubmitted
    client = client_for(getattr(world, persona))
    url = reverse("monitoring:return_version", args=[ret.pk, 1])
    assert client.get(url).status_code == 404
    assert client.get(reverse("monitoring:return_version", args=[ret.pk, 9])).status_code == 404
    assert client_for(world.commissioner_a).get(url).status_code == 200
