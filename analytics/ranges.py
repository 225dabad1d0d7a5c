"""Reading the date ranges people and programs type: days in their zone, or exact instants.

Shared by the charts page, the API and the management command so that
``2025-03-01`` means the same everywhere: that whole day in the viewer's
time zone, with an end day included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from waportal.errors import ApplicationError

DEFAULT_DAYS = 30


@dataclass(frozen=True)
class DateRange:
    """``[start, end)`` as aware datetimes."""

    start: datetime
    end: datetime

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400


def parse_bound(value: str | date | datetime | None, *, tz: tzinfo, is_end: bool, field: str) -> datetime | None:
    """One bound: a day (``YYYY-MM-DD``; an end day is included) or an ISO 8601 instant.

    A naive instant is read in ``tz``. ApplicationError names ``field``.
    """
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day) + (timedelta(days=1) if is_end else timedelta())
    else:
        text = str(value).strip()
        try:
            day = parse_date(text)
            moment = parse_datetime(text) if day is None else None
        except ValueError:
            day, moment = None, None
        if day is not None:
            moment = datetime(day.year, day.month, day.day) + (timedelta(days=1) if is_end else timedelta())
        elif moment is None:
            raise ApplicationError(
                _("“%(value)s” is not a date: write YYYY-MM-DD, or an ISO 8601 time such as 2025-03-01T08:00:00-05:00.")
                % {"value": text},
                field=field,
            )
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, tz)
    return moment


def date_range(
    *, start: str | date | datetime | None, end: str | date | datetime | None, tz: tzinfo, now: datetime | None = None
) -> DateRange:
    """The range asked for; missing bounds default to the last 30 days, today included."""
    end_at = parse_bound(end, tz=tz, is_end=True, field="end")
    start_at = parse_bound(start, tz=tz, is_end=False, field="start")
    if end_at is None:
        today = (now or timezone.now()).astimezone(tz).date()
        end_at = timezone.make_aware(datetime(today.year, today.month, today.day) + timedelta(days=1), tz)
    if start_at is None:
        local_end = end_at.astimezone(tz).replace(tzinfo=None)
        start_at = timezone.make_aware(
            datetime(local_end.year, local_end.month, local_end.day) - timedelta(days=DEFAULT_DAYS), tz
        )
    if end_at <= start_at:
        raise ApplicationError(_("The end of the range must be after its start."), field="end")
    return DateRange(start=start_at, end=end_at)


def align_to_periods(span: DateRange, *, granularity: str, tz: tzinfo) -> DateRange:
    """``span`` widened to whole periods of ``granularity`` in ``tz``.

    A stored point belongs to a range when its period starts in it, so a
    monthly series of "the last 30 days" would otherwise miss the month the
    range starts in. Half hours and days are already whole for day ranges.
    """
    start, end = span.start.astimezone(tz), span.end.astimezone(tz)
    if granularity == "MONTHLY":
        first = timezone.make_aware(datetime(start.year, start.month, 1), tz)
        last = timezone.make_aware(datetime(end.year, end.month, 1), tz)
        if last < end:
            last = timezone.make_aware(datetime(end.year + end.month // 12, end.month % 12 + 1, 1), tz)
        return DateRange(start=first, end=last)
    if granularity == "DAILY":
        first = timezone.make_aware(datetime(start.year, start.month, start.day), tz)
        last = timezone.make_aware(datetime(end.year, end.month, end.day), tz)
        if last < end:
            last = timezone.make_aware(datetime(end.year, end.month, end.day) + timedelta(days=1), tz)
        return DateRange(start=first, end=last)
    return span
