"""Background analytics: the daily sync of recent days, through Django's tasks framework.

Django's tasks have no calendar, so the daily task schedules its own next
run (``run_after`` tomorrow at ``ANALYTICS_DAILY_SYNC_HOUR``, 04:00 by
default, in the account's clock) once it has run. ``manage.py analytics_sync
--schedule`` starts the chain and is safe to repeat: nothing is enqueued
while a run is already waiting. A cron job calling ``manage.py
analytics_sync --days 2`` does the same job without a worker.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.tasks import task
from django.utils import timezone

from analytics import conf
from analytics.daily import analytics_sync_recent
from analytics.periods import provider_time_zone
from waportal.queueing import task_enqueue

logger = logging.getLogger(__name__)


@task()
def analytics_daily_sync(days: int = 2) -> dict[str, Any]:
    """Sync the last ``days`` days of every WABA with an analytics token, then schedule tomorrow's run."""
    try:
        report = analytics_sync_recent(days=days)
        for error in report.errors:
            logger.warning("daily analytics sync: %s", error)
        return report.as_dict()
    finally:
        schedule_daily_sync()


def next_run(now: datetime | None = None) -> datetime:
    """The next ``ANALYTICS_DAILY_SYNC_HOUR`` o'clock in the account's clock after ``now``."""
    tz = provider_time_zone()
    hour = int(conf.setting("ANALYTICS_DAILY_SYNC_HOUR"))
    local = (now or timezone.now()).astimezone(tz)
    candidate = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if candidate <= local:
        candidate = timezone.make_aware(candidate.replace(tzinfo=None) + timedelta(days=1), tz)
    return candidate


def _already_waiting() -> bool:
    """Whether a daily run is enqueued and not started (database backend only; others cannot tell)."""
    try:
        from django_tasks_db.backend import DatabaseBackend
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover - the project installs it
        return False
    if not isinstance(analytics_daily_sync.get_backend(), DatabaseBackend):
        return False
    return DBTaskResult.objects.filter(task_path=analytics_daily_sync.module_path, status="READY").exists()


def schedule_daily_sync(*, now: datetime | None = None) -> datetime | None:
    """Enqueue the next daily run unless one is waiting; returns when it will run (None if nothing was enqueued)."""
    if not analytics_daily_sync.get_backend().supports_defer or _already_waiting():
        return None
    when = next_run(now)
    task_enqueue(analytics_daily_sync, run_after=when)
    return when
