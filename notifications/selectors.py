"""Reads of alerts for the people who receive them: the bell (unread count, latest alerts)."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.tenancy import scope
from notifications.models import AlertReceipt


def alert_receipts_for(*, user) -> QuerySet[AlertReceipt]:
    if user is None or not user.is_authenticated:
        return AlertReceipt.objects.none()
    return scope(AlertReceipt.objects.filter(user=user), user, "alert__client").select_related("alert")


def alerts_unread_count(*, user) -> int:
    return alert_receipts_for(user=user).filter(read_at__isnull=True).count()


def alerts_bell(*, user, limit: int = 5) -> dict:
    """What the bell shows: the unread count and the latest alerts (the workspace includes the same template)."""
    receipts = alert_receipts_for(user=user)
    return {"unread": receipts.filter(read_at__isnull=True).count(),
            "latest": list(receipts.order_by("-alert__last_at", "-id")[:limit])}
