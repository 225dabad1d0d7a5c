"""A number's limit across processes (issue 21): the shared bucket hands out slots so that no 1 s window holds
more than the limit, whoever asks -- several grant callers at once, each on its own database connection (as
separate worker processes are), on PostgreSQL."""

from __future__ import annotations

import bisect
import threading

import pytest
from django.db import connection

from accounts import rates
from accounts.models import NumberRate
from tests.messaging.factories import aldeamo_number

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL)"),
]


def most_in_a_window(times: list[float], *, width: float = 1.0, late: float = 0.0) -> int:
    """The most of ``times`` that can leave inside one half-open ``width`` window when each may leave up to
    ``late`` seconds after its time."""
    times = sorted(times)
    return max(bisect.bisect_left(times, t + width) - bisect.bisect_left(times, t - late) for t in times)


def test_concurrent_grant_callers_never_put_more_than_the_limit_in_any_1s_window(settings):
    settings.CAMPAIGN_NUMBER_HEADROOM = 0.98
    number = aldeamo_number(digits="573004445599")
    NumberRate.objects.create(phone_number=number, per_second=80)
    slots: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(6)

    def caller(seed: int) -> None:
        """A campaign worker (grants of 8) or an API / composer thread (grants of 1), on its own connection."""
        try:
            start.wait()
            for _grant in range(40):
                count = 8 if seed % 2 else 1
                first, interval, _rate = rates.number_slots(phone_number_id=number.pk, digits=number.digits,
                                                            count=count)
                with lock:
                    slots.extend(first + i * interval for i in range(count))
        except BaseException as exc:  # surfaced to the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=caller, args=(seed,)) for seed in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and not any(thread.is_alive() for thread in threads)
    assert len(slots) == 3 * 40 * 8 + 3 * 40
    ordered = sorted(slots)
    assert min(b - a for a, b in zip(ordered, ordered[1:], strict=False)) >= 1 / 80 * 0.99  # disjoint
    # The granted slots themselves: never more than 80 in a 1 s window ...
    assert most_in_a_window(slots) <= 80
    # ... nor when every send leaves as late after its slot as a worker lets it (rates.leave_tolerance).
    assert most_in_a_window(slots, late=rates.leave_tolerance()) <= 80
    # And the grants leave no gaps: the callers together get about the whole share of the limit.
    assert (ordered[-1] - ordered[0]) == pytest.approx((len(slots) - 1) / (80 * 0.98), rel=0.01)
