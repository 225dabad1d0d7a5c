"""The daily sync: the last days of every WABA whose provider gives analytics, each granularity, one
WABA's failure recorded while the others still sync (the task and ``manage.py analytics_sync`` run it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import WhatsAppBusinessAccount
from analytics.models import Granularity
from analytics.periods import provider_time_zone
from analytics.services import SyncResult, analytics_sync
from providers import registry
from providers.base import ProviderError
from waportal.errors import ApplicationError


def wabas_with_analytics():
    """Active WABAs of active clients on active accounts whose provider has analytics and that have an ISV token."""
    return (
        WhatsAppBusinessAccount.objects.filter(
            is_active=True,
            client__is_active=True,
            client__provider_account__is_active=True,
            client__provider_account__provider__in=registry.with_capability("analytics"),
        )
        .exclude(client__provider_account__analytics_token="")
        .select_related("client__provider_account")
        .order_by("pk")
    )


@dataclass
class RecentSyncReport:
    """What :func:`analytics_sync_recent` did, WABA by WABA."""

    results: list[SyncResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "synced": len(self.results),
            "points": sum(r.points for r in self.results),
            "errors": self.errors,
        }


def analytics_sync_recent(
    *,
    days: int = 2,
    granularities: Sequence[str] = tuple(Granularity.values),
    wabas=None,
    now: datetime | None = None,
    actor=None,
) -> RecentSyncReport:
    """Sync the last ``days`` days (today included, whole days in the account's clock) for every WABA.

    All three granularities by default: the charts read DAILY and MONTHLY
    points where they were synced, so refreshing only half hours would leave
    a stale today in those series. One WABA's failure is recorded and the
    others still sync.
    """
    if days < 1:
        raise ApplicationError(_("Sync at least one day."), field="days")
    tz = provider_time_zone()
    today = (now or timezone.now()).astimezone(tz).date()
    first = today - timedelta(days=days - 1)
    report = RecentSyncReport()
    for waba in wabas if wabas is not None else wabas_with_analytics():
        for granularity in granularities:
            try:
                report.results.append(
                    analytics_sync(waba=waba, start=first, end=today, granularity=granularity, actor=actor)
                )
            except (ApplicationError, ProviderError) as exc:
                report.errors.append(
                    _("WABA %(waba)s, %(granularity)s: %(words)s")
                    % {"waba": waba.waba_id, "granularity": granularity, "words": exc.message}
                )
    return report
