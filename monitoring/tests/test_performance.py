"""Performance pages, exports, Procurement Act assessments and KPI management."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from commissioning.spreadsheets import safe_cell
from contracts.tests.factories import contract_for
from monitoring import charts, selectors
from monitoring.models import KPI, AssessmentStatus, KPITemplateSet, PerformanceAssessment
from monitoring.tests.factories import fill_and_submit, kpi_with_target, percentage_kpi, quarter


@pytest.fixture
def data(world):
    good = contract_for(world, reference="GOOD-1", title="Good service")
    kpi_with_target(good, code="G1", name="Visits")
    bad = contract_for(world, reference="BAD-1", title="=HYPERLINK(\"x\") service")
    red = kpi_with_target(bad, code="B1", name="Visits", target="100", tolerance="5")
    percentage_kpi(bad, code="B2", name="Satisfied")
    for day in (date(2025, 2, 1), date(2025, 5, 1)):
        fill_and_submit(good, quarter(day), world.provider_x_user)
        fill_and_submit(bad, quarter(day), world.provider_x_user, values={"B1": "50"})
    other = contract_for(world, reference="MERTON-1", partnership=world.partnership_b,
                         holder=world.council_b, lead_commissioner=world.council_b)
    kpi_with_target(other)
    return good, bad, red, other


def test_the_overview_puts_the_worst_performers_first(world, data, client_for):
    page = client_for(world.commissioner_a).get(reverse("monitoring:overview"))
    text = page.content.decode()
    assert page.status_code == 200
    assert text.index("BAD-1") < text.index("GOOD-1")
    assert "MERTON-1" not in text
    assert 'govuk-tag--red">Red<' in text


def test_the_overview_filters_and_exports(world, data, client_for):
    client = client_for(world.commissioner_a)
    filtered = client.get(reverse("monitoring:overview"), {"q": "GOOD"}).content.decode()
    assert "GOOD-1" in filtered and "BAD-1" not in filtered
    csv_file = client.get(reverse("monitoring:overview"), {"format": "csv"})
    text = b"".join(csv_file.streaming_content).decode("utf-8")
    assert text.startswith("\ufeffReference,Title")
    assert "'=HYPERLINK" in text
    xlsx = client.get(reverse("monitoring:overview"), {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    titles = [row[1].value for row in sheet.iter_rows(min_row=2)]
    assert "'=HYPERLINK(\"x\") service" in titles


def test_the_contract_page_shows_rag_trend_chart_and_table(world, data, client_for):
    _good, bad, _red, _other = data
    page = client_for(world.commissioner_a).get(
        reverse("monitoring:contract_performance", args=[bad.pk]))
    text = page.content.decode()
    assert "B1 Visits" in text and "at least 100 people" in text
    assert 'govuk-tag--red">Red<' in text
    assert 'role="img"' in text and "<title>B1 Visits" in text
    assert "Show the figures as a table" in text
    csv_file = client_for(world.commissioner_a).get(
        reverse("monitoring:contract_performance", args=[bad.pk]), {"format": "csv"})
    assert "B1,Visits" in b"".join(csv_file.streaming_content).decode("utf-8")


@pytest.mark.parametrize("persona", ["provider_x_user", "commissioner_b", "outsider"])
def test_the_wrong_persona_gets_404_on_performance_pages(world, data, client_for, persona):
    _good, bad, red, _other = data
    client = client_for(getattr(world, persona))
    assert client.get(reverse("monitoring:contract_performance",
                              args=[bad.pk])).status_code == 404
    assert client.get(reverse("monitoring:kpi_create", args=[bad.pk])).status_code == 404
    assert client.get(reverse("monitoring:target_set", args=[red.pk])).status_code == 404


def test_charts_are_accessible_svg():
    svg = charts.sparkline([Decimal("1"), None, Decimal("3")], title="Visits <trend>")
    assert 'role="img"' in svg and "<title>Visits &lt;trend&gt;</title>" in svg
    bars = charts.bar_chart([("Q1", Decimal("5"), "green"), ("Q2", None, None)],
                            title="Bars", target=Decimal("4"))
    assert "<title>Bars</title>" in bars and "Q2: no value" in bars


def test_a_commissioner_adds_a_kpi_sets_a_target_and_copies_the_library(world, client_for):
    contract = contract_for(world, reference="NEW-1")
    client = client_for(world.commissioner_a)
    response = client.post(reverse("monitoring:kpi_create", args=[contract.pk]), {
        "code": "n1", "name": "Carers trained", "quadrant": "how_much", "data_type": "count",
        "direction": "higher", "frequency": "quarterly", "baseline": "12"})
    assert response.status_code == 302
    kpi = KPI.objects.get(contract=contract)
    assert kpi.code == "N1" and kpi.baseline == Decimal("12")
    duplicate = client.post(reverse("monitoring:kpi_create", args=[contract.pk]), {
        "code": "N1", "name": "Again", "quadrant": "how_much", "data_type": "count",
        "direction": "higher", "frequency": "quarterly"})
    assert "already has a KPI with the code N1" in duplicate.content.decode()
    period = quarter()
    client.post(reverse("monitoring:target_set", args=[kpi.pk]), {
        "valid_from": period.pk, "target_value": "45", "amber_tolerance": "5"})
    assert kpi.targets.get(valid_from=period).target_value == Decimal("45")
    dementia = KPITemplateSet.objects.get(name="Dementia Hub")
    client.post(reverse("monitoring:templates_copy", args=[contract.pk]),
                {"template_set": dementia.pk})
    client.post(reverse("monitoring:templates_copy", args=[contract.pk]),
                {"template_set": dementia.pk})
    assert contract.kpis.filter(code__startswith="DH").count() == dementia.templates.count()
    dh5 = contract.kpis.get(code="DH5")
    assert dh5.targets.get().target_value is None  # set once a baseline exists


def test_big_contracts_warn_about_s52_kpis_and_draft_an_assessment(world, client_for):
    contract = contract_for(world, reference="BIG-1", annual_value=Decimal("6000000"),
                            start_date=date(2024, 4, 1))
    k1 = kpi_with_target(contract, code="S1", is_s52=True, target="100", tolerance="0")
    client = client_for(world.commissioner_a)
    page = client.get(reverse("monitoring:contract_performance", args=[contract.pk]))
    assert "at least three" in page.content.decode() and "It has 1." in page.content.decode()
    fill_and_submit(contract, quarter(date(2024, 5, 1)), world.provider_x_user,
                    values={"S1": "50"})
    fill_and_submit(contract, quarter(date(2024, 8, 1)), world.provider_x_user,
                    values={"S1": "120"})
    response = client.post(reverse("monitoring:assessment_start", args=[contract.pk]),
                           {"financial_year": "2024/25"})
    assessment = PerformanceAssessment.objects.get()
    assert response.url == reverse("monitoring:assessment", args=[assessment.pk])
    rating = assessment.ratings.get(kpi=k1)
    assert rating.suggested_rating == "requires_improvement"
    url = reverse("monitoring:assessment", args=[assessment.pk])
    refused = client.post(url, {f"rating-{k1.pk}": "good", f"explanation-{k1.pk}": "",
                                "summary": ""})
    assert "Explain why" in refused.content.decode()
    client.post(url, {f"rating-{k1.pk}": "good", f"explanation-{k1.pk}": "Recovered in Q2",
                      "summary": "Fine", "finalise": "on"})
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.FINAL
    export = b"".join(client.get(url, {"format": "csv"}).streaming_content).decode("utf-8")
    assert "S1" in export and "Good" in export and "Recovered in Q2" in export
    assert client.post(url, {f"rating-{k1.pk}": "inadequate"}).status_code == 404
    assert client_for(world.commissioner_b).get(url).status_code == 404
    assert client_for(world.provider_x_user).get(url).status_code == 404


def test_the_dashboard_shows_returns_to_review_and_returns_due(world, data, client_for):
    text = client_for(world.commissioner_a).get(reverse("dashboard")).content.decode()
    assert "returns waiting for review" in text or "return waiting for review" in text
    text = client_for(world.provider_x_user).get(reverse("dashboard")).content.decode()
    assert "Performance returns" in text and "All your returns" in text


def test_the_overview_reminds_when_an_annual_assessment_is_due(world, client_for):
    big = contract_for(world, reference="BIG-9", annual_value=Decimal("5500000"),
                       start_date=date(2024, 4, 1))
    kpi_with_target(big, is_s52=True)
    small = contract_for(world, reference="SMALL-9")
    kpi_with_target(small)
    text = client_for(world.commissioner_a).get(reverse("monitoring:overview")).content.decode()
    assert "performance assessments due" in text
    assert "BIG-9" in text.split("performance assessments due")[1].split("</ul>")[0]
    assert "SMALL-9" not in text.split("performance assessments due")[1].split("</ul>")[0]
    PerformanceAssessment.objects.create(contract=big, financial_year="2025/26",
                                         status=AssessmentStatus.FINAL,
                                         finalised_at=timezone.now())
    text = client_for(world.commissioner_a).get(reverse("monitoring:overview")).content.decode()
    assert "performance assessments due" not in text


def test_exports_neutralise_every_formula_prefix():
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(text).startswith("'")
    assert safe_cell(Decimal("-5")) == Decimal("-5")
    assert safe_cell("Plain") == "Plain"


def test_annual_kpis_appear_only_in_the_q4_return(world):
    contract = contract_for(world)
    annual = kpi_with_target(contract, code="AN1", frequency="annual")
    quarterly = kpi_with_target(contract, code="QQ1")
    q1, q4 = quarter(date(2025, 5, 1)), quarter(date(2026, 2, 1))
    assert selectors.kpis_for_period(contract, q1) == [quarterly]
    assert set(selectors.kpis_for_period(contract, q4)) == {annual, quarterly}
