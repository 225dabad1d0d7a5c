"""manage.py run_sandbox: a standalone, bounded server of the sandbox URLs only."""

from __future__ import annotations

import io
import re
import threading
import time

import pytest
import requests
from django.core.management import CommandError, call_command


def _start(**options) -> tuple[threading.Thread, io.StringIO, int]:
    out = io.StringIO()
    thread = threading.Thread(
        target=call_command, args=("run_sandbox",), kwargs={"stdout": out, **options}, daemon=True
    )
    thread.start()
    for _ in range(100):
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", out.getvalue())
        if match:
            return thread, out, int(match.group(1))
        time.sleep(0.05)
    raise AssertionError(f"run_sandbox did not start: {out.getvalue()!r}")


@pytest.mark.django_db
def test_serves_only_the_sandbox_and_stops_after_its_duration():
    thread, out, port = _start(port=0, duration=1.5, no_deliver=True, quiet=True)

    health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    assert health.json() == {"status": "ok", "service": "sandbox"}
    assert requests.get(f"http://127.0.0.1:{port}/admin/", timeout=5).status_code == 404  # nothing of the portal
    assert requests.get(f"http://127.0.0.1:{port}/sandbox/aldeamo/getFiles/x.pdf", timeout=5).content.startswith(
        b"%PDF"
    )

    thread.join(timeout=10)
    assert not thread.is_alive()
    assert "Sandbox stopped." in out.getvalue()


@pytest.mark.django_db
def test_keeps_connections_alive_and_stops_with_one_open():
    """A client sends request after request over one connection, as to a real provider; stopping does not wait."""
    thread, out, port = _start(port=0, duration=1.0, no_deliver=True, quiet=True)
    url = f"http://127.0.0.1:{port}/healthz"
    with requests.Session() as session:
        answers = [session.get(url, timeout=5) for _ in range(3)]
        pools = session.get_adapter(url).poolmanager.pools
        assert all(a.ok and a.headers.get("Connection") != "close" for a in answers)
        assert [pools[key].num_connections for key in pools.keys()] == [1]  # one TCP connection served all three
        # An API's answer: the length (what keeps the connection), none of the portal's browser headers.
        assert answers[0].headers["Content-Length"] == str(len(answers[0].content))
        assert not {"Content-Security-Policy", "X-Frame-Options", "Vary", "Content-Language"} & set(answers[0].headers)
        assert session.get(url, headers={"Host": "elsewhere.example"}, timeout=5).status_code == 400  # host check
        began = time.monotonic()
        thread.join(timeout=10)
        assert not thread.is_alive() and time.monotonic() - began < 3  # not held by the idle connection


@pytest.mark.django_db
def test_delivers_due_callbacks_while_it_serves(monkeypatch):
    passes = []
    monkeypatch.setattr("sandbox.delivery.sandbox_deliver_due", lambda: passes.append(time.monotonic()))
    thread, out, port = _start(port=0, duration=1.0, deliver_interval=0.1, quiet=True)

    assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok
    thread.join(timeout=10)
    assert not thread.is_alive() and "Sandbox stopped." in out.getvalue()
    assert len(passes) >= 3  # a pass every 0.1 s for a second


@pytest.mark.django_db
def test_refuses_when_the_sandbox_is_disabled(settings):
    settings.SANDBOX_ENABLED = False
    with pytest.raises(CommandError, match="SANDBOX_ENABLED"):
        call_command("run_sandbox", port=0)


def test_several_processes_serve_one_socket_and_stop_together(tmp_path):
    """``--processes 2``: a forked second process answers on the same port; stopping the command stops it."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'sandbox.sqlite3'}", "SANDBOX_ENABLED": "true",
           "DJANGO_SETTINGS_MODULE": "waportal.settings.dev"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=root, env=env, check=True,
                   capture_output=True)
    command = subprocess.Popen(
        [sys.executable, "manage.py", "run_sandbox", "--port", "0", "--processes", "2", "--duration", "4",
         "--no-deliver", "--quiet"], cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = ""
        while "listening on" not in line:
            line = command.stdout.readline()
            assert line, "run_sandbox exited before listening"
        port = int(re.search(r":(\d+)/", line).group(1))
        children = [int(p) for p in Path(f"/proc/{command.pid}/task/{command.pid}/children").read_text().split()]
        assert len(children) == 1
        for _ in range(20):  # a new connection each time: either process may accept it
            assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()["service"] == "sandbox"
        assert command.wait(timeout=20) == 0
        assert not Path(f"/proc/{children[0]}").exists()  # the forked process ended with the command
    finally:
        command.kill()
