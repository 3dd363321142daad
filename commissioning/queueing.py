"""Handing work to Celery without ever losing it or failing the user's request.

The work is always recorded in the database first (a row with a status). Enqueuing happens
after the transaction commits; if the broker cannot be reached, the row stays as it is and a
scheduled sweep enqueues it later. Workers claim rows with a conditional update, so a task
delivered twice does the work once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """``task.delay(*args, **kwargs)`` after commit; a broker outage is logged, not raised."""

    def send() -> None:
        try:
            task.apply_async(args=args, kwargs=kwargs)
        except Exception:
            logger.warning("Broker unavailable: %s will be retried by the sweep", task.name,
                           exc_info=True)

    transaction.on_commit(send)


def try_enqueue(task, *args, **kwargs) -> bool:
    """Enqueue now (outside a transaction); False when the broker cannot be reached."""
    try:
        task.apply_async(args=args, kwargs=kwargs)
    except Exception:
        logger.warning("Broker unavailable for %s", task.name, exc_info=True)
        return False
    return True


def sweep(ids: list[int], task: Callable) -> int:
    """Enqueue each id; stop at the first broker failure. Returns how many were enqueued."""
    sent = 0
    for pk in ids:
        if not try_enqueue(task, pk):
            break
        sent += 1
    return sent
