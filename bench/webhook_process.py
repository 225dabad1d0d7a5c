"""webhook_process: how fast stored webhook events become message statuses and inbound messages.

Target (issue 9): >= 1,000 events/s with one worker. Reported too: two
workers in parallel (``SELECT … FOR UPDATE SKIP LOCKED``) and their ratio to
one, and after every run the invariants the numbers rely on:

- no event left pending, none ``unprocessed`` or ``error``;
- every outbound message ends at the highest status it was sent (by rank:
  a ``read`` beats a late ``delivered``; a ``failed`` after ``sent`` stays);
- one status-history row per (message, status), one inbound message per
  provider id, unread counts that add up to the inbound messages — whatever
  the duplicates and the order.

The events are what a busy Aldeamo account sends: for every message we sent
(stored first with ``bulk_create``), ``sent``/``delivered``/``read`` (or
``sent``/``failed``), about a fifth of them arriving out of order; 30 % of
the distinct events are customers' messages (some replying to ours); 5 % more
are redeliveries whose body differs by a byte (so they are stored twice and
must be applied once). They are written straight into the table with
``COPY`` in arrival order, then ONE worker process (production settings,
``webhook_events_process`` in a loop, as ``manage.py process_webhooks``
does) is timed from a common start signal until nothing is pending.

Run: ``.venv/bin/python bench/webhook_process.py [--events 24000] [--runs 3] [--limit 500]``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    PYTHON,
    ROOT,
    Figure,
    bench_env,
    log,
    manage,
    postgres,
    report,
    setup_django,
)

DUPLICATE_SHARE = 0.05
INBOUND_SHARE = 0.30  # of the distinct events
REORDER_SHARE = 0.20  # of the messages: their statuses arrive in another order
FAILED_SHARE = 0.08  # of the messages: sent, then failed
ORIGIN = "573245550101"
T0 = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)

# One worker process: Django up and connected first, then it waits for the common start time,
# processes until a batch comes back short, and prints when it started and ended.
WORKER = """
import json, sys, time
import django
django.setup()
from django.db import connection
from messaging.webhooks.process import webhook_events_process
start_at, limit = float(sys.argv[1]), int(sys.argv[2])
with connection.cursor() as cursor:
    cursor.execute("SELECT 1")
while time.time() < start_at:
    time.sleep(0.002)
began = time.time()
total = batches = 0
while True:
    count = webhook_events_process(limit=limit)
    total += count
    batches += 1
    if count < limit:
        break
print(json.dumps({"began": began, "ended": time.time(), "events": total, "batches": batches}))
"""


# --- the account and its events ---------------------------------------------------------------


def _setup_account() -> dict:
    from accounts.models import Client, PhoneNumber, ProviderAccount, WhatsAppBusinessAccount

    account, _ = ProviderAccount.objects.get_or_create(
        name="bench", provider="aldeamo",
        defaults={"user_id": "1", "api_key": "k", "base_url": "http://127.0.0.1:9/"})
    client, _ = Client.objects.get_or_create(provider_account=account, client_id="942", defaults={"name": "Bench"})
    waba, _ = WhatsAppBusinessAccount.objects.get_or_create(client=client, waba_id="236928178367012")
    phone, _ = PhoneNumber.objects.get_or_create(
        client=client, phone_number_id="107655329012345",
        defaults={"waba": waba, "display_phone_number": "+57 324 555 0101", "digits": ORIGIN})
    return {"account": account.pk, "client": client.pk, "phone": phone.pk}


def _status_body(wa_id: str, status: str, when: datetime, recipient: str) -> dict:
    entry = {
        "id": wa_id, "timestamp": str(int(when.timestamp())), "recipient_id": recipient, "status": status,
        "errors": [{"code": 131026, "title": "Message undeliverable"}] if status == "failed" else None,
        "conversation": {"expiration_timestamp": int((when + timedelta(days=1)).timestamp()),
                         "id": hashlib.md5(recipient.encode()).hexdigest(), "origin": {"type": "business_initiated"}},
        "pricing": {"billable": True, "category": "business_initiated", "pricing_model": "CBP"},
    }
    body = {"contacts": None, "messages": None, "statuses": [entry], "origin_number": ORIGIN}
    return body


def _inbound_body(n: int, wa_id: str, when: datetime, *, context: str | None) -> dict:
    message = {"context": {"from": ORIGIN, "id": context} if context else None, "from": wa_id,
               "id": f"ABEGbench.{n}", "timestamp": str(int(when.timestamp())), "type": "text",
               "text": {"body": f"Hola, pregunta número {n}"}}
    body = {"contacts": [{"profile": {"name": f"Cliente {wa_id[-5:]}"}, "wa_id": wa_id}], "messages": [message],
            "statuses": None, "origin_number": ORIGIN}
    return body


RANK = {"sent": 3, "delivered": 4, "failed": 5, "read": 6}


def generate(*, events: int, seed: int, ids: dict) -> dict:
    """Store the outbound messages and ``events`` pending webhook events; return what must hold afterwards."""
    from django.db import connection

    from messaging.models import Direction, Message, MessageStatus

    rng = random.Random(seed)
    distinct = round(events / (1 + DUPLICATE_SHARE))
    inbound_count = round(distinct * INBOUND_SHARE)
    status_target = distinct - inbound_count
    # Messages: most get three statuses, FAILED_SHARE get two (sent, failed).
    per_message = 3 * (1 - FAILED_SHARE) + 2 * FAILED_SHARE
    message_count = round(status_target / per_message)

    messages = []
    plans = []  # (wa_id, recipient, [(status, event time)], arrival order)
    for i in range(message_count):
        recipient = f"5731{rng.randrange(10**8):08d}"
        wa_id = f"gBEGbench{i:07d}"
        sent_at = T0 + timedelta(seconds=i * 0.5)
        messages.append(Message(
            client_id=ids["client"], phone_number_id=ids["phone"], direction=Direction.OUTBOUND, type="text",
            from_number=ORIGIN, to_number=recipient, content={"body": f"Mensaje {i}"},
            provider_message_id=f"bench-{i:07d}-aldeamo", whatsapp_id=wa_id, status=MessageStatus.SENT,
            status_at=sent_at,
        ))
        if rng.random() < FAILED_SHARE:
            statuses = [("sent", sent_at + timedelta(seconds=1)), ("failed", sent_at + timedelta(seconds=3))]
        else:
            statuses = [("sent", sent_at + timedelta(seconds=1)), ("delivered", sent_at + timedelta(seconds=3)),
                        ("read", sent_at + timedelta(seconds=40 + rng.random() * 600))]
        plans.append((wa_id, recipient, statuses))
    Message.objects.bulk_create(messages, batch_size=2000)

    # Arrival: each event some time after it happened; a share of messages get theirs shuffled.
    timeline: list[tuple[float, dict]] = []
    expected_status: dict[str, str] = {}
    for wa_id, recipient, statuses in plans:
        expected_status[wa_id] = max((s for s, _ in statuses), key=RANK.__getitem__)
        arrivals = sorted((when - T0).total_seconds() + rng.random() * 2 for _, when in statuses)
        if rng.random() < REORDER_SHARE:
            rng.shuffle(arrivals)
        for (status, when), arrival in zip(statuses, arrivals, strict=True):
            timeline.append((arrival, _status_body(wa_id, status, when, recipient)))
    span = message_count * 0.5 + 600
    customers = [f"5730{rng.randrange(10**8):08d}" for _ in range(max(1, inbound_count // 4))]
    for n in range(inbound_count):
        arrival = rng.random() * span
        context = plans[rng.randrange(message_count)][0] if message_count and rng.random() < 0.15 else None
        when = T0 + timedelta(seconds=arrival)
        timeline.append((arrival, _inbound_body(n, rng.choice(customers), when, context=context)))
    # Redeliveries: a copy of an earlier event, a little later, with a byte of difference.
    originals = list(timeline)
    for copy_number in range(1, events - len(originals) + 1):
        arrival, body = rng.choice(originals)
        timeline.append((arrival + 5 + rng.random() * 60, {**body, "retry": copy_number}))
    timeline.sort(key=lambda item: item[0])

    now = datetime.now(UTC)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            "COPY messaging_webhookevent (provider_account_id, received_at, body_sha256, body, content_type, headers, "
            "state, reason, attempts) FROM STDIN"
        ) as copy:
            for index, (_arrival, body) in enumerate(timeline):
                text = json.dumps(body, separators=(",", ":"))
                copy.write_row((ids["account"], now + timedelta(microseconds=index), hashlib.sha256(text.encode())
                                .hexdigest(), text, "application/json", "{}", "pending", "", 0))
        cursor.execute("ANALYZE")
    status_pairs = sum(len(statuses) for _, _, statuses in plans)
    return {"events": len(timeline), "messages": message_count, "status_pairs": status_pairs,
            "inbound": inbound_count, "expected_status": expected_status,
            "reordered_share": REORDER_SHARE, "duplicates": len(timeline) - status_pairs - inbound_count}


def reset() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE messaging_webhookevent, messaging_statusevent, messaging_message, "
                       "messaging_conversation, messaging_contact CASCADE")


def check(expected: dict, ids: dict) -> list[str]:
    """The invariants after processing; returns what failed (empty when everything holds)."""
    from django.db.models import Count, Sum

    from messaging.models import Conversation, Direction, Message, StatusEvent, WebhookEvent

    problems = []
    states = dict(WebhookEvent.objects.values_list("state").annotate(n=Count("id")))
    if states.get("pending"):
        problems.append(f"{states['pending']} events still pending")
    if states.get("unprocessed") or states.get("error"):
        problems.append(f"unprocessed {states.get('unprocessed', 0)}, error {states.get('error', 0)}")
    if states.get("processed", 0) != expected["events"]:
        problems.append(f"processed {states.get('processed', 0)} of {expected['events']} events")
    wrong = 0
    for wa_id, status in Message.objects.filter(direction=Direction.OUTBOUND).values_list("whatsapp_id", "status"):
        if expected["expected_status"].get(wa_id) != status:
            wrong += 1
    if wrong:
        problems.append(f"{wrong} messages not at the highest status they were sent")
    history = StatusEvent.objects.count()
    linked = StatusEvent.objects.filter(message__isnull=False).count()
    if history != expected["status_pairs"] or linked != history:
        problems.append(f"status history: {history} rows ({linked} linked), expected {expected['status_pairs']}")
    inbound = Message.objects.filter(direction=Direction.INBOUND).count()
    if inbound != expected["inbound"]:
        problems.append(f"{inbound} inbound messages stored, {expected['inbound']} distinct sent")
    unread = Conversation.objects.aggregate(n=Sum("unread_count"))["n"] or 0
    if unread != expected["inbound"]:
        problems.append(f"unread counts add up to {unread}, not {expected['inbound']}")
    return problems


def run_workers(env: dict[str, str], *, workers: int, limit: int) -> tuple[float, list[dict]]:
    """Start ``workers`` processes, let them all begin at the same moment; events/s over the slowest one."""
    from django.db import connections

    connections.close_all()
    start_at = time.time() + 4.0  # enough for Django to start in each process
    procs = [subprocess.Popen([PYTHON, "-c", WORKER, str(start_at), str(limit)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(workers)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"worker failed:\n{err[-3000:]}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    if any(r["began"] > start_at + 0.5 for r in results):
        log("  a worker started late; its Django start took longer than the head start")
    elapsed = max(r["ended"] for r in results) - start_at
    return sum(r["events"] for r in results) / elapsed, results


def profile_once(limit: int) -> str:
    """One batch under pyinstrument (when installed), in this process: where a batch's time goes."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        return "pyinstrument is not installed (pip install pyinstrument into the venv to see a profile)"
    from messaging.webhooks.process import webhook_events_process

    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(4):
        webhook_events_process(limit=limit)
    profiler.stop()
    return profiler.output_text(unicode=True, color=False, show_all=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=24_000, help="stored events per run (>= 20,000 by default)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=500, help="events per batch (the worker's default)")
    parser.add_argument("--no-two-workers", action="store_true", help="skip the two-worker runs")
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile of a few batches")
    args = parser.parse_args()

    with postgres() as database_url:
        env = bench_env(database_url)
        manage(env, "migrate", "--noinput", "-v", "0")
        setup_django(env)
        ids = _setup_account()

        one = Figure("1 worker", "ev/s", target=">= 1000")
        two = Figure("2 workers", "ev/s")
        ratio = Figure("2 workers / 1 worker", "x")
        per_batch = Figure("1 worker: ms per batch", "ms")
        generation = Figure("generation (messages + events)", "s")
        problems: list[str] = []
        shape = {}
        for run in range(args.runs):
            for workers in ((1,) if args.no_two_workers else (1, 2)):
                reset()
                started = time.monotonic()
                expected = generate(events=args.events, seed=run, ids=ids)
                generation.runs.append(time.monotonic() - started)
                shape = expected
                rate, results = run_workers(env, workers=workers, limit=args.limit)
                found = check(expected, ids)
                problems += [f"run {run + 1}, {workers} worker(s): {p}" for p in found]
                log(f"run {run + 1}/{args.runs}, {workers} worker(s): {rate:,.0f} events/s "
                    f"({', '.join(str(r['events']) for r in results)} events each); "
                    f"checks: {'ok' if not found else '; '.join(found)}")
                if workers == 1:
                    one.runs.append(rate)
                    r = results[0]
                    per_batch.runs.append((r["ended"] - r["began"]) * 1000 / max(1, r["batches"]))
                else:
                    two.runs.append(rate)
                    ratio.runs.append(rate / one.runs[-1])
        invariants = Figure("invariant failures (pending, unprocessed, status, duplicates)", "", target="== 0")
        invariants.runs = [float(len(problems))]
        figures = [one, two, ratio, per_batch, generation, invariants] if two.runs else \
            [one, per_batch, generation, invariants]
        notes = [
            f"{shape.get('events', 0):,} events per run: {shape.get('status_pairs', 0):,} statuses of "
            f"{shape.get('messages', 0):,} outbound messages ({REORDER_SHARE:.0%} of them out of order, "
            f"{FAILED_SHARE:.0%} failed), {shape.get('inbound', 0):,} inbound messages, "
            f"{shape.get('duplicates', 0):,} redeliveries; batches of {args.limit}",
            "events/s = events / (last worker's end - common start); workers are processes with production "
            "settings, PostgreSQL on the same 2 cores",
            *problems,
        ]
        if one.median < 1000 or args.profile:
            reset()
            generate(events=min(args.events, 4 * args.limit), seed=99, ids=ids)
            notes.append("profile of 4 batches (one worker, in-process):\n" + profile_once(args.limit))
        report("webhook_process", figures, notes=notes)
        if problems:
            sys.exit(1)


if __name__ == "__main__":
    main()
