"""contacts_import: importing 100,000 contacts from a CSV, time and peak memory (issue 23).

Target: flat memory whatever the file's size (the file is streamed, rows are written in batches), and a report of
refused rows with their numbers. The script writes a CSV of ``--rows`` contacts (phone, name, a number attribute,
a choice attribute, tags; one row in 1,000 has a bad number, one in 1,000 a bad number attribute), then imports it
through ``contacts.imports.contacts_import`` (what ``POST /api/v1/contacts/import/`` calls):

- a first import (creates every contact) and a second (updates every one: the upsert), timed without tracing;
- the same first import of ``--rows`` and of a tenth as many rows under ``tracemalloc``: the peak of Python
  allocations for each, and their ratio (flat memory: the ratio stays near 1 while the file is 10× larger);
- the process's peak RSS (``resource``) at the end.

Run: ``.venv/bin/python bench/contacts_import.py [--rows 100000] [--sqlite]`` (default: a throwaway PostgreSQL).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Figure, bench_env, log, manage, postgres, report, setup_django  # noqa: E402


def write_csv(path: Path, rows: int) -> None:
    rng = random.Random(23)
    plans = ["basic", "gold", "platinum"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["celular", "nombre", "puntos", "plan", "etiquetas"])
        for n in range(rows):
            phone = "12345" if n % 1000 == 999 else f"+57 3{10 + n // 10_000_000 % 10:02d} {n % 10_000_000:07d}"
            points = "muchos" if n % 1000 == 500 else str(rng.randint(0, 5000))
            writer.writerow([phone, f"Cliente {n}", points, plans[n % 3], "vip" if n % 10 == 0 else "lista"])


MAPPING = {"celular": "number", "nombre": "name", "puntos": "points", "plan": "plan", "etiquetas": "tags"}


def new_client(name: str):
    from accounts.models import Client, ProviderAccount
    from contacts.models import AttributeDefinition, AttributeKind

    account = ProviderAccount.objects.create(name=f"bench {name}", provider="aldeamo", user_id="1", api_key="k")
    client = Client.objects.create(provider_account=account, client_id=name, name=name)
    AttributeDefinition.objects.create(client=client, key="points", label="Points", kind=AttributeKind.NUMBER)
    AttributeDefinition.objects.create(client=client, key="plan", label="Plan", kind=AttributeKind.CHOICE,
                                       choices=["basic", "gold", "platinum"])
    return client


def run_import(actor, client, path: Path, *, traced: bool) -> tuple[float, float, dict]:
    from contacts.imports import contacts_import

    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    with path.open("rb") as handle:
        result = contacts_import(actor=actor, client_id=client.pk, file=handle, mapping=MAPPING)
    seconds = time.perf_counter() - started
    peak = 0.0
    if traced:
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return seconds, peak, result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--sqlite", action="store_true", help="a throwaway SQLite file instead of PostgreSQL")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="waportal-bench-import."))
    big, small = work / "big.csv", work / "small.csv"
    write_csv(big, args.rows)
    write_csv(small, args.rows // 10)
    log(f"CSV of {args.rows:,} rows: {big.stat().st_size / 2**20:.1f} MiB")
    database = (contextlib.nullcontext(f"sqlite:///{work / 'bench.sqlite3'}") if args.sqlite else postgres())
    with database as url:
        env = bench_env(url)
        manage(env, "migrate", "-v", "0")
        setup_django(env)
        from django.contrib.auth import get_user_model

        actor = get_user_model().objects.create_superuser("bench", "bench@example.com", "x")
        client = new_client("timed")
        created_s, _, first = run_import(actor, client, big, traced=False)
        log(f"first import: {first['created']:,} created, {first['refused']:,} refused in {created_s:.1f}s")
        updated_s, _, second = run_import(actor, client, big, traced=False)
        log(f"second import: {second['updated']:,} updated in {updated_s:.1f}s")
        _, peak_small, _ = run_import(actor, new_client("small"), small, traced=True)
        _, peak_big, _ = run_import(actor, new_client("big"), big, traced=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = [
        Figure(f"import {args.rows:,} rows (create)", "s", [created_s]),
        Figure("rows per second (create)", "/s", [args.rows / created_s]),
        Figure(f"import {args.rows:,} rows again (update)", "s", [updated_s]),
        Figure(f"peak Python memory, {args.rows // 10:,} rows", "MiB", [peak_small]),
        Figure(f"peak Python memory, {args.rows:,} rows", "MiB", [peak_big]),
        Figure("peak memory ratio (10x the rows)", "x", [peak_big / peak_small], target="~1 (flat)"),
        Figure("process peak RSS", "MiB", [rss]),
    ]
    notes = [f"database: {'SQLite' if args.sqlite else 'PostgreSQL'}",
             f"refused rows: {first['refused']:,} (first listed: {first['refused_rows'][:2]})"]
    report("contacts_import", figures, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
