"""Reads of the analytics app: conversation series and breakdowns from synced points (our own messages' funnels
are in :mod:`analytics.funnels`).

Every sum, grouping and date truncation happens in the database
(``Sum``/``Count`` with ``TruncDay``/``TruncMonth`` in the viewer's zone);
Python only shapes the aggregated rows that come back (and adds up a
series' own rows for its total, so the two always agree). Each function
runs a fixed number of queries whatever the data size.

**Which stored points a series reads.** A WABA may hold points of several
granularities (the daily task syncs all three for recent days; a person may
sync one of them for a long range). Adding two granularities together would
double every conversation, so each WABA's series comes from exactly one:
the granularity asked for when that WABA has points of it in the range,
otherwise the nearest finer one that has (MONTHLY falls back to DAILY, then
HALF_HOUR; DAILY to HALF_HOUR), summed into the asked periods by the
database. :func:`resolve_sources` decides this in one query.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from django.db import connections
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDay, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import WhatsAppBusinessAccount
from analytics.filters import PointFilters
from analytics.models import DIMENSIONS, GRANULARITY_ORDER, ConversationDataPoint, Granularity
from waportal.errors import ApplicationError

# --- sources --------------------------------------------------------------------------


def _candidates(granularity: str) -> list[str]:
    """Stored granularities that can answer ``granularity``, in order of preference."""
    index = GRANULARITY_ORDER.index(granularity)
    return [GRANULARITY_ORDER[i] for i in range(index, -1, -1)]


def _has_points(granularity: str, start: datetime, end: datetime) -> Exists:
    return Exists(
        ConversationDataPoint.objects.filter(
            waba=OuterRef("pk"), granularity=granularity, start__gte=start, start__lt=end
        )
    )


def source_annotations(*, granularity: str, start: datetime, end: datetime) -> dict[str, Exists]:
    """``has_<GRANULARITY>`` Exists annotations for a WABA queryset (index probes, no scans)."""
    return {f"has_{g}": _has_points(g, start, end) for g in _candidates(granularity)}


def pick_source(row: Mapping[str, Any], granularity: str) -> str:
    """The granularity to read for one WABA row annotated with :func:`source_annotations`."""
    for candidate in _candidates(granularity):
        if row.get(f"has_{candidate}"):
            return candidate
    return granularity


def resolve_sources(
    *, wabas_qs: QuerySet[WhatsAppBusinessAccount], granularity: str, start: datetime, end: datetime
) -> dict[int, str]:
    """WABA pk → the stored granularity its series is read from (one query)."""
    annotations = source_annotations(granularity=granularity, start=start, end=end)
    rows = wabas_qs.order_by().annotate(**annotations).values("pk", *annotations)
    return {row["pk"]: pick_source(row, granularity) for row in rows}


def points_for(*, sources: Mapping[int, str], start: datetime, end: datetime, filters: PointFilters) -> QuerySet:
    """The stored points of ``sources`` (WABA pk → granularity) between ``start`` and ``end``."""
    by_granularity: dict[str, list[int]] = {}
    for waba_pk, granularity in sources.items():
        by_granularity.setdefault(granularity, []).append(waba_pk)
    if not by_granularity:
        return ConversationDataPoint.objects.none()
    condition = Q()
    for granularity, pks in by_granularity.items():
        condition |= Q(waba_id__in=pks, granularity=granularity)
    queryset = ConversationDataPoint.objects.filter(condition, start__gte=start, start__lt=end).order_by()
    return filters.apply(queryset)


# --- periods --------------------------------------------------------------------------


def bucket_expression(granularity: str, tz: tzinfo):
    """The period a point belongs to, computed by the database in ``tz``."""
    if granularity == Granularity.DAILY:
        return TruncDay("start", tzinfo=tz)
    if granularity == Granularity.MONTHLY:
        return TruncMonth("start", tzinfo=tz)
    return F("start")


def period_starts(*, start: datetime, end: datetime, granularity: str, tz: tzinfo) -> list[datetime]:
    """Every period start in ``[start, end)`` in ``tz``: the x axis, zeros included (no data is not no period)."""
    local = start.astimezone(tz)
    if granularity == Granularity.HALF_HOUR:
        current = local.replace(minute=0 if local.minute < 30 else 30, second=0, microsecond=0)
    elif granularity == Granularity.DAILY:
        current = local.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        current = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    result: list[datetime] = []
    while current < end:
        result.append(current)
        if granularity == Granularity.HALF_HOUR:
            # Step in absolute time: half hours exist in UTC, whatever the wall clock does.
            current = (current.astimezone(UTC) + timedelta(minutes=30)).astimezone(tz)
        elif granularity == Granularity.DAILY:
            naive = current.replace(tzinfo=None) + timedelta(days=1)
            current = timezone.make_aware(naive, tz)
        else:
            month = current.month % 12 + 1
            year = current.year + (1 if current.month == 12 else 0)
            current = timezone.make_aware(datetime(year, month, 1), tz)
    return result


def period_key(moment: datetime, tz: tzinfo) -> str:
    """A stable key for a period start (ISO 8601 in ``tz``), equal for the axis and the database rows."""
    return moment.astimezone(tz).isoformat()


# --- conversation series --------------------------------------------------------------


def parse_group_by(group_by: str | Iterable[str] | None) -> list[str]:
    """Validated dimensions (repeatable or comma list); ApplicationError names ``group_by``."""
    if group_by is None:
        return []
    values = [group_by] if isinstance(group_by, str) else list(group_by)
    dims: list[str] = []
    for value in values:
        for part in str(value).split(","):
            name = part.strip().lower()
            if not name:
                continue
            if name == "phone":  # the manual's name for the dimension
                name = "phone_number"
            if name not in DIMENSIONS:
                raise ApplicationError(
                    _("Cannot group by “%(value)s”: use %(choices)s.")
                    % {"value": part.strip(), "choices": ", ".join(DIMENSIONS)},
                    field="group_by",
                )
            if name not in dims:
                dims.append(name)
    return dims


def change_percent(current: int, previous: int) -> float | None:
    """Change against the previous period in percent; None when there is nothing to compare with."""
    if not previous:
        return None
    return round((current - previous) * 100.0 / previous, 1)


@dataclass
class Series:
    """Conversations per period (and per group), with the total and the previous period's."""

    granularity: str
    start: datetime
    end: datetime
    group_by: list[str]
    rows: list[dict[str, Any]]
    total: int
    previous_total: int
    sources: dict[int, str] = field(default_factory=dict)
    truncated: bool = False

    @property
    def change(self) -> float | None:
        return change_percent(self.total, self.previous_total)


def analytics_series(
    *,
    start: datetime,
    end: datetime,
    granularity: str,
    wabas_qs: QuerySet[WhatsAppBusinessAccount] | None = None,
    sources: Mapping[int, str] | None = None,
    group_by: str | Iterable[str] | None = None,
    filters: PointFilters | None = None,
    tz: tzinfo | None = None,
    with_previous: bool = True,
    limit: int | None = None,
) -> Series:
    """Conversations of the WABAs in ``wabas_qs`` per ``granularity`` period of ``[start, end)``.

    ``group_by``: None, one dimension or several (conversation_type,
    conversation_direction, phone_number, country). Periods are truncated in
    ``tz`` (default: the active zone, i.e. the viewer's). Pass ``sources``
    (from :func:`resolve_sources`) instead of ``wabas_qs`` when already
    known. ``limit`` caps the rows (``truncated`` says when more existed).
    Queries: 1 for the sources (unless given), 1 for the rows, 1 for the
    previous period's total (unless ``with_previous`` is False).
    """
    if granularity not in Granularity.values:
        raise ApplicationError(
            _("Granularity must be one of %(choices)s.") % {"choices": ", ".join(Granularity.values)},
            field="granularity",
        )
    if end <= start:
        raise ApplicationError(_("The end of the range must be after its start."), field="end")
    dims = parse_group_by(group_by)
    filters = filters or PointFilters()
    tz = tz or timezone.get_current_timezone()
    if sources is None:
        if wabas_qs is None:
            raise ValueError("analytics_series needs wabas_qs or sources.")
        sources = resolve_sources(wabas_qs=wabas_qs, granularity=granularity, start=start, end=end)
    fields = [DIMENSIONS[d] for d in dims]
    points = points_for(sources=sources, start=start, end=end, filters=filters)
    rows = []
    for period, *values, conversations in _period_sums(points, granularity=granularity, fields=fields, tz=tz,
                                                        limit=None if limit is None else limit + 1):
        shaped = {"start": period.astimezone(tz), "conversations": conversations}
        shaped.update(zip(dims, values, strict=True))
        rows.append(shaped)
    truncated = limit is not None and len(rows) > limit
    if truncated:
        rows = rows[:limit]
    # The total is the database's per-period sums added up, so it always equals the rows the
    # caller receives; only a truncated answer needs its own SUM.
    total = sum(row["conversations"] for row in rows)
    previous = 0
    if truncated:
        total = _sum(sources=sources, start=start, end=end, filters=filters)
    if with_previous:
        previous = _sum(sources=sources, start=previous_start(start, end), end=start, filters=filters)
    return Series(
        granularity=granularity,
        start=start,
        end=end,
        group_by=dims,
        rows=rows,
        total=total,
        previous_total=previous,
        sources=dict(sources),
        truncated=truncated,
    )


def _period_sums(points: QuerySet, *, granularity: str, fields: list[str], tz: tzinfo, limit: int | None
                 ) -> list[tuple[Any, ...]]:
    """``(period start, *fields, conversations)`` per period and group of ``points``, in order; at most ``limit``.

    On PostgreSQL a day or month is summed in two steps: first per stored
    ``start`` (and group), then those sums per period. Truncating in the
    viewer's zone (``DATE_TRUNC(… AT TIME ZONE …)``) then runs once per half
    hour of the range rather than once per point, and the first step reads
    only the unique key's index, which carries ``conversations`` (migration
    ``analytics 0003``): 90 days of a year of half-hour points went from
    ~110-140 ms to ~45 ms. Elsewhere (SQLite) it is one ORM GROUP BY.
    """
    connection = connections[points.db]
    if granularity == Granularity.HALF_HOUR or connection.vendor != "postgresql":
        rows = (
            points.annotate(period=bucket_expression(granularity, tz))
            .values_list("period", *fields)
            .annotate(conversations=Sum("conversations"))
            .order_by("period", *fields)
        )
        return list(rows if limit is None else rows[:limit])
    per_start = points.values("start", *fields).annotate(n=Sum("conversations")).order_by()
    inner_sql, inner_params = per_start.query.get_compiler(connection=connection).as_sql()
    quote = connection.ops.quote_name
    kind = "day" if granularity == Granularity.DAILY else "month"
    period_sql, period_params = connection.ops.datetime_trunc_sql(kind, quote("start"), (),
                                                                  timezone._get_timezone_name(tz))
    columns = "".join(f", {quote(name)}" for name in fields)  # field names from DIMENSIONS, never input
    sql = (f"SELECT {period_sql} AS period{columns}, SUM(n) FROM ({inner_sql}) AS per_start "
           f"GROUP BY 1{columns} ORDER BY 1{columns}")
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, (*period_params, *inner_params))
        rows = cursor.fetchall()
    # DATE_TRUNC(… AT TIME ZONE …) is the local wall time of the period's start, as TruncDay/TruncMonth read
    # it; a SUM of sums comes back as numeric.
    return [(timezone.make_aware(period, tz), *values, int(total)) for period, *values, total in rows]


def previous_start(start: datetime, end: datetime) -> datetime:
    """The previous period is as long as the current one and ends where it starts."""
    return start - (end - start)


def _sum(*, sources: Mapping[int, str], start: datetime, end: datetime, filters: PointFilters) -> int:
    """Conversations of ``[start, end)``: one SUM."""
    points = points_for(sources=sources, start=start, end=end, filters=filters)
    return int(points.aggregate(n=Coalesce(Sum("conversations"), 0))["n"])


@dataclass
class Breakdown:
    """Totals of the range and the previous period, overall and per value of each dimension."""

    total: int = 0
    previous_total: int = 0
    by: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def change(self) -> float | None:
        return change_percent(self.total, self.previous_total)


def analytics_breakdown(
    *,
    sources: Mapping[int, str],
    start: datetime,
    end: datetime,
    filters: PointFilters | None = None,
    dimensions: Sequence[str] = tuple(DIMENSIONS),
) -> Breakdown:
    """The totals and every per-dimension ranking of the charts page, in one query and one scan.

    The points of the range and of the previous period are read once and
    summed per combination of the dimensions (conditional sums split the two
    periods) in a CTE the ORM compiles; the overall total and one ranking per
    dimension are then ``UNION ALL``-ed GROUP BYs over that small CTE. One
    UNION of full GROUP BYs instead would scan the points once per dimension.
    ``by[dim]`` rows are ``{"key", "current", "previous", "change"}``, largest
    ``current`` first, values with no conversations in either period left out.
    """
    filters = filters or PointFilters()
    fields = [DIMENSIONS[dim] for dim in dimensions]
    combos = (
        points_for(sources=sources, start=previous_start(start, end), end=end, filters=filters)
        .values(*fields)
        .annotate(
            current=Coalesce(Sum("conversations", filter=Q(start__gte=start)), 0),
            previous=Coalesce(Sum("conversations", filter=Q(start__lt=start)), 0),
        )
        .order_by()
    )
    result = Breakdown(by={dim: [] for dim in dimensions})
    if not sources:
        return result
    connection = connections[combos.db]
    inner_sql, params = combos.query.get_compiler(connection=connection).as_sql()
    quote = connection.ops.quote_name
    parts = ["SELECT '' AS dim, '' AS dim_key, SUM(current) AS current, SUM(previous) AS previous FROM combos"]
    for dim, name in zip(dimensions, fields, strict=True):
        # ``dim`` and ``name`` come from DIMENSIONS (fixed identifiers), never from input.
        parts.append(f"SELECT '{dim}', {quote(name)}, SUM(current), SUM(previous) FROM combos GROUP BY {quote(name)}")
    sql = f"WITH combos AS ({inner_sql}) " + " UNION ALL ".join(parts)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    for dim, key, current, previous in rows:
        current, previous = int(current or 0), int(previous or 0)
        if dim == "":
            result.total, result.previous_total = current, previous
            continue
        if current or previous:
            result.by[dim].append(
                {"key": key, "current": current, "previous": previous, "change": change_percent(current, previous)}
            )
    for ranking in result.by.values():
        ranking.sort(key=lambda r: (-r["current"], -r["previous"], r["key"]))
    return result

