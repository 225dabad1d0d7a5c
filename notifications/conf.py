"""Settings of alerts and outgoing webhooks, read at call time so tests and deployments can override them.

Every name can be set in Django settings; the defaults below are what the portal ships with.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Outgoing webhook URLs must be https (None: required unless DEBUG, i.e. in production).
    "OUTGOING_WEBHOOKS_REQUIRE_HTTPS": None,
    # Allow every endpoint to point at private, loopback, link-local or metadata addresses (a lab, the tests).
    # Operators can allow it per endpoint instead (WebhookEndpoint.allow_private_network).
    "OUTGOING_WEBHOOKS_ALLOW_PRIVATE": False,
    # Each process's copy of the active endpoints (read by the hook receivers on every batch and send) is
    # reloaded this often: an endpoint changed in another process takes effect within this many seconds.
    "OUTGOING_WEBHOOKS_ENDPOINTS_SECONDS": 5.0,
    # (connect, read) seconds of one delivery: a slow endpoint costs its own task at most this long per event.
    "OUTGOING_WEBHOOKS_TIMEOUT": (3.0, 10.0),
    # Retries: exponential from BASE seconds, capped at CAP, with full jitter on the upper half;
    # a delivery is retried for RETRY_HOURS after its event (at least 24 h), then given up.
    "OUTGOING_WEBHOOKS_BACKOFF_BASE": 10.0,
    "OUTGOING_WEBHOOKS_BACKOFF_CAP": 3600.0,
    "OUTGOING_WEBHOOKS_RETRY_HOURS": 72,
    # An endpoint failing without a single success for this long is disabled (and its client alerted).
    "OUTGOING_WEBHOOKS_DISABLE_AFTER_HOURS": 72,
    # One delivery task per endpoint sends at most this many events, for at most this many seconds, then
    # re-enqueues itself (other tasks get a turn).
    "OUTGOING_WEBHOOKS_BATCH": 200,
    "OUTGOING_WEBHOOKS_SLICE_SECONDS": 20.0,
    # Characters of a receiver's answer kept in the delivery log.
    "OUTGOING_WEBHOOKS_EXCERPT_CHARS": 500,
    # Inventory (numbers' quality and verification, templates) refreshed from the providers this often by the
    # task workers (0: never); the first worker to start schedules it.
    "INVENTORY_REFRESH_MINUTES": 60,
    # Stall check, run by the task workers every STALL_CHECK_MINUTES (0: never): provider events still pending
    # after STALL_EVENTS_MINUTES alert the operators and the clients of their accounts; tasks ready to run for
    # STALL_TASKS_MINUTES while no worker heartbeat is alive alert the operators.
    "STALL_CHECK_MINUTES": 5,
    "STALL_EVENTS_MINUTES": 15,
    "STALL_TASKS_MINUTES": 15,
    # Alerts: repeats of one kind for one object within this many seconds are grouped into one alert.
    "ALERT_GROUP_SECONDS": 3600,
    # The portal's address in alert emails' links (e.g. https://portal.example.com); empty: a relative link.
    # Settings declare PUBLIC_BASE_URL (the webhook URLs' base); this is the same by default.
    "PUBLIC_BASE_URL": "",
}


def setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])


def require_https() -> bool:
    value = setting("OUTGOING_WEBHOOKS_REQUIRE_HTTPS")
    return (not settings.DEBUG) if value is None else bool(value)
