"""Pages: who may see and change what, fixed query counts, forms, the PDF and the exports."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from commissioning.periods import add_months
from commissioning.tests.page_forms import rendered_form
from contracts.tests.factories import contract_for
from funding import selectors
from funding.forms import AgreementForm
from funding.models import (
    Commissioner,
    ContractFunding,
    Contribution,
    MonthlyActual,
    Scheme,
    SchemeBudget,
    Section75Agreement,
    TopSlice,
)
from funding.tests.factories import (
    actual,
    agreement_for,
    close,
    contribute,
    scheme_for,
    source,
)

D = Decimal
APRIL = date(2025, 4, 1)


@pytest.fixture
def agreement(world):
    agreement = agreement_for(world, title="Bromley Section 75 Agreement")
    equipment = scheme_for(agreement, code="S75-CE", name="Community Equipment",
                           lead=world.council_a, budget="960000", is_bcf=True,
                           commissioner=Commissioner.JOINT, nhs_percent=D("40"),
                           la_percent=D("60"), provider_text="=HYPERLINK(\"http://x\")")
    contribute(equipment, world.council_a, "576000")
    contribute(equipment, world.icb_a, "384000", code="bcf-nhs-minimum")
    actual(equipment, APRIL, "85000.00", forecast="1020000.00")
    return agreement


def _pages(agreement, scheme=None) -> list[str]:
    urls = [
        reverse("funding:agreement_detail", args=[agreement.pk]),
        reverse("funding:statement", args=[agreement.pk, 2025]),
        reverse("funding:statement_pdf", args=[agreement.pk, 2025]),
        reverse("funding:bcf_plan", args=[agreement.pk, 2025]),
        reverse("funding:bcf_plan_export", args=[agreement.pk, 2025, "csv"]),
        reverse("funding:months", args=[agreement.pk]),
        reverse("funding:import_upload", args=[agreement.pk]),
        reverse("funding:agreement_edit", args=[agreement.pk]),
        reverse("funding:top_slice_create", args=[agreement.pk]),
    ]
    if scheme is not None:
        urls += [
            reverse("funding:scheme_detail", args=[agreement.pk, scheme.pk]),
            reverse("funding:budget_set", args=[agreement.pk, scheme.pk]),
            reverse("funding:actual_record", args=[agreement.pk, scheme.pk]),
        ]
    return urls


# --- Visibility ------------------------------------------------------------------------------

@pytest.mark.parametrize("persona", ["commissioner_b", "provider_x", "provider_y", "outsider"])
def test_it_hides_agreements_from_other_partnerships_providers_and_outsiders(
        world, agreement, client_for, persona):
    user = world.personas()[persona]
    client = client_for(user)
    scheme = agreement.schemes.get()
    for url in _pages(agreement, scheme):
        assert client.get(url).status_code == 404, url
    listing = client.get(reverse("funding:agreement_list"))
    assert agreement.title not in listing.content.decode()
    history = client.get(reverse("object_history",
                                 args=["funding.section75agreement", agreement.pk]))
    assert history.status_code == 404
    assert not Section75Agreement.objects.for_user(user).exists()


def test_it_sends_anonymous_visitors_to_sign_in(agreement, client):
    for url in [reverse("funding:agreement_list"), *_pages(agreement)]:
        response = client.get(url)
        assert response.status_code == 302 and "/sign-in/" in response.url, url


@pytest.mark.parametrize("persona", ["commissioner_a", "finance_officer_a", "report_officer_a",
                                     "staff_admin"])
def test_it_shows_the_agreement_to_partners_and_platform_admins(world, agreement, client_for,
                                                                persona):
    client = client_for(world.personas()[persona])
    response = client.get(reverse("funding:agreement_detail", args=[agreement.pk]))
    assert response.status_code == 200
    assert "Community Equipment" in response.content.decode()


def test_it_lets_read_only_users_view_but_not_change(world, agreement, client_for):
    client = client_for(world.read_only_a)
    scheme = agreement.schemes.get()
    assert client.get(reverse("funding:agreement_detail", args=[agreement.pk])).status_code == 200
    assert client.get(reverse("funding:scheme_detail",
                              args=[agreement.pk, scheme.pk])).status_code == 200
    for url in [reverse("funding:budget_set", args=[agreement.pk, scheme.pk]),
                reverse("funding:actual_record", args=[agreement.pk, scheme.pk]),
                reverse("funding:months", args=[agreement.pk]),
                reverse("funding:agreement_edit", args=[agreement.pk]),
                reverse("funding:import_upload", args=[agreement.pk])]:
        assert client.get(url).status_code == 404, url


def test_it_lets_only_finance_officers_open_the_month_close_page(world, agreement, client_for):
    url = reverse("funding:months", args=[agreement.pk])
    assert client_for(world.commissioner_a).get(url).status_code == 404
    assert client_for(world.staff_admin).get(url).status_code == 404
    assert client_for(world.finance_officer_a).get(url).status_code == 200


# --- Month close through the views -----------------------------------------------------------

def test_it_closes_a_month_and_then_refuses_changes_to_it_on_screen(world, agreement,
                                                                    client_for):
    finance = client_for(world.finance_officer_a)
    response = finance.post(reverse("funding:months", args=[agreement.pk]),
                            {"month": "2025-04-01", "action": "close"})
    assert response.status_code == 302
    scheme = agreement.schemes.get()
    commissioner = client_for(world.commissioner_a)
    response = commissioner.post(reverse("funding:actual_record", args=[agreement.pk, scheme.pk]),
                                 {"month": "2025-04-01", "actual": "1", "forecast_outturn": ""})
    html = response.content.decode()
    assert response.status_code == 400
    assert "April 2025 is closed. Ask a finance officer to reopen it." in html
    assert "govuk-error-summary" in html
    assert MonthlyActual.objects.get().actual == D("85000.00")
    # A commissioner cannot reopen it.
    response = commissioner.post(reverse("funding:months", args=[agreement.pk]),
                                 {"month": "2025-04-01", "action": "reopen"})
    assert response.status_code == 404


# --- Forms -----------------------------------------------------------------------------------

def test_money_inputs_are_numeric_text_inputs(world, agreement, client_for):
    scheme = agreement.schemes.get()
    html = client_for(world.finance_officer_a).get(
        reverse("funding:budget_set", args=[agreement.pk, scheme.pk])).content.decode()
    assert 'inputmode="numeric"' in html
    assert 'type="number"' not in html


def test_it_shows_errors_in_a_summary_and_next_to_the_field(world, agreement, client_for):
    scheme = agreement.schemes.get()
    response = client_for(world.finance_officer_a).post(
        reverse("funding:budget_set", args=[agreement.pk, scheme.pk]),
        {"year": "2025", "amount": "-5", "version": "1"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "govuk-error-summary" in html
    assert "govuk-error-message" in html
    assert html.count("The budget must be £0 or more") == 2  # summary and field
    assert html.count("<title>Error: ") == 1
    assert SchemeBudget.objects.get().amount == D("960000.00")


def test_it_refuses_a_contribution_from_a_non_partner_through_the_form(world, client_for):
    # An agreement between only the council and ICB A, in a partnership that also has council B.
    from commissioning.models import PartnershipMember

    PartnershipMember.objects.create(partnership=world.partnership_a,
                                     organisation=world.council_b)
    agreement = agreement_for(world)
    scheme = scheme_for(agreement)
    response = client_for(world.finance_officer_a).post(
        reverse("funding:contribution_set", args=[agreement.pk, scheme.pk]),
        {"partner": world.council_b.pk, "year": "2025", "source": source().pk,
         "amount": "£1,000"})
    assert response.status_code == 400
    assert "is not a partner in this agreement" in response.content.decode()
    assert not Contribution.objects.exists()


def test_it_records_an_agreement_through_the_form(world, client_for):
    client = client_for(world.commissioner_a)
    response = client.post(reverse("funding:agreement_create"), {
        "kind": "section_75", "title": "Bromley Better Care Fund", "reference": "S75-2025",
        "arrangement_type": "pooled_fund", "host_partner": world.council_a.pk,
        "start_date": "01/04/2025", "end_date": "31/03/2027", "risk_share_rule": "fixed_split",
        "underspend_rule": "carry_forward", "parallel_reduction": "yes",
        f"partner_{world.council_a.pk}": "on", f"share_{world.council_a.pk}": "50",
        f"partner_{world.icb_a.pk}": "on", f"share_{world.icb_a.pk}": "40",
    })
    assert response.status_code == 400
    assert "The partners&#x27; shares must add up to 100%" in response.content.decode()
    assert not Section75Agreement.objects.exists()


def test_it_funds_a_contract_from_a_scheme_and_shows_it_on_the_contract_include(
        world, agreement, client_for):
    scheme = agreement.schemes.get()
    contract = contract_for(world, annual_value=D("960000"))
    response = client_for(world.contract_manager_a).post(
        reverse("funding:contract_funding_add", args=[agreement.pk]),
        {"contract": contract.pk, "scheme": scheme.pk, "source": source().pk,
         "basis": "share", "share_percent": "44"})
    assert response.status_code == 302
    assert ContractFunding.objects.get().amount == D("422400.00")
    html = render_to_string("funding/includes/contract_funding.html", {"contract": contract})
    assert "S75-CE Community Equipment" in html and "£422,400.00" in html
    over = client_for(world.contract_manager_a).post(
        reverse("funding:contract_funding_add", args=[agreement.pk]),
        {"contract": contract.pk, "scheme": scheme.pk, "source": source("ibcf").pk,
         "basis": "amount", "amount": "600000"})
    assert over.status_code == 400
    assert "more than its annual value of £960,000.00" in over.content.decode()


# --- The agreement page: a fixed number of queries -------------------------------------------

def _build(world, schemes: int, years: int) -> Section75Agreement:
    agreement = agreement_for(world, start_date=APRIL,
                              end_date=date(2025 + years, 3, 31))
    rows = Scheme.objects.bulk_create([
        Scheme(agreement=agreement, code=f"BCF-{n:02d}", name=f"Scheme {n}",
               lead_partner=world.council_a if n % 2 else world.icb_a,
               scheme_type="community_based", commissioner="la")
        for n in range(schemes)])
    council_core, nhs = source(), source("nhs-baseline")
    budgets, contributions, actuals = [], [], []
    for scheme in rows:
        for year in range(2025, 2025 + years):
            budgets.append(SchemeBudget(scheme=scheme, year=year, amount=D("120000")))
            contributions.append(Contribution(scheme=scheme, partner=world.council_a, year=year,
                                              source=council_core, amount=D("70000")))
            contributions.append(Contribution(scheme=scheme, partner=world.icb_a, year=year,
                                              source=nhs, amount=D("50000")))
            for m in range(12):
                actuals.append(MonthlyActual(scheme=scheme, month=add_months(date(year, 4, 1), m),
                                             actual=D("10100.25"), forecast_outturn=D("121203")))
    SchemeBudget.objects.bulk_create(budgets)
    Contribution.objects.bulk_create(contributions)
    MonthlyActual.objects.bulk_create(actuals)
    TopSlice.objects.create(agreement=agreement, year=2025, name="Innovation fund",
                            percent=D("15"))
    TopSlice.objects.create(agreement=agreement, scheme=rows[0], year=2025, name="Pilots",
                            percent=D("5"))
    for m in range(3):
        close(agreement, add_months(APRIL, m))
    return agreement


def _count(client, agreement) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("funding:agreement_detail", args=[agreement.pk]),
                              {"year": 2025})
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_agreement_page_runs_a_fixed_number_of_queries_whatever_its_size(world, client_for):
    client = client_for(world.finance_officer_a)
    small = _build(world, schemes=2, years=1)
    large = _build(world, schemes=30, years=5)
    client.get(reverse("funding:agreement_list"))  # warm the session
    small_count, _html = _count(client, small)
    large_count, html = _count(client, large)
    assert small_count == large_count, (small_count, large_count)
    assert small_count <= 18
    # Sums are right: 30 schemes × £121,203 forecast − £120,000 budget = £36,090 over.
    assert "£36,090" in html
    assert "£3,636,090" in html  # forecast total
    assert "£10,500,000" in html  # each partner's… council 30 × 5 × 70,000
    assert "£540,000" in html  # 15% of the year's £3.6m budget


# --- Statements and exports ------------------------------------------------------------------

def test_it_renders_the_annual_statement_as_a_pdf_with_partners_and_figures(world, agreement,
                                                                            client_for):
    response = client_for(world.commissioner_a).get(
        reverse("funding:statement_pdf", args=[agreement.pk, 2025]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Pooled fund annual statement, 2025/26" in text
    assert "London Borough of Bromley" in text and "NHS South East London ICB" in text
    assert "£576,000.00" in text and "£384,000.00" in text  # income by partner
    assert "£960,000.00" in text  # budget
    assert "£60,000.00" in text  # forecast variance
    assert "£30,000.00" in text  # each partner's half of it


def test_it_shows_the_quarterly_report_on_screen(world, agreement, client_for):
    actual(agreement.schemes.get(), date(2025, 7, 1), "1000")
    response = client_for(world.commissioner_a).get(
        reverse("funding:statement", args=[agreement.pk, 2025]), {"quarter": "1"})
    html = response.content.decode()
    assert "Pooled fund quarterly report, 2025/26 quarter 1" in html
    assert "£85,000.00" in html  # July's £1,000 is after quarter 1


def test_it_exports_the_bcf_plan_as_csv_with_bom_and_neutralised_formulas(world, agreement,
                                                                          client_for):
    response = client_for(world.commissioner_a).get(
        reverse("funding:bcf_plan_export", args=[agreement.pk, 2025, "csv"]))
    assert response.streaming
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == selectors.BCF_COLUMNS
    assert rows[1][:3] == ["S75-CE", "Community Equipment", "Assistive technologies and equipment"
                           ] or rows[1][:2] == ["S75-CE", "Community Equipment"]
    assert rows[1][10] == "'=HYPERLINK(\"http://x\")"
    assert {(r[11], r[12]) for r in rows[1:]} == {("Council core budget", "576000.00"),
                                                  ("BCF NHS minimum contribution", "384000.00")}
    assert rows[1][7] == "Joint" and rows[1][8] == "40.00" and rows[1][9] == "60.00"


def test_it_exports_the_bcf_plan_as_xlsx_in_the_template_column_order(world, agreement,
                                                                      client_for):
    response = client_for(world.commissioner_a).get(
        reverse("funding:bcf_plan_export", args=[agreement.pk, 2025, "xlsx"]))
    assert response.streaming
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)),
                          read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == selectors.BCF_COLUMNS
    assert rows[1][10] == "'=HYPERLINK(\"http://x\")"
    assert sorted(r[12] for r in rows[1:]) == [384000, 576000]


def test_it_records_history_for_agreements_and_schemes(world, agreement, client_for):
    client = client_for(world.commissioner_a)
    scheme = agreement.schemes.get()
    response = client.post(reverse("funding:scheme_edit", args=[agreement.pk, scheme.pk]), {
        "code": "S75-CE", "name": "Community Equipment Service", "lead_partner":
        world.council_a.pk, "scheme_type": "assistive_technologies", "budget_type": "pooled",
        "is_bcf": "yes", "commissioner": "joint", "nhs_percent": "40", "la_percent": "60",
        "area_of_spend": "social_care", "is_new": "no", "version": scheme.version})
    assert response.status_code == 302
    page = client.get(reverse("object_history", args=["funding.scheme", scheme.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Community Equipment Service" in html and "Cara Commissioner" in html


def test_it_refuses_a_stale_scheme_edit_through_the_form(world, agreement, client_for):
    scheme = agreement.schemes.get()
    data = {"code": "S75-CE", "name": "Renamed", "lead_partner": world.council_a.pk,
            "scheme_type": "assistive_technologies", "budget_type": "pooled", "is_bcf": "yes",
            "commissioner": "la", "area_of_spend": "social_care", "is_new": "no",
            "version": scheme.version}
    client = client_for(world.commissioner_a)
    assert client.post(reverse("funding:scheme_edit", args=[agreement.pk, scheme.pk]),
                       data).status_code == 302
    stale = client_for(world.icb_commissioner_a).post(
        reverse("funding:scheme_edit", args=[agreement.pk, scheme.pk]),
        {**data, "name": "Stale"})
    assert stale.status_code == 400
    assert "Someone else changed this scheme since you opened it" in stale.content.decode()
    scheme.refresh_from_db()
    assert scheme.name == "Renamed"


def test_it_changes_an_agreement_through_the_form(world, agreement, client_for):
    data = {k: v for k, v in AgreementForm.initial_for(agreement).items() if v is not None}
    data.update(start_date="01/04/2025", end_date="31/03/2028", kind="section_75",
                title="Renamed agreement", parallel_reduction="yes")
    data = {k: (v.pk if hasattr(v, "pk") else v) for k, v in data.items()}
    data = {k: ("on" if v is True else v) for k, v in data.items()}
    response = client_for(world.commissioner_a).post(
        reverse("funding:agreement_edit", args=[agreement.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    agreement.refresh_from_db()
    assert agreement.title == "Renamed agreement" and agreement.parallel_reduction
    assert agreement.version == 2


def test_it_refuses_the_second_of_two_agreement_edits_opened_together(world, agreement,
                                                                      client_for):
    url = reverse("funding:agreement_edit", args=[agreement.pk])
    first_client, second_client = (client_for(world.commissioner_a),
                                   client_for(world.icb_commissioner_a))
    first = rendered_form(first_client.get(url).content.decode())
    second = rendered_form(second_client.get(url).content.decode())
    saved = first_client.post(url, first.with_changes(title="First title"))
    assert saved.status_code == 302, saved.content.decode()[:2000]
    stale = second_client.post(url, second.with_changes(title="Second title"))
    html = stale.content.decode()
    assert stale.status_code == 400
    assert "govuk-error-summary" in html
    assert ("Someone else changed this agreement since you opened it. Your changes have not "
            "been saved. Reload to see their changes.") in html
    agreement.refresh_from_db()
    assert agreement.title == "First title"
