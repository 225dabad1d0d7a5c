"""The sandbox's analytics history: half-hour conversation counts per number, as Aldeamo's getAnalytics reports.

Deterministic per (number, half hour), so topping the history up never
changes what was already served.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from django.db.models import Max, Min
from django.utils import timezone

from .models import ConversationDirection, ConversationType, SandboxAnalyticsPoint, SandboxWaba

HALF_HOUR = timedelta(minutes=30)
_COUNTRIES = (("CO", 72), ("PE", 8), ("EC", 6), ("VE", 5), ("MX", 5), ("GT", 4))
_DIRECTIONS = (
    (ConversationDirection.BUSINESS_INITIATED.value, 55),
    (ConversationDirection.USER_INITIATED.value, 42),
    (ConversationDirection.UNKNOWN.value, 3),
)
_TYPES = (
    (ConversationType.REGULAR.value, 80),
    (ConversationType.FREE_TIER.value, 12),
    (ConversationType.FREE_ENTRY_POINT.value, 6),
    (ConversationType.UNKNOWN.value, 2),
)
# Activity by local (Bogotá, UTC-5) hour: quiet nights, morning and afternoon peaks.
_HOURLY = (
    0.04,
    0.03,
    0.02,
    0.02,
    0.03,
    0.06,
    0.15,
    0.35,
    0.65,
    0.9,
    1.0,
    1.0,
    0.8,
    0.7,
    0.85,
    0.95,
    0.9,
    0.75,
    0.6,
    0.5,
    0.4,
    0.3,
    0.15,
    0.08,
)
_WEEKDAY = (1.0, 1.0, 1.0, 1.0, 0.95, 0.45, 0.3)
_PEAK_PER_SLOT = 4.0


def _poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method; fine for the small rates of one phone's half hour."""
    limit = math.exp(-lam)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _slot_points(
    *, waba: SandboxWaba, phone: str, start: datetime, scale: float, history_start: datetime, total: timedelta
) -> list[SandboxAnalyticsPoint]:
    """The points of one phone's half hour: deterministic for (phone, slot), so top-ups never differ."""
    rng = random.Random(f"{phone}:{int(start.timestamp())}")
    local = start - timedelta(hours=5)
    growth = 0.8 + 0.4 * ((start - history_start) / total if total else 1.0)
    lam = _PEAK_PER_SLOT * scale * _HOURLY[local.hour] * _WEEKDAY[local.weekday()] * growth
    count = _poisson(rng, lam)
    if not count:
        return []
    countries = rng.choices([c for c, _ in _COUNTRIES], [w for _, w in _COUNTRIES], k=count)
    directions = rng.choices([d for d, _ in _DIRECTIONS], [w for _, w in _DIRECTIONS], k=count)
    types = rng.choices([t for t, _ in _TYPES], [w for _, w in _TYPES], k=count)
    grouped: dict[tuple[str, str, str], int] = {}
    for key in zip(countries, types, directions, strict=True):
        grouped[key] = grouped.get(key, 0) + 1
    return [
        SandboxAnalyticsPoint(
            waba=waba,
            phone_number=phone,
            start=start,
            country=country,
            conversation_type=ctype,
            conversation_direction=direction,
            conversations=n,
        )
        for (country, ctype, direction), n in grouped.items()
    ]


def sandbox_analytics_generate(*, waba: SandboxWaba, days: int, now: datetime | None = None) -> int:
    """Fill ``days`` of half-hour history for each of the WABA's numbers; return how many points were added.

    Only slots outside the range already stored are generated, and each slot
    is drawn from its own seed, so calling this again (even days later, or
    with more days) extends the history without duplicating or changing it.
    """
    now = now or timezone.now()
    end = now.astimezone(UTC).replace(minute=0 if now.minute < 30 else 30, second=0, microsecond=0)
    history_start = (end - timedelta(days=max(0, days))).replace(minute=0)
    total = end - history_start
    phones = list(waba.phone_numbers.order_by("number").values_list("number", flat=True))
    created = 0
    for index, phone in enumerate(phones):
        scale = 1.2 - 0.25 * index
        bounds = SandboxAnalyticsPoint.objects.filter(waba=waba, phone_number=phone).aggregate(
            first=Min("start"), last=Max("start")
        )
        ranges = []
        if bounds["first"] is None:
            ranges.append((history_start, end))
        else:
            ranges.append((history_start, bounds["first"]))
            ranges.append((bounds["last"] + HALF_HOUR, end))
        batch: list[SandboxAnalyticsPoint] = []
        for range_start, range_end in ranges:
            slot = range_start
            while slot < range_end:
                batch += _slot_points(
                    waba=waba, phone=phone, start=slot, scale=max(0.3, scale), history_start=history_start, total=total
                )
                slot += HALF_HOUR
        SandboxAnalyticsPoint.objects.bulk_create(batch, batch_size=2000)
        created += len(batch)
    return created
