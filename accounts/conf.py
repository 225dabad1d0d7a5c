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
    # Times are shown in this zone to users with none in their profile (the portal's customers are in Colombia).
    "DEFAULT_USER_TIME_ZONE": "America/Bogota",
}


def setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])
