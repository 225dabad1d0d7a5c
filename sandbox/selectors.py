"""Reads of the sandbox in the providers' wire shapes: template listings and analytics aggregation."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Sum
from django.db.models.functions import TruncDay, TruncMonth

from analytics.conf import provider_time_zone_name

from .conf import setting
from .models import SandboxAnalyticsPoint, SandboxTemplate, SandboxWaba

# --- templates ------------------------------------------------------------------------


def _button_wire(button: dict[str, Any]) -> dict[str, Any]:
    """A button as the seed's getTemplates shows it: type, text, phone_number (null unless a phone button)."""
    return {
        "type": str(button.get("type", "")).upper(),
        "text": button.get("text"),
        "phone_number": button.get("phone_number"),
    }


def component_wire(component: dict[str, Any]) -> dict[str, Any]:
    """A stored (createTemplate-format) component in the seed's getTemplates shape.

    Every key the seed shows is present (``type, text, format, url, buttons,
    example``), null when it does not apply.
    """
    kind = str(component.get("type", "")).upper()
    buttons = component.get("buttons")
    return {
        "type": kind,
        "text": component.get("text"),
        "format": str(component["format"]).upper() if component.get("format") else None,
        "url": component.get("url"),
        "buttons": [_button_wire(b) for b in buttons] if kind == "BUTTONS" and buttons else None,
        "example": component.get("example"),
    }


def template_wire(template: SandboxTemplate) -> dict[str, Any]:
    """One template of getTemplates' ``data.templates``, keys in the seed's order."""
    return {
        "name": template.name,
        "components": [component_wire(c) for c in template.components],
        "language": template.language,
        "status": template.status,
        "category": template.category,
        "id": template.template_id,
    }


def template_list_wire(*, waba: SandboxWaba, limit: int) -> dict[str, Any]:
    """The whole getTemplates answer for a WABA (oldest first, at most ``limit``)."""
    templates = SandboxTemplate.objects.filter(waba=waba).order_by("created_at", "id")[:limit]
    return {"status": 200, "reason": "OK", "data": {"templates": [template_wire(t) for t in templates]}}


# --- analytics --------------------------------------------------------------------------

# Request dimension (any case) → the data point key and the model field.
DIMENSIONS: dict[str, tuple[str, str]] = {
    "conversation_type": ("conversation_type", "conversation_type"),
    "conversation_direction": ("conversation_direction", "conversation_direction"),
    "phone": ("phone_number", "phone_number"),
    "phone_number": ("phone_number", "phone_number"),
    "country": ("country", "country"),
}
GRANULARITIES = ("HALF_HOUR", "DAILY", "MONTHLY")
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
# The seed's parameter table says USER_BUSINESS where its example says BUSINESS_INITIATED.
DIRECTION_ALIASES = {"USER_BUSINESS": "BUSINESS_INITIATED"}


def analytics_time_zone() -> tzinfo:
    """The wall clock of getAnalytics' dates, both ways.

    Aldeamo is a Colombian BSP and its manual gives naive dates, so the
    sandbox speaks America/Bogota -- the zone the portal assumes for them --
    unless ``SANDBOX_ANALYTICS_TIME_ZONE`` says otherwise, or the portal was
    told another zone with ``ANALYTICS_PROVIDER_TIME_ZONE`` (then both agree).
    """
    name = setting("SANDBOX_ANALYTICS_TIME_ZONE") or provider_time_zone_name()
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone(timedelta(hours=-5), "America/Bogota")


def _bucket_end(start: datetime, granularity: str) -> datetime:
    """End of a period, on the local wall clock (``start`` is naive local time)."""
    if granularity == "HALF_HOUR":
        return start + timedelta(minutes=30)
    if granularity == "DAILY":
        return start + timedelta(days=1)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def analytics_points(
    *,
    waba: SandboxWaba,
    start: datetime,
    end: datetime,
    granularity: str,
    dimensions: Iterable[str],
    phone_numbers: Iterable[str] = (),
    country_codes: Iterable[str] = (),
    conversation_types: Iterable[str] = (),
    conversation_directions: Iterable[str] = (),
    tz: tzinfo = UTC,
) -> list[dict[str, Any]]:
    """getAnalytics' ``data_points``: stored half hours summed by period and by the requested dimensions.

    A point counts when its half hour starts in ``[start, end)`` (aware
    datetimes); days and months are those of ``tz``, and the answer's dates
    are written on that wall clock. A
    dimension left out of ``dimensions`` is summed away and its key is left
    out of the data points (not sent empty); an empty filter list means "all".
    ``conversation`` is a string, as in the seed. Points are sorted by start,
    then by the dimension values, so answers are stable.
    """
    points = SandboxAnalyticsPoint.objects.filter(waba=waba, start__gte=start, start__lt=end)
    phone_numbers = [p for p in phone_numbers if p]
    if phone_numbers:
        points = points.filter(phone_number__in=phone_numbers)
    country_codes = [c.upper() for c in country_codes if c]
    if country_codes:
        points = points.filter(country__in=country_codes)
    conversation_types = [t.upper() for t in conversation_types if t]
    if conversation_types:
        points = points.filter(conversation_type__in=conversation_types)
    conversation_directions = [DIRECTION_ALIASES.get(d.upper(), d.upper()) for d in conversation_directions if d]
    if conversation_directions:
        points = points.filter(conversation_direction__in=conversation_directions)

    # Half hours are stored as such; days and months are truncated in ``tz`` by the database.
    if granularity == "DAILY":
        points = points.annotate(bucket=TruncDay("start", tzinfo=tz))
        period = "bucket"
    elif granularity == "MONTHLY":
        points = points.annotate(bucket=TruncMonth("start", tzinfo=tz))
        period = "bucket"
    else:
        period = "start"
    fields: list[tuple[str, str]] = []
    for dimension in dimensions:
        key_field = DIMENSIONS[dimension.lower()]
        if key_field not in fields:
            fields.append(key_field)
    group_by = [period, *[field for _, field in fields]]
    rows = points.values(*group_by).annotate(total=Sum("conversations")).order_by(*group_by)

    result = []
    for row in rows:
        bucket = row[period].astimezone(tz).replace(tzinfo=None)
        point: dict[str, Any] = {
            "start": bucket.strftime(DATE_FORMAT),
            "end": _bucket_end(bucket, granularity).strftime(DATE_FORMAT),
            "conversation": str(row["total"]),
        }
        for key, field in fields:
            point[key] = row[field]
        result.append(point)
    return result
