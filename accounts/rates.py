"""A business number's send limit, shared by every sender in every process: a token bucket in the database.

One row per number (:class:`accounts.models.NumberRate`). A grant of ``n``
slots is one atomic statement::

    UPDATE … SET next_slot = max(next_slot, now) + n / per_second RETURNING next_slot, per_second

so concurrent senders (campaign workers on any machine, the composer, the
API) get disjoint slots, and the number never sends faster than
``per_second`` over any window -- each sender sends at its slots. Slots are
handed out at ``CAMPAIGN_NUMBER_HEADROOM`` of the limit (0.98 by default); a send
leaves a few milliseconds after its slot (thread wake-ups, the interpreter
lock), so the margin lets it leave up to :func:`leave_tolerance` late (10 ms)
and no 1 s window -- whichever processes sent in it -- holds more than the
limit. A send woken later than that does not leave: it takes a new slot. No burst
is stored: a number idle for a minute does not get to send 80 at once. The
same SQL runs on PostgreSQL and SQLite (3.35+ for ``RETURNING``).

The provider saying "too fast" (HTTP 429, WhatsApp 130429) pushes
``next_slot`` to ``now + delay`` (:func:`number_slow_down`): every sender
of the number waits, not only the one that was told.
"""

from __future__ import annotations

import time

from django.db import connection
from django.db.models import F, Value
from django.db.models.functions import Greatest

from accounts import conf
from accounts.models import NumberRate

#: A campaign worker takes about this many seconds of the number's slots at a time.
GRANT_SECONDS = 0.1
#: After a throttle the pages say "throttled by the provider" for this much longer.
THROTTLE_SHOWN_SECONDS = 5.0


def _ensure(phone_number_id: int, digits: str) -> None:
    NumberRate.objects.bulk_create(
        [NumberRate(phone_number_id=phone_number_id, per_second=conf.pace_limit_for(digits))], ignore_conflicts=True)


#: A send woken too late for its slot gives it up at most this many times, then leaves at its next one.
LATE_RETRIES = 3
#: The highest send limit a number can be given (WhatsApp's top tier after Meta's upgrades is 1,000).
LIMIT_MAX = 1000


def number_limit(number) -> int:
    """A business number's send limit, messages per second: its row, else what its first send will store."""
    row = getattr(number, "send_rate", None)  # select_related("send_rate") answers it without a query
    return int(row.per_second) if row is not None else conf.pace_limit_for(number.digits)


def set_number_limit(*, phone_number_id: int, digits: str, per_second: int) -> int:
    """Set a number's send limit (the next grant of every sender uses it); the limit it had before."""
    _ensure(phone_number_id, digits)
    row = NumberRate.objects.select_for_update().get(phone_number_id=phone_number_id)
    before = row.per_second
    if before != per_second:
        NumberRate.objects.filter(phone_number_id=phone_number_id).update(per_second=per_second)
    return before


def number_slots(*, phone_number_id: int, digits: str, count: int = 1, not_before: float = 0.0
                 ) -> tuple[float, float, int]:
    """Reserve ``count`` of the number's next slots, none before ``not_before``: (first slot, interval,
    per_second); epoch seconds.

    Send *i* of the grant at ``first + i * interval``. Workers use their own
    clock (``time.time()``); NTP-synced machines are well within a slot.
    """
    table = NumberRate._meta.db_table
    headroom = float(conf.setting("CAMPAIGN_NUMBER_HEADROOM"))
    for _attempt in range(2):
        now = max(time.time(), not_before)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET next_slot = (CASE WHEN next_slot > %s THEN next_slot ELSE %s END) "
                f"+ %s / per_second WHERE phone_number_id = %s RETURNING next_slot, per_second",
                [now, now, count / headroom, phone_number_id])
            row = cursor.fetchone()
        if row is not None:
            end, per_second = float(row[0]), max(int(row[1]), 1)
            interval = 1.0 / (per_second * headroom)
            return end - count * interval, interval, per_second
        _ensure(phone_number_id, digits)
    raise RuntimeError(f"no send limit row for number {phone_number_id}")


def leave_tolerance() -> float:
    """How late after its slot a send may still leave, seconds; later than that it takes a new slot.

    Slots are spaced ``1 / (limit * headroom)`` apart, so a 1 s window holds at
    most ``limit * headroom`` of them; a send leaving up to ``tolerance`` after
    its slot can add at most ``limit * headroom * tolerance`` more. Half the
    headroom's margin (10 ms at 0.98) keeps any 1 s window within the limit,
    across processes and machines, with the other half left for the way from
    the decision to the provider.
    """
    headroom = float(conf.setting("CAMPAIGN_NUMBER_HEADROOM"))
    return max(0.002, (1.0 / headroom - 1.0) / 2)


def number_wait(*, phone_number_id: int, digits: str, sleep=time.sleep, anyway: bool = False) -> float | None:
    """Take one slot of the number and sleep until it (single sends: composer, API, replies); the moment the
    send must have left by (epoch seconds), or None when it may leave whenever.

    Woken later than :func:`leave_tolerance` after it (a busy machine), the
    slot is given up and the next one taken (up to ``LATE_RETRIES`` times): a
    late send would crowd the other senders' slots. After that -- or with
    ``anyway`` -- it leaves late rather than never (None). The caller sends
    under :func:`providers.leave.leave_by` the moment returned, so a send held
    up after waking is not made either. Call it outside a transaction: inside
    one, the row stays locked until it ends.
    """
    tolerance = leave_tolerance()
    for tries in range(LATE_RETRIES + 1):
        first, _interval, _rate = number_slots(phone_number_id=phone_number_id, digits=digits)
        delay = first - time.time()
        if delay > 0:
            sleep(delay)
        if anyway or tries == LATE_RETRIES:
            return None  # late again after a few slots given up: leaves rather than never
        if time.time() <= first + tolerance:
            return first + tolerance
    return None


def number_slow_down(*, phone_number_id: int, seconds: float) -> None:
    """The provider said the number sends too fast: no slot for anyone before ``now + seconds``."""
    now = time.time()
    NumberRate.objects.filter(phone_number_id=phone_number_id).update(
        next_slot=Greatest(F("next_slot"), Value(now + seconds)),
        throttled_until=Greatest(F("throttled_until"), Value(now + seconds + THROTTLE_SHOWN_SECONDS)))


def throttled_numbers(phone_number_ids) -> set[int]:
    """Which of these numbers the provider throttled recently (the pages say so)."""
    return set(NumberRate.objects.filter(phone_number_id__in=list(phone_number_ids), throttled_until__gt=time.time())
               .values_list("phone_number_id", flat=True))


class NumberGate:
    """One campaign worker's turns in its number's bucket, taken a few at a time.

    At full speed (the campaign's pace at or above the number's limit) a
    worker takes about ``GRANT_SECONDS`` of slots per statement; a campaign
    slower than its number takes one slot per send, at its own pace slot, so
    it never holds slots it sends late on.
    """

    def __init__(self, *, phone_number_id: int, digits: str, pace: int) -> None:
        self.phone_number_id, self.digits, self.pace = phone_number_id, digits, pace
        self.per_grant = 1
        self.next_slot = 0.0
        self.interval = 0.0
        self.left = 0

    def next(self, *, wanted: int, not_before: float = 0.0) -> float:
        """The epoch second of this worker's next slot, not before ``not_before`` (``wanted`` sends remain in
        its chunk)."""
        if self.left and self.next_slot < not_before:
            self.left = 0  # the campaign's own pace is behind: these slots would be sent late
        if not self.left:
            self.left = min(self.per_grant, max(wanted, 1))
            self.next_slot, self.interval, per_second = number_slots(
                phone_number_id=self.phone_number_id, digits=self.digits, count=self.left, not_before=not_before)
            self.per_grant = max(1, round(per_second * GRANT_SECONDS)) if self.pace >= per_second else 1
        slot = self.next_slot
        self.next_slot += self.interval
        self.left -= 1
        return slot
