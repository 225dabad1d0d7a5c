"""Messaging settings, read at call time so tests and deployments can override them.

Every name can be set in Django settings; the defaults below are what the
portal ships with.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # The largest webhook body stored (bytes); a bigger one is answered 413.
    "WEBHOOK_MAX_BODY_BYTES": 1024 * 1024,
    # Stored webhook events claimed and applied in one transaction.
    "WEBHOOK_PROCESS_BATCH": 500,
    # One processing task works this long at most, then enqueues its successor if events remain.
    "WEBHOOK_PROCESS_MAX_SECONDS": 30.0,
    # The site's Content-Security-Policy (Django's own setting): the inbox thread adds media-src to it.
    "SECURE_CSP": {},
}


def setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])
