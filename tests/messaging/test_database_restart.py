"""PostgreSQL stopped and started under webhook load: every event is processed afterwards, by itself.

A throwaway cluster (:mod:`tests.support.pg_cluster`; never the shared server), a gunicorn serving the
receivers and two ``task_worker`` processes on it. A provider posts inbound messages at ~40/s and, as
providers do, posts again any that got no 200. The server is stopped for 8 s in the middle. Afterwards:
the workers never exited, and every body answered 200 is processed -- no manual step.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import psycopg
import pytest
import requests

from tests.support import pg_cluster
from tests.support.processes import ROOT, Worker, worker_env

pytestmark = pytest.mark.skipif(bool(pg_cluster.available()), reason=pg_cluster.available() or "ok")

SETUP = """
import django; django.setup()
from tests.messaging.factories_inbound import aldeamo_line
line = aldeamo_line(digits="573235550101")
print(line.client.provider_account.webhook_path)
"""


def _payload(n: int) -> bytes:
    return json.dumps({
        "contacts": [{"profile": {"name": f"Cliente {n}"}, "wa_id": f"57300{n:07d}"}],
        "messages": [{"context": None, "from": f"57300{n:07d}", "id": f"wamid.restart.{n}", "timestamp": "1636642936",
                      "type": "text", "text": {"body": f"mensaje {n}"}}],
        "statuses": None, "origin_number": "573235550101",
    }).encode()


def _count(url: str, sql: str) -> int:
    with psycopg.connect(url.replace("postgres://", "postgresql://"), connect_timeout=3) as conn:
        return conn.execute(sql).fetchone()[0]


def test_a_database_restart_under_webhook_load_loses_nothing_and_needs_no_hand(capsys):
    cluster = pg_cluster.Cluster()
    procs: list[subprocess.Popen] = []
    workers: list[Worker] = []
    try:
        cluster.init()
        env = worker_env(DATABASE_URL=cluster.url)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=180,
                       stdout=subprocess.DEVNULL)
        path = subprocess.run([sys.executable, "-c", SETUP], cwd=ROOT, env=env, check=True, timeout=60,
                              capture_output=True, text=True).stdout.strip().splitlines()[-1]
        port = pg_cluster.free_port()
        web_log = open(cluster.dir / "web.log", "wb")  # noqa: SIM115 (closed with the cluster directory)
        procs.append(subprocess.Popen(
            [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "waportal.wsgi:application", "--bind",
             f"127.0.0.1:{port}", "--workers", "1", "--threads", "8", "--graceful-timeout", "2"],
            cwd=ROOT, env=env, stdout=web_log, stderr=subprocess.STDOUT, start_new_session=True))
        workers = [Worker("restart-a", env), Worker("restart-b", env)]
        url = f"http://127.0.0.1:{port}{path}"
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except requests.RequestException:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)

        accepted: set[int] = set()
        refused = {"answers": 0}
        lock = threading.Lock()

        def provider(numbers: range) -> None:
            session = requests.Session()
            for n in numbers:
                until = time.monotonic() + 90
                while time.monotonic() < until:
                    try:
                        answer = session.post(url, data=_payload(n), headers={"Content-Type": "application/json"},
                                              timeout=5)
                        if answer.status_code == 200:
                            with lock:
                                accepted.add(n)
                            break
                        with lock:
                            refused["answers"] += 1
                    except requests.RequestException:
                        with lock:
                            refused["answers"] += 1
                    time.sleep(0.2)  # a provider retries a failed callback
                time.sleep(0.05)

        total = 800
        senders = [threading.Thread(target=provider, args=(range(i, total, 2),)) for i in range(2)]
        for sender in senders:
            sender.start()
        time.sleep(6)
        cluster.stop()
        stopped_at = time.monotonic()
        time.sleep(8)
        cluster.start()
        back_at = time.monotonic()
        for sender in senders:
            sender.join(timeout=180)
        assert len(accepted) == total, f"only {len(accepted)} of {total} callbacks were accepted"

        def pending() -> int:
            return _count(cluster.url, "SELECT count(*) FROM messaging_webhookevent WHERE state = 'pending'")

        deadline = time.monotonic() + 90
        while pending() and time.monotonic() < deadline:
            time.sleep(0.5)
        drained = time.monotonic() - back_at
        processed = _count(cluster.url, "SELECT count(*) FROM messaging_webhookevent WHERE state = 'processed'")
        inbound = _count(cluster.url, "SELECT count(*) FROM messaging_message WHERE direction = 'in'")
        alive = [w.proc.poll() is None for w in workers]
        with capsys.disabled():
            print(f"\n[pg restart] stopped {back_at - stopped_at:.1f} s under load; {total} callbacks accepted "
                  f"({refused['answers']} refused answers retried by the provider); all processed "
                  f"{drained:.1f} s after the restart; workers alive: {alive}")
        assert all(alive), "a worker exited:\n" + "\n".join(w.output() for w in workers)
        assert processed == total and inbound == total, (processed, inbound, pending(),
                                                          "\n".join(w.output() for w in workers))
    finally:
        for worker in workers:
            worker.close()
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
                proc.wait(timeout=10)
        cluster.destroy()
