"""Background work of notifications: delivering outgoing webhooks (one task per endpoint) and alert emails.

Recording an event asks for its endpoint's task on commit, at most once per clock second per endpoint (the
task runs at the start of the next second, so it sees everything committed in the second that asked). A run
comes back by itself while deliveries wait (``wake_at``: one deferred task per endpoint, never a chain per
event). A slow or dead endpoint only ever occupies its own task, within its timeouts and its time slice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.core.cache import cache
from django.db.models import Q
from django.tasks import task

from notifications import alerts, clock, delivery
from notifications.models import WebhookEndpoint
from waportal.queueing import task_enqueue

logger = logging.getLogger("notifications.tasks")

SCHEDULE_KEY = "waportal:outgoing:{endpoint}:{second}"


@task()
def endpoint_deliver_task(endpoint_id: int) -> dict:
    result = delivery.endpoint_deliver(endpoint_id=endpoint_id)
    if result.wake_at is not None:
        endpoint_wake(endpoint_id=endpoint_id, at=result.wake_at)
    return {"sent": result.sent, "failed": result.failed, "busy": result.busy}


@task()
def alert_email_task(alert_id: int) -> int:
    return alerts.alert_email_send(alert_id=alert_id)


@task()
def inventory_refresh_task() -> dict:
    """Refresh the inventory, then schedule the next run (one chain: see notifications.inventory)."""
    from notifications import inventory

    try:
        return inventory.inventory_refresh()
    finally:
        due = inventory.inventory_refresh_claim(force=False)
        if due is not None:
            task_enqueue(inventory_refresh_task, run_after=due)


def inventory_refresh_kick() -> None:
    """A worker started or reconnected: start the refresh chain unless one is alive (a TASK_WORKER hook)."""
    from notifications import inventory

    due = inventory.inventory_refresh_claim(force=False)
    if due is not None:
        task_enqueue(inventory_refresh_task, run_after=due)


@task()
def stall_check_task() -> dict:
    """Look for a stalled backlog or workers, then schedule the next check (one chain: see notifications.stall)."""
    from notifications import stall

    try:
        return stall.stall_check()
    finally:
        due = stall.stall_check_claim(force=False)
        if due is not None:
            task_enqueue(stall_check_task, run_after=due)


def stall_check_kick() -> None:
    """A worker started or reconnected: check now, and start the check chain unless one is alive."""
    from notifications import stall

    due = stall.stall_check_claim(force=False)
    if due is not None:
        task_enqueue(stall_check_task, run_after=clock.now())


def endpoint_delivery_schedule(*, endpoint_id: int) -> None:
    """Ask for the endpoint's delivery run at the start of the next second (coalesced); never raises."""
    second = int(clock.now().timestamp())
    try:
        if not cache.add(SCHEDULE_KEY.format(endpoint=endpoint_id, second=second), 1, timeout=10):
            return
        task_enqueue(endpoint_deliver_task, run_after=datetime.fromtimestamp(second + 1, tz=UTC),
                     endpoint_id=endpoint_id)
    except Exception:
        logger.exception("Could not enqueue webhook delivery; the events wait for the next run")


def endpoint_wake(*, endpoint_id: int, at: datetime) -> None:
    """Enqueue one deferred run at ``at`` unless an earlier one is already waiting."""
    now = clock.now()
    if WebhookEndpoint.objects.filter(pk=endpoint_id).filter(
            Q(wake_at__isnull=True) | Q(wake_at__lte=now) | Q(wake_at__gt=at)).update(wake_at=at):
        task_enqueue(endpoint_deliver_task, run_after=max(at, now), endpoint_id=endpoint_id)
