"""Plant each bug of the catalogue, one at a time, and check that its tests fail.

A small mutation run of our own rather than mutmut or cosmic-ray: their operators
mutate every ``+`` and every string (translations, log lines, help texts) and run
for hours on two cores, while a silent bug that costs a customer money or privacy
is usually one specific edit — a missing tenant filter, a cache keyed on too
little, an off-by-one retry. The catalogue (:mod:`mutants.catalogue`) names such
edits as (file, exact original text, replacement, the test files that should
catch it); this script

* copies the working tree (tracked and untracked files, no ``.git``/``.venv``)
  to a temporary directory, so an interrupted run never leaves a bug behind;
* runs the union of the catalogue's test files once unmutated (a failing
  baseline would make every mutant look killed);
* applies each mutant to the copy, runs only its test files with ``-x``,
  restores the file, and prints killed / survived with the first failing test;
* prints the score, the count, the wall time and every survivor with the
  reason the catalogue gives for it (an equivalent mutant says why).

Usage::

    make mutants                               # the whole catalogue, SQLite
    DATABASE_URL=postgres://… make mutants     # also the PostgreSQL-only mutants
    .venv/bin/python -m mutants.run --jobs 2 webhook-secret-prefix tenancy-role-cache
    .venv/bin/python -m mutants.run --list

Exit status: 0 when the score reaches ``--min-score`` (95 by default), 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from mutants.catalogue import MUTANTS, Mutant

ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {".git", ".venv", "var", "__pycache__", ".pytest_cache", ".ruff_cache", "test-artifacts", "node_modules"}
FAILED_LINE = re.compile(r"^(FAILED|ERROR) (\S+)", re.MULTILINE)


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed, survived, timeout, error, skipped
    seconds: float
    detail: str = ""


def on_postgresql() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def worker_database_url(index: int) -> str | None:
    """Each worker its own PostgreSQL test database (pytest-django prefixes ``test_``)."""
    url = os.environ.get("DATABASE_URL", "")
    if not on_postgresql():
        return None
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"{parts.path}_mut{index}"))


def tree_copy(destination: Path) -> None:
    """The working tree as it is now (uncommitted tests included), without caches and the venv."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if SKIP_DIRS.intersection(Path(name).parts):
            continue
        source = ROOT / name
        if not source.is_file():
            continue
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    (destination / ".venv").symlink_to((ROOT / ".venv").resolve())


def pytest_command(tests: list[str], reuse_db: bool) -> list[str]:
    command = [str(ROOT / ".venv" / "bin" / "python"), "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
               "-m", "not browser", "--no-header", "-o", "addopts=-ra --strict-markers"]
    if reuse_db:
        command.append("--reuse-db")
    return command + tests


def run_tests(copy: Path, tests: list[str], env: dict[str, str], timeout: float) -> tuple[int | None, str]:
    try:
        done = subprocess.run(pytest_command(tests, reuse_db="DATABASE_URL" in env and on_postgresql()),
                              cwd=copy, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as expired:
        return None, (expired.stdout or b"").decode(errors="replace") if isinstance(expired.stdout, bytes) else ""
    return done.returncode, done.stdout + done.stderr


def first_failure(output: str) -> str:
    match = FAILED_LINE.search(output)
    if match:
        return match.group(2)
    tail = [line for line in output.strip().splitlines() if line.strip()]
    return tail[-1] if tail else ""


def mutate(copy: Path, mutant: Mutant) -> str:
    """Plant the mutant in ``copy``; returns the original text to restore."""
    path = copy / mutant.file
    original = path.read_text()
    count = original.count(mutant.original)
    if count != 1:
        raise ValueError(f"{mutant.id}: the original text occurs {count} times in {mutant.file}")
    path.write_text(original.replace(mutant.original, mutant.replacement))
    return original


def run_one(copy: Path, mutant: Mutant, env: dict[str, str], timeout: float) -> Outcome:
    if mutant.postgres_only and not on_postgresql():
        return Outcome(mutant, "skipped", 0.0, "needs DATABASE_URL=postgres://…")
    if mutant.sqlite_only and on_postgresql():
        return Outcome(mutant, "skipped", 0.0, "a SQLite-only path")
    started = time.monotonic()
    try:
        original = mutate(copy, mutant)
    except ValueError as error:
        return Outcome(mutant, "error", 0.0, str(error))
    try:
        code, output = run_tests(copy, list(mutant.tests), env, mutant.timeout or timeout)
    finally:
        (copy / mutant.file).write_text(original)
    seconds = time.monotonic() - started
    if code is None:
        return Outcome(mutant, "timeout", seconds, "the tests ran past the timeout (counted as killed)")
    if code == 0:
        return Outcome(mutant, "survived", seconds, mutant.note)
    if code == 1:
        return Outcome(mutant, "killed", seconds, first_failure(output))
    # 2: interrupted (collection error), 3/4: internal/usage error, 5: no tests ran.
    return Outcome(mutant, "error", seconds, f"pytest exit {code}: {first_failure(output)}")


def base_env(index: int) -> dict[str, str]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")  # a planted file must never meet a stale .pyc
    url = worker_database_url(index)
    if url:
        env["DATABASE_URL"] = url
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ids", nargs="*", help="mutant ids (default: all)")
    parser.add_argument("--jobs", "-j", type=int, default=int(os.environ.get("MUTANTS_JOBS", "1")))
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant before it counts as killed")
    parser.add_argument("--min-score", type=float, default=95.0)
    parser.add_argument("--list", action="store_true", help="list the catalogue and exit")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated run")
    parser.add_argument("--tests", nargs="+", metavar="NODE",
                        help="run these tests (files or node ids) instead of the catalogue's: checks one new test")
    args = parser.parse_args(argv)

    chosen = [m for m in MUTANTS if not args.ids or m.id in args.ids]
    if args.tests:
        chosen = [replace(m, tests=tuple(args.tests)) for m in chosen]
    unknown = set(args.ids) - {m.id for m in MUTANTS}
    if unknown:
        parser.error(f"unknown mutant ids: {', '.join(sorted(unknown))}")
    if args.list:
        for mutant in chosen:
            print(f"{mutant.id:45} {mutant.file:40} {' '.join(mutant.tests)}")
        print(f"{len(chosen)} mutants")
        return 0

    # A terminated run still removes its temporary copies (the working tree is never touched).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    started = time.monotonic()
    jobs = max(1, min(args.jobs, len(chosen)))
    with tempfile.TemporaryDirectory(prefix="waportal-mutants-") as tmp:
        copies = [Path(tmp) / f"w{index}" for index in range(jobs)]
        for copy in copies:
            tree_copy(copy)
        print(f"{len(chosen)} mutants, {jobs} worker(s), database: "
              f"{'PostgreSQL' if on_postgresql() else 'SQLite'}", flush=True)

        if not args.no_baseline:
            tests = sorted({test for m in chosen for test in m.tests})
            code, output = run_tests(copies[0], tests, base_env(0), args.timeout * 3)
            if code != 0:
                print(f"The unmutated tests fail (exit {code}); fix them first:\n{output[-3000:]}")
                return 1
            print(f"baseline: {len(tests)} test files pass unmutated ({time.monotonic() - started:.0f} s)", flush=True)

        todo: queue.Queue[Mutant] = queue.Queue()
        for mutant in chosen:
            todo.put(mutant)
        outcomes: list[Outcome] = []
        lock = threading.Lock()

        def work(index: int) -> None:
            env = base_env(index)
            while True:
                try:
                    mutant = todo.get_nowait()
                except queue.Empty:
                    return
                outcome = run_one(copies[index], mutant, env, args.timeout)
                with lock:
                    outcomes.append(outcome)
                    print(f"[{len(outcomes):3}/{len(chosen)}] {outcome.status.upper():8} {mutant.id:45} "
                          f"{outcome.seconds:5.1f} s  {outcome.detail}", flush=True)

        threads = [threading.Thread(target=work, args=(index,)) for index in range(jobs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    counted = [o for o in outcomes if o.status != "skipped"]
    killed = [o for o in counted if o.status in ("killed", "timeout")]
    survivors = [o for o in counted if o.status == "survived"]
    errors = [o for o in counted if o.status == "error"]
    skipped = [o for o in outcomes if o.status == "skipped"]
    score = 100.0 * len(killed) / len(counted) if counted else 0.0
    print()
    print(f"score: {score:.1f} % — {len(killed)} killed of {len(counted)} mutants run"
          f" ({len(survivors)} survived, {len(errors)} errors, {len(skipped)} skipped)"
          f" in {time.monotonic() - started:.0f} s")
    for outcome in survivors:
        print(f"  survived {outcome.mutant.id} ({outcome.mutant.file}): {outcome.detail or 'no reason given'}")
    for outcome in errors:
        print(f"  error    {outcome.mutant.id}: {outcome.detail}")
    for outcome in skipped:
        print(f"  skipped  {outcome.mutant.id}: {outcome.detail}")
    return 0 if score >= args.min_score and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
