"""``manage.py analytics_sync``: pull conversation analytics now, or start the daily background sync."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from analytics.daily import analytics_sync_recent, wabas_with_analytics
from analytics.models import Granularity
from analytics.periods import provider_time_zone
from analytics.tasks import schedule_daily_sync


class Command(BaseCommand):
    help = (
        "Sync conversation analytics of the last N days (today included, in the account's clock) for every WABA "
        "with an analytics token, or for the given ones. --schedule starts the daily background sync instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=2, help="Days back, today included (default 2).")
        parser.add_argument(
            "--waba",
            action="append",
            default=[],
            help="A WABA to sync (the provider's WABA id or our id); repeat for several. Default: all.",
        )
        parser.add_argument(
            "--granularity",
            action="append",
            choices=Granularity.values,
            default=[],
            help="HALF_HOUR, DAILY or MONTHLY; repeat for several. Default: all three.",
        )
        parser.add_argument(
            "--schedule", action="store_true", help="Enqueue the daily background sync (safe to repeat) and exit."
        )

    def handle(self, *args, days: int, waba: list[str], granularity: list[str], schedule: bool, **options):
        if schedule:
            when = schedule_daily_sync()
            if when is None:
                self.stdout.write("The daily analytics sync is already scheduled (or the task backend cannot defer).")
            else:
                local = timezone.localtime(when, provider_time_zone())
                self.stdout.write(self.style.SUCCESS(f"Daily analytics sync scheduled for {local:%Y-%m-%d %H:%M %Z}."))
            return
        if days < 1:
            raise CommandError("--days must be at least 1.")
        wabas = wabas_with_analytics()
        if waba:
            condition = Q(waba_id__in=waba)
            numeric = [int(value) for value in waba if value.isdigit() and len(value) < 10]
            if numeric:
                condition |= Q(pk__in=numeric)
            wabas = wabas.filter(condition)
            if not wabas.exists():
                raise CommandError(f"No active WABA with an analytics token matches {', '.join(waba)}.")
        report = analytics_sync_recent(
            days=days, granularities=granularity or tuple(Granularity.values), wabas=list(wabas)
        )
        for result in report.results:
            self.stdout.write(result.message)
        for error in report.errors:
            self.stderr.write(self.style.ERROR(error))
        first = timezone.localdate(timezone=provider_time_zone()) - timedelta(days=days - 1)
        summary = f"{len(report.results)} syncs since {first:%Y-%m-%d}, {len(report.errors)} failed."
        if report.errors:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
