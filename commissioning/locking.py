"""Optimistic locking: the one way a change is refused because someone else saved first.

A row that people edit through a page carries a ``version`` (a PositiveIntegerField). The page
sends back, in a hidden ``version`` field (``VersionField``), the version it showed; the service
locks the row with ``lock_for_update`` (or, for a row it has already locked, ``check_version``),
which raises ``ConcurrentEditError`` when the row moved on and otherwise bumps ``version`` on the
instance, to be written by the service's own ``save()`` in the same transaction. The view shows
``str(error)`` in the GOV.UK error summary and saves nothing.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django import forms
from django.db import models

Row = TypeVar("Row", bound=models.Model)

# PositiveIntegerField holds at most this on every backend Django supports; a larger number
# can never match a row, and one over 4,300 digits is one Python refuses to read.
MAX_VERSION = 2_147_483_647


class ConcurrentEditError(Exception):
    """The row changed since the user opened it; their changes were not saved."""

    def __init__(self, what: str = "this record") -> None:
        super().__init__(what)
        self.what = what

    def __str__(self) -> str:
        return (f"Someone else changed {self.what} since you opened it. Your changes have not "
                "been saved. Reload to see their changes.")


def check_version(row: models.Model, expected_version: int | None, what: str) -> None:
    """Refuse ``row`` (already locked by the caller) unless it is at ``expected_version``;
    then bump its version in memory for the caller's ``save()``.

    ``None`` means the caller never showed anyone a version (an import, a "record" page that
    creates or replaces by its natural key) and takes the row as it is now. A view that renders
    a ``VersionField`` always passes what was posted, never a fallback.
    """
    if expected_version is not None and row.version != expected_version:
        raise ConcurrentEditError(what)
    row.version += 1


def lock_for_update(model_or_qs: type[Row] | models.QuerySet[Row], pk: Any,
                    expected_version: int | None, what: str) -> Row:
    """Lock the row (SELECT ... FOR UPDATE, inside the caller's transaction), refuse it with
    ``ConcurrentEditError`` if it is no longer at ``expected_version``, and return it with its
    version bumped. Of two saves that started from the same version exactly one wins."""
    queryset = (model_or_qs if isinstance(model_or_qs, models.QuerySet)
                else model_or_qs._default_manager.all())
    row = queryset.select_for_update().get(pk=pk)
    check_version(row, expected_version, what)
    return row


class VersionField(forms.IntegerField):
    """The hidden field that carries the version a page showed back to its service."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_VERSION)
        super().__init__(**kwargs)


def posted_version(data: Any, name: str = "version") -> int | None:
    """The version a page without a Django form posted back, or None when it is missing or
    not one the page could have sent (the caller treats that as a request it never made)."""
    field = VersionField()
    try:
        return field.clean(data.get(name, ""))
    except forms.ValidationError:
        return None
