"""The audit trail page: every domain model's history, for users who may see the object.

Each app registers its models with the queryset function that decides visibility, so the
history page obeys the same rule as the object's own page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Model, QuerySet

VisibleQuerySet = Callable[[object], QuerySet]


@dataclass(frozen=True)
class HistoryEntry:
    when: object
    who: object
    action: str
    changes: list[tuple[str, object, object]]


_REGISTRY: dict[str, VisibleQuerySet] = {}


def register_history(label: str, visible: VisibleQuerySet) -> None:
    """Register ``app_label.model_name`` with a function user -> visible queryset."""
    _REGISTRY[label.lower()] = visible


def visible_queryset(label: str, user) -> QuerySet | None:
    visible = _REGISTRY.get(label.lower())
    return visible(user) if visible else None


_ACTIONS = {"+": "Created", "~": "Changed", "-": "Deleted"}


def history_entries(obj: Model) -> list[HistoryEntry]:
    """Newest first, each with the fields that changed from the version before."""
    records = list(obj.history.select_related("history_user").order_by("history_date", "pk"))
    entries: list[HistoryEntry] = []
    previous = None
    for record in records:
        changes: list[tuple[str, object, object]] = []
        if previous is not None:
            delta = record.diff_against(previous)
            for change in delta.changes:
                field = record.instance_type._meta.get_field(change.field)
                changes.append((str(field.verbose_name).capitalize(), change.old, change.new))
        entries.append(
            HistoryEntry(
                when=record.history_date,
                who=record.history_user,
                action=_ACTIONS.get(record.history_type, record.history_type),
                changes=changes,
            )
        )
        previous = record
    return list(reversed(entries))
