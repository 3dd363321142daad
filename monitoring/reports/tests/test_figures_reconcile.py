"""Figures that reconcile: for every month of a year of generated actuals, the monthly joint
monitoring report's pooled-budget section, the agreement page (as at that month) and the pooled
fund quarterly statement show the same figures, each "as at" the month.

The expected figures are worked out here from the generated rows (sums of Decimal pennies), so
the test checks the three against each other and against the data, not against a constant.
"""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import pytest

from commissioning.periods import add_months
from contracts.models import ContractStatus
from contracts.tests.factories import ShareFactory, contract_for
from funding.tests.factories import actual, agreement_for, contribute, scheme_for
from monitoring.reports.data import monthly_report_data

pytestmark = pytest.mark.django_db

YEAR = 2025  # April 2025 to March 2026: every month already over
MONTHS = [add_months(date(YEAR, 4, 1), n) for n in range(12)]
QUARTER_ENDS = {date(YEAR, 6, 1): 1, date(YEAR, 9, 1): 2, date(YEAR, 12, 1): 3,
                date(YEAR + 1, 3, 1): 4}
PENNY = Decimal("0.01")


def pennies(rng: random.Random, low: int, high: int) -> Decimal:
    return (Decimal(rng.randint(low * 100, high * 100)) * PENNY).quantize(PENNY)


@pytest.fixture
def pooled_year(world):
    """Three schemes with budgets and contributions, and twelve months of generated actuals
    in pence, with a forecast outturn recorded in some months and not others."""
    rng = random.Random(20)
    agreement = agreement_for(world, title="Bromley pooled fund", shares=("60", "40"),
                              start_date=date(YEAR, 4, 1), end_date=date(YEAR + 2, 3, 31))
    rows = {}
    for code, lead, budget in (("BCF-01", world.council_a, "3100000.00"),
                               ("S75-02", world.icb_a, "1200000.00"),
                               ("S75-03", world.council_a, "900000.00")):
        scheme = scheme_for(agreement, code=code, name=f"Scheme {code}", lead=lead,
                            budget=budget, year=YEAR)
        contribute(scheme, world.council_a, str(Decimal(budget) / 2), year=YEAR)
        contribute(scheme, world.icb_a, str(Decimal(budget) / 2), year=YEAR,
                   code="bcf-nhs-minimum")
        monthly = Decimal(budget) / 12
        for month in MONTHS:
            amount = pennies(rng, int(monthly * Decimal("0.8")), int(monthly * Decimal("1.2")))
            forecast = (pennies(rng, int(Decimal(budget) * Decimal("0.95")),
                                int(Decimal(budget) * Decimal("1.08")))
                        if rng.random() < 0.6 else None)
            actual(scheme, month, str(amount), str(forecast) if forecast is not None else None)
            rows[(code, month)] = (amount, forecast)
        rows[code] = Decimal(budget)
    return agreement, rows


def expected_as_at(rows, code: str, month: date) -> tuple[Decimal, Decimal]:
    """Actual to the end of ``month`` and the forecast outturn last recorded by then (the
    budget when none was)."""
    spent = sum((rows[(code, m)][0] for m in MONTHS if m <= month), Decimal("0"))
    forecasts = [rows[(code, m)][1] for m in MONTHS if m <= month and rows[(code, m)][1]]
    return spent, forecasts[-1] if forecasts else rows[code]


def figures(schemes) -> dict[str, tuple[Decimal, Decimal, Decimal, Decimal]]:
    return {s.code: (s.budget, s.actual_to_date, s.forecast, s.variance) for s in schemes}


def totals(t) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    return (t.budget, t.actual_to_date, t.forecast, t.variance)


def test_it_shows_the_same_figures_as_at_each_month_in_report_page_and_statement(
        world, pooled_year, client_for):
    agreement, rows = pooled_year
    client = client_for(world.commissioner_a)
    url = agreement.get_absolute_url()
    for month in MONTHS:
        expected = {}
        for code in ("BCF-01", "S75-02", "S75-03"):
            spent, forecast = expected_as_at(rows, code, month)
            expected[code] = (rows[code], spent, forecast, forecast - rows[code])

        report = monthly_report_data(partnership=world.partnership_a, month=month)
        [section] = [b for b in report.budgets if b.agreement == agreement]
        assert figures(section.schemes) == expected, month
        report_totals = (section.budget, section.actual_to_date, section.forecast,
                         section.variance)

        response = client.get(url, {"year": YEAR, "as_at": f"{month:%Y-%m}"})
        assert response.status_code == 200
        page = response.context["page"]
        assert page.as_at == month
        assert figures(page.schemes) == expected, month
        assert totals(page.totals) == report_totals, month
        assert [(s.partner, s.amount) for s in page.projection] == \
            [(s.partner, s.amount) for s in section.partner_shares], month
        assert f"Actual spend to the end of {month:%B %Y}" in response.content.decode()

        quarter = QUARTER_ENDS.get(month)
        if quarter:
            response = client.get(f"{url}statements/{YEAR}/", {"quarter": quarter})
            statement = response.context["statement"]
            assert figures(statement.schemes) == expected, month
            assert totals(statement.totals) == report_totals, month
            assert [(s.partner, s.amount) for s in statement.projection] == \
                [(s.partner, s.amount) for s in section.partner_shares], month
    # The year's statement is as at March, like the March report.
    response = client.get(f"{url}statements/{YEAR}/")
    assert totals(response.context["statement"].totals) == report_totals


def test_it_reports_a_past_month_as_at_that_month_not_as_at_today(world, pooled_year):
    _agreement, rows = pooled_year
    september = date(YEAR, 9, 1)
    [section] = monthly_report_data(partnership=world.partnership_a, month=september).budgets
    to_september = sum((rows[(c, m)][0] for c in ("BCF-01", "S75-02", "S75-03")
                        for m in MONTHS if m <= september), Decimal("0"))
    whole_year = sum((rows[(c, m)][0] for c in ("BCF-01", "S75-02", "S75-03")
                      for m in MONTHS), Decimal("0"))
    assert section.actual_to_date == to_september != whole_year


def test_it_lists_the_contracts_running_in_the_report_month_only(world):
    ended = contract_for(world, reference="OLD", title="Ended in 2022",
                         start_date=date(2019, 4, 1), initial_end_date=date(2022, 3, 31),
                         status=ContractStatus.EXTENDED)
    later = contract_for(world, reference="NEW", title="Starts in 2026",
                         start_date=date(2026, 4, 1), initial_end_date=date(2029, 3, 31),
                         status=ContractStatus.AWARDED)
    running = contract_for(world, reference="NOW", title="Running in 2025",
                           start_date=date(2024, 4, 1), initial_end_date=date(2027, 3, 31))
    for contract in (ended, later, running):  # jointly commissioned: in the partnership's report
        ShareFactory(contract=contract, organisation=world.council_a, share_percent=50)
        ShareFactory(contract=contract, organisation=world.icb_a, share_percent=50)
    september = monthly_report_data(partnership=world.partnership_a, month=date(2025, 9, 1))
    assert september.contracts == [running]
    april_2026 = monthly_report_data(partnership=world.partnership_a, month=date(2026, 4, 1))
    assert set(april_2026.contracts) == {running, later}
    assert ended not in april_2026.contracts
