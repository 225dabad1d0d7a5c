"""Keeping background work going when workers die or the database goes away.

- :func:`worker_heartbeat_beat` -- a live worker says so every few seconds (from a
  thread of its own, so a long task does not silence it).
- :func:`tasks_running_recover` -- a task left ``RUNNING`` by a worker that is
  gone (killed, or that lost its database mid-task) is made ``READY`` again, so
  another worker runs it. Every task of this project may run twice: webhook
  processing and campaign slices are idempotent (claims and idempotency keys).
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta

from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from waportal import conf
from waportal.workers.models import WorkerHeartbeat

logger = logging.getLogger("waportal.workers")


def stale_seconds() -> float:
    """A worker silent this long is presumed dead (its RUNNING tasks are taken back)."""
    return float(conf.setting("TASK_WORKER_STALE_SECONDS"))


def worker_heartbeat_beat(*, worker_id: str, started_at=None) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={"seen_at": now},
        create_defaults={"seen_at": now, "started_at": started_at or now, "host": socket.gethostname()[:200],
                         "pid": os.getpid()},
    )


def worker_heartbeat_forget(*, worker_id: str) -> None:
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def tasks_running_recover(*, own_worker_id: str | None = None, others: bool = True) -> list[str]:
    """Make ``READY`` again the tasks ``RUNNING`` on a dead worker; returns their ids.

    Dead: its heartbeat is older than ``TASK_WORKER_STALE_SECONDS``, or it never
    wrote one and the task started that long ago (a worker of another kind), or
    it is ``own_worker_id`` (the caller, which knows it runs nothing now: it just
    started, or it lost the database mid-task). ``others=False`` takes back only
    the caller's own.
    """
    stale = timezone.now() - timedelta(seconds=stale_seconds())
    WorkerHeartbeat.objects.filter(seen_at__lt=timezone.now() - timedelta(days=1)).delete()  # long-dead workers
    alive = set(WorkerHeartbeat.objects.filter(seen_at__gte=stale).values_list("worker_id", flat=True))
    recovered: list[str] = []
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).only("id", "worker_ids", "started_at")
    for task_result in running:
        last = task_result.worker_ids[-1] if task_result.worker_ids else ""
        if last != own_worker_id:
            if not others or last in alive:
                continue
            if task_result.started_at is not None and task_result.started_at >= stale:
                continue  # just started: its worker may not have said it is alive yet
        moved = DBTaskResult.objects.filter(pk=task_result.pk, status=TaskResultStatus.RUNNING,
                                            started_at=task_result.started_at).update(
            status=TaskResultStatus.READY, started_at=None, run_after=timezone.now())
        if moved:
            recovered.append(str(task_result.pk))
            logger.warning("task %s was left RUNNING by worker %r, which is gone: ready to run again",
                           task_result.pk, last)
    return recovered
