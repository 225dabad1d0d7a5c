"""A send's last moment to leave: checked just before its first byte is written, else the request is not made.

A business number's send limit (``accounts.rates``) hands every sender a
slot; a sender that leaves much later than its slot crowds the next ones,
and a 1 s window can then hold more than the limit. Checking the clock
when the sender wakes is not enough: between that check and the bytes
leaving there is the whole HTTP stack (requests, urllib3, http.client),
and on a busy machine a thread waiting for the interpreter lock in there
can lose tens of milliseconds. So the sender says when its request must
be gone by (:func:`leave_by`, per thread) and the connection checks it
right before the request is written, head and body in one write (a new
connection: before its handshake): later than that, :class:`SendLate` is raised and
nothing of the request has left -- the provider never saw it, so taking a
new slot and sending it then is not a duplicate. :meth:`BaseClient.request`
checks it too before handing the request to any transport (the in-process
sandbox, ``responses`` in tests).

A kept-alive connection whose request was stopped this way is closed by
urllib3 (it cannot know the stop left it clean) and the pool opens a new
one next time: rare -- only a thread delayed between waking and writing --
and cheaper than a window over the limit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class SendLate(Exception):  # noqa: N818 -- a condition, not an error: the request was not made
    """The request would have left after its sender's deadline: nothing was written, the provider never saw it.

    Not a :class:`providers.base.ProviderError`: it is no answer of the
    provider's, and the caller (who set the deadline) takes a new slot.
    """

    def __init__(self, late_by: float) -> None:
        super().__init__(f"would have left {late_by * 1000:.1f} ms after its deadline; not sent")
        self.late_by = late_by


_thread = threading.local()


@contextmanager
def leave_by(deadline: float | None) -> Iterator[None]:
    """Requests this thread makes inside must leave by ``deadline`` (epoch seconds; None: no deadline)."""
    before = getattr(_thread, "deadline", None)
    _thread.deadline = deadline
    try:
        yield
    finally:
        _thread.deadline = before


def leave_by_set(deadline: float | None) -> None:
    """Change the deadline inside :func:`leave_by` (a retry that took a new slot)."""
    _thread.deadline = deadline


def leave_check() -> None:
    """Raise :class:`SendLate` if this thread's deadline has passed."""
    deadline = getattr(_thread, "deadline", None)
    if deadline is not None:
        late_by = time.time() - deadline
        if late_by > 0:
            raise SendLate(late_by)


class _Checked:
    """A request's first write: its head is held and leaves with the body's first bytes, in one write, after the
    deadline check.

    urllib3 writes a request's head and its body separately; on a busy machine
    the thread can wait for the interpreter lock between the two, and the
    provider has the request only when its body arrives. One write after the
    check makes "checked in time" mean "arrived in time".

    A new connection is checked before its handshake instead (:meth:`connect`;
    urllib3 opens an HTTPS connection before the request, http.client an HTTP
    one inside its first write): the handshake -- a round trip or two to a
    real provider -- is not held against the deadline, or every new
    connection's first request would be given up and its connection thrown
    away with it.
    """

    _checking = False
    _held: bytes | None = None
    _fresh = False  # connected since the last request: its first write is not checked again

    def connect(self) -> None:
        leave_check()  # a request already late opens no connection
        super().connect()  # type: ignore[misc]
        self._fresh = True

    def request(self, *args: Any, **kwargs: Any) -> None:
        self._checking, self._held = True, None
        try:
            super().request(*args, **kwargs)  # type: ignore[misc]
            if self._held is not None:  # no body: the head alone
                self._first_write(b"")
        finally:
            self._checking, self._held = False, None

    def send(self, data: Any) -> None:
        if not self._checking:
            return super().send(data)  # type: ignore[misc]
        if self._held is None and isinstance(data, bytes | bytearray):
            self._held = bytes(data)  # the head (http.client's endheaders): written with the body
            return None
        return self._first_write(data)

    def _first_write(self, data: Any) -> None:
        head, self._held, self._checking = self._held or b"", None, False
        try:
            if self.sock is not None and not self._fresh:  # type: ignore[attr-defined]
                leave_check()  # a kept-alive connection: right before the write
            if isinstance(data, bytes | bytearray):
                return super().send(head + bytes(data))  # type: ignore[misc]  # connects first if need be
            if head:
                super().send(head)  # type: ignore[misc]
            return super().send(data)  # type: ignore[misc]
        finally:
            self._fresh = False


class CheckedHTTPConnection(_Checked, HTTPConnection):
    pass


class CheckedHTTPSConnection(_Checked, HTTPSConnection):
    pass


class CheckedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = CheckedHTTPConnection


class CheckedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = CheckedHTTPSConnection


#: For a pool manager's ``pool_classes_by_scheme``.
POOL_CLASSES = {"http": CheckedHTTPConnectionPool, "https": CheckedHTTPSConnectionPool}
