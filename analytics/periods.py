"""The clock and the cuts of an analytics sync: the provider's time zone, whole periods, requests of bounded size.

- **Clock.** Aldeamo speaks zone-less wall-clock times; they are in the
  account's clock, :func:`provider_time_zone` (``America/Bogota`` unless
  ``settings.ANALYTICS_PROVIDER_TIME_ZONE`` says otherwise). Ranges are
  converted to that clock before they are sent, and points back from it.
- **Alignment.** The range is widened to whole periods of the granularity
  (half hours, days, months in the account's clock). A stored point is then
  always a whole period: a partial month saved by a mid-month range would
  later be overwritten by another partial month and be wrong both times.
- **Chunks.** Long ranges are split into requests of at most
  :data:`CHUNK_SIZES` (HALF_HOUR 7 days -- 336 periods per phone and
  combination, a few thousand points --; DAILY 90 days; MONTHLY 12 months),
  each aligned to the granularity, so no period straddles two requests. The
  manual's example ends a day at ``23:59:00``, i.e. it treats the end as
  inclusive: each request ends on the last second before the next chunk.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta

from django.utils import timezone

from analytics import conf
from analytics.models import Granularity

# Longest span of one getAnalytics request, per granularity (MONTHLY in months).
CHUNK_SIZES: dict[str, timedelta | int] = {
    Granularity.HALF_HOUR: timedelta(days=7),
    Granularity.DAILY: timedelta(days=90),
    Granularity.MONTHLY: 12,
}
# Longest range one sync accepts: a typo in a year must not start a thousand requests.
MAX_RANGES: dict[str, timedelta] = {
    Granularity.HALF_HOUR: timedelta(days=400),
    Granularity.DAILY: timedelta(days=3 * 366),
    Granularity.MONTHLY: timedelta(days=10 * 366),
}
HALF_HOUR = timedelta(minutes=30)
ONE_SECOND = timedelta(seconds=1)


def provider_time_zone() -> zoneinfo.ZoneInfo:
    """The clock Aldeamo's analytics times are written in (see the module docstring)."""
    return zoneinfo.ZoneInfo(conf.provider_time_zone_name())


# --- ranges ---------------------------------------------------------------------------


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    return moment.replace(year=index // 12, month=index % 12 + 1, day=1)


def period_floor(moment: datetime, granularity: str) -> datetime:
    """The start of the period ``moment`` (naive, account clock) falls in."""
    if granularity == Granularity.HALF_HOUR:
        return moment.replace(minute=0 if moment.minute < 30 else 30, second=0, microsecond=0)
    if granularity == Granularity.DAILY:
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def period_ceil(moment: datetime, granularity: str) -> datetime:
    """The first period start at or after ``moment`` (naive, account clock)."""
    floor = period_floor(moment, granularity)
    if floor == moment:
        return floor
    if granularity == Granularity.HALF_HOUR:
        return floor + HALF_HOUR
    if granularity == Granularity.DAILY:
        return floor + timedelta(days=1)
    return _add_months(floor, 1)


def to_provider_clock(value: datetime | date, tz: zoneinfo.ZoneInfo, *, is_end: bool) -> datetime:
    """A range bound as naive wall-clock time of the account.

    A ``date`` means its whole day: a start at its midnight, an end at the
    next midnight (dates are inclusive). An aware datetime is converted; a
    naive one is taken as already in the account's clock.
    """
    if not isinstance(value, datetime):
        moment = datetime(value.year, value.month, value.day)
        return moment + timedelta(days=1) if is_end else moment
    if timezone.is_aware(value):
        return value.astimezone(tz).replace(tzinfo=None)
    return value


def as_utc(moment: datetime, tz: zoneinfo.ZoneInfo) -> datetime:
    """A naive account-clock time as an aware UTC datetime (what the database stores)."""
    return moment.replace(tzinfo=tz).astimezone(UTC)


def sync_chunks(*, start: datetime, end: datetime, granularity: str) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` (naive, account clock) aligned to the granularity and cut into requests.

    Every chunk starts and ends on a period boundary and spans at most
    ``CHUNK_SIZES[granularity]``; consecutive chunks share their boundary.
    """
    current = period_floor(start, granularity)
    stop = period_ceil(end, granularity)
    size = CHUNK_SIZES[granularity]
    chunks: list[tuple[datetime, datetime]] = []
    while current < stop:
        nxt = _add_months(current, size) if isinstance(size, int) else current + size
        nxt = min(nxt, stop)
        chunks.append((current, nxt))
        current = nxt
    return chunks

