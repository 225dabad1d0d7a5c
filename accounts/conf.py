"""Accounts settings, read at call time so tests and deployments can override them.

Every name can be set in Django settings (``waportal/settings/base.py`` reads most from the
environment); the defaults below are what the portal ships with.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Fernet keys for the secrets at rest, newest first; none by default: production refuses to start without one.
    "FIELD_ENCRYPTION_KEYS": [],
    # (connect, read) seconds for every provider call: a provider that hangs must not hold a worker.
    "PROVIDER_TIMEOUT": (5.0, 30.0),
    # URL prefix -> dotted path of a requests adapter (tests and the demo route a provider to the sandbox).
    "PROVIDER_TRANSPORT_MOUNTS": {},
    # The portal's public address for webhook URLs; empty: taken from the request's host.
    "PUBLIC_BASE_URL": "",
    # After a webhook secret rotation the old one is accepted this long, so the provider's console can be updated.
    "WEBHOOK_SECRET_GRACE_HOURS": 24,
    # Proxies in front of the portal whose X-Forwarded-For is trusted (0: use REMOTE_ADDR, nothing forged counts).
    "TRUSTED_PROXY_COUNT": 0,
    # A business number's send limit (accounts.rates), messages per second: WhatsApp's default throughput for a
    # business number is 80 (numbers upgraded by Meta reach 1,000). Named for campaigns, which set it first.
    "CAMPAIGN_PACE_LIMIT": 80,
    # Per-number limits by digits, e.g. {"573001234567": 1000}.
    "CAMPAIGN_PACE_LIMITS": {},
    # The share of a number's limit its token bucket hands out: a margin for sends leaving a few ms after their
    # slot, so that no 1 s window holds more than the limit.
    "CAMPAIGN_NUMBER_HEADROOM": 0.98,
    # Times are shown in this zone to users with none in their profile (the portal's customers are in Colombia).
    "DEFAULT_USER_TIME_ZONE": "America/Bogota",
}


def setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])


def pace_limit_for(digits: str) -> int:
    """A business number's send limit before anyone set one (messages per second)."""
    limits = setting("CAMPAIGN_PACE_LIMITS") or {}
    return int(limits.get(digits, setting("CAMPAIGN_PACE_LIMIT")))
