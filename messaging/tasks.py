"""Background work of messaging: processing stored webhook events.

The receiver stores each callback and asks for processing on commit through
:func:`webhook_processing_schedule`. Asking is coalesced to at most one task
per second (per cache; per process with the default local-memory cache): the
first request of each clock second enqueues one task to run at the start of
the next second, and every other request of that second relies on it. Because
that task runs after the second has ended, it sees every event committed in
the second that scheduled it — no event waits for a later request to be
picked up. The task drains everything pending anyway, so a burst is handled
in batches by whichever task runs first. ``manage.py process_webhooks --loop``
is the alternative for operators and benchmarks.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

from django.core.cache import cache
from django.tasks import task

from messaging import conf
from messaging.webhooks.process import webhook_events_drain, webhook_events_pending
from waportal.queueing import task_enqueue

logger = logging.getLogger("messaging.tasks")

SCHEDULE_KEY = "waportal:webhooks:scheduled:{second}"

_local = threading.local()
_clock = time.time  # replaceable in tests


def _batch_size() -> int:
    return int(conf.setting("WEBHOOK_PROCESS_BATCH"))


@task()
def webhook_events_process_task() -> int:
    """Process every pending webhook event in batches; returns how many were handled.

    A run is bounded in time (``WEBHOOK_PROCESS_MAX_SECONDS``, default 30) so
    one task never holds a worker indefinitely under sustained load; if events
    remain, it enqueues its successor.
    """
    handled = webhook_events_drain(limit=_batch_size(),
                                   max_seconds=float(conf.setting("WEBHOOK_PROCESS_MAX_SECONDS")))
    if webhook_events_pending():
        _enqueue(run_after=None)
    return handled


def webhook_processing_schedule() -> None:
    """Ask for the stored events to be processed, at most once per clock second; called on commit.

    Never raises: the event is already stored, and a failed enqueue only means
    it waits for the next request's task or for ``process_webhooks``.
    """
    second = int(_clock())
    if getattr(_local, "second", None) == second:  # this thread already asked during this second
        return
    _local.second = second
    try:
        if not cache.add(SCHEDULE_KEY.format(second=second), 1, timeout=10):
            return
        _enqueue(run_after=datetime.fromtimestamp(second + 1, tz=UTC))
    except Exception:
        logger.exception("Could not enqueue webhook processing; stored events wait for the next run")


def webhook_processing_kick() -> None:
    """Ask for processing now if events are pending (a worker back from a database outage calls it)."""
    if webhook_events_pending():
        _enqueue(run_after=None)


def _enqueue(*, run_after: datetime | None) -> None:
    """Enqueue the processing task, deferred when the backend can defer (otherwise it runs as the backend runs)."""
    task_enqueue(webhook_events_process_task, run_after=run_after)
