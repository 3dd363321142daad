"""What a page works out from the data, remembered until the data changes.

The register, the dashboard and the overviews work out the same rows, counts and options for
everyone who sees the same contracts, request after request, while the data behind them
changes a few times an hour. ``remember`` keeps what was worked out in the cache (Redis in
production) under a key made of:

- the **state of the data**: ``DataVersion``'s epoch and counter. PostgreSQL moves the counter
  on when a transaction that wrote to any table of the service's apps commits: every such
  table has a deferred constraint trigger (installed after every ``migrate`` by
  ``install_triggers``), so the counter and the data become visible to other connections in
  the same commit, whatever wrote them (the ORM, ``QuerySet.update``, raw SQL, an import, a
  Celery task). The counter is updated at commit time, after every other lock the
  transaction takes, so writers wait on it only for the moment of each other's commits and
  cannot deadlock on it. The counter's row is made by the migration that makes its table,
  before any change. ``TRUNCATE`` moves it on too; a truncated counter row (tests flush every
  table) is made again with a new random epoch, so keys from before can never be met again;
- **who is looking**: ``access.visibility_key`` (platform administrator, or the organisation
  acted for and the roles held there), everything the access module decides visibility by;
- **today**: rules such as the shown status and the alerts depend on the date;
- what the caller names (the page's filters, sort and page number).

Nothing is remembered, and everything is worked out afresh, when the counter cannot be
trusted: on a database other than PostgreSQL (the embedded SQLite set-up), inside a
transaction (its own writes move the counter only when it commits), or when the cache does
not answer (a cache outage slows pages down; it never fails them).

The tables left out (``UNWATCHED``) are written on sign-in and by the e-mail worker and feed no
remembered page: watching them would only empty the cache more often.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.apps import apps
from django.core.cache import cache
from django.db import connection, connections
from django.utils import timezone

from commissioning import access

logger = logging.getLogger(__name__)

T = TypeVar("T")

WATCHED_APPS = ("commissioning", "contracts", "funding", "monitoring")
UNWATCHED = {"commissioning.dataversion", "commissioning.signinevent",
             "commissioning.outboundemail"}
TIMEOUT = 15 * 60  # seconds: keys of older states are never read again; this frees them
FUNCTION = "commissioning_data_changed"
TRIGGER = "commissioning_data_changed"
TRUNCATE_TRIGGER = "commissioning_data_truncated"

FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION commissioning_data_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Once per transaction, however many rows it wrote (the flag lasts until it ends).
  IF current_setting('commissioning.data_changed', true) IS DISTINCT FROM 'yes' THEN
    PERFORM set_config('commissioning.data_changed', 'yes', true);
    UPDATE commissioning_dataversion SET version = version + 1 WHERE id = 1;
  END IF;
  RETURN NULL;
END
$$;
"""


def watched_tables() -> list[str]:
    """The tables whose changes move the counter: every model of the service's apps (their
    history tables and many-to-many tables included) except ``UNWATCHED``."""
    tables = set()
    for app_label in WATCHED_APPS:
        for model in apps.get_app_config(app_label).get_models(include_auto_created=True):
            if model._meta.label_lower in UNWATCHED or not model._meta.managed:
                continue
            if model._meta.proxy:
                continue
            tables.add(model._meta.db_table)
    return sorted(tables)


def install_triggers(using: str = "default", **_kwargs) -> None:
    """(Re)install the counter's function and triggers (PostgreSQL only). Connected to
    ``post_migrate``, so a new model is watched from the migration that makes its table."""
    target = connections[using]
    if target.vendor != "postgresql":
        return
    with target.cursor() as cursor:
        cursor.execute("SELECT to_regclass('commissioning_dataversion')")
        if cursor.fetchone()[0] is None:
            return  # migrating backwards, or not yet this far
        existing = set(target.introspection.table_names(cursor))
        cursor.execute(FUNCTION_SQL)
        for table in watched_tables():
            if table not in existing:
                continue
            quoted = target.ops.quote_name(table)
            cursor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {quoted}")
            cursor.execute(
                f"CREATE CONSTRAINT TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE "
                f"ON {quoted} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                f"EXECUTE FUNCTION {FUNCTION}()")
            cursor.execute(
                f"CREATE OR REPLACE TRIGGER {TRUNCATE_TRIGGER} AFTER TRUNCATE ON {quoted} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()")


def data_version() -> str | None:
    """The state of the data as this connection sees it now, or None when it cannot be
    trusted (not PostgreSQL, or inside a transaction)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT epoch, version FROM commissioning_dataversion WHERE id = 1")
        row = cursor.fetchone()
        if row is None:
            cursor.execute(
                "INSERT INTO commissioning_dataversion (id, epoch, version) VALUES (1, %s, 0) "
                "ON CONFLICT (id) DO NOTHING", [secrets.token_hex(8)])
            cursor.execute("SELECT epoch, version FROM commissioning_dataversion WHERE id = 1")
            row = cursor.fetchone()
    return f"{row[0]}.{row[1]}"


def _key(namespace: str, version: str, user, parts: Iterable) -> str:
    described = repr((access.visibility_key(user), timezone.localdate().isoformat(),
                      tuple(parts)))
    digest = hashlib.blake2b(described.encode(), digest_size=16).hexdigest()
    return f"datacache:{namespace}:{version}:{digest}"


def remember(namespace: str, user, parts: Iterable, compute: Callable[[], T]) -> T:
    """``compute()``, or what it gave for the same namespace, parts, viewer, day and state of
    the data. ``compute`` must depend on nothing else (in particular not on the user beyond
    what ``access.visibility_key`` names) and return something picklable."""
    version = data_version()
    if version is None:
        return compute()
    key = _key(namespace, version, user, parts)
    try:
        found = cache.get(key)
    except Exception:  # a cache outage must not fail the page
        logger.warning("datacache: the cache did not answer; working %s out", namespace,
                       exc_info=True)
        return compute()
    if found is not None:
        return found[0]
    value = compute()
    try:
        cache.set(key, (value,), TIMEOUT)
    except Exception:  # as above
        logger.warning("datacache: could not keep %s", namespace, exc_info=True)
    return value


# --- SQL compiled once a day ------------------------------------------------------------------

_COMPILED: dict[tuple, tuple[str, tuple]] = {}


def compiled_once(name: str, contracts, today, compile_sql: Callable[[], tuple[str, tuple]]
                  ) -> tuple[str, tuple]:
    """The SQL and parameters ``compile_sql()`` gives for the rows of ``contracts`` (a
    ``for_user`` queryset: the user's visibility) on ``today``, compiled once per process for
    the same query, day and database. Building and compiling the rules' querysets (notices,
    key dates) costs the ORM more CPU than the database takes to run them. The real day is in
    the key too: querysets such as ``with_term``'s may hold it. Raises ``EmptyResultSet`` when
    Django knows ``contracts`` to be empty."""
    key = (name, connection.alias, connection.vendor, today, timezone.localdate(),
           *contracts.order_by().query.sql_with_params())
    found = _COMPILED.get(key)
    if found is None:
        if len(_COMPILED) > 1000:
            _COMPILED.clear()
        found = _COMPILED[key] = compile_sql()
    return found

