"""The key-date alert rules in SQL (``selectors.key_date_alerts_sql`` and
``key_date_alerts_page``) give exactly the alerts the Python rules do
(``selectors.key_date_alerts_due``), in the same order, over hundreds of generated contracts
and several days: end dates on and either side of each threshold (18/12/6/3 months), month
ends and 29 February where month arithmetic clamps, standstill ends at the edges of their
window, review dates at the edges of the next 30 days, exercised and unexercised options,
notice periods that put the extension decision window's start exactly on the day, and
re-commissioning decisions just inside and just outside the 24 months before the end.
Change either form and this fails until the other follows."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from commissioning.periods import add_months
from contracts import selectors
from contracts.models import (
    AlertKind,
    Contract,
    ContractStatus,
    Decision,
    DecisionMaker,
    DecisionPurpose,
    ExtensionOption,
    ReviewDate,
    Variation,
)
from contracts.selectors import (
    DECIDING_PURPOSES,
    EXPIRY_THRESHOLDS,
    EXTENSION_DECISION_LEAD_MONTHS,
    REVIEW_WINDOW,
    STANDSTILL_WINDOW,
    key_date_alerts_due,
    key_date_alerts_page,
    key_date_alerts_sql,
)
from contracts.tests.factories import contract_for

pytestmark = pytest.mark.django_db

# Month ends (31st, 30th, 28 February, 29 February) and a mid-month day.
DAYS = [date(2026, 8, 31), date(2027, 2, 28), date(2028, 2, 29), date(2026, 11, 30),
        date(2027, 1, 30), date(2026, 11, 29), date(2027, 3, 15)]
STATUSES = [ContractStatus.LIVE] * 4 + [ContractStatus.EXTENDED] * 2 + [
    ContractStatus.AWARDED] * 2 + [ContractStatus.PLANNED, ContractStatus.EXPIRED,
                                   ContractStatus.TERMINATED, ContractStatus.IN_PROCUREMENT]
# References whose code-point order differs from a natural-language collation's.
REFERENCES = ["GEN-{n:04d}", "gen-{n:04d}", "GEN_{n:04d}", "GEN {n:04d}", "Gen{n:04d}",
              "{n}"]


def end_near(rng: random.Random, today: date, notice: int) -> date:
    """An end date on, or a day either side of, a threshold, the start of the extension
    decision window or a month end (where add_months clamps), else anywhere in the next two
    years."""
    months = rng.choice([*EXPIRY_THRESHOLDS, 0, 1, 7, 15, 19, 24, 27,
                         *[notice + EXTENSION_DECISION_LEAD_MONTHS] * 4])
    end = add_months(today, months)
    shape = rng.randrange(6)
    if shape == 0:  # the month's last day (29/30/31 after a clamp)
        end = add_months(date(end.year, end.month, 1), 1) - timedelta(days=1)
    elif shape == 1:
        end += timedelta(days=rng.choice([-1, 1]))
    elif shape == 2:
        end = today + timedelta(days=rng.randrange(-20, 800))
    return end


def generate(world, rng: random.Random, count: int) -> None:
    managers = [None, world.commissioner_a, world.icb_commissioner_a]
    options, decisions, reviews, variations = [], [], [], []
    for n in range(count):
        today = rng.choice(DAYS)
        notice = rng.choice([0, 0, 1, 3, 6, 6, 12, 16, 24])
        end = end_near(rng, today, notice)
        exercised = rng.random() < 0.25
        contract = contract_for(
            world, reference=rng.choice(REFERENCES).format(n=n), status=rng.choice(STATUSES),
            start_date=end - timedelta(days=1500), initial_end_date=end,
            notice_period_months=notice,
            standstill_end_date=rng.choice([None, today + timedelta(days=rng.choice(
                [-STANDSTILL_WINDOW[1].days - 1, -STANDSTILL_WINDOW[1].days, -1, 0, 2,
                 STANDSTILL_WINDOW[0].days, STANDSTILL_WINDOW[0].days + 1]))]),
            contract_manager=rng.choice(managers))
        for sequence in range(1, rng.choice([0, 0, 1, 2, 3]) + 1):
            # An exercised option moves the end (with_term): the alert clock restarts.
            options.append(ExtensionOption(
                contract=contract, sequence=sequence, length_months=rng.choice([6, 12]),
                exercised=exercised and sequence == 1))
        if rng.random() < 0.1:
            variations.append(Variation(contract=contract, date=today, description="Term",
                                        term_change_months=rng.choice([-3, 6])))
        # Decisions on, or a day either side of, 24 months before the (initial) end.
        for _ in range(rng.choice([0, 0, 1, 2])):
            decisions.append(Decision(
                contract=contract, purpose=rng.choice(list(DecisionPurpose)),
                decision_maker=DecisionMaker.EXECUTIVE, outcome="Agreed",
                meeting_date=add_months(end, -24) + timedelta(days=rng.choice([-1, 0, 1, 200]))))
        for _ in range(rng.choice([0, 0, 1, 2])):
            reviews.append(ReviewDate(contract=contract, description="Review", date=today + (
                timedelta(days=rng.choice([-1, 0, 1, 15, REVIEW_WINDOW.days,
                                           REVIEW_WINDOW.days + 1])))))
    ExtensionOption.objects.bulk_create(options)
    Variation.objects.bulk_create(variations)
    Decision.objects.bulk_create(decisions)
    ReviewDate.objects.bulk_create(reviews)
    # Decisions against the end after exercised options and term changes, too.
    ends = dict(Contract.objects.with_term().values_list("pk", "current_end"))
    Decision.objects.bulk_create(
        Decision(contract_id=pk, purpose=rng.choice(DECIDING_PURPOSES),
                 decision_maker=DecisionMaker.EXECUTIVE, outcome="Agreed",
                 meeting_date=add_months(end, -24) + timedelta(days=rng.choice([-1, 0])))
        for pk, end in ends.items() if rng.random() < 0.1)


def as_rows(alerts) -> list[tuple]:
    return [(a.due_date, a.reference, a.kind, a.contract_id, a.manager_id, a.threshold)
            for a in alerts]


def order(rows: list[tuple]) -> list[tuple]:
    """The key both forms order by (rows equal in it may come in either order)."""
    return [row[:3] for row in rows]


@pytest.mark.parametrize("seed", [1, 2])
def test_it_gives_the_same_alerts_in_sql_as_in_python(world, seed):
    rng = random.Random(seed)
    generate(world, rng, 160)
    contracts = Contract.objects.all()
    seen_kinds: set[str] = set()
    edges = {"expiry threshold on the day": 0, "extension window opens on the day": 0}
    ends = dict(Contract.objects.with_term().values_list("pk", "current_end"))
    # Where clamping twice (the notice deadline, then the lead months) is not clamping once.
    for end, notice in Contract.objects.with_term().filter(
            status__in=(ContractStatus.LIVE, ContractStatus.EXTENDED),
            extension_options__exercised=False).values_list("current_end", "notice_period_months"):
        lead = EXTENSION_DECISION_LEAD_MONTHS
        if any((add_months(add_months(end, -notice), -lead) <= today)
               != (add_months(end, -notice - lead) <= today) for today in DAYS):
            edges["the window's start clamps twice"] = 1
    # Deciding decisions on the first day of the 24 months before the end, and the day before.
    for pk, meeting in Decision.objects.filter(purpose__in=DECIDING_PURPOSES).values_list(
            "contract_id", "meeting_date"):
        gap = (add_months(ends[pk], -24) - meeting).days
        if gap in (0, 1):
            edges[f"decision {gap} day(s) before the 24 months"] = 1
    for today in DAYS:
        python = as_rows(key_date_alerts_due(today=today, contracts=contracts, attach=0))
        sql = as_rows(key_date_alerts_sql(contracts, today=today))
        assert sorted(sql) == sorted(python), today
        assert order(sql) == order(python), today
        page = key_date_alerts_page(contracts, today=today, limit=20,
                                    manager_id=world.commissioner_a.pk)
        assert order(as_rows(page.alerts)) == order(python)[:20]
        assert page.count == len(python)
        assert page.managed == sum(1 for row in python if row[4] == world.commissioner_a.pk)
        assert all(a.contract.pk == a.contract_id for a in page.alerts)
        seen_kinds |= {row[2] for row in python}
        for due, _ref, kind, pk, _manager, threshold in python:
            if kind == AlertKind.EXPIRY and add_months(due, -int(threshold.split()[0])) == today:
                edges["expiry threshold on the day"] += 1
            if kind == AlertKind.EXTENSION_DECISION and add_months(
                    due, -EXTENSION_DECISION_LEAD_MONTHS) == today:
                edges["extension window opens on the day"] += 1
    assert seen_kinds == set(AlertKind.values), "the generated contracts miss a kind of alert"
    assert all(edges.values()) and len(edges) == 5, edges


def test_it_counts_only_the_given_contracts_and_their_managers(world):
    rng = random.Random(7)
    generate(world, rng, 80)
    some = Contract.objects.filter(pk__in=list(
        Contract.objects.order_by("pk").values_list("pk", flat=True)[:40]))
    for today in DAYS[:2]:
        python = key_date_alerts_due(today=today, contracts=some, attach=0)
        assert sorted(as_rows(key_date_alerts_sql(some, today=today))) == sorted(as_rows(python))
        page = key_date_alerts_page(some, today=today, limit=5,
                                    manager_id=world.icb_commissioner_a.pk)
        assert page.count == len(python) and len(page.alerts) == min(5, len(python))
        assert page.managed == sum(1 for a in python
                                   if a.manager_id == world.icb_commissioner_a.pk)
    assert key_date_alerts_page(Contract.objects.none(), today=DAYS[0], limit=5).count == 0


def test_a_page_of_the_list_is_the_python_rules_slice(world):
    rng = random.Random(11)
    generate(world, rng, 60)
    contracts = Contract.objects.all()
    today = DAYS[0]
    python = as_rows(key_date_alerts_due(today=today, contracts=contracts, attach=0))
    due = selectors.DueAlerts(contracts, today=today)
    assert due.count() == len(python) > 12
    assert order(as_rows(due[5:12])) == order(python)[5:12]


def test_without_sql_the_python_rules_give_the_same_page_and_list(world, monkeypatch):
    """The embedded SQLite set-up's path (``alerts_in_sql`` false) against the SQL one."""
    generate(world, random.Random(5), 40)
    contracts, today = Contract.objects.all(), DAYS[1]
    in_sql = key_date_alerts_page(contracts, today=today, limit=7,
                                  manager_id=world.commissioner_a.pk)
    listed = selectors.DueAlerts(contracts, today=today)[2:9]
    monkeypatch.setattr(selectors, "alerts_in_sql", lambda: False)
    in_python = key_date_alerts_page(contracts, today=today, limit=7,
                                     manager_id=world.commissioner_a.pk)
    assert (in_python.count, in_python.managed) == (in_sql.count, in_sql.managed) > (7, 0)
    assert order(as_rows(in_python.alerts)) == order(as_rows(in_sql.alerts))
    assert all(a.contract.pk == a.contract_id for a in in_python.alerts)
    assert order(as_rows(selectors.DueAlerts(contracts, today=today)[2:9])) == order(
        as_rows(listed))
