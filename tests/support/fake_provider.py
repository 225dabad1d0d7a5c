"""A provider for worker subprocesses in tests: answers every send "accepted", logs who it was sent to.

Mounted with ``PROVIDER_TRANSPORT_MOUNTS`` (see :mod:`tests.support.worker_settings`), so a real
``task_worker`` goes through the real send path (batch, client, retries) and only the network is fake.
``FAKE_PROVIDER_LOG`` names a file that gets one line per call (the recipient): a number twice in it is a
duplicate send. ``FAKE_PROVIDER_DELAY`` (seconds, default 0.02) is how long an answer takes.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict


def json_response(request: requests.PreparedRequest, status: int, reason: str, content: bytes) -> requests.Response:
    """A JSON answer to ``request``, as a requests transport returns one."""
    response = requests.Response()
    response.status_code = status
    response.reason = reason
    response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
    response._content = content
    response.url = request.url or ""
    response.request = request
    response.encoding = "utf-8"
    return response

class AcceptingTransport(BaseAdapter):
    thread_safe = True  # no state, no database: a campaign worker may keep many sends in flight through it

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None, verify: Any = True,
             cert: Any = None, proxies: Any = None) -> requests.Response:
        body = request.body or b"{}"
        try:
            to = str(json.loads(body).get("to", ""))
        except ValueError:
            to = ""
        log = os.environ.get("FAKE_PROVIDER_LOG")
        if log and to:
            fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, f"{to}\n".encode())
            finally:
                os.close(fd)
        time.sleep(float(os.environ.get("FAKE_PROVIDER_DELAY", "0.02")))
        return json_response(request, 200, "OK", json.dumps({"messageId": str(uuid.uuid4())}).encode())

    def close(self) -> None:
        pass


class UnavailableTransport(BaseAdapter):
    """Every provider call answers 503 at once: for tests that must never reach a network."""

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None, verify: Any = True,
             cert: Any = None, proxies: Any = None) -> requests.Response:
        return json_response(request, 503, "Service Unavailable", b'{"message": "unavailable (test transport)"}')

    def close(self) -> None:
        pass
