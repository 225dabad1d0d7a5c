"""Workspace settings, read at call time so tests and deployments can override them.

Every name can be set in Django settings; the defaults below are what the portal ships with.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # How often an open inbox or thread asks for changes (seconds): the issue asks for "within 3 s".
    "WORKSPACE_POLL_SECONDS": 2,
    # Rows of the conversation list per page; the poll returns at most this many changed rows.
    "WORKSPACE_PAGE_SIZE": 50,
    # Ended snoozes are reopened when an inbox asks for changes, at most this often per process (seconds).
    "WORKSPACE_WAKE_SECONDS": 10,
    # Messages of a thread shown at once (the latest).
    "WORKSPACE_THREAD_SIZE": 100,
}


def setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])
