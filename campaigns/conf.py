"""Campaign settings, read at call time so tests and deployments can override them.

Every name can be set in Django settings; the defaults below are what the
portal ships with.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Messages per second when the person does not choose.
    "CAMPAIGN_DEFAULT_PACE": 20,
    # Provider calls one campaign worker keeps waiting at once (a thread pool on the pooled session):
    # a number's 80 msg/s at 200 ms needs 16, plus 20 handed over ahead of their slot (SEND_AHEAD_SECONDS).
    # At most the provider session's pool (64, providers.base).
    "CAMPAIGN_SENDS_IN_FLIGHT": 48,
    # The pair rate: a recipient who got PAIR_BURST messages from the number in the last PAIR_SECONDS (another
    # campaign, the API) is put back for that long; one the provider throttled (WhatsApp 131056) waits as long.
    "CAMPAIGN_PAIR_SECONDS": 6.0,
    "CAMPAIGN_PAIR_BURST": 3,
    # The interpreter's switch interval in a worker while provider calls are in flight (seconds; Python's
    # default is 0.005): a thread waking at its slot gets the interpreter lock sooner.
    "CAMPAIGN_SWITCH_INTERVAL": 0.001,
    # Tasks started per campaign: how many db_worker processes can share it.
    "CAMPAIGN_WORKERS": 2,
    # A chunk is at most this many recipients and about this many seconds of work
    # (claimed, stored and recorded together: bigger chunks cost less per message).
    "CAMPAIGN_CHUNK_MAX": 100,
    "CAMPAIGN_CHUNK_SECONDS": 2.0,
    # Workers re-read the campaign (pause, cancel, template status) this often,
    # mid-chunk included: what a pause or cancel waits for, at most.
    "CAMPAIGN_CONTROL_SECONDS": 0.5,
    # A task works this long, then re-enqueues itself so other tasks get a turn.
    "CAMPAIGN_SLICE_SECONDS": 10.0,
    # A claim not renewed for this long may be taken over (its worker is presumed dead). A live worker
    # renews its claims every CAMPAIGN_LEASE_RENEW_SECONDS from a thread (0: only from the sending loop).
    "CAMPAIGN_CLAIM_LEASE_SECONDS": 12,
    "CAMPAIGN_LEASE_RENEW_SECONDS": 3.0,
    # A recipient claimed this many times without an outcome is marked failed.
    "CAMPAIGN_MAX_ATTEMPTS": 3,
    # Automatic stop: pause when more than RATIO of the last WINDOW outcomes failed.
    "CAMPAIGN_FAILURE_WINDOW": 50,
    "CAMPAIGN_FAILURE_RATIO": 0.2,
    # A running campaign with no worker activity for this long gets new tasks.
    "CAMPAIGN_STALL_SECONDS": 45,
    # Validation: rows per bulk insert; recipients accepted in one JSON request.
    "CAMPAIGN_BATCH_SIZE": 2000,
    "CAMPAIGN_JSON_MAX_RECIPIENTS": 10000,
    # A CSV cell longer than this (characters) makes its row skipped in the dry-run report.
    "CAMPAIGN_CELL_MAX_CHARS": 4096,
    # Cached counts are recomputed at most this often (seconds).
    "CAMPAIGN_COUNTS_MAX_AGE": 2.0,
}


def setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])
