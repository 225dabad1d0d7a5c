"""The demo's living inbox: simulated customers who write in by themselves once ``make demo`` serves.

:func:`demo_activity_start` (called by ``demo_setup``) enqueues
``tasks.sandbox_demo_activity``; each run makes the customers whose time has
come write in (:data:`SCRIPT`: several customers, several message types, all in
the first minute after the workers start), then enqueues itself for the next
one (``run_after``, no cron). Once the script is done it keeps a slow trickle,
one customer every ``SANDBOX_DEMO_TRICKLE_SECONDS`` (0 stops the chain there).
Every message goes the way a provider's does: a sandbox callback posted to the
portal's webhook by the delivery tasks, then processed by the portal's own.

Only with ``SANDBOX_DEMO_ACTIVITY`` (dev.py turns it on, test.py off): a run
finding it off stops the chain.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from .conf import setting
from .models import SandboxPhoneNumber
from .replies import sandbox_customer_reply

logger = logging.getLogger("sandbox")

# Business lines of the demo world (demo_world.WORLD), by digits.
ANDINA = "573245550101"
COBRANZAS = "573185550103"
SALUD = "573105550105"

# (seconds after the first run, business line, customer, inbound type): the first minute of the demo.
SCRIPT: tuple[tuple[int, str, str, str], ...] = (
    (0, ANDINA, "573135550201", "text"),
    (8, SALUD, "573135550202", "image"),
    (16, ANDINA, "573135550203", "location"),
    (24, ANDINA, "573135550204", "button_reply"),
    (32, COBRANZAS, "573135550205", "document"),
    (40, SALUD, "573135550206", "contacts"),
    (50, ANDINA, "573135550201", "image"),
)
TRICKLE_LINES = (ANDINA, SALUD, COBRANZAS)
TRICKLE_CUSTOMERS = tuple(f"5731355502{n:02d}" for n in range(1, 13))
TRICKLE_TYPES = ("text", "text", "text", "image", "location", "audio", "document", "button_reply")


def activity_enabled() -> bool:
    return bool(setting("SANDBOX_ENABLED")) and bool(setting("SANDBOX_DEMO_ACTIVITY"))


def trickle_seconds() -> float:
    return max(0.0, float(setting("SANDBOX_DEMO_TRICKLE_SECONDS") or 0))


@dataclass(frozen=True)
class ActivityStep:
    """What one run did, and where the chain goes next (``next_at`` None: it stops)."""

    started_at: datetime
    step: int
    next_at: datetime | None
    written: list[tuple[str, str, str]] = field(default_factory=list)


def _write(line: str, customer: str, type: str, now: datetime) -> bool:
    phone = SandboxPhoneNumber.objects.select_related("waba__client__account").filter(number=line).first()
    if phone is None:
        logger.warning("sandbox demo activity: no sandbox line %s; skipped", line)
        return False
    # Not delivered here: the outbox asks the delivery task to post it, as for every callback.
    sandbox_customer_reply(phone_number=phone, from_number=customer, type=type, deliver=False, now=now)
    return True


def demo_activity_step(*, started_at: datetime | None, step: int, now: datetime | None = None) -> ActivityStep:
    """Make the customers due by ``now`` write in; say when the next should (``step`` counts messages written)."""
    now = now or timezone.now()
    started_at = started_at or now
    if not activity_enabled():
        return ActivityStep(started_at=started_at, step=step, next_at=None)
    written: list[tuple[str, str, str]] = []
    if step >= len(SCRIPT):
        # Woken for the trickle: one customer, picked by the step so a replay is the same.
        rng = random.Random(step)
        entry = (rng.choice(TRICKLE_LINES), rng.choice(TRICKLE_CUSTOMERS), rng.choice(TRICKLE_TYPES))
        if _write(*entry, now):
            written.append(entry)
        step += 1
    while step < len(SCRIPT) and started_at + timedelta(seconds=SCRIPT[step][0]) <= now:
        _offset, line, customer, type = SCRIPT[step]
        if _write(line, customer, type, now):
            written.append((line, customer, type))
        step += 1
    if step < len(SCRIPT):
        next_at: datetime | None = started_at + timedelta(seconds=SCRIPT[step][0])
    else:
        pause = trickle_seconds()
        next_at = now + timedelta(seconds=pause) if pause else None
    return ActivityStep(started_at=started_at, step=step, next_at=next_at, written=written)


def demo_activity_start(*, now: datetime | None = None) -> bool:
    """Start the customers' chain (replacing one still waiting from an earlier demo_setup); False when off."""
    from waportal.queueing import task_enqueue

    from .tasks import sandbox_demo_activity

    if not activity_enabled() or not sandbox_demo_activity.get_backend().supports_defer:
        return False
    _forget_waiting(sandbox_demo_activity)
    task_enqueue(sandbox_demo_activity, run_after=now or timezone.now())
    return True


def _forget_waiting(task) -> None:
    """Drop runs of ``task`` not started yet (database backend only), so demo_setup twice makes one chain."""
    try:
        from django_tasks_db.backend import DatabaseBackend
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover - the project installs it
        return
    if isinstance(task.get_backend(), DatabaseBackend):
        DBTaskResult.objects.filter(task_path=task.module_path, status="READY").delete()
