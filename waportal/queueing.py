"""Enqueueing background tasks so the workers take them in the order they became due.

django-tasks-db hands a worker the ready task with the highest priority, then
the earliest ``run_after``, then the earliest enqueue. A task enqueued without
``run_after`` is stored as due in the year 9999, so it waits behind every
deferred task whose time has come -- and a steady stream of those (the
sandbox's callbacks in the demo, webhook processing, campaign slices coming
back from a wait) kept a campaign just started at 0 % for a minute or more
while another campaign's callbacks were delivered.

:func:`task_enqueue` always gives a deferring backend a ``run_after`` (now,
when the caller has no later time), which makes the queue first come, first
served by due time. Every task this project enqueues goes through it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.tasks import Task, TaskResult
from django.utils import timezone


def task_enqueue(task: Task, *args: Any, run_after: datetime | None = None, **kwargs: Any) -> TaskResult:
    """Enqueue ``task(*args, **kwargs)`` to run at ``run_after`` (default: now), in due-time order.

    A backend that cannot defer runs it as it runs everything (``run_after`` is
    then ignored: callers that must not run early check ``supports_defer``).
    """
    if task.get_backend().supports_defer:
        task = task.using(run_after=run_after or timezone.now())
    return task.enqueue(*args, **kwargs)
