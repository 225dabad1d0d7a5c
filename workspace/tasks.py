"""Background work of the workspace: snoozes end on time, whether or not anyone has the inbox open.

Snoozing a conversation enqueues one deferred task for the snooze's end (``run_after``, on commit; no cron).
The task reopens every snooze that ended by then (``services.conversations_wake``: the history records each
wake), so a task for a snooze that was changed or ended early simply finds nothing to do. The inbox's poll
still wakes ended snoozes too (a queue that was down loses nothing).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.tasks import task

from waportal.queueing import task_enqueue


@task()
def snoozes_wake_task() -> int:
    from workspace import services

    return services.conversations_wake()


def snooze_wake_schedule(*, at: datetime) -> None:
    """After the current transaction commits, ask for a wake run at ``at`` (the snooze's end)."""
    transaction.on_commit(lambda: task_enqueue(snoozes_wake_task, run_after=at))
