"""Handing work to Celery without ever losing it or failing the user's request.

The work is always recorded in the database first (a row with a status). Enqueuing happens
after the transaction commits; if the broker cannot be reached, the row stays as it is and a
scheduled sweep enqueues it later. Workers claim rows with a conditional update, so a task
delivered twice does the work once.

In the embedded set-up (no broker, ``TASKS_IN_THREAD``) an eager task is not run inside the
request that asked for it: it goes to one small worker thread in the same process, which runs
it through Celery's machinery (``task.apply``), so the page comes back at once and shows the
job's progress from its row.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import close_old_connections, connections, transaction

logger = logging.getLogger(__name__)


class _InProcessWorker:
    """One daemon thread per process running queued eager tasks in order."""

    def __init__(self) -> None:
        self._jobs: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, task, args, kwargs) -> None:
        with self._lock:  # started lazily: after a pre-forking server has forked
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="in-process-tasks",
                                                daemon=True)
                self._thread.start()
        self._jobs.put((task, args, kwargs))

    def _run(self) -> None:
        while True:
            task, args, kwargs = self._jobs.get()
            try:
                close_old_connections()
                task.apply(args=args, kwargs=kwargs)
            except Exception:
                logger.exception("In-process task %s failed", getattr(task, "name", task))
            finally:
                connections.close_all()  # this thread's own connections, not the request's
                self._jobs.task_done()

    def wait_idle(self) -> None:
        """Block until every submitted job has run (tests, and a clean shutdown)."""
        self._jobs.join()


in_process = _InProcessWorker()


def _send(task, args, kwargs) -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER and getattr(settings, "TASKS_IN_THREAD", False):
        in_process.submit(task, args, kwargs)
    else:
        task.apply_async(args=args, kwargs=kwargs)


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """``task.delay(*args, **kwargs)`` after commit; a broker outage is logged, not raised."""

    def send() -> None:
        try:
            _send(task, args, kwargs)
        except Exception:
            logger.warning("Broker unavailable: %s will be retried by the sweep", task.name,
                           exc_info=True)

    transaction.on_commit(send)


def try_enqueue(task, *args, **kwargs) -> bool:
    """Enqueue now (outside a transaction); False when the broker cannot be reached."""
    try:
        _send(task, args, kwargs)
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
