"""analytics: the charts page, the API query and a 90-day sync, over a year of half-hour data.

Targets (issue 8): with a year of ``HALF_HOUR`` data for 10 numbers × 2
directions × 4 types × 5 countries, the charts page for 90 days renders
server-side in <= 300 ms with <= 10 queries on PostgreSQL, the API query in
<= 150 ms, and syncing 90 days of that data takes <= 10 s against the sandbox.

Data. One generator (SQL, ``generate_series``) draws the year once into a
scratch table; the same rows fill the portal's ``ConversationDataPoint`` and
the sandbox's own ``SandboxAnalyticsPoint`` (what its ``getAnalytics``
answers from). Realistic density by default: a point exists for a (number,
half hour, country, type, direction) with a probability that follows the
Colombian business day and week and the weight of each country, type and
direction -- busy combinations every daytime half hour, rare ones seldom --
about 7 % of the 7.0 million possible points. ``--dense`` fills every one.

Measured:
- the charts page (``/admin/analytics/conversationdatapoint/``, 90 days,
  DAILY: read from the stored half hours and summed by day in the database)
  as a superuser, through gunicorn with production settings; its query count
  in-process with the test client;
- ``GET /api/v1/analytics/conversations/`` for 90 days, DAILY, without and
  with ``group_by``; token auth;
- ``analytics_sync`` of 90 days at HALF_HOUR against the sandbox served as
  its own process (``run_sandbox``): into an empty range (the range's points
  deleted first), and again over what is stored (a re-sync). Checked after
  each: the portal holds exactly the sandbox's conversations for the range.

Run: ``.venv/bin/python bench/analytics.py [--runs 3] [--dense] [--days 365] [--sync-days 90]``
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    Browser,
    Figure,
    bench_env,
    collect_static,
    free_port,
    gunicorn,
    in_process,
    log,
    manage,
    postgres,
    report,
    sandbox_server,
    session_for,
    setup_django,
    top_sql,
)

PAGE_MS, PAGE_QUERIES, API_MS, SYNC_S = 300.0, 10, 150.0, 10.0
NUMBERS = [f"5732455{n:05d}" for n in range(101, 111)]
BENCH_CLIENT_ID, BENCH_WABA_ID = 4242, "424242000000001"
# Weights of each value: a point's probability is their product, times the hour's and the day's.
COUNTRIES = [("CO", 1.0), ("PE", 0.35), ("MX", 0.25), ("EC", 0.15), ("US", 0.08)]
TYPES = [("REGULAR", 1.0), ("FREE_TIER", 0.5), ("FREE_ENTRY_POINT", 0.12), ("UNKNOWN", 0.04)]
DIRECTIONS = [("BUSINESS_INITIATED", 1.0), ("USER_INITIATED", 0.8)]
SCALE = 1.5


def _values(rows: list[tuple[str, float]]) -> str:
    return ", ".join(f"('{value}', {weight})" for value, weight in rows)


def _world(sandbox_url: str) -> dict:
    """The sandbox's account, a WABA with 10 numbers on both sides, and the portal's account aimed at it."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from accounts.models import Client, PhoneNumber, ProviderAccount, WhatsAppBusinessAccount
    from sandbox.models import SandboxClient, SandboxPhoneNumber, SandboxWaba
    from sandbox.services import sandbox_demo_account, sandbox_provision

    creds = sandbox_provision(seed_history_days=0)
    sandbox_account = sandbox_demo_account()
    sb_client = SandboxClient.objects.create(account=sandbox_account, client_id=BENCH_CLIENT_ID, name="Bench")
    sb_waba = SandboxWaba.objects.create(client=sb_client, waba_id=BENCH_WABA_ID, namespace="bench_ns", name="Bench")
    for index, digits in enumerate(NUMBERS):
        SandboxPhoneNumber.objects.create(waba=sb_waba, phone_number_id=f"4242{index:06d}", number=digits,
                                          display_phone_number=f"+{digits}", verified_name="Bench")
    account = ProviderAccount.objects.create(
        name="bench", provider="aldeamo", base_url=f"{sandbox_url}/sandbox/aldeamo",
        user_id=creds.aldeamo_user_id, api_key=creds.aldeamo_api_key, analytics_token=creds.aldeamo_token)
    client = Client.objects.create(provider_account=account, client_id=str(BENCH_CLIENT_ID), name="Bench")
    waba = WhatsAppBusinessAccount.objects.create(client=client, waba_id=BENCH_WABA_ID, name="Bench")
    for index, digits in enumerate(NUMBERS):
        PhoneNumber.objects.create(client=client, waba=waba, phone_number_id=f"4242{index:06d}",
                                   display_phone_number=f"+{digits}", digits=digits, verified_name="Bench")
    root = get_user_model().objects.create_superuser("bench-root", "root@example.com", "bench-pass-123")
    return {"waba": waba, "sandbox_waba_pk": sb_waba.pk, "user": root, "token": Token.objects.create(user=root).key}


def generate(world: dict, *, days: int, dense: bool, now: datetime) -> tuple[int, float]:
    """Draw ``days`` of half hours into both tables; (points per table, seconds)."""
    from django.db import connection

    from analytics.models import ConversationDataPoint
    from sandbox.models import SandboxAnalyticsPoint

    end = now.replace(minute=0 if now.minute < 30 else 30, second=0, microsecond=0)
    start = end - timedelta(days=days)
    phones = ", ".join(f"('{digits}', {1.1 - 0.08 * i:.2f})" for i, digits in enumerate(NUMBERS))
    keep = "true" if dense else f"""random() < {SCALE} * p.w * c.w * t.w * d.w
        * (CASE WHEN h.hour BETWEEN 8 AND 19 THEN 1.0 WHEN h.hour BETWEEN 6 AND 21 THEN 0.5 ELSE 0.08 END)
        * (CASE WHEN h.dow IN (0, 6) THEN 0.45 ELSE 1.0 END)"""
    portal = ConversationDataPoint._meta.db_table
    sandbox = SandboxAnalyticsPoint._meta.db_table
    waba = world["waba"]
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.8)")
        cursor.execute(f"""
            CREATE TEMP TABLE bench_points AS
            SELECT s.start, p.phone, c.country, t.ctype, d.direction,
                   1 + floor(random() * 6 * p.w * c.w * t.w)::int AS conversations
            FROM generate_series(%s::timestamptz, %s::timestamptz - interval '30 minutes',
                                 interval '30 minutes') AS s(start)
            CROSS JOIN LATERAL (SELECT extract(hour FROM s.start AT TIME ZONE 'America/Bogota')::int AS hour,
                                       extract(dow FROM s.start AT TIME ZONE 'America/Bogota')::int AS dow) h
            CROSS JOIN (VALUES {phones}) AS p(phone, w)
            CROSS JOIN (VALUES {_values(COUNTRIES)}) AS c(country, w)
            CROSS JOIN (VALUES {_values(TYPES)}) AS t(ctype, w)
            CROSS JOIN (VALUES {_values(DIRECTIONS)}) AS d(direction, w)
            WHERE {keep}""", [start, end])
        cursor.execute(f"""
            INSERT INTO {portal} (waba_id, client_id, granularity, start, "end", phone_number, country,
                                  conversation_type, conversation_direction, conversations, synced_at)
            SELECT %s, %s, 'HALF_HOUR', start, start + interval '30 minutes', phone, country, ctype, direction,
                   conversations, now()
            FROM bench_points""", [waba.pk, waba.client_id])
        count = cursor.rowcount
        cursor.execute(f"""
            INSERT INTO {sandbox} (waba_id, phone_number, start, country, conversation_type, conversation_direction,
                                   conversations)
            SELECT %s, phone, start, country, ctype, direction, conversations FROM bench_points""",
                       [world["sandbox_waba_pk"]])
        cursor.execute("DROP TABLE bench_points")
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {portal}")
        cursor.execute(f"VACUUM ANALYZE {sandbox}")
    return count, time.monotonic() - started


def _range_sums(world: dict, start: datetime, end: datetime) -> tuple[int, int, int]:
    """(portal points, portal conversations, sandbox conversations) of [start, end)."""
    from django.db.models import Count, Sum

    from analytics.models import ConversationDataPoint
    from sandbox.models import SandboxAnalyticsPoint

    portal = ConversationDataPoint.objects.filter(waba=world["waba"], granularity="HALF_HOUR", start__gte=start,
                                                  start__lt=end).aggregate(n=Count("id"), s=Sum("conversations"))
    sandbox = SandboxAnalyticsPoint.objects.filter(waba_id=world["sandbox_waba_pk"], start__gte=start,
                                                   start__lt=end).aggregate(s=Sum("conversations"))
    return portal["n"], portal["s"] or 0, sandbox["s"] or 0


def sync_once(world: dict, *, days: int, fresh: bool) -> tuple[float, object, list[str]]:
    """One ``analytics_sync`` of the last ``days`` days at HALF_HOUR; (seconds, result, problems)."""
    from analytics.models import ConversationDataPoint
    from analytics.periods import provider_time_zone
    from analytics.services import analytics_sync

    tz = provider_time_zone()
    today = datetime.now(tz).date()
    first = today - timedelta(days=days - 1)
    span_start = datetime(first.year, first.month, first.day, tzinfo=tz)
    span_end = datetime(today.year, today.month, today.day, tzinfo=tz) + timedelta(days=1)
    if fresh:
        ConversationDataPoint.objects.filter(waba=world["waba"], start__gte=span_start, start__lt=span_end).delete()
    started = time.monotonic()
    result = analytics_sync(waba=world["waba"], start=first, end=today, granularity="HALF_HOUR")
    elapsed = time.monotonic() - started
    points, portal_sum, sandbox_sum = _range_sums(world, span_start, span_end)
    problems = []
    if portal_sum != sandbox_sum:
        problems.append(f"after the sync the portal holds {portal_sum} conversations, the sandbox {sandbox_sum}")
    if result.points != points:
        problems.append(f"the sync stored {result.points} points, the range holds {points}")
    return elapsed, result, problems


def profile_sync(world: dict, *, days: int) -> str:
    """One fresh sync under pyinstrument: how its time splits between the sandbox's answers and our writes."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        return "(pyinstrument is not installed: pip install pyinstrument into the venv for a profile)"
    profiler = Profiler(interval=0.002)
    profiler.start()
    elapsed, result, _ = sync_once(world, days=days, fresh=True)
    profiler.stop()
    lines = profiler.output_text(unicode=True, color=False).splitlines()
    return f"  {elapsed:.1f} s for {result.points:,} points\n" + "\n".join(lines[:60])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--days", type=int, default=365, help="history generated (half hours)")
    parser.add_argument("--page-days", type=int, default=90, help="range of the charts page and the API query")
    parser.add_argument("--sync-days", type=int, default=90, help="range synced from the sandbox")
    parser.add_argument("--dense", action="store_true", help="every (number, half hour, country, type, direction)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args()

    with postgres() as database_url:
        env = bench_env(database_url)
        manage(env, "migrate", "--noinput", "-v", "0")
        collect_static(env)
        setup_django(env)
        from django.db import connections

        from analytics.periods import provider_time_zone
        from analytics.services import analytics_sync

        sandbox_port = free_port()
        world = _world(f"http://127.0.0.1:{sandbox_port}")
        now = datetime.now(UTC)
        points, seconds = generate(world, days=args.days, dense=args.dense, now=now)
        possible = args.days * 48 * len(NUMBERS) * len(COUNTRIES) * len(TYPES) * len(DIRECTIONS)
        log(f"generated {points:,} points per table ({points / possible:.1%} of {possible:,}) in {seconds:.0f} s")

        tz = provider_time_zone()
        today = datetime.now(tz).date()
        first = today - timedelta(days=args.page_days - 1)
        page = (f"/admin/analytics/conversationdatapoint/?start={first:%Y-%m-%d}&end={today:%Y-%m-%d}"
                f"&granularity=DAILY")
        api = (f"/api/v1/analytics/conversations/?waba={world['waba'].pk}&start={first:%Y-%m-%d}"
               f"&end={today:%Y-%m-%d}&granularity=DAILY")
        api_grouped = f"{api}&group_by=conversation_type,country"
        user, token = world["user"], world["token"]

        def time_pages(suffix: str) -> tuple[list[Figure], list[str]]:
            """The page and the API through gunicorn, query counts in-process; (figures, notes on slow ones)."""
            queries, _ = in_process(user, page, "admin", token)
            api_queries, _ = in_process(user, api, "api", token)
            session = session_for(user)
            connections.close_all()
            page_ms = Figure(f"charts page, {args.page_days} days DAILY{suffix}", "ms", target=f"<= {PAGE_MS:.0f}")
            page_q = Figure(f"charts page: queries{suffix}", "q", target=f"<= {PAGE_QUERIES}")
            page_q.runs = [float(len(queries))]
            api_ms = Figure(f"API conversations, {args.page_days} days DAILY{suffix}", "ms",
                            target=f"<= {API_MS:.0f}")
            api_grouped_ms = Figure(f"API conversations, grouped by type and country{suffix}", "ms",
                                    target=f"<= {API_MS:.0f}")
            api_q = Figure(f"API conversations: queries{suffix}", "q")
            api_q.runs = [float(len(api_queries))]
            with gunicorn(env, workers=args.workers) as base:
                browser = Browser(base, session=session, token=token)
                for path, kind, figure in ((page, "admin", page_ms), (api, "api", api_ms),
                                           (api_grouped, "api", api_grouped_ms)):
                    for _ in range(args.workers):  # warm every worker
                        browser.get(path, kind)
                    figure.runs += [browser.get(path, kind) for _ in range(args.runs)]
                browser.close()
            log(f"page {page_ms.median:.0f} ms, API {api_ms.median:.0f} ms{suffix}")
            slow = []
            if page_ms.median > PAGE_MS or len(queries) > PAGE_QUERIES:
                slow.append((f"charts page{suffix}", page, "admin"))
            if api_ms.median > API_MS:
                slow.append((f"API conversations{suffix}", api, "api"))
            profiles = []
            for label, path, kind in slow:  # where the time goes, while the data is as measured
                got, profile = in_process(user, path, kind, token, profile=True)
                lines = profile.splitlines()
                profiles.append(f"OVER TARGET: {label}: {len(got)} queries; slowest SQL:\n{top_sql(got)}\n"
                                "  pyinstrument:\n" + "\n".join(lines[:40]))
            return [page_ms, page_q, api_ms, api_grouped_ms, api_q], profiles

        page_figures, slow_notes = time_pages("")

        fresh = Figure(f"sync {args.sync_days} days HALF_HOUR into an empty range", "s", target=f"<= {SYNC_S:.0f}")
        again = Figure(f"re-sync {args.sync_days} days HALF_HOUR over stored points", "s", target=f"<= {SYNC_S:.0f}")
        rate = Figure("sync: points stored per second", "pt/s")
        problems: list[str] = []
        shape = ""
        with sandbox_server(env, port=sandbox_port):
            for run in range(args.runs):
                for figure, is_fresh in ((fresh, True), (again, False)):
                    elapsed, result, found = sync_once(world, days=args.sync_days, fresh=is_fresh)
                    figure.runs.append(elapsed)
                    if is_fresh:
                        rate.runs.append(result.points / elapsed)
                    problems += [f"sync run {run + 1} ({'fresh' if is_fresh else 're-sync'}): {p}" for p in found]
                    shape = (f"{result.requests} requests, {result.points:,} points, "
                             f"{result.conversations:,} conversations")
                log(f"sync run {run + 1}/{args.runs}: fresh {fresh.runs[-1]:.1f} s, re-sync {again.runs[-1]:.1f} s "
                    f"({shape})")
            # The dense variant's sync takes minutes; its profile is the realistic one's, scaled.
            # Two weeks (two requests) show the same split as the whole range, in a fraction of the time.
            sync_profile = profile_sync(world, days=14) if fresh.median > SYNC_S and not args.dense else ""
            # What production reads: the daily task syncs DAILY points too, and the selectors prefer
            # them to summing half hours. Both periods the page compares (this one and the previous).
            daily = Figure(f"sync {2 * args.page_days} days DAILY (this period and the previous)", "s")
            daily_start = today - timedelta(days=2 * args.page_days - 1)
            for _ in range(args.runs):
                started = time.monotonic()
                daily_result = analytics_sync(waba=world["waba"], start=daily_start, end=today, granularity="DAILY")
                daily.runs.append(time.monotonic() - started)
        daily_figures, daily_notes = time_pages(" (DAILY points synced)")
        checks = Figure("sync checks failed (portal == sandbox for the range)", "", target="== 0")
        checks.runs = [float(len(problems))]

        figures = [*page_figures, fresh, again, rate, checks, daily, *daily_figures]
        notes = [
            f"{'dense' if args.dense else 'realistic'} data: {points:,} HALF_HOUR points over {args.days} days for "
            f"{len(NUMBERS)} numbers ({points / possible:.1%} of {possible:,} possible), the same rows in the "
            f"portal and in the sandbox; generated in {seconds:.0f} s",
            f"charts page and API: {first} to {today} ({args.page_days} days, DAILY read from HALF_HOUR points); "
            f"superuser; the page's own-message funnels read an empty message table here",
            f"sync: {shape}; the sandbox is a separate process (run_sandbox), the portal calls it over HTTP",
            f"DAILY sync: {daily_result.requests} requests, {daily_result.points:,} points; then the page and the "
            f"API read DAILY points instead of summing half hours",
            *problems,
        ]
        if sync_profile:
            notes.append(f"OVER TARGET: sync; a fresh 14-day sync under pyinstrument (in-process; the sandbox's own "
                         f"time is the portal's wait on the socket):\n{sync_profile}")
        notes += slow_notes + daily_notes
        report("analytics_dense" if args.dense else "analytics", figures, notes=notes)
        if problems:
            sys.exit(1)


if __name__ == "__main__":
    main()
