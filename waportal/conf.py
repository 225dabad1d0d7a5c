"""Platform settings (API input policy, task workers), read at call time so tests and deployments can override them.

Every name can be set in Django settings (``waportal/settings/base.py`` reads some from the
environment); the defaults below are what the portal ships with.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # API bodies over this many bytes are a 413 before anything parses them (a campaign's 10,000 recipients fit).
    "API_MAX_BODY_BYTES": 2_500_000,
    # API JSON nested deeper than this is a 400 before it is parsed (no parser recursion to exhaust).
    "API_MAX_JSON_DEPTH": 32,
    # A task worker writes its heartbeat this often (seconds), so others can tell it is alive in a long task.
    "TASK_WORKER_HEARTBEAT_SECONDS": 5.0,
    # How often (seconds) a worker takes back tasks left RUNNING by dead workers.
    "TASK_WORKER_RECOVER_SECONDS": 10.0,
    # A worker silent this long (seconds) is presumed dead: several missed heartbeats, not one slow write.
    "TASK_WORKER_STALE_SECONDS": 30.0,
    # Dotted paths called after the worker reconnects to the database; the platform names no app:
    # the settings list the apps' hooks (messaging's webhook processing kick).
    "TASK_WORKER_RECONNECT_HOOKS": [],
}


def setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])
