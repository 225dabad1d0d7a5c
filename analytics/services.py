"""Writes of the analytics app: pulling conversation analytics from the provider.

``analytics_sync`` asks Aldeamo's getAnalytics for one WABA and range and
upserts the answer. Decisions it owns:

- **Clock, alignment, chunks.** Ranges are read in the account's clock,
  widened to whole periods and cut into requests of bounded size
  (:mod:`analytics.periods`); filters are checked in :mod:`analytics.filters`.
- **Upsert, then prune.** Each chunk's points are upserted in bulk on their
  full key (``bulk_create(update_conflicts=True)``, PostgreSQL and SQLite),
  so syncing twice never doubles a count; rows of that chunk the provider no
  longer reports (within the same filters, and older than this write) are
  then deleted, so a re-sync leaves exactly what the provider says now. Network calls happen outside
  transactions; each chunk is written in one.
- **Words.** The three answers that are not data become sentences:
  ``Data not found for search criteria`` (HTTP 200) is zero points with a
  message saying so; ``Unparseable date`` (400) and ``… does not belong to
  the client …`` (401) are ``ApplicationError`` naming the field at fault,
  with the provider's words and what to do.
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.gateway import provider_client
from accounts.models import WhatsAppBusinessAccount
from analytics.filters import PointFilters, checked_granularity, point_filters
from analytics.models import POINT_KEY_FIELDS, AnalyticsSync, ConversationDataPoint
from analytics.periods import MAX_RANGES, ONE_SECOND, as_utc, provider_time_zone, sync_chunks, to_provider_clock
from analytics.words import sync_summary
from providers.base import ProviderAuthError, ProviderError, ProviderRejected
from providers.types import ConversationPoint
from waportal.errors import ApplicationError
from waportal.sql import bound_cursor

logger = logging.getLogger(__name__)

UNPARSEABLE_DATE = "unparseable date"
NOT_THE_CLIENTS = "does not belong to the client"


def _check_waba(waba: WhatsAppBusinessAccount) -> None:
    account = waba.client.provider_account
    if not account.capabilities.analytics:
        raise ApplicationError(
            _("%(provider)s gives no conversation analytics (the account of WABA %(waba)s).")
            % {"waba": waba.waba_id, "provider": account.get_provider_display()},
            field="waba",
        )
    if not account.analytics_token:
        raise ApplicationError(
            _("The provider account %(account)s has no ISV analytics token: set it to sync analytics.")
            % {"account": account.name},
            field="waba",
        )


# --- sync -----------------------------------------------------------------------------


@dataclass
class SyncResult:
    """What one ``analytics_sync`` did; ``message`` says it in words."""

    waba_id: str
    granularity: str
    start: datetime
    end: datetime
    requests: int = 0
    empty_requests: int = 0
    points: int = 0
    removed: int = 0
    conversations: int = 0
    message: str = ""
    sync_id: int | None = None
    filters: dict[str, list[str]] = field(default_factory=dict)

    @property
    def state(self) -> str:
        return AnalyticsSync.State.EMPTY if self.points == 0 else AnalyticsSync.State.OK

    def as_dict(self) -> dict[str, Any]:
        return {
            "waba_id": self.waba_id,
            "granularity": self.granularity,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "requests": self.requests,
            "empty_requests": self.empty_requests,
            "points": self.points,
            "removed": self.removed,
            "conversations": self.conversations,
            "state": str(self.state),
            "message": self.message,
            "sync_id": self.sync_id,
            "filters": self.filters,
        }


class _PointRow(NamedTuple):
    """One point's values as :func:`_upsert_points` writes them (start/end aware)."""

    start: datetime
    end: datetime
    phone_number: str
    country: str
    conversation_type: str
    conversation_direction: str
    conversations: int


def _store_chunk(
    *,
    waba: WhatsAppBusinessAccount,
    granularity: str,
    points: Sequence[ConversationPoint],
    chunk_start: datetime,
    chunk_end: datetime,
    filters: PointFilters,
    tz: zoneinfo.ZoneInfo,
) -> tuple[int, int, int]:
    """Upsert one request's points and prune what the provider stopped reporting; (stored, removed, conversations).

    Duplicate keys inside one answer keep the last (an upsert cannot touch a
    row twice in one statement, and adding them up could double a count).
    """
    now = timezone.now()
    # Plain tuples, not model instances: building ~10,000 ConversationDataPoints per request was a
    # quarter of a sync's time, and the upsert only needs their values.
    rows: dict[tuple, _PointRow] = {}
    for point in points:
        start = as_utc(point.start, tz)
        key = (start, point.phone_number, point.country, point.conversation_type, point.conversation_direction)
        rows[key] = _PointRow(start, as_utc(point.end, tz), point.phone_number, point.country,
                              point.conversation_type, point.conversation_direction, point.conversations)
    with transaction.atomic():
        if rows:
            _upsert_points(waba=waba, granularity=granularity, synced_at=now, rows=list(rows.values()))
        stale = filters.apply(
            ConversationDataPoint.objects.filter(
                waba=waba,
                granularity=granularity,
                start__gte=as_utc(chunk_start, tz),
                start__lt=as_utc(chunk_end, tz),
            )
        ).filter(synced_at__lt=now)
        # Older than this write, not merely different: a sync of the same range running at the
        # same time wrote its own, newer rows, and those must stay.
        removed, _detail = stale.delete()
    return len(rows), removed, sum(row.conversations for row in rows.values())


def _upsert_points(*, waba: WhatsAppBusinessAccount, granularity: str, synced_at: datetime, rows: list[_PointRow]
                   ) -> None:
    """Insert or update a WABA's points on their full key.

    On PostgreSQL one ``INSERT … SELECT FROM unnest(arrays) ON CONFLICT DO
    UPDATE`` per chunk, its arrays bound server-side (:func:`waportal.sql.bound_cursor`):
    ``bulk_create(update_conflicts=True)`` spent most of a 90-day half-hour
    sync building objects and SQL in Python (issue 9's bench: 3.4 s of 4.2 s
    for 14 days). Other databases use ``bulk_create``.
    """
    if connection.vendor != "postgresql":
        ConversationDataPoint.objects.bulk_create(
            [ConversationDataPoint(waba=waba, client_id=waba.client_id, granularity=granularity, synced_at=synced_at,
                                   **row._asdict()) for row in rows],
            batch_size=500,
            update_conflicts=True,
            unique_fields=list(POINT_KEY_FIELDS),
            update_fields=["end", "conversations", "synced_at", "client"],
        )
        return
    meta = ConversationDataPoint._meta
    column = {field.name: field.column for field in meta.concrete_fields}
    key = ", ".join(f'"{column[name]}"' for name in POINT_KEY_FIELDS)
    sql = f"""
        INSERT INTO "{meta.db_table}" ("waba_id", "client_id", "granularity", "synced_at", "start", "end",
            "phone_number", "country", "conversation_type", "conversation_direction", "conversations")
        SELECT %s, %s, %s, %s, u.s, u.e, u.p, u.c, u.t, u.d, u.n
        FROM unnest(%s::timestamptz[], %s::timestamptz[], %s::text[], %s::text[], %s::text[], %s::text[], %s::int[])
            AS u(s, e, p, c, t, d, n)
        ON CONFLICT ({key}) DO UPDATE SET "end" = EXCLUDED."end", "conversations" = EXCLUDED."conversations",
            "synced_at" = EXCLUDED."synced_at", "client_id" = EXCLUDED."client_id"
    """  # noqa: S608 - names come from the model, values are parameters
    with bound_cursor() as cursor:
        columns = [list(values) for values in zip(*rows, strict=True)]
        cursor.execute(sql, [waba.pk, waba.client_id, granularity, synced_at, *columns])


def _in_words(exc: ProviderError, *, waba: WhatsAppBusinessAccount, tz: zoneinfo.ZoneInfo) -> ApplicationError | None:
    """The two error answers of getAnalytics as ApplicationErrors with a hint; None for any other failure."""
    words = exc.message
    lowered = words.lower()
    extra = {"provider_error": type(exc).__name__, "provider_status": exc.status}
    if isinstance(exc, ProviderRejected) and lowered.startswith(UNPARSEABLE_DATE):
        return ApplicationError(
            _(
                "Aldeamo could not read the dates: “%(words)s”. The portal sends them as yyyy-mm-dd hh:mm:ss in "
                "the account's clock (%(zone)s); check that the range holds real dates, and tell the operators "
                "if a valid range keeps failing."
            )
            % {"words": words, "zone": tz.key},
            field="start",
            extra=extra,
        )
    if isinstance(exc, ProviderAuthError | ProviderRejected) and NOT_THE_CLIENTS in lowered:
        return ApplicationError(
            _(
                "Aldeamo says: “%(words)s”. WABA %(waba)s is not registered under client %(client)s for this "
                "analytics token: sync the provider account to refresh its clients and WABAs, or ask Aldeamo "
                "to link the WABA to the client."
            )
            % {"words": words, "waba": waba.waba_id, "client": waba.client.client_id},
            field="waba",
            extra=extra,
        )
    return None


def _fetched(fetch: Callable[[datetime, datetime], list[ConversationPoint]], chunks: Sequence[tuple[datetime, datetime]],
             *, ahead: bool) -> Iterator[tuple[tuple[datetime, datetime], list[ConversationPoint]]]:
    """Each chunk with its points, in order; with ``ahead``, the next chunk is requested while this one is stored.

    The provider's answer and the database's upsert then overlap (one request
    in flight at most, as before; a failed request raises here, in its turn,
    after the chunks before it were stored). ``fetch`` must not touch the
    database: it runs in another thread.
    """
    if not ahead or len(chunks) < 2:
        for chunk in chunks:
            yield chunk, fetch(*chunk)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="analytics-fetch") as pool:
        pending = pool.submit(fetch, *chunks[0])
        for index, chunk in enumerate(chunks):
            points = pending.result()
            if index + 1 < len(chunks):
                pending = pool.submit(fetch, *chunks[index + 1])
            yield chunk, points


def analytics_sync(
    *,
    waba: WhatsAppBusinessAccount,
    start: datetime | date,
    end: datetime | date,
    granularity: str,
    phone_numbers: Iterable[str] | str = (),
    country_codes: Iterable[str] | str = (),
    conversation_types: Iterable[str] | str = (),
    conversation_directions: Iterable[str] | str = (),
    actor=None,
) -> SyncResult:
    """Pull ``waba``'s conversation analytics for ``[start, end)`` and store them.

    ``start``/``end``: aware datetimes, naive ones in the account's clock, or
    dates (whole days, ``end`` included). Permission checks are the caller's
    (viewers read analytics; syncing is for admins). Every run is logged as an
    :class:`AnalyticsSync`, failures included. Raises ``ApplicationError``
    for bad input and for the provider's two refusals (with a hint), and lets
    any other ``ProviderError`` through (what is stored before it stays).
    """
    granularity = checked_granularity(granularity)
    filters = point_filters(
        phone_numbers=phone_numbers,
        country_codes=country_codes,
        conversation_types=conversation_types,
        conversation_directions=conversation_directions,
    )
    _check_waba(waba)
    tz = provider_time_zone()
    local_start = to_provider_clock(start, tz, is_end=False)
    local_end = to_provider_clock(end, tz, is_end=True)
    if local_end <= local_start:
        raise ApplicationError(_("The end of the range must be after its start."), field="end")
    if local_end - local_start > MAX_RANGES[granularity]:
        raise ApplicationError(
            _("A %(granularity)s sync covers at most %(days)d days: shorten the range or sync it in parts.")
            % {"granularity": granularity, "days": MAX_RANGES[granularity].days},
            field="start",
        )
    chunks = sync_chunks(start=local_start, end=local_end, granularity=granularity)
    aligned_start, aligned_end = as_utc(chunks[0][0], tz), as_utc(chunks[-1][1], tz)
    result = SyncResult(
        waba_id=waba.waba_id,
        granularity=granularity,
        start=aligned_start,
        end=aligned_end,
        filters=filters.as_dict(),
    )
    log = AnalyticsSync.objects.create(
        waba=waba,
        client_id=waba.client_id,
        actor=actor if actor is not None and actor.is_authenticated else None,
        granularity=granularity,
        range_start=aligned_start,
        range_end=aligned_end,
        filters={k: v for k, v in filters.as_dict().items() if v},
    )
    result.sync_id = log.pk
    client = provider_client(waba.client.provider_account)
    waba_id, client_id = waba.waba_id, waba.client.client_id  # read here: fetch may run in another thread

    def fetch(chunk_start: datetime, chunk_end: datetime) -> list[ConversationPoint]:
        return client.analytics(
            waba_id=waba_id,
            client_id=client_id,
            start=chunk_start,
            end=chunk_end - ONE_SECOND,
            granularity=granularity,
            phone_numbers=filters.phone_numbers,
            country_codes=filters.country_codes,
            conversation_types=filters.conversation_types,
            conversation_directions=filters.conversation_directions,
        )

    try:
        for (chunk_start, chunk_end), points in _fetched(fetch, chunks, ahead=client.over_the_network):
            result.requests += 1
            if not points:
                result.empty_requests += 1
            stored, removed, conversations = _store_chunk(
                waba=waba,
                granularity=granularity,
                points=points,
                chunk_start=chunk_start,
                chunk_end=chunk_end,
                filters=filters,
                tz=tz,
            )
            result.points += stored
            result.removed += removed
            result.conversations += conversations
    except ProviderError as exc:
        translated = _in_words(exc, waba=waba, tz=tz)
        words = translated.message if translated else exc.message
        if result.requests:
            words = _("%(words)s (%(done)d of %(total)d requests were stored before this answer.)") % {
                "words": words,
                "done": result.requests,
                "total": len(chunks),
            }
        _finish(log, result, state=AnalyticsSync.State.ERROR, message=words)
        logger.info("analytics sync of WABA %s failed: %s", waba.waba_id, exc.message)
        if translated is not None:
            raise translated from exc
        raise
    except Exception as exc:
        # Never leave a log "running" forever: say what broke, then let it through.
        _finish(log, result, state=AnalyticsSync.State.ERROR, message=f"{type(exc).__name__}: {exc}")
        raise

    result.message = sync_summary(waba_id=result.waba_id, start=result.start, end=result.end,
                                  granularity=result.granularity, points=result.points,
                                  conversations=result.conversations, requests=result.requests,
                                  removed=result.removed, tz=tz)
    _finish(log, result, state=result.state, message=result.message)
    return result


def _finish(log: AnalyticsSync, result: SyncResult, *, state: str, message: str) -> None:
    AnalyticsSync.objects.filter(pk=log.pk).update(
        finished_at=timezone.now(),
        state=state,
        requests=result.requests,
        points=result.points,
        removed=result.removed,
        conversations=result.conversations,
        message=message,
    )




# A page-initiated sync runs in the request: keep it to a handful of WABAs.
MAX_SYNC_WABAS = 10


def analytics_sync_wabas(*, actor, waba_ids: Iterable[str], start: str | None, end: str | None,
                         granularity: str | None, tz) -> list[tuple[str, str]]:
    """The charts pages' "Sync now" (admin and workspace): the posted WABAs of clients ``actor`` administers, for
    the posted range, now. Returns what to tell the person, as (level, words): ``success``, ``warning``, ``error``.
    Refusals (bad range, no WABA, too many) are one error; each WABA's outcome is its own line."""
    from accounts.models import Role
    from accounts.tenancy import scope
    from analytics.ranges import date_range

    try:
        span = date_range(start=start, end=end, tz=tz)
    except ApplicationError as exc:
        return [("error", exc.message)]
    pks = [int(pk) for pk in waba_ids if str(pk).isdigit()][: MAX_SYNC_WABAS + 1]
    wabas = list(scope(WhatsAppBusinessAccount.objects.select_related("client__provider_account"), actor, "client",
                       Role.ADMIN).filter(pk__in=pks))
    if not wabas:
        return [("error", _("Choose a WABA whose client you administer to sync it."))]
    if len(wabas) > MAX_SYNC_WABAS:
        return [("error", _("Sync at most %(max)d WABAs at once from this page: choose a client or WABAs first.")
                 % {"max": MAX_SYNC_WABAS})]
    said = []
    for waba in wabas:
        try:
            result = analytics_sync(waba=waba, start=span.start, end=span.end,
                                    granularity=granularity or "HALF_HOUR", actor=actor)
        except (ApplicationError, ProviderError) as exc:
            said.append(("error", f"{waba}: {exc.message}"))
            continue
        said.append(("success" if result.points else "warning", result.message))
    return said
