"""Recording outgoing events: the outbox.

Called by the hook receivers inside the transaction that stored the cause (a webhook batch, a status change):
one SELECT of the clients' active endpoints, one INSERT of a delivery row per (event, endpoint) — never an
HTTP call. On commit, each endpoint's delivery task is asked for (at most once per second per endpoint).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from notifications import clock
from notifications.models import Delivery, WebhookEndpoint


@dataclass(frozen=True)
class OutEvent:
    client_id: int
    type: str
    data: dict
    ordering_key: str = ""
    created_at: datetime | None = None
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)


def events_record(*, events: Iterable[OutEvent]) -> list[Delivery]:
    """Store one delivery per subscribed endpoint of each event's client; returns them (none: nobody listens)."""
    events = list(events)
    if not events:
        return []
    endpoints: dict[int, list[WebhookEndpoint]] = {}
    for endpoint in WebhookEndpoint.objects.filter(client_id__in={event.client_id for event in events},
                                                   is_active=True).only("pk", "client_id", "events", "is_active"):
        endpoints.setdefault(endpoint.client_id, []).append(endpoint)
    if not endpoints:
        return []
    now = clock.now()
    rows = [
        Delivery(endpoint_id=endpoint.pk, client_id=event.client_id, event_id=event.event_id, type=event.type,
                 ordering_key=event.ordering_key[:64], data=event.data, created_at=event.created_at or now,
                 next_attempt_at=now)
        for event in events
        for endpoint in endpoints.get(event.client_id, ())
        if endpoint.wants(event.type)
    ]
    if not rows:
        return []
    Delivery.objects.bulk_create(rows)
    endpoint_ids = sorted({row.endpoint_id for row in rows})

    def schedule() -> None:
        from notifications.tasks import endpoint_delivery_schedule

        for endpoint_id in endpoint_ids:
            endpoint_delivery_schedule(endpoint_id=endpoint_id)

    transaction.on_commit(schedule)
    return rows
