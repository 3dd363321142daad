"""The performance overview: each visible contract's RAG counts from its latest shown return,
worked out in SQL (``OVERVIEW_SQL``), worst first, with the s.52 assessments due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import NamedTuple

from django.db import connection
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from commissioning.models import Organisation, Partnership
from contracts.models import Contract, ExtensionOption, whole_life_value
from monitoring.models import (
    KPI,
    AssessmentStatus,
    KPITarget,
    PerformanceAssessment,
    PerformanceReturn,
    ReportingPeriod,
    ReturnStatus,
    ReturnValue,
)
from monitoring.rag import RAG_LABELS, RAG_ORDER
from monitoring.s52 import assessment_due_date, over_s52_threshold


@dataclass
class ContractRAG:
    """One contract's row on the performance overview, as drawn (``rag_rows``). ``contract``
    (with its provider and partnership) is loaded only where a caller needs it (the
    downloads, the committee report): see ``attach_contracts``; the page draws the row's own
    columns."""

    contract_id: int
    reference: str
    latest_period: ReportingPeriod | None
    red: int = 0
    amber: int = 0
    green: int = 0
    no_target: int = 0
    kpi_count: int = 0
    provider_name: str = ""
    # As the overview shows them (short name, else name), read with the counts: the page
    # draws its rows from these, not from loaded contracts.
    title: str = ""
    provider_shown: str = ""
    partnership_shown: str = ""
    start_date: date | None = None
    contract: Contract | None = None

    @property
    def worst(self) -> str | None:
        if self.red:
            return "red"
        if self.amber:
            return "amber"
        return "green" if self.green else None

    @property
    def worst_label(self) -> str:
        return RAG_LABELS[self.worst]

    @property
    def performance_url(self) -> str:
        return contract_performance_url(self.contract_id)


def contract_performance_url(contract_id: int) -> str:
    """The contract's performance page. The overview links each row and each assessment due
    to it: reversed here rather than by ``{% url %}``, which costs twice as much a link."""
    return reverse("monitoring:contract_performance", args=[contract_id])


def attach_contracts(rows: list[ContractRAG]) -> list[ContractRAG]:
    """Load each row's contract with its provider and partnership (one query)."""
    loaded = Contract.objects.select_related("provider", "partnership").in_bulk(
        [r.contract_id for r in rows if r.contract is None])
    for row in rows:
        if row.contract is None:
            row.contract = loaded[row.contract_id]
    return rows


# Each visible contract's latest submitted or accepted return, each active KPI's value in it,
# the target in force for that return's period and the RAG, counted per contract, in one
# statement (standard SQL: PostgreSQL and SQLite). ``rag()`` in monitoring/rag.py is the
# same rule in Python; a test checks that the two agree on generated data.
OVERVIEW_SQL = """
WITH latest AS MATERIALIZED (
  SELECT c.id AS contract_id,
         (SELECT r.id FROM {returns} r JOIN {periods} p ON p.id = r.period_id
          WHERE r.contract_id = c.id AND r.status IN (%s, %s)
          ORDER BY p.start_date DESC, r.id DESC LIMIT 1) AS return_id
  FROM {contracts} c WHERE c.id IN ({visible})
),
latest_period AS MATERIALIZED (
  SELECT latest.*,
         (SELECT r.rag_epoch FROM {returns} r WHERE r.id = latest.return_id) AS epoch,
         (SELECT p.start_date FROM {returns} r JOIN {periods} p ON p.id = r.period_id
          WHERE r.id = latest.return_id) AS period_start
  FROM latest
),
kpi_targets AS MATERIALIZED (
  SELECT k.id AS kpi_id, k.contract_id, k.data_type, k.direction, lp.return_id, t.id AS target_id,
         ROW_NUMBER() OVER (PARTITION BY k.id ORDER BY t.start_date DESC, t.id DESC) AS n
  FROM latest_period lp
  JOIN {kpis} k ON k.contract_id = lp.contract_id AND k.is_active
  LEFT JOIN (SELECT t.id, t.kpi_id, tp.start_date
             FROM {targets} t JOIN {periods} tp ON tp.id = t.valid_from_id) t
    ON t.kpi_id = k.id AND t.start_date <= lp.period_start
),
kpi_values AS MATERIALIZED (
  SELECT kt.kpi_id, kt.contract_id, kt.data_type, kt.direction, kt.target_id,
         v.value, v.yes_no
  FROM kpi_targets kt
  LEFT JOIN {values} v ON v.performance_return_id = kt.return_id AND v.kpi_id = kt.kpi_id
  WHERE kt.n = 1
),
rated AS (
  SELECT kv.contract_id, kv.kpi_id,
    CASE
      WHEN t.target_value IS NULL OR kv.data_type = 'text' THEN NULL
      WHEN kv.data_type = 'yes_no' THEN
        CASE WHEN kv.yes_no IS NULL THEN NULL
             WHEN kv.yes_no = (t.target_value <> 0) THEN 'green' ELSE 'red' END
      WHEN kv.value IS NULL THEN NULL
      WHEN kv.direction = 'lower' THEN
        CASE WHEN kv.value <= t.target_value THEN 'green'
             WHEN kv.value <= t.target_value + COALESCE(t.amber_tolerance, 0) THEN 'amber'
             ELSE 'red' END
      WHEN kv.direction = 'range' THEN
        CASE WHEN kv.value >= t.target_value
                  AND kv.value <= COALESCE(t.upper_value, t.target_value) THEN 'green'
             WHEN kv.value >= t.target_value - COALESCE(t.amber_tolerance, 0)
                  AND kv.value <= COALESCE(t.upper_value, t.target_value)
                                  + COALESCE(t.amber_tolerance, 0) THEN 'amber'
             ELSE 'red' END
      ELSE
        CASE WHEN kv.value >= t.target_value THEN 'green'
             WHEN kv.value >= t.target_value - COALESCE(t.amber_tolerance, 0) THEN 'amber'
             ELSE 'red' END
    END AS rag
  FROM kpi_values kv LEFT JOIN {targets} t ON t.id = kv.target_id
)
SELECT lp.return_id, lp.epoch,
       COALESCE(SUM(CASE WHEN rated.rag = 'red' THEN 1 ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN rated.rag = 'amber' THEN 1 ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN rated.rag = 'green' THEN 1 ELSE 0 END), 0),
       COUNT(rated.kpi_id)
FROM latest_period lp
LEFT JOIN rated ON rated.contract_id = lp.contract_id
WHERE lp.return_id IS NOT NULL
GROUP BY lp.return_id, lp.epoch
"""

# Each visible contract with its latest shown return (its period's start and stored counts),
# the number of active KPIs (for contracts with no return yet), what the page shows of it, and
# what its s.52 assessment date depends on (value, term, months of options, last final
# assessment): every column the overview's order, totals and assessments due need, in one
# statement, read as plain rows (``OverviewRow``).
LATEST_SQL = """
WITH latest AS MATERIALIZED (
  SELECT c.id AS contract_id,
         (SELECT r.id FROM {returns} r JOIN {periods} p ON p.id = r.period_id
          WHERE r.contract_id = c.id AND r.status IN (%s, %s)
          ORDER BY p.start_date DESC, r.id DESC LIMIT 1) AS return_id,
         (SELECT COUNT(*) FROM {kpis} k WHERE k.contract_id = c.id AND k.is_active)
           AS kpi_count
  FROM {contracts} c WHERE c.id IN ({visible})
)
SELECT l.contract_id, c.reference, c.title, o.name, COALESCE(NULLIF(o.short_name, ''), o.name),
       COALESCE(NULLIF(p.short_name, ''), p.name), r.period_id, rp.start_date,
       r.rag_red, r.rag_amber, r.rag_green, r.rag_kpis, l.kpi_count, l.return_id,
       c.start_date, c.initial_end_date, c.annual_value,
       (SELECT SUM(e.length_months) FROM {options} e WHERE e.contract_id = l.contract_id),
       (SELECT MAX(a.finalised_at) FROM {assessments} a
        WHERE a.contract_id = l.contract_id AND a.status = %s)
FROM latest l LEFT JOIN {returns} r ON r.id = l.return_id
LEFT JOIN {periods} rp ON rp.id = r.period_id
JOIN {contracts} c ON c.id = l.contract_id JOIN {organisations} o ON o.id = c.provider_id
JOIN {partnerships} p ON p.id = c.partnership_id
"""


def _overview_sql(template: str, ids: list[int], *after: object) -> tuple[str, list]:
    """The statement and its parameters: the shown statuses, the ids, then ``after``."""
    sql = template.format(
        visible=", ".join(["%s"] * len(ids)), contracts=Contract._meta.db_table,
        kpis=KPI._meta.db_table, returns=PerformanceReturn._meta.db_table,
        periods=ReportingPeriod._meta.db_table, targets=KPITarget._meta.db_table,
        values=ReturnValue._meta.db_table, organisations=Organisation._meta.db_table,
        partnerships=Partnership._meta.db_table, options=ExtensionOption._meta.db_table,
        assessments=PerformanceAssessment._meta.db_table,
    )
    return sql, [ReturnStatus.SUBMITTED, ReturnStatus.ACCEPTED, *ids, *after]


RAG_FIELDS = ("rag_red", "rag_amber", "rag_green", "rag_kpis")


def forget_rag_counts(**filters) -> None:
    """Empty the stored counts of the returns matching ``filters``. The epoch goes up even
    when they are already empty, so a count worked out from data read before this change is
    never stored after it."""
    PerformanceReturn.objects.filter(**filters).update(
        **dict.fromkeys(RAG_FIELDS), rag_epoch=F("rag_epoch") + 1)


def rag_counts_refresh(*, contract_ids: list[int]) -> None:
    """Work out again and store the counts of these contracts' returns. Called, in their
    transaction, by every service that changes what the counts depend on (a return's status
    or values, a contract's KPIs or targets) and by the admin: the overview only reads."""
    forget_rag_counts(contract_id__in=contract_ids)
    store_rag_counts(read_rag_counts(contract_ids))


def read_rag_counts(contract_ids: list[int]) -> list[tuple]:
    """(return id, epoch, red, amber, green, KPIs) for the contracts' latest shown returns,
    in one statement."""
    if not contract_ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(*_overview_sql(OVERVIEW_SQL, contract_ids))
        return cursor.fetchall()


def store_rag_counts(rated: list[tuple]) -> None:
    """Keep counts on their returns, unless a change emptied them after they were read (the
    epoch moved on): such counts may be out of date, and the next request works them out
    again."""
    with connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE monitoring_performancereturn SET rag_red = %s, rag_amber = %s, "
            "rag_green = %s, rag_kpis = %s WHERE id = %s AND rag_epoch = %s",
            [(red, amber, green, kpis, return_id, epoch)
             for return_id, epoch, red, amber, green, kpis in rated])


class OverviewRow(NamedTuple):
    """One contract on the performance overview as read (``overview_rows``): enough for the
    order, the totals and the assessments due over every row, and to draw the row when its
    page is shown (``rag_rows``). A plain tuple: hundreds are read on every request."""

    contract_id: int
    reference: str
    title: str
    provider_name: str
    provider_shown: str
    partnership_shown: str
    period_id: int | None
    period_start: date | None
    red: int
    amber: int
    green: int
    no_target: int
    kpi_count: int
    # What the s.52 assessment date depends on (``overview_assessments_due``), as read.
    start_date: object
    initial_end_date: object
    annual_value: object
    option_months: int | None
    last_final: object

    @property
    def worst(self) -> str | None:
        return "red" if self.red else "amber" if self.amber else (
            "green" if self.green else None)


def overview_rows(*, contracts: QuerySet[Contract], sort: str | None = None
                  ) -> list[OverviewRow]:
    """Every contract of ``contracts`` with the RAG counts of its latest submitted or accepted
    return, worst first (most red, then most amber) or in the order ``sort`` names
    (``sort_overview``), as plain rows. Three queries for any number of contracts (a fourth
    only while some returns' counts are not stored yet).

    Each return's counts are worked out in the database (``OVERVIEW_SQL``) and kept on the
    return by the services that change what they depend on (``rag_counts_refresh``): rating
    a thousand contracts' six KPIs on every request was most of this page's time. Counts not
    stored yet (data loaded in bulk, say) are worked out here and not kept: a page being read
    writes nothing."""
    # The ids first, then a literal list: the planner then knows it is reading a thousand
    # contracts, not guessing ten thousand (which made it hash whole tables).
    ids = list(contracts.order_by().values_list("pk", flat=True))
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(*_overview_sql(LATEST_SQL, ids, AssessmentStatus.FINAL))
        latest = cursor.fetchall()
    missing = [row[0] for row in latest if row[13] is not None and row[11] is None]
    fresh = {row[0]: row[2:] for row in read_rag_counts(missing)} if missing else {}
    rows = []
    for pk, reference, title, provider, provider_shown, partnership_shown, period_id, \
            period_start, red, amber, green, _kpis, kpi_count, return_id, *s52 in latest:
        if return_id is None:
            red = amber = green = 0
        elif return_id in fresh:
            red, amber, green, _kpis = fresh[return_id]
        red, amber, green, kpi_count = int(red), int(amber), int(green), int(kpi_count)
        rows.append(OverviewRow(
            pk, reference, title, provider, provider_shown, partnership_shown, period_id,
            None if period_start is None else _as_date(period_start), red, amber, green,
            kpi_count - red - amber - green, kpi_count, *s52))
    return sort_overview(rows, sort)


def rag_rows(rows: list[OverviewRow]) -> list[ContractRAG]:
    """The rows as ``ContractRAG`` with their latest periods (one query): for the rows a page
    draws, or every row for the downloads and the committee report."""
    periods = ReportingPeriod.objects.in_bulk({r.period_id for r in rows if r.period_id})
    return [ContractRAG(
        r.contract_id, r.reference, periods.get(r.period_id), red=r.red, amber=r.amber,
        green=r.green, no_target=r.no_target, kpi_count=r.kpi_count,
        provider_name=r.provider_name, title=r.title, provider_shown=r.provider_shown,
        partnership_shown=r.partnership_shown, start_date=_as_date(r.start_date))
        for r in rows]


def performance_overview(*, contracts: QuerySet[Contract], attach: bool = True,
                         sort: str | None = None) -> list[ContractRAG]:
    """``overview_rows`` as ``ContractRAG``, each with its contract (with its provider and
    partnership) unless ``attach=False``. A fixed number of queries for any number of
    contracts. The overview page reads ``overview_rows`` and draws only a page of them."""
    rows = rag_rows(overview_rows(contracts=contracts, sort=sort))
    return attach_contracts(rows) if attach else rows


def _worst_first(row: OverviewRow) -> tuple:
    return (-row.red, -row.amber, RAG_ORDER[row.worst])


# The overview's orders (monitoring.filters.OVERVIEW_SORT_CHOICES): "key" ascending, "-key"
# descending. "-worst" is worst first (most red, then most amber); ties are by reference.
OVERVIEW_SORTS = {
    "worst": lambda r: tuple(-n for n in _worst_first(r)),
    "reference": lambda r: r.reference,
    "provider": lambda r: r.provider_name.casefold(),
    "period": lambda r: r.period_start or date.min,
    "red": lambda r: r.red,
    "amber": lambda r: r.amber,
    "green": lambda r: r.green,
    "no_target": lambda r: r.no_target,
}


def sort_overview(rows: list[OverviewRow], sort: str | None = None) -> list[OverviewRow]:
    """The rows in the order ``sort`` names (a key of ``OVERVIEW_SORTS``, "-key" for
    descending), worst first by default or when the key is unknown; ties by reference."""
    descending = bool(sort) and sort.startswith("-")
    key = OVERVIEW_SORTS.get(sort[descending:] if sort else "")
    rows = sorted(rows, key=lambda r: r.reference)
    if key is None:
        return sorted(rows, key=_worst_first)
    # Stable: rows that tie stay in reference order, whichever way the key runs.
    return sorted(rows, key=key, reverse=descending)


def _as_date(value) -> date:
    """A date column from a raw query (SQLite gives ISO strings)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _as_datetime(value) -> datetime | None:
    """A date-time column from a raw query (SQLite gives ISO strings)."""
    return value if value is None or isinstance(value, datetime) else \
        parse_datetime(str(value))


def overview_assessments_due(rows: list[OverviewRow], *, today: date | None = None,
                             within_days: int = 60) -> list[tuple[object, date]]:
    """``assessments_due`` for the overview's rows, from the rows alone: (contract, due date)
    for each contract over the s.52 threshold whose assessment is due within ``within_days``
    (or overdue), with the contract's id, reference and title, soonest (most overdue)
    first."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=within_days)
    due = []
    for row in rows:
        start = _as_date(row.start_date)
        when = assessment_due_date(start_date=start, last_final=_as_datetime(row.last_final))
        if when > horizon:
            continue
        # The whole-life value only for the contracts whose date has come: the same test,
        # taken in the other order.
        annual_value = Decimal(row.annual_value)
        if not over_s52_threshold(annual_value=annual_value, whole_life_value=whole_life_value(
                start=start, initial_end=_as_date(row.initial_end_date),
                annual_value=annual_value, option_months=[row.option_months or 0])):
            continue
        stub = SimpleNamespace(pk=row.contract_id, reference=row.reference, title=row.title,
                               start_date=start,
                               performance_url=contract_performance_url(row.contract_id))
        due.append((stub, when))
    return sorted(due, key=lambda item: (item[1], item[0].reference))
