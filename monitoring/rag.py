"""Red, amber, green: how a KPI's value compares with the target in force for its period."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeVar

from monitoring.models import DataType, Direction, Rating

T = TypeVar("T")

GREEN, AMBER, RED = "green", "amber", "red"
RAG_LABELS = {GREEN: "Green", AMBER: "Amber", RED: "Red", None: "No target"}
RAG_ORDER = {RED: 0, AMBER: 1, GREEN: 2, None: 3}


@dataclass(frozen=True)
class Target:
    value: Decimal | None
    upper: Decimal | None = None
    tolerance: Decimal = Decimal("0")


def target_in_force(targets: Iterable[tuple[date, T]], period) -> T | None:
    """Of ``targets`` as (first period's start date, target) pairs, the one that starts
    latest on or before ``period``: a target set later never rewrites an earlier period's RAG.
    The pairs are already loaded (prefetched rows or ``target_rows``), so this runs no query.
    """
    chosen: tuple[date, T] | None = None
    for start, target in targets:
        if start <= period.start_date and (chosen is None or start > chosen[0]):
            chosen = (start, target)
    return chosen[1] if chosen else None


def rag(*, data_type: str, direction: str, value, target: Target | None) -> str | None:
    """Green at or beyond target; amber within the tolerance; red beyond it.

    Yes/no KPIs are green when the answer matches the target (1 = yes). Text KPIs and KPIs
    without a target (e.g. one waiting for a baseline) have no RAG.
    """
    if target is None or target.value is None or value is None or data_type == DataType.TEXT:
        return None
    if data_type == DataType.YES_NO:
        return GREEN if bool(value) == bool(target.value) else RED
    value = Decimal(value)
    tolerance = target.tolerance or Decimal("0")
    if direction == Direction.LOWER:
        if value <= target.value:
            return GREEN
        return AMBER if value <= target.value + tolerance else RED
    if direction == Direction.RANGE:
        upper = target.upper if target.upper is not None else target.value
        if target.value <= value <= upper:
            return GREEN
        if target.value - tolerance <= value <= upper + tolerance:
            return AMBER
        return RED
    if value >= target.value:
        return GREEN
    return AMBER if value >= target.value - tolerance else RED


def suggested_rating(rags: list[str | None]) -> str:
    """Procurement Act rating drafted from a year's RAGs (the commissioner may change it).

    All green: Good. No red: Approaching target. Red in half the periods or fewer: Requires
    improvement. Red in most periods: Inadequate. Nothing to rate: Other.
    """
    rated = [r for r in rags if r is not None]
    if not rated:
        return Rating.OTHER
    reds = rated.count(RED)
    if reds == 0:
        return Rating.GOOD if all(r == GREEN for r in rated) else Rating.APPROACHING
    return Rating.REQUIRES_IMPROVEMENT if reds * 2 <= len(rated) else Rating.INADEQUATE
