"""What every benchmark scenario needs: a PostgreSQL, the portal under gunicorn, load, a report.

Everything runs on 127.0.0.1 and stops by itself. Figures are reported as the
median of >= 3 runs with min-max, and as ratios to a baseline measured in the
same run: these machines are shared and noisy, ratios are what compare.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def apt_install(*packages: str) -> None:
    missing = [p for p in packages if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode != 0]
    if not missing:
        return
    log(f"apt-get install {' '.join(missing)}")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], check=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


# --- PostgreSQL -------------------------------------------------------------------


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL on loopback; yields its DATABASE_URL. Reuses BENCH_DATABASE_URL if set."""
    if os.environ.get("BENCH_DATABASE_URL"):
        yield os.environ["BENCH_DATABASE_URL"]
        return
    apt_install("postgresql")
    pgbin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    data = Path(tempfile.mkdtemp(prefix="waportal-bench-pg."))
    port = free_port()
    shutil.chown(data, "postgres", "postgres")

    def as_postgres(*cmd: str) -> None:
        subprocess.run(["su", "postgres", "-c", " ".join(cmd)], check=True, capture_output=True)

    as_postgres(str(pgbin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB"
    as_postgres(str(pgbin / "pg_ctl"), "-D", str(data), "-o", f"'{options}'", "-l", str(data / "log"), "-w", "start")
    try:
        for sql in ("CREATE ROLE bench LOGIN PASSWORD 'bench' SUPERUSER;", "CREATE DATABASE bench OWNER bench;"):
            subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-qc", sql], check=True)
        yield f"postgres://bench:bench@127.0.0.1:{port}/bench"
    finally:
        subprocess.run(["su", "postgres", "-c", f"{pgbin / 'pg_ctl'} -D {data} -m fast stop"], capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


def bench_env(database_url: str, **extra: str) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "FIELD_ENCRYPTION_KEY": os.environ.get("FIELD_ENCRYPTION_KEY") or Fernet.generate_key().decode(),
        "CONN_MAX_AGE": "600",
        "PYTHONPATH": str(ROOT),
        # Production serves hashed static files from a manifest (collect_static fills it);
        # the bench's own copy, apart from var/static of the demo.
        "BENCH_STATIC_ROOT": str(ROOT / "var" / "bench-static"),
    }
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, **kwargs)


def setup_django(env: dict[str, str]) -> None:
    """Load Django in this process with ``env`` (bench settings, the bench database).

    For scenarios that generate data with the ORM or raw SQL, or measure query
    counts with the test client, against the same database the served portal
    uses. Call it once, inside ``postgres()``.
    """
    import django

    os.environ.update(env)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    django.setup()


def collect_static(env: dict[str, str]) -> None:
    """``collectstatic`` as a deploy does: admin pages need the manifest under production settings."""
    manage(env, "collectstatic", "--noinput", "-v", "0")


def django_shell(env: dict[str, str], code: str) -> str:
    """Run ``code`` in a Django shell with ``env``; returns what it printed."""
    result = subprocess.run([PYTHON, "manage.py", "shell", "-v", "0", "-c", code], cwd=ROOT, env=env,
                            check=True, capture_output=True, text=True)
    return result.stdout.strip()


# --- servers ------------------------------------------------------------------------


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up in {timeout}s")


@contextlib.contextmanager
def process(cmd: list[str], env: dict[str, str], ready_url: str, name: str) -> Iterator[subprocess.Popen]:
    logfile = tempfile.NamedTemporaryFile(prefix=f"waportal-{name}.", suffix=".log", delete=False)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=logfile, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        wait_http(ready_url)
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        logfile.close()


@contextlib.contextmanager
def gunicorn(env: dict[str, str], *, workers: int = 2, threads: int = 1, port: int | None = None) -> Iterator[str]:
    """The portal under gunicorn (sync workers unless threads > 1); yields its base URL."""
    port = port or free_port()
    cmd = [str(Path(PYTHON).parent / "gunicorn"), "waportal.wsgi:application", "--bind", f"127.0.0.1:{port}",
           "--workers", str(workers), "--threads", str(threads), "--backlog", "2048", "--log-level", "warning"]
    with process(cmd, env, f"http://127.0.0.1:{port}/healthz", "gunicorn"):
        yield f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def sandbox_server(env: dict[str, str], *, port: int | None = None) -> Iterator[str]:
    """The sandbox provider as its own process (``manage.py run_sandbox``); yields its base URL."""
    port = port or free_port()
    cmd = [PYTHON, "manage.py", "run_sandbox", "--port", str(port)]
    with process(cmd, {**env, "SANDBOX_ENABLED": "true"}, f"http://127.0.0.1:{port}/healthz", "sandbox"):
        yield f"http://127.0.0.1:{port}"


# --- load -------------------------------------------------------------------------------


@dataclass
class LoadResult:
    requests_per_second: float
    latency_ms: dict[str, float]
    requests: int
    errors: int


def wrk(url: str, *, script: Path | None = None, duration: int = 10, connections: int = 16, threads: int = 2,
        env: dict[str, str] | None = None) -> LoadResult:
    apt_install("wrk")
    cmd = ["wrk", "--latency", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "5s"]
    if script is not None:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, env={**os.environ, **(env or {})},
                         timeout=duration + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|timeout|connect|read|write)\s*:?\s*(\d+)", out))
    latency = {}
    for pct in ("50", "90", "99"):
        match = re.search(rf"\s{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s)", out)
        if match:
            value, unit = float(match.group(1)), match.group(2)
            latency[f"p{pct}"] = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    return LoadResult(requests_per_second=rps, latency_ms=latency, requests=total, errors=errors)


# --- pages: timed over HTTP, queries counted in-process --------------------------------------


class Browser:
    """A keep-alive HTTP client logged in as one user (session cookie for the admin, token for the API)."""

    def __init__(self, base: str, *, session: str, token: str) -> None:
        import http.client
        from urllib.parse import urlsplit

        parts = urlsplit(base)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        self.session, self.token = session, token

    def get(self, path: str, kind: str) -> float:
        """GET ``path`` (``kind``: "admin" or "api"); milliseconds until the whole body arrived."""
        headers = {"Cookie": f"sessionid={self.session}"} if kind == "admin" else {
            "Authorization": f"Token {self.token}"}
        started = time.perf_counter()
        self.conn.request("GET", path, headers=headers)
        response = self.conn.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}: {body[:300]!r}")
        return elapsed

    def close(self) -> None:
        self.conn.close()


def session_for(user) -> str:
    """A session key logged in as ``user`` (stored in the database the served portal reads)."""
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client.cookies["sessionid"].value


def in_process(user, path: str, kind: str, token: str, *, profile: bool = False) -> tuple[list[dict], str]:
    """The page through Django's test client in this process: (queries captured, pyinstrument text or "").

    Run once to warm up, then measured: the count is what every request costs.
    """
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    extra = {}
    if kind == "admin":
        client.force_login(user)
    else:
        extra["HTTP_AUTHORIZATION"] = f"Token {token}"
    client.get(path, **extra)
    profiler = None
    if profile:
        try:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.001)
        except ImportError:
            profiler = None
    with CaptureQueriesContext(connection) as captured:
        if profiler:
            profiler.start()
        response = client.get(path, **extra)
        if profiler:
            profiler.stop()
    assert response.status_code == 200, (path, response.status_code)
    text = profiler.output_text(unicode=True, color=False) if profiler else (
        "(pyinstrument is not installed: pip install pyinstrument into the venv for a profile)" if profile else "")
    return list(captured.captured_queries), text


def top_sql(queries: list[dict], n: int = 4) -> str:
    ranked = sorted(queries, key=lambda q: float(q["time"]), reverse=True)[:n]
    return "\n".join(f"    {float(q['time']) * 1000:7.1f} ms  {q['sql'][:300]}" for q in ranked)


# --- reporting ---------------------------------------------------------------------------


@dataclass
class Figure:
    name: str
    unit: str
    runs: list[float] = field(default_factory=list)
    target: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.runs) if self.runs else float("nan")

    def as_dict(self) -> dict:
        return {"name": self.name, "unit": self.unit, "median": self.median, "min": min(self.runs, default=None),
                "max": max(self.runs, default=None), "runs": self.runs, "target": self.target}


def report(scenario: str, figures: list[Figure], notes: list[str] | None = None) -> dict:
    width = max(len(f.name) for f in figures) + 2
    print(f"\n== {scenario} ==")
    print(f"{'figure':<{width}} {'median':>12} {'min–max':>24}  target")
    for fig in figures:
        spread = f"{min(fig.runs, default=0):.3g}–{max(fig.runs, default=0):.3g}"
        print(f"{fig.name:<{width}} {fig.median:>10.4g} {fig.unit:<2}{spread:>22}  {fig.target}")
    for note in notes or []:
        print(f"  note: {note}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = {"scenario": scenario, "at": time.strftime("%Y-%m-%dT%H:%M:%S"), "figures": [f.as_dict() for f in figures],
            "notes": notes or []}
    (RESULTS / f"{scenario}.json").write_text(json.dumps(data, indent=2))
    return data
