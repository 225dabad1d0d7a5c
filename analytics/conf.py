"""Analytics settings, read at call time so tests and deployments can override them.

Every name can be set in Django settings; the defaults below are what the portal ships with.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # The clock Aldeamo's analytics times are written in (Colombia's: it does not say; empty means this default).
    "ANALYTICS_PROVIDER_TIME_ZONE": "America/Bogota",
    # The daily sync runs at this hour of that clock: after the provider has closed yesterday's half hours.
    "ANALYTICS_DAILY_SYNC_HOUR": 4,
}


def setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])


def provider_time_zone_name() -> str:
    """An empty setting (as an unset environment variable leaves it) means the default."""
    return setting("ANALYTICS_PROVIDER_TIME_ZONE") or DEFAULTS["ANALYTICS_PROVIDER_TIME_ZONE"]
