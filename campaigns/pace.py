"""A campaign's pace: the token bucket its workers share, and the provider calls in flight at their slots.

``Campaign.pace_next_slot`` is a token bucket shared by all workers: a worker
reserves slots with one atomic ``UPDATE … SET pace_next_slot =
max(pace_next_slot, now) + n/pace RETURNING``, about ``PACE_WINDOW_SECONDS``
of them at a time (:class:`PaceShare`). :class:`Flight` keeps provider calls
waiting at their slots on a thread pool, each also taking the number's own
slot (:mod:`accounts.rates`).
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.db import connection

from accounts import rates
from campaigns import conf
from campaigns.models import (
    Campaign,
)
from providers.leave import SendLate, leave_by

logger = logging.getLogger(__name__)

# Pace slots are reserved about this many seconds at a time (see PaceShare).
PACE_WINDOW_SECONDS = 0.1
# A call woken too late for its slot gives it up at most this many times, then leaves at its next one however
# late: on a machine too busy to wake threads on time the number's slots are not all given up (see Flight).
LATE_RETRIES = rates.LATE_RETRIES
# A provider call is handed to its thread up to this long before its slot (see Flight).
SEND_AHEAD_SECONDS = 0.25


# --- pace ------------------------------------------------------------------------


def reserve_slots(*, campaign_id: int, count: int, pace: int) -> tuple[float, float]:
    """Reserve ``count`` send slots in the shared bucket; returns (first slot, interval), epoch seconds.

    One atomic statement: concurrent workers get disjoint windows. Workers use
    their own clock (``time.time()``); on one machine, or NTP-synced ones, the
    skew is far below a slot.
    """
    interval = 1.0 / max(pace, 1)
    now = time.time()
    table = Campaign._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET pace_next_slot = "
            f"(CASE WHEN pace_next_slot > %s THEN pace_next_slot ELSE %s END) + %s "
            f"WHERE id = %s RETURNING pace_next_slot",
            [now, now, count * interval, campaign_id],
        )
        row = cursor.fetchone()
    end = float(row[0]) if row else now + count * interval
    return end - count * interval, interval


class PaceShare:
    """One worker's turns in a campaign's shared bucket, reserved a few at a time.

    Reserving a whole chunk at once would give each worker long windows of its
    own, and one worker cannot always keep the pace alone (each send waits for
    the provider); reserving about ``PACE_WINDOW_SECONDS`` of slots at a time
    interleaves the workers finely, so together they hold the pace.
    """

    def __init__(self, *, campaign_id: int, pace: int) -> None:
        self.campaign_id, self.pace = campaign_id, pace
        self.per_reservation = max(1, round(pace * PACE_WINDOW_SECONDS))
        self.interval = 1.0 / max(pace, 1)
        self.next_slot = 0.0
        self.left = 0

    def next(self, *, wanted: int) -> float:
        """This worker's next slot, epoch seconds (reserved here when its reservation is used up)."""
        if not self.left:
            self.left = min(self.per_reservation, max(wanted, 1))
            self.next_slot, self.interval = reserve_slots(campaign_id=self.campaign_id, count=self.left,
                                                          pace=self.pace)
        slot = self.next_slot
        self.next_slot += self.interval
        self.left -= 1
        return slot


class Late:
    """A call whose thread woke too long after its slot: not made; it needs a new slot (``tries``: how many
    slots it gave up so far)."""

    __slots__ = ("call", "tries")

    def __init__(self, call, tries: int = 1) -> None:
        self.call, self.tries = call, tries


class Flight:
    """A worker's provider calls in flight: at most ``size`` at once, in a thread pool.

    The calls (:meth:`messaging.sending.TemplateBatch.begin`) touch no
    database: every read and write stays in the worker's own thread, on its
    own connection, so the pool threads never open one. A call is handed over
    up to ``SEND_AHEAD_SECONDS`` before its slot and its thread makes it at the
    slot, so the worker's own pauses (claiming and storing the next chunk)
    cost no slots; :meth:`stop` makes the calls still waiting for their slot
    return :data:`NOT_SENT` at once (a pause or cancel). With ``size`` 1 -- or
    a client that must stay in the calling thread (the in-process sandbox) --
    each call runs in the caller's thread at its slot, as before.
    """

    NOT_SENT = object()

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self.pool = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="campaign-send") \
            if self.size > 1 else None
        self.running: dict[Future, Any] = {}
        # Calls that returned, in the order they did: one queue, not a waiter installed on every call in
        # flight each time the worker looks (concurrent.futures.wait costs that, times 48 calls).
        self.returned: queue.SimpleQueue[Future] = queue.SimpleQueue()
        self.stopping = threading.Event()
        self.tolerance = rates.leave_tolerance()
        self.switch_interval = sys.getswitchinterval()
        if self.pool is not None:
            # A thread waking at its slot waits for the interpreter lock up to the switch interval (5 ms by
            # default, a third of a slot at 80/s): hand it over sooner while calls are in flight.
            sys.setswitchinterval(min(self.switch_interval, float(conf.setting("CAMPAIGN_SWITCH_INTERVAL"))))

    @property
    def full(self) -> bool:
        return len(self.running) >= self.size

    def submit(self, call, item: Any, *, at: float = 0.0, tries: int = 0) -> None:
        """Make ``call`` at ``at`` (epoch seconds) unless stopped first (``tries``: slots it gave up already)."""
        if self.pool is not None:
            future = self.pool.submit(self._at, call, at, tries)
        else:
            future = Future()
            try:
                future.set_result(self._at(call, at, tries))
            except Exception as exc:
                future.set_exception(exc)
        self.running[future] = item
        future.add_done_callback(self.returned.put)

    def _at(self, call, at: float, tries: int = 0):
        """Wait for ``at``, then call -- unless woken more than ``tolerance`` after it.

        Every sender of the number leaves within ``tolerance`` of a slot of the
        shared bucket, which is what keeps any 1 s window within the limit
        across processes; a thread that woke later (the machine was busy) would
        crowd another process's slots, so it returns :class:`Late` without
        calling and the worker gives the call a new slot -- up to
        ``LATE_RETRIES`` times, then it leaves late rather than never. The
        same deadline is checked again right before the request's first byte
        (:mod:`providers.leave`): a thread held up inside the HTTP stack
        returns :class:`Late` too, nothing of the request having left. A
        retry the call makes in place (a 5xx, a refused connection; after its
        backoff) goes without a deadline, as it goes without a slot.
        """
        if self.stopping.wait(max(0.0, at - time.time())) or self.stopping.is_set():
            return self.NOT_SENT
        if not at or tries >= LATE_RETRIES:
            return call()
        if time.time() > at + self.tolerance:
            return Late(call, tries + 1)
        try:
            with leave_by(at + self.tolerance):  # checked again right before the request's first byte
                return call()
        except SendLate:
            return Late(call, tries + 1)

    def stop(self) -> None:
        self.stopping.set()

    def finished(self, timeout: float) -> list[tuple[Any, Future]]:
        """Calls that have returned, waiting up to ``timeout`` seconds for the first one."""
        if not self.running:
            if timeout > 0:
                time.sleep(timeout)
            return []
        done = []
        try:
            done.append(self.returned.get(timeout=timeout) if timeout > 0 else self.returned.get_nowait())
            while True:
                done.append(self.returned.get_nowait())
        except queue.Empty:
            pass
        return [(self.running.pop(future), future) for future in done if future in self.running]

    def close(self, *, wait: bool = True) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=wait, cancel_futures=not wait)
            sys.setswitchinterval(self.switch_interval)
