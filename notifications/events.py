"""Recording outgoing events: the outbox.

Called by the hook receivers inside the transaction that stored the cause (a webhook batch, a status change):
one SELECT of the clients' active endpoints, one INSERT of one outbox row per event some endpoint wants —
never an HTTP call, and a cost that does not grow with the number of endpoints. On commit, each endpoint's
delivery task is asked for (at most once per second per endpoint); a delivery run first fans the outbox out
into per-endpoint deliveries (:func:`outbox_fan_out`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from notifications import clock, conf
from notifications.models import Delivery, OutboxEvent, WebhookEndpoint


@dataclass(frozen=True)
class OutEvent:
    client_id: int
    type: str
    data: dict
    ordering_key: str = ""
    created_at: datetime | None = None
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)


class _EndpointsCache:
    """The active endpoints of every client, per process, reloaded every ``OUTGOING_WEBHOOKS_ENDPOINTS_SECONDS``.

    Hook receivers run on the hottest paths (each campaign send's outcome fires ``statuses_changed``): a
    client without endpoints must cost them no query. An endpoint created, changed or deleted clears this
    process's copy at once (model signals) and reaches the others within the interval.
    """

    def __init__(self) -> None:
        self.loaded_at = float("-inf")
        self.by_client: dict[int, list[tuple[int, list[str]]]] = {}

    def get(self) -> dict[int, list[tuple[int, list[str]]]]:
        if time.monotonic() - self.loaded_at > float(conf.setting("OUTGOING_WEBHOOKS_ENDPOINTS_SECONDS")):
            by_client: dict[int, list[tuple[int, list[str]]]] = {}
            for pk, client_id, types in WebhookEndpoint.objects.filter(is_active=True).values_list(
                    "pk", "client_id", "events"):
                by_client.setdefault(client_id, []).append((pk, list(types or [])))
            self.by_client, self.loaded_at = by_client, time.monotonic()
        return self.by_client

    def clear(self, **_kwargs) -> None:
        self.loaded_at = float("-inf")

    def prime_empty(self) -> None:
        """Known to be empty now (tests start from an empty database)."""
        self.by_client, self.loaded_at = {}, time.monotonic()


endpoints_cache = _EndpointsCache()


def _wants(types: list[str], event_type: str) -> bool:
    return not types or event_type in types


def events_record(*, events: Iterable[OutEvent]) -> int:
    """Store the events some active endpoint of their client subscribed to; returns how many were stored."""
    events = list(events)
    if not events:
        return 0
    active = endpoints_cache.get()
    endpoints = {event.client_id: active[event.client_id] for event in events if event.client_id in active}
    if not endpoints:
        return 0
    now = clock.now()
    rows = [
        OutboxEvent(client_id=event.client_id, event_id=event.event_id, type=event.type,
                    ordering_key=event.ordering_key[:64], data=event.data, created_at=event.created_at or now)
        for event in events
        if any(_wants(types, event.type) for _pk, types in endpoints.get(event.client_id, ()))
    ]
    if not rows:
        return 0
    OutboxEvent.objects.bulk_create(rows)
    endpoint_ids = sorted({pk for row in rows for pk, types in endpoints[row.client_id] if _wants(types, row.type)})

    transaction.on_commit(lambda: _schedule(endpoint_ids))
    return len(rows)


def _schedule(endpoint_ids: list[int]) -> None:
    from notifications.tasks import endpoint_delivery_schedule

    for endpoint_id in endpoint_ids:
        endpoint_delivery_schedule(endpoint_id=endpoint_id)


FAN_OUT_BATCH = 1000
FAN_OUT_LOCK = "outbox_fan_out"


def outbox_fan_out(*, current_endpoint_id: int | None = None) -> int:
    """Turn stored events into their endpoints' deliveries, oldest first, until the outbox is empty.

    One fan-out at a time (a row lock), so deliveries are created in event order; a run that finds the lock
    taken goes on (the holder drains everything committed before it finishes, and every later commit asks for
    a run of its own). Returns how many events were fanned out.
    """
    from notifications.models import ScheduledJob

    ScheduledJob.objects.get_or_create(name=FAN_OUT_LOCK)
    total = 0
    while True:
        with transaction.atomic():
            if not list(ScheduledJob.objects.select_for_update(**_skip_locked()).filter(name=FAN_OUT_LOCK)
                        .values_list("pk", flat=True)):
                return total  # another run holds it
            batch = list(OutboxEvent.objects.order_by("id")[:FAN_OUT_BATCH])
            if not batch:
                return total
            endpoints: dict[int, list[WebhookEndpoint]] = {}
            for endpoint in WebhookEndpoint.objects.filter(client_id__in={row.client_id for row in batch},
                                                           is_active=True).only("pk", "client_id", "events",
                                                                                "is_active"):
                endpoints.setdefault(endpoint.client_id, []).append(endpoint)
            now = clock.now()
            Delivery.objects.bulk_create([
                Delivery(endpoint_id=endpoint.pk, client_id=row.client_id, event_id=row.event_id, type=row.type,
                         ordering_key=row.ordering_key, data=row.data, created_at=row.created_at,
                         next_attempt_at=now)
                for row in batch for endpoint in endpoints.get(row.client_id, ()) if endpoint.wants(row.type)])
            OutboxEvent.objects.filter(pk__in=[row.pk for row in batch]).delete()
            total += len(batch)
            # Their endpoints' runs may have come and gone while this one held the lock: ask for them again.
            woken = sorted({endpoint.pk for group in endpoints.values() for endpoint in group} - {current_endpoint_id})
            if woken:
                transaction.on_commit(lambda woken=woken: _schedule(woken))


def _skip_locked() -> dict:
    from django.db import connection

    return {"skip_locked": True} if connection.features.has_select_for_update_skip_locked else {}
