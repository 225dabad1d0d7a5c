"""What every workspace page's frame needs (navigation, poll interval, unread badge)."""

from __future__ import annotations

from typing import Any

from workspace import conf, nav


def frame(request, *, current: str, title: str = "", unread: int = 0) -> dict[str, Any]:
    return {
        "nav": nav.nav_items(request),
        "current": current,
        "title": title,
        "unread": unread,
        "poll_seconds": conf.setting("WORKSPACE_POLL_SECONDS"),
    }
