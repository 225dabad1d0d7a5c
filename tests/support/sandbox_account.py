"""An Aldeamo provider account on the sandbox, reached in-process (no server): what tests that need the
provider's whole side (numbers, templates, analytics) build on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

SANDBOX_BASE = "http://sandbox.internal/sandbox/aldeamo"


@contextmanager
def sandbox_aldeamo_account(settings, *, history_days: int = 0) -> Iterator:
    """The sandbox provisioned (``history_days`` of analytics) and an Aldeamo account on it, not yet synced;
    the pooled sessions and transports are forgotten before and after."""
    from accounts import gateway
    from accounts.services import provider_account_create
    from providers.base import sessions_clear
    from sandbox.services import sandbox_provision

    settings.SANDBOX_ENABLED = True
    settings.PROVIDER_TRANSPORT_MOUNTS = {"http://sandbox.internal/": "sandbox.transport.InProcessTransport"}
    gateway._transport.cache_clear()
    sessions_clear()
    creds = sandbox_provision(seed_history_days=history_days)
    try:
        yield provider_account_create(actor=None, name="Sandbox Aldeamo", provider="aldeamo", base_url=SANDBOX_BASE,
                                      user_id=creds.aldeamo_user_id, api_key=creds.aldeamo_api_key,
                                      analytics_token=creds.aldeamo_token)
    finally:
        sessions_clear()
        gateway._transport.cache_clear()
