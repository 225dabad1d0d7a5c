"""What ``bench/webhook_process.py`` checks after every run, as ordinary tests.

A realistic stream -- statuses out of order and split across batches,
redeliveries whose body differs by a byte, customers' messages and replies --
is applied exactly once: nothing stays pending, every message ends at the
highest status it was sent, one history row per (message, status), one
inbound message per provider id, unread counts that add up. On PostgreSQL,
two workers processing the same queue at once (``SKIP LOCKED``) keep every
one of those invariants.
"""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db import connections as db_connections
from django.db.models import Sum

from messaging.models import Conversation, Direction, Message, MessageStatus, StatusEvent, WebhookEvent
from messaging.webhooks.process import webhook_events_drain, webhook_events_process
from tests.messaging.factories_inbound import OutboundMessageFactory, WebhookEventFactory, aldeamo_line

T0 = datetime(2025, 3, 5, 14, 0, tzinfo=UTC)
RANK = {"sent": 3, "delivered": 4, "failed": 5, "read": 6}


def _status(wa_id: str, status: str, seconds: int, origin: str) -> dict:
    errors = [{"code": 131026, "title": "Message undeliverable"}] if status == "failed" else None
    entry = {"id": wa_id, "timestamp": str(int((T0 + timedelta(seconds=seconds)).timestamp())), "errors": errors,
             "recipient_id": "573115550000", "status": status}
    return {"contacts": None, "messages": None, "statuses": [entry], "origin_number": origin}


def _inbound(n: int, wa_id: str, origin: str, *, context: str | None = None) -> dict:
    message = {"context": {"from": origin, "id": context} if context else None, "from": wa_id, "id": f"wamid.in{n}",
               "timestamp": str(int((T0 + timedelta(seconds=n)).timestamp())), "type": "text",
               "text": {"body": f"mensaje {n}"}}
    return {"contacts": [{"profile": {"name": f"Cliente {wa_id[-3:]}"}, "wa_id": wa_id}], "messages": [message],
            "statuses": None, "origin_number": origin}


def _stream(line, *, messages: int, inbound: int, duplicates: int, seed: int = 7) -> dict:
    """Store a shuffled stream of events for ``messages`` sent messages; return what must hold afterwards."""
    rng = random.Random(seed)
    account = line.client.provider_account
    sent = [OutboundMessageFactory(phone_number=line, whatsapp_id=f"gBEGinv{i:04d}", status=MessageStatus.SENT)
            for i in range(messages)]
    bodies: list[dict] = []
    expected: dict[str, str] = {}
    pairs = 0
    for i, message in enumerate(sent):
        statuses = ["sent", "failed"] if i % 9 == 0 else ["sent", "delivered", "read"]
        expected[message.whatsapp_id] = max(statuses, key=RANK.__getitem__)
        pairs += len(statuses)
        for offset, status in enumerate(statuses):
            bodies.append(_status(message.whatsapp_id, status, i * 10 + offset, line.digits))
    customers = [f"5731155{n:05d}" for n in range(max(1, inbound // 3))]
    for n in range(inbound):
        context = sent[n % messages].whatsapp_id if n % 4 == 0 else None
        bodies.append(_inbound(n, rng.choice(customers), line.digits, context=context))
    rng.shuffle(bodies)  # statuses of one message arrive in any order, across batch boundaries
    originals = list(bodies)
    for copy in range(1, duplicates + 1):  # redeliveries: another body, the same event
        bodies.insert(rng.randrange(len(bodies) + 1), {**rng.choice(originals), "retry": copy})
    for body in bodies:
        WebhookEventFactory(provider_account=account, payload=body)
    return {"events": len(bodies), "status": expected, "pairs": pairs, "inbound": inbound}


def _assert_applied_once(expected: dict) -> None:
    assert not WebhookEvent.objects.exclude(state=WebhookEvent.State.PROCESSED).exists()
    assert WebhookEvent.objects.count() == expected["events"]
    final = dict(Message.objects.filter(direction=Direction.OUTBOUND).values_list("whatsapp_id", "status"))
    assert final == expected["status"]
    assert StatusEvent.objects.count() == expected["pairs"]
    assert not StatusEvent.objects.filter(message__isnull=True).exists()
    inbound = Message.objects.filter(direction=Direction.INBOUND)
    assert inbound.count() == expected["inbound"]
    assert inbound.values("provider_message_id").distinct().count() == expected["inbound"]
    assert Conversation.objects.aggregate(n=Sum("unread_count"))["n"] == expected["inbound"]


@pytest.mark.django_db
def test_a_shuffled_stream_with_redeliveries_is_applied_once_across_small_batches():
    line = aldeamo_line(digits="573245550101")
    expected = _stream(line, messages=25, inbound=20, duplicates=12)

    processed = 0
    while count := webhook_events_process(limit=7):  # batch boundaries cut every message's statuses apart
        processed += count

    assert processed == expected["events"]
    _assert_applied_once(expected)


@pytest.mark.django_db
def test_replaying_every_event_changes_nothing():
    line = aldeamo_line(digits="573245550101")
    expected = _stream(line, messages=10, inbound=8, duplicates=4)
    webhook_events_drain(limit=500)
    before = list(Message.objects.order_by("pk").values_list("pk", "status", "status_at", "delivered_at", "read_at"))

    WebhookEvent.objects.update(state=WebhookEvent.State.PENDING)
    webhook_events_drain(limit=500)

    assert list(Message.objects.order_by("pk").values_list("pk", "status", "status_at", "delivered_at",
                                                            "read_at")) == before
    _assert_applied_once(expected)


@pytest.mark.django_db
def test_drain_stops_only_when_nothing_is_pending():
    line = aldeamo_line(digits="573245550101")
    expected = _stream(line, messages=12, inbound=6, duplicates=3)

    assert webhook_events_drain(limit=5, max_seconds=60) == expected["events"]

    _assert_applied_once(expected)


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_apply_every_event_once_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("Concurrent workers need PostgreSQL (SKIP LOCKED; SQLite serialises writers).")
    line = aldeamo_line(digits="573245550101")
    expected = _stream(line, messages=60, inbound=40, duplicates=20)
    barrier = threading.Barrier(2)
    claimed: list[int] = []
    failures: list[BaseException] = []

    def worker():
        try:
            barrier.wait(timeout=10)
            while count := webhook_events_process(limit=10):
                claimed.append(count)
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)
        finally:
            db_connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not failures, failures
    # A worker stops at its first empty claim; whatever the other still held was done before it stopped.
    assert webhook_events_process(limit=10) == 0
    assert sum(claimed) == expected["events"]  # no event claimed twice, none skipped
    _assert_applied_once(expected)
