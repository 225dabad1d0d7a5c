"""A ``requests`` transport adapter that answers from this Django process, no socket involved.

Mount it on a session and every request under the prefix is turned into a
WSGI environ and served by Django's own WSGI handler, in the calling thread::

    session = requests.Session()
    session.mount("http://sandbox.internal/", InProcessTransport())
    session.post("http://sandbox.internal/sandbox/aldeamo/v1/apikey/text/bsp/send", json=..., headers=...)

or, for a provider client, ``providers.base.session_for(key, mounts={"http://sandbox.internal/":
InProcessTransport()})`` (``settings.PROVIDER_TRANSPORT_MOUNTS`` may name it by dotted path,
``"sandbox.transport.InProcessTransport"``: it needs no arguments).

So provider clients, services and end-to-end tests exercise the real sandbox
views -- URL routing, middleware, headers, bodies, status codes -- with no
server. Because the request runs on the caller's thread it also runs on the
caller's database connection (and inside a test's transaction); the handler
therefore does not close "old" connections at the end of the request the way
a server would.

Timeouts: nothing can interrupt a view running on the same thread, so the
read timeout is enforced after the fact -- an answer that took longer than
the read timeout raises ``requests.exceptions.ReadTimeout``, as a real server
would have, while the request's effects stand (which is what a timeout means).
"""

from __future__ import annotations

import io
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

import requests
from django.conf import settings
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

_signal_lock = threading.Lock()
_in_process_depth = 0


def _detach_connection_closing() -> None:
    """Stop request signals from closing DB connections while any in-process request runs (re-entrant)."""
    global _in_process_depth
    with _signal_lock:
        if _in_process_depth == 0:
            signals.request_started.disconnect(close_old_connections)
            signals.request_finished.disconnect(close_old_connections)
        _in_process_depth += 1


def _reattach_connection_closing() -> None:
    global _in_process_depth
    with _signal_lock:
        _in_process_depth -= 1
        if _in_process_depth == 0:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)


class _InProcessHandler(WSGIHandler):
    """Django's WSGI handler, minus closing the (shared) database connection around the request.

    Nested in-process requests (a sandbox view posting a callback in-process
    to the portal) are counted, so the signals come back only after the
    outermost one.
    """

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        _detach_connection_closing()
        try:
            result = super().__call__(environ, start_response)
            chunks = [bytes(chunk) for chunk in result]
            close = getattr(result, "close", None)
            if close is not None:
                close()  # fires request_finished, as a server would
            return chunks
        finally:
            _reattach_connection_closing()


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else data
    if isinstance(body, Iterable):
        return b"".join(part.encode("utf-8") if isinstance(part, str) else bytes(part) for part in body)
    raise TypeError(f"Cannot send a request body of type {type(body).__name__} in-process.")


def _read_timeout(timeout: Any) -> float | None:
    if isinstance(timeout, tuple):
        return timeout[1] if len(timeout) > 1 else timeout[0]
    return timeout


def _default_host() -> str:
    """A Host header Django accepts: the first concrete ALLOWED_HOSTS entry."""
    for host in settings.ALLOWED_HOSTS:
        if host and host != "*":
            return host.lstrip(".")
    return "localhost"


class InProcessTransport(BaseAdapter):
    """Serve ``requests`` PreparedRequests with this process's Django, in the calling thread.

    ``host`` is the Host header the sandbox sees (default: the first entry of
    ``ALLOWED_HOSTS``), so a made-up URL host such as ``sandbox.internal``
    need not be allowed. ``handler`` lets tests pass another WSGI callable.
    """

    def __init__(self, *, host: str | None = None, handler: Any = None) -> None:
        super().__init__()
        self.host = host
        self.handler = handler

    def _wsgi(self) -> Any:
        """The WSGI callable, built once per transport (loading middleware is not free)."""
        if self.handler is None:
            self.handler = _InProcessHandler()
        return self.handler

    def _environ(self, request: requests.PreparedRequest, body: bytes) -> dict[str, Any]:
        url = urlsplit(request.url or "")
        scheme = url.scheme or "http"
        port = str(url.port or (443 if scheme == "https" else 80))
        host = self.host or _default_host()
        environ: dict[str, Any] = {
            "REQUEST_METHOD": (request.method or "GET").upper(),
            "SCRIPT_NAME": "",
            # WSGI wants the URL-decoded path as latin-1 text; Django re-decodes it as UTF-8.
            "PATH_INFO": unquote_to_bytes(url.path or "/").decode("latin-1"),
            "QUERY_STRING": url.query,
            "SERVER_NAME": host.split(":")[0],
            "SERVER_PORT": port,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": scheme,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_HOST": host,
        }
        for name, value in (request.headers or {}).items():
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif key in ("CONTENT_LENGTH", "HOST"):
                continue
            else:
                environ[f"HTTP_{key}"] = value
        return environ

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Run the request through Django and wrap the answer as a ``requests.Response``."""
        body = _body_bytes(request.body)
        environ = self._environ(request, body)
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"] = status
            captured["headers"] = headers
            return lambda data: None

        started = time.monotonic()
        chunks = self._wsgi()(environ, start_response)
        content = b"".join(chunks)
        elapsed = time.monotonic() - started

        read_timeout = _read_timeout(timeout)
        if read_timeout is not None and elapsed > read_timeout:
            raise requests.exceptions.ReadTimeout(
                f"In-process sandbox took {elapsed:.3f}s, over the read timeout of {read_timeout}s.", request=request
            )

        response = requests.Response()
        code, _, reason = captured["status"].partition(" ")
        response.status_code = int(code)
        response.reason = reason
        response.headers = CaseInsensitiveDict(captured["headers"])
        response.encoding = get_encoding_from_headers(response.headers)
        response._content = content
        response.raw = io.BytesIO(content)
        response.url = request.url or ""
        response.request = request
        response.elapsed = timedelta(seconds=elapsed)
        return response

    def close(self) -> None:
        """Nothing to release: no sockets, no pools."""
