"""The time outgoing webhooks and alerts read: one replaceable clock, so tests can make an hour pass."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

_now = timezone.now  # tests replace it (monkeypatch notifications.clock._now)


def now() -> datetime:
    return _now()
