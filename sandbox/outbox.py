"""The outbox: every callback the sandbox will post is a stored row (:class:`~sandbox.models.SandboxCallback`).

* :func:`plan` makes a row without storing it; :func:`schedule_all` stores a
  batch of them in one INSERT (a message's whole lifecycle at once) and, once
  the transaction commits, asks for their delivery; :func:`schedule` does it
  for one row. What the rows say and when they fall due is decided by
  ``callbacks.py`` (statuses, template events) and ``replies.py`` (the
  customer's messages); ``delivery.py`` posts them.
* In the demo, Django's tasks framework is asked to deliver what falls due:
  one task per due second (``run_after`` = the end of that second), not one
  per row, so a campaign's three or four callbacks per message cost a few
  tasks a second instead of hundreds, and ``manage.py db_worker`` still
  delivers each on time.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from waportal.queueing import task_enqueue

from .conf import setting
from .models import SandboxAccount, SandboxCallback, SandboxMessage, SandboxTemplate

logger = logging.getLogger("sandbox")

DELIVER_KEY = "waportal:sandbox:deliver:{second}"
# The task that delivers what is due, named by its path: ``tasks`` imports the
# delivery code, which asks for this task again when a post must be retried, so
# importing the task module here would make an import cycle.
DELIVER_DUE_TASK = "sandbox.tasks.sandbox_deliver_due_callbacks"


def enqueue_delivery(due_ats: list[datetime]) -> None:
    """Ask the task worker to deliver what falls due at ``due_ats``: one task per due second.

    Each task runs at the end of its second and delivers what is due by then,
    oldest first, whoever scheduled it (a batch at a time: see
    ``tasks.sandbox_deliver_due_callbacks``). A second already
    asked for by this process is not asked again (the cache); another
    process asking too only means a second task that finds nothing left.
    Optional (``SANDBOX_CALLBACKS_ENQUEUE``, default on): the outbox is the
    source of truth, so a failed enqueue only means the rows wait for the next
    task or for ``delivery.sandbox_deliver_due``. A backend that cannot defer gets
    only seconds already due.
    """
    if not setting("SANDBOX_CALLBACKS_ENQUEUE") or not due_ats:
        return
    deliver_due = import_string(DELIVER_DUE_TASK)
    now = timezone.now()
    can_defer = deliver_due.get_backend().supports_defer
    for second in sorted({math.ceil(due_at.timestamp()) for due_at in due_ats}):
        when = datetime.fromtimestamp(second, tz=UTC)
        if when > now and not can_defer:
            continue
        try:
            if not cache.add(DELIVER_KEY.format(second=second), 1, timeout=max(0, second - now.timestamp()) + 60):
                continue
            task_enqueue(deliver_due, run_after=when)
        except Exception:  # the outbox rows remain; the next task or sandbox_deliver_due picks them up
            logger.exception("sandbox: could not enqueue the delivery of callbacks due at %s", when.isoformat())


def plan(
    *,
    account: SandboxAccount,
    provider: str,
    kind: str,
    payload: dict[str, Any],
    due_at: datetime,
    effect: dict[str, Any] | None = None,
    message: SandboxMessage | None = None,
    template: SandboxTemplate | None = None,
) -> SandboxCallback:
    """One callback, not stored yet (:func:`schedule_all` stores a message's whole lifecycle at once)."""
    return SandboxCallback(
        account=account,
        provider=provider,
        kind=kind,
        payload=payload,
        effect=effect or {},
        message=message,
        template=template,
        due_at=due_at,
    )


def schedule_all(rows: list[SandboxCallback]) -> list[SandboxCallback]:
    """Store planned callbacks in one INSERT and enqueue each one's delivery once the transaction commits."""
    if not rows:
        return rows
    stored = SandboxCallback.objects.bulk_create(rows)
    due_ats = [callback.due_at for callback in stored]
    transaction.on_commit(lambda: enqueue_delivery(due_ats))
    return stored


def schedule(
    *,
    account: SandboxAccount,
    provider: str,
    kind: str,
    payload: dict[str, Any],
    due_at: datetime,
    effect: dict[str, Any] | None = None,
    message: SandboxMessage | None = None,
    template: SandboxTemplate | None = None,
) -> SandboxCallback:
    """Store one callback and enqueue its delivery once the transaction commits."""
    return schedule_all([plan(account=account, provider=provider, kind=kind, payload=payload, due_at=due_at,
                              effect=effect, message=message, template=template)])[0]

