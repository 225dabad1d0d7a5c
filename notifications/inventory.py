"""Fresh inventory: every active provider account synced on a schedule by the task workers (no cron).

The sync (``accounts.services.provider_account_sync``: numbers with their quality rating and verification,
templates with their status) keeps templates' history itself (``TemplateChange``); numbers' changes reach
:func:`on_numbers_changed` through ``accounts.hooks.numbers_changed``: a history row, a ``number.quality``
event and an alert for each quality change.

Scheduling: one ``ScheduledJob`` row. A worker starting (``TASK_WORKER_RECONNECT_HOOKS``) and each run claim
the next run with one conditional UPDATE, so there is one chain of deferred tasks however many workers run.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import Q

from accounts.models import ProviderAccount
from accounts.services import provider_account_sync
from notifications import clock, conf
from notifications.alerts import alert_raise
from notifications.events import OutEvent, events_record
from notifications.models import AlertKind, EventType, InventoryChange, ScheduledJob
from providers.base import ProviderError

logger = logging.getLogger("notifications.inventory")

JOB = "inventory_refresh"


def _interval() -> timedelta | None:
    minutes = float(conf.setting("INVENTORY_REFRESH_MINUTES") or 0)
    return timedelta(minutes=minutes) if minutes > 0 else None


def inventory_refresh_claim(*, force: bool = False):
    """Claim the next run (returns its time) unless a live chain already holds it; None: nothing to enqueue."""
    interval = _interval()
    if interval is None:
        return None
    now = clock.now()
    ScheduledJob.objects.get_or_create(name=JOB)
    due = now + interval if not force else now
    # A chain is alive when its next run is in the future (and not further than one interval away).
    alive = Q(next_run_at__gt=now) & Q(next_run_at__lte=now + interval)
    claimed = ScheduledJob.objects.filter(name=JOB).exclude(alive if not force else Q(pk__in=[])).update(
        next_run_at=due)
    return due if claimed else None


def inventory_refresh() -> dict:
    """Sync every active account; one failing account does not stop the others. Returns counts."""
    done = failed = 0
    errors = []
    for account in ProviderAccount.objects.filter(is_active=True).order_by("pk"):
        try:
            provider_account_sync(account=account)
            done += 1
        except ProviderError as exc:
            failed += 1
            errors.append(f"{account.pk}: {exc}")
            logger.warning("inventory refresh of account %s failed: %s", account.pk, exc)
    ScheduledJob.objects.filter(name=JOB).update(last_run_at=clock.now(), last_error="\n".join(errors)[:2000])
    return {"accounts": done, "failed": failed}


def on_numbers_changed(*, changes) -> None:
    now = clock.now()
    InventoryChange.objects.bulk_create([
        InventoryChange(client_id=number.client_id, phone_number=number, field=field, old_value=(old or "")[:64],
                        new_value=(new or "")[:64], at=now)
        for number, field, old, new in changes])
    quality = [(number, old, new) for number, field, old, new in changes if field == "quality_rating"]
    events_record(events=[OutEvent(
        client_id=number.client_id, type=EventType.NUMBER_QUALITY, ordering_key=f"number:{number.pk}", data={
            "phone_number": number.pk, "number": number.digits, "old": old, "new": new})
        for number, old, new in quality])
    for number, old, new in quality:
        alert_raise(client_id=number.client_id, kind=AlertKind.NUMBER_QUALITY, object_key=f"number:{number.pk}",
                    params={"number": number.display_phone_number or number.digits, "old": old, "new": new})
