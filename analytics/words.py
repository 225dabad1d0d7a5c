"""How a sync's result reads, in the reader's language: written when it is shown, from the sync's own numbers.

A sync that ended well stores its counts (:class:`analytics.models.AnalyticsSync`);
the sentence is made from them each time it is shown, so an English reader
and a Spanish one each read it in their own language, whoever ran the sync.
A failed sync keeps the words it failed with (often the provider's own).
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from django.utils.translation import gettext as _

from analytics.models import AnalyticsSync, Granularity
from analytics.periods import provider_time_zone


def sync_summary(*, waba_id: str, start: datetime, end: datetime, granularity: str, points: int, conversations: int,
                 requests: int, removed: int, tz: zoneinfo.ZoneInfo | None = None) -> str:
    """What a sync stored, in one sentence; times in the provider's clock (named)."""
    tz = tz or provider_time_zone()
    span = {
        "waba": waba_id,
        "start": start.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        "end": end.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        "zone": tz.key,
        "granularity": str(Granularity(granularity).label).lower(),
    }
    if points == 0:
        return _(
            "The provider has no conversation data for WABA %(waba)s from %(start)s to %(end)s (%(zone)s) "
            "with these filters."
        ) % span
    return _(
        "Synced %(points)d points (%(granularity)s, %(conversations)d conversations) for WABA %(waba)s from "
        "%(start)s to %(end)s (%(zone)s) in %(requests)d requests; %(removed)d points the provider no longer "
        "reports were removed."
    ) % {**span, "points": points, "conversations": conversations, "requests": requests, "removed": removed}


def sync_words(sync: AnalyticsSync) -> str:
    """A sync's result as its reader should read it (load ``waba`` with it: its id is in the sentence)."""
    if sync.state in (AnalyticsSync.State.OK, AnalyticsSync.State.EMPTY):
        return sync_summary(waba_id=sync.waba.waba_id, start=sync.range_start, end=sync.range_end,
                            granularity=sync.granularity, points=sync.points, conversations=sync.conversations,
                            requests=sync.requests, removed=sync.removed)
    return sync.message
