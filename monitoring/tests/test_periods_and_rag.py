from datetime import date
from decimal import Decimal

import pytest

from contracts.tests.factories import contract_for
from monitoring import reporting_periods
from monitoring.models import DataType, Direction, Rating, ReportingPeriod
from monitoring.rag import AMBER, GREEN, RED, Target, rag, suggested_rating
from monitoring.selectors import contract_performance, target_for
from monitoring.services import kpis as kpi_services
from monitoring.tests.factories import fill_and_submit, kpi_with_target, quarter


@pytest.mark.django_db
def test_it_names_quarters_and_counts_20_working_days_with_bank_holidays():
    q3 = reporting_periods.period_get(kind="quarter", day=date(2025, 11, 3))
    assert q3.label == "2025/26 Q3"
    assert (q3.start_date, q3.end_date) == (date(2025, 10, 1), date(2025, 12, 31))
    # January 2026: New Year's Day is a bank holiday, so 20 working days lands on 29 January.
    assert q3.due_date == date(2026, 1, 29)
    q4 = reporting_periods.period_get(kind="quarter", day=date(2026, 2, 1))
    assert q4.label == "2025/26 Q4" and q4.end_date == date(2026, 3, 31)
    # April 2026: Good Friday (3 April) and Easter Monday (6 April) do not count: 30 April.
    assert q4.due_date == date(2026, 4, 30)
    month = reporting_periods.period_get(kind="month", day=date(2025, 4, 9))
    assert month.code == "2025-26-m01" and month.label == "April 2025"


@pytest.mark.django_db
def test_it_creates_each_period_once_and_parses_codes():
    first = reporting_periods.period_from_code("2025-26-q3")
    assert reporting_periods.period_from_code("2025-26-q3") == first
    assert ReportingPeriod.objects.filter(code="2025-26-q3").count() == 1
    assert reporting_periods.period_from_code("2025-27-q3") is None
    assert reporting_periods.period_from_code("2025-26-q5") is None
    assert reporting_periods.period_from_code("nonsense") is None


@pytest.mark.parametrize(
    ("direction", "value", "expected"),
    [
        (Direction.HIGHER, "100", GREEN), (Direction.HIGHER, "95", AMBER),
        (Direction.HIGHER, "89.99", RED), (Direction.LOWER, "100", GREEN),
        (Direction.LOWER, "110", AMBER), (Direction.LOWER, "110.01", RED),
    ],
)
def test_it_rates_green_at_target_amber_within_tolerance_red_beyond(direction, value, expected):
    target = Target(Decimal("100"), None, Decimal("10"))
    assert rag(data_type=DataType.COUNT, direction=direction, value=Decimal(value),
               target=target) == expected


def test_it_rates_ranges_yes_no_and_missing_targets():
    band = Target(Decimal("4"), Decimal("8"), Decimal("1"))
    assert rag(data_type="count", direction="range", value=Decimal("6"), target=band) == GREEN
    assert rag(data_type="count", direction="range", value=Decimal("8.5"), target=band) == AMBER
    assert rag(data_type="count", direction="range", value=Decimal("2"), target=band) == RED
    assert rag(data_type="yes_no", direction="higher", value=True,
               target=Target(Decimal("1"))) == GREEN
    assert rag(data_type="yes_no", direction="higher", value=False,
               target=Target(Decimal("1"))) == RED
    assert rag(data_type="count", direction="higher", value=Decimal("5"),
               target=Target(None)) is None
    assert rag(data_type="count", direction="higher", value=Decimal("5"), target=None) is None


def test_it_suggests_procurement_act_ratings():
    assert suggested_rating([GREEN, GREEN]) == Rating.GOOD
    assert suggested_rating([GREEN, AMBER]) == Rating.APPROACHING
    assert suggested_rating([GREEN, RED, GREEN, GREEN]) == Rating.REQUIRES_IMPROVEMENT
    assert suggested_rating([RED, RED, AMBER]) == Rating.INADEQUATE
    assert suggested_rating([None]) == Rating.OTHER


def test_it_keeps_past_periods_on_the_target_in_force_then(world):
    contract = contract_for(world)
    kpi = kpi_with_target(contract, target="100", tolerance="0")
    q1 = quarter(date(2025, 5, 1))
    q2 = quarter(date(2025, 8, 1))
    fill_and_submit(contract, q1, world.provider_x_user, values={kpi.code: "110"})
    fill_and_submit(contract, q2, world.provider_x_user, values={kpi.code: "110"})
    # The commissioner raises the target from Q2 after Q1's return exists.
    kpi_services.target_set(kpi=kpi, valid_from=q2, target_value=Decimal("150"),
                            amber_tolerance=Decimal("0"), set_by=world.commissioner_a)
    kpi.refresh_from_db()
    assert target_for(kpi, q1).value == Decimal("100")
    assert target_for(kpi, q2).value == Decimal("150")
    _periods, rows = contract_performance(contract=contract, today=date(2025, 11, 1), count=3)
    cells = {c.period.label: c.rag for c in rows[0].cells}
    assert cells == {"2025/26 Q1": GREEN, "2025/26 Q2": RED, "2024/25 Q4": None}
