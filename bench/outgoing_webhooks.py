"""outgoing_webhooks: what two subscribed endpoints cost webhook ingestion, and how fast their events go out.

Target (issue 24): the inbound messages and statuses the receiver stores produce their outgoing events
without slowing ingestion. The receiver itself (``messaging/webhooks/receive``) stores the raw body and
nothing else — no hook fires there, so the outbox never touches it; the outgoing events are written when the
stored events are *processed* (one SELECT of the client's endpoints and one INSERT of deliveries per batch,
in the batch's transaction). So this measures processing, in one run, as ``bench/webhook_process.py`` does
(same events: statuses out of order, inbound messages, redeliveries; one worker process, production
settings, PostgreSQL): events/s with no endpoint, then with two endpoints subscribed to every event type,
and their ratio. Then the deliveries are sent, in-process, to a local HTTP receiver: one run per endpoint
in two threads (as two task workers would), deliveries/s, all signed, in order per conversation.

Run: ``.venv/bin/python bench/outgoing_webhooks.py [--events 12000] [--runs 3]``
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Figure, bench_env, log, manage, postgres, report, setup_django  # noqa: E402
from bench.webhook_process import _setup_account, check, generate, reset, run_workers  # noqa: E402


def _endpoints(client_id: int, count: int, url: str = "https://hooks.example.com/") -> list:
    from notifications.models import Delivery, OutboxEvent, WebhookEndpoint

    OutboxEvent.objects.all().delete()
    Delivery.objects.all().delete()
    WebhookEndpoint.objects.all().delete()
    return [WebhookEndpoint.objects.create(client_id=client_id, url=f"{url}{n}") for n in range(count)]


class _Receiver:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.count += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook/"


def deliver_all(endpoints) -> tuple[float, int]:
    """Fan the outbox out, then every pending delivery of every endpoint, one thread per endpoint (as one task
    per endpoint); returns (deliveries/s, delivered), fan-out included."""
    from django.conf import settings
    from django.db import connection

    from notifications.delivery import endpoint_deliver
    from notifications.events import outbox_fan_out
    from notifications.models import Delivery

    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = True
    settings.OUTGOING_WEBHOOKS_REQUIRE_HTTPS = False
    settings.OUTGOING_WEBHOOKS_SLICE_SECONDS = 3600

    def work(endpoint_id: int) -> None:
        try:
            while endpoint_deliver(endpoint_id=endpoint_id).sent:
                pass
        finally:
            connection.close()

    started = time.monotonic()
    outbox_fan_out()  # what the first run does; the others find it done (or wait for the next second's run)
    threads = [threading.Thread(target=work, args=(endpoint.pk,)) for endpoint in endpoints]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    delivered = Delivery.objects.filter(state=Delivery.State.DELIVERED).count()
    return delivered / elapsed, delivered


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=12_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--deliver-runs", type=int, default=1, help="runs whose deliveries are also sent")
    args = parser.parse_args()

    with postgres() as database_url:
        env = bench_env(database_url)
        manage(env, "migrate", "--noinput", "-v", "0")
        setup_django(env)
        ids = _setup_account()
        from notifications.models import OutboxEvent, WebhookEndpoint

        none = Figure("processing, no endpoint", "ev/s", target=">= 1000")
        two = Figure("processing, 2 endpoints", "ev/s", target=">= 1000")
        ratio = Figure("2 endpoints / none", "x", target=">= 0.8")
        recorded = Figure("outgoing events recorded (2 endpoints)", "")
        sent = Figure("deliveries sent, 2 endpoints in parallel", "/s")
        problems: list[str] = []
        receiver = _Receiver()
        for run in range(args.runs):
            for count in (0, 2):
                reset()
                endpoints = _endpoints(ids["client"], count)
                expected = generate(events=args.events, seed=run, ids=ids)
                rate, _results = run_workers(env, workers=1, limit=args.limit)
                found = check(expected, ids)
                outbox = OutboxEvent.objects.count()
                if count and not outbox:
                    found.append("no outgoing event recorded")
                problems += [f"run {run + 1}, {count} endpoint(s): {p}" for p in found]
                log(f"run {run + 1}/{args.runs}, {count} endpoint(s): {rate:,.0f} events/s, "
                    f"{outbox:,} outgoing events recorded; checks: {'ok' if not found else '; '.join(found)}")
                (two if count else none).runs.append(rate)
                if count:
                    ratio.runs.append(rate / none.runs[-1])
                    recorded.runs.append(outbox)
                if count and run < args.deliver_runs:
                    WebhookEndpoint.objects.filter(pk__in=[e.pk for e in endpoints]).update(
                        url=receiver.url)
                    for endpoint in endpoints:
                        endpoint.url = receiver.url
                    per_second, delivered = deliver_all(endpoints)
                    if delivered != outbox * count:
                        problems.append(f"run {run + 1}: {delivered} of {outbox * count} delivered")
                    sent.runs.append(per_second)
                    log(f"  delivered {delivered:,} in-process to a local receiver: {per_second:,.0f}/s")
        report("outgoing_webhooks", [none, two, ratio, recorded, sent], notes=[
            f"{args.events:,} stored provider events per run (statuses, inbound messages, redeliveries: "
            "bench/webhook_process.py's mix); one worker process, batches of "
            f"{args.limit}; the 2 endpoints subscribe to every event type",
            "the receiver's own path (store the raw body) is unchanged: no hook fires there",
            "deliveries: one thread per endpoint (as one task per endpoint), pooled session, signed, local "
            "HTTP/1.1 receiver on the same 2 cores",
            *problems,
        ])
        print(json.dumps({"ratio": ratio.median}))
        if problems:
            sys.exit(1)


if __name__ == "__main__":
    main()
