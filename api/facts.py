"""The flat tables for analysts (Power BI, Excel): one row per KPI value, one row per monthly
actual. The same rows feed a JSON page and a CSV download; the CSV is read in id-ordered
batches (two queries each), so its memory stays flat however many rows a user can see.

RAG comes from the one RAG rule (``monitoring.rag``) against the target in force in the
value's period (``monitoring.selectors.target_rows`` + ``monitoring.rag.target_in_force``),
as on the performance pages. Only submitted and accepted values are shown, as there.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.db.models.lookups import Lookup

from commissioning import access
from commissioning.periods import financial_year_for
from contracts.models import Contract
from funding.models import MonthlyActual
from monitoring.models import DataType, PerformanceReturn, ReturnValue
from monitoring.rag import rag, target_in_force
from monitoring.selectors import SHOWN_STATUSES, target_rows

BATCH_ROWS = 2000

KPI_VALUE_COLUMNS = {
    "value_id": F("pk"), "return_id": F("performance_return_id"),
    "return_status": F("performance_return__status"),
    "kpi_code": F("kpi__code"), "kpi_name": F("kpi__name"),
    "data_type": F("kpi__data_type"), "unit": F("kpi__unit"),
    "contract_id": F("performance_return__contract_id"),
    "period_code": F("performance_return__period__code"),
    "period_label": F("performance_return__period__label"),
    "period_start": F("performance_return__period__start_date"),
    "period_end": F("performance_return__period__end_date"),
    "financial_year": F("performance_return__period__financial_year"),
    "direction": F("kpi__direction"),
}
# The contract's columns are read for the rows' contracts by a query of their own
# (``with_contracts``): joining the contract, its provider and its partnership too made a join
# of seven tables that PostgreSQL took 4-9 ms to plan for every page, three times what the
# four-table page and the three-table contracts take together (issue 18).
CONTRACT_COLUMNS = {
    "contract_reference": "reference", "contract_title": "title",
    "provider_id": "provider_id", "provider_name": "provider__name",
    "partnership_id": "partnership_id", "partnership_name": "partnership__name",
}
KPI_VALUE_OWN = ("value", "numerator", "denominator", "yes_no", "text")
KPI_VALUE_HEADER = ["value_id", "return_id", "return_status", "kpi_id", "kpi_code", "kpi_name",
                    "data_type", "unit", "contract_id", *CONTRACT_COLUMNS, "period_code",
                    "period_label", "period_start", "period_end", "financial_year",
                    *KPI_VALUE_OWN, "target", "rag"]

ACTUAL_COLUMNS = {
    "actual_id": F("pk"), "scheme_code": F("scheme__code"),
    "scheme_name": F("scheme__name"), "agreement_id": F("scheme__agreement_id"),
    "agreement_title": F("scheme__agreement__title"),
    "partnership_id": F("scheme__agreement__partnership_id"),
    "partnership_name": F("scheme__agreement__partnership__name"),
    "partner_id": F("scheme__lead_partner_id"), "partner_name": F("scheme__lead_partner__name"),
}
ACTUAL_HEADER = ["actual_id", "month", "financial_year", "scheme_id", *list(ACTUAL_COLUMNS)[1:],
                 "actual", "forecast_outturn"]


class AnyOf(Lookup):
    """``column = ANY(%s)`` with the ids as one parameter, an array literal (``'{1,2,3}'``)
    typed as the column. ``__in`` gives a placeholder per id, each prepared one by one in
    Python (a fifth of the KPI values page's time for the 3,458 returns the bench commissioner
    sees), and PostgreSQL parses and plans a constant per id: for those 3,458 ids the query
    took 8-11 ms more than with the one literal (issue 18)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        # Typed as the column: bigint = ANY(integer[]) is not hashed, a linear search per row.
        array_type = self.lhs.output_field.cast_db_type(connection)
        literal = "{" + ",".join(map(str, map(int, self.rhs))) + "}"
        return f"{lhs} = ANY(%s::{array_type}[])", [*lhs_params, literal]


def _id_in(field: str, ids: list[int]):
    """``field`` is one of ``ids``: one array parameter on PostgreSQL, ``IN`` elsewhere."""
    if connection.vendor == "postgresql":
        return AnyOf(F(field), ids)
    return Q(**{f"{field}__in": ids})


def _ids(queryset: QuerySet) -> list[int]:
    """The rows' ids: on PostgreSQL as one array in one row (thousands of one-column rows
    cost more to read one by one), elsewhere as a list."""
    if connection.vendor == "postgresql":
        return queryset.order_by().aggregate(ids=ArrayAgg("pk"))["ids"] or []
    return list(queryset.order_by().values_list("pk", flat=True))


def kpi_values_for_user(user) -> QuerySet:
    """Submitted and accepted KPI values of the contracts the user sees, as plain rows."""
    # The ids of the visible contracts' shown returns are read first and the values filtered
    # on that list, not on a join or a subquery: PostgreSQL can only guess how many contracts
    # the party rule lets through (ten times too many on the large data set) and then joined
    # every value to its KPI, contract, provider and period before picking the page, up to 2 s
    # for one page. With the ids in hand its estimate is right and it walks the values in id
    # order (bench/RESULTS.md, issue 18).
    values = ReturnValue.objects.order_by().values(
        "pk", "kpi_id", *KPI_VALUE_OWN, **KPI_VALUE_COLUMNS)
    visible = access.visible_contracts_q(user)
    if not visible:  # Q(): every contract (platform administrators), no list needed
        return values.filter(performance_return__status__in=SHOWN_STATUSES)
    # Two steps, not a join of returns to contracts: filtering the returns by the party rule
    # walked all 72,862 of them (33-55 ms on a busy machine, against 2 ms for the two steps);
    # by the contracts' ids it reads theirs by index.
    contract_ids = _ids(Contract.objects.filter(visible))
    return_ids = _ids(PerformanceReturn.objects.filter(
        _id_in("contract_id", contract_ids), status__in=SHOWN_STATUSES))
    return values.filter(_id_in("performance_return_id", return_ids))


def with_contracts(rows: list[dict]) -> list[dict]:
    """Add the contract's reference, title, provider and partnership to KPI value rows: one
    query for the rows' contracts."""
    ids = list({row["contract_id"] for row in rows})
    if not ids:
        return rows
    # The base manager, as the join it replaces: every row's contract, whatever the default
    # manager would leave out.
    found = {contract_id: dict(zip(CONTRACT_COLUMNS, columns, strict=True))
             for contract_id, *columns in Contract._base_manager.filter(_id_in("pk", ids))
             .order_by().values_list("pk", *CONTRACT_COLUMNS.values())}
    for row in rows:
        row.update(found[row["contract_id"]])
    return rows


def with_rag(rows: list[dict]) -> list[dict]:
    """Add ``target`` and ``rag`` to KPI value rows: one query for the rows' KPIs' targets."""
    targets = target_rows({row["kpi_id"] for row in rows}) if rows else {}
    for row in rows:
        target = target_in_force(targets.get(row["kpi_id"], ()),
                                 SimpleNamespace(start_date=row["period_start"]))
        row["target"] = target.value if target else None
        answer = row["yes_no"] if row["data_type"] == DataType.YES_NO else row["value"]
        row["rag"] = rag(data_type=row["data_type"], direction=row["direction"],
                         value=answer, target=target)
    return rows


def finish_kpi_values(rows: list[dict]) -> list[dict]:
    """KPI value rows completed with their contract's columns, target and RAG."""
    return with_rag(with_contracts(rows))


def monthly_actuals_for_user(user) -> QuerySet:
    """Monthly actuals of the schemes of the Section 75 agreements the user sees."""
    return (MonthlyActual.objects.filter(
        access.visible_agreements_q(user, "scheme__agreement__"))
        .order_by().values("pk", "scheme_id", "month", "actual", "forecast_outturn",
                           **ACTUAL_COLUMNS))


def with_financial_year(rows: list[dict]) -> list[dict]:
    for row in rows:
        row["financial_year"] = financial_year_for(row["month"])
    return rows


def batches(queryset: QuerySet, finish) -> Iterator[list[dict]]:
    """The rows of ``queryset`` (plain values with ``pk``) in id order, ``BATCH_ROWS`` at a
    time, each batch completed by ``finish``: memory holds one batch, never the table."""
    last = 0
    while True:
        rows = list(queryset.filter(pk__gt=last).order_by("pk")[:BATCH_ROWS])
        if not rows:
            return
        yield finish(rows)
        last = rows[-1]["pk"]


def csv_rows(queryset: QuerySet, finish, header: list[str]) -> Iterator[list]:
    for rows in batches(queryset, finish):
        for row in rows:
            yield [row[name] for name in header]
