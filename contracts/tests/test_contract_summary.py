"""The contract page opens with a summary (status, dates, value, provider, parties, RAG, what is
due next) and links to each of its sections (issue 19)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from contracts.models import ReviewDate
from contracts.selectors import contract_next_key_date
from contracts.tests.factories import full_contract

pytestmark = pytest.mark.django_db


def summary_rows(html: str) -> dict[str, str]:
    block = html.split('app-contract-summary">', 1)[1].split("</dl>", 1)[0]
    rows = re.findall(r'<dt class="govuk-summary-list__key">([^<]+)</dt>'
                      r'<dd class="govuk-summary-list__value">(.*?)</dd>', block, re.S)
    return {key: re.sub(r"<[^>]+>|\s+", " ", value).strip() for key, value in rows}


def test_it_opens_the_contract_page_with_a_summary_and_links_to_every_section(
        world, client_for):
    today = timezone.localdate()
    contract = full_contract(world, reference="SUM-1", start_date=today - timedelta(days=400),
                             initial_end_date=today + timedelta(days=700))
    ReviewDate.objects.create(contract=contract, date=today + timedelta(days=20),
                              description="Mid-term review")
    html = client_for(world.commissioner_a).get(
        reverse("contracts:detail", args=[contract.pk])).content.decode()
    rows = summary_rows(html)
    assert set(rows) >= {"Status", "Dates", "Value", "Provider", "Parties", "Performance",
                         "Due next"}
    assert rows["Provider"] == world.provider_x.name
    assert world.council_a.name in rows["Parties"] and world.icb_a.name in rows["Parties"]
    assert rows["Performance"] == "No rated return yet"
    due = today + timedelta(days=20)
    assert rows["Due next"] == f"Review: Mid-term review: {due:%-d %b %Y}"
    links = re.findall(r'<a class="govuk-link" href="#([\w-]+)">', html)
    assert links, "no section links"
    for anchor in links:
        assert f'id="{anchor}"' in html, anchor


def test_it_hides_the_commissioners_figures_from_the_summary_for_the_provider(world, client_for):
    contract = full_contract(world, reference="SUM-2")
    html = client_for(world.provider_x_user).get(
        reverse("contracts:detail", args=[contract.pk])).content.decode()
    rows = summary_rows(html)
    assert "Performance" not in rows and 'href="#decisions"' not in html


def test_it_names_the_soonest_key_date_on_or_after_today(world):
    today = date(2026, 1, 10)
    contract = full_contract(world, reference="SUM-3", start_date=date(2024, 4, 1),
                             initial_end_date=date(2026, 3, 31), notice_period_months=0)
    contract.review_dates.all().delete()
    contract = type(contract).objects.prefetch_related(
        "review_dates", "extension_options").get(pk=contract.pk)
    soonest = contract_next_key_date(contract, today=today)
    assert soonest is not None and soonest.due_date >= today
    assert soonest.what.startswith("Decide on extension option")
