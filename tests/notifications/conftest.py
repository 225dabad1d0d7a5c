"""Fixtures of the notifications tests: a local HTTP receiver, a controllable clock, an endpoint."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts.models import Role
from notifications import clock, services
from tests.factories import MembershipFactory, UserFactory
from tests.messaging.factories_inbound import aldeamo_line


class Receiver:
    """A tiny HTTP server on 127.0.0.1: records every POST, answers ``status`` (settable), can go down."""

    def __init__(self) -> None:
        self.status = 200
        self.received: list[dict] = []
        self.port = 0
        self.server: ThreadingHTTPServer | None = None
        self.start()

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver.status
                receiver.received.append({"headers": dict(self.headers), "body": body, "status": status,
                                          "json": json.loads(body)})
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def ok(self) -> list[dict]:
        return [r for r in self.received if 200 <= r["status"] < 300]


@pytest.fixture
def receiver(settings):
    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = True
    settings.OUTGOING_WEBHOOKS_REQUIRE_HTTPS = False
    server = Receiver()
    yield server
    server.stop()


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def fake_clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(clock, "_now", fake)
    return fake


@pytest.fixture
def line(db):
    return aldeamo_line(digits="573235550101")


@pytest.fixture
def client_admin(line):
    return MembershipFactory(client=line.client, role=Role.ADMIN,
                             user=UserFactory(is_staff=True, email="admin@example.com")).user


@pytest.fixture
def endpoint(receiver, line):
    return services.webhook_endpoint_create(actor=None, client=line.client, url=receiver.url)


def wait_for(predicate, seconds: float = 3.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.01)
