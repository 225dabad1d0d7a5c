"""webhook_ingest: how fast the Aldeamo receiver stores callbacks, against the bare baselines.

Target (issue 9): throughput >= 0.8x the bare one-INSERT view's; p99 <= 50 ms at
half that load; afterwards stored events == distinct bodies sent.

When the target is missed (or with ``--profile``), the output adds where the
receiver's time goes: its CPU per request against the baselines' in Django
alone, and a cProfile of it.

Run: ``.venv/bin/python bench/webhook_ingest.py [--runs 3] [--duration 8] [--profile]``
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    Figure,
    apt_install,
    bench_env,
    django_shell,
    gunicorn,
    log,
    manage,
    postgres,
    report,
)

LUA = Path(__file__).with_name("webhook_payloads.lua")

SETUP = """
from django.db import connection
from accounts.models import ProviderAccount
from bench.baseline import CREATE
with connection.cursor() as c:
    c.execute(CREATE)
account, _ = ProviderAccount.objects.get_or_create(
    name="bench", provider="aldeamo", defaults={"user_id": "1", "api_key": "k", "base_url": "http://127.0.0.1:9/"})
print(account.webhook_path)
"""

COUNT = """
from messaging.models import WebhookEvent
print(WebhookEvent.objects.count())
"""

RESET = """
from django.db import connection
from messaging.models import WebhookEvent
WebhookEvent.objects.all().delete()
with connection.cursor() as c:
    c.execute("TRUNCATE bench_raw_body")
"""


def run_wrk(url: str, *, duration: int, connections: int, script: Path) -> tuple[float, dict, int | None, int]:
    out = subprocess.run(
        ["wrk", "--latency", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "5s", "-s", str(script), url],
        capture_output=True, text=True, timeout=duration + 60,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    latency = {}
    for pct in ("50", "99"):
        match = re.search(rf"\s{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s)\b", out)
        if match:
            value, unit = float(match.group(1)), match.group(2)
            latency[pct] = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    distinct = re.search(r"DISTINCT (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, latency, int(distinct.group(1)) if distinct else None, int(non2xx.group(1)) if non2xx else 0


def paced(url: str, body: bytes, *, rate: float, duration: float, workers: int = 16) -> list[float]:
    """Send ``rate`` requests/s for ``duration`` s from a pool of keep-alive clients; latencies in ms."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    latencies: list[float] = []
    lock = threading.Lock()
    start = time.perf_counter() + 0.2
    total = int(rate * duration)

    def worker(index: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        n = index
        while n < total:
            due = start + n / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sent = time.perf_counter()
            unique = body.replace(b"PACED", f"paced{n}".encode())
            conn.request("POST", parts.path, body=unique, headers={"Content-Type": "application/json"})
            conn.getresponse().read()
            with lock:
                latencies.append((time.perf_counter() - sent) * 1000)
            n += workers
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def where_time_goes(env: dict[str, str], path: str, *, requests: int = 400) -> str:
    """CPU per request of the three views in this process (Django's WSGI handler, no server), and a profile.

    The same request as wrk's through the same middleware: what the receiver
    costs beyond the baselines in Django alone. The rest of a served
    request (gunicorn, the kernel, PostgreSQL) is the same for all three
    views, except the receiver's own INSERT (its table's indexes).
    """
    import cProfile
    import io
    import pstats
    import statistics

    from bench.harness import setup_django

    setup_django(env)
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.client import RequestFactory

    handler = WSGIHandler()
    factory = RequestFactory(HTTP_HOST="127.0.0.1")
    serial = [int(time.time() * 1000)]

    def call(url_path: str) -> None:
        serial[0] += 1
        body = (b'{"statuses":[{"id":"WHERE%d","status":"delivered","timestamp":"1636642666",'
                b'"recipient_id":"573130000000"}],"origin_number":"573245550101"}' % serial[0])
        environ = factory.post(url_path, data=body, content_type="application/json").environ
        statuses: list[str] = []
        response = handler(environ, lambda status, headers: statuses.append(status))
        b"".join(response)
        response.close()
        if not statuses[0].startswith("200"):
            raise RuntimeError(f"{url_path} answered {statuses[0]}")

    views = {"noop": "/bench/noop/", "one-INSERT": "/bench/insert/", "receiver": path}
    cpu: dict[str, list[float]] = {name: [] for name in views}
    for _ in range(3):  # interleaved rounds: the machine's drift hits every view alike
        for name, url_path in views.items():
            for _ in range(requests // 3):
                began = time.thread_time()
                call(url_path)
                cpu[name].append(time.thread_time() - began)
    lines = ["CPU per request in Django (this process, no server), median: " + ", ".join(
        f"{name} {statistics.median(values) * 1000:.3f} ms" for name, values in cpu.items())]
    profiler = cProfile.Profile(time.thread_time)
    profiler.enable()
    for _ in range(requests):
        call(path)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
    lines.append("receiver under cProfile (cumulative):\n" + "\n".join(
        line for line in out.getvalue().splitlines() if line.strip())[:6000])
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--profile", action="store_true", help="print where the time goes even when the target holds")
    args = parser.parse_args()
    apt_install("wrk")

    with postgres() as database_url:
        env = bench_env(database_url)
        manage(env, "migrate", "--noinput", "-v", "0")
        path = django_shell(env, SETUP).splitlines()[-1]
        noop_script = Path("/tmp/waportal-noop.lua")
        noop_script.write_text(
            'wrk.method="POST"; wrk.headers["Content-Type"]="application/json"; '
            'wrk.body=\'{"statuses":[{"id":"x","status":"read"}]}\'\n'
        )
        noop, insert, hook, hook_p99_half, half_rate, lost = (
            Figure("bare view (noop) throughput", "r/s"),
            Figure("bare one-INSERT view throughput", "r/s"),
            Figure("webhook receiver throughput", "r/s"),
            Figure("receiver p99 at half the INSERT baseline's rate", "ms", target="<= 50 ms"),
            Figure("  (that rate)", "r/s"),
            Figure("stored - distinct sent", "ev", target="== 0"),
        )
        ratio = Figure("receiver / one-INSERT throughput", "x", target=">= 0.8")
        ratio_noop = Figure("receiver / noop throughput", "x")
        with gunicorn(env, workers=args.workers) as base:
            for run in range(args.runs):
                log(f"run {run + 1}/{args.runs}")
                django_shell(env, RESET)
                rps_noop, *_ = run_wrk(f"{base}/bench/noop/", duration=args.duration, connections=args.connections,
                                       script=noop_script)
                rps_insert, *_ = run_wrk(f"{base}/bench/insert/", duration=args.duration,
                                         connections=args.connections, script=LUA)
                rps_hook, _lat, distinct, non2xx = run_wrk(f"{base}{path}", duration=args.duration,
                                                           connections=args.connections, script=LUA)
                stored = int(django_shell(env, COUNT).splitlines()[-1])
                noop.runs.append(rps_noop)
                insert.runs.append(rps_insert)
                hook.runs.append(rps_hook)
                ratio.runs.append(rps_hook / rps_insert)
                ratio_noop.runs.append(rps_hook / rps_noop)
                if distinct is not None:
                    lost.runs.append(stored - distinct)
                if non2xx:
                    log(f"  {non2xx} non-2xx answers from the receiver")
                rate = rps_insert / 2
                body = (b'{"contacts":null,"messages":null,"statuses":[{"id":"PACED","timestamp":"1636642666",'
                        b'"errors":null,"recipient_id":"573130000000","status":"delivered"}],'
                        b'"origin_number":"573245550101"}')
                latencies = sorted(paced(f"{base}{path}", body, rate=rate, duration=min(args.duration, 5)))
                hook_p99_half.runs.append(latencies[int(len(latencies) * 0.99) - 1])
                half_rate.runs.append(rate)
        notes = ["stored - distinct counts bodies wrk generated; a few in flight at the end may differ by "
                 "at most the connection count"]
        if ratio.median < 0.8 or args.profile:
            notes.append("where the time goes: " + where_time_goes(env, path))
        report("webhook_ingest", [noop, insert, hook, ratio, ratio_noop, hook_p99_half, half_rate, lost],
               notes=notes)
    urllib.request.urlcleanup()


if __name__ == "__main__":
    main()
