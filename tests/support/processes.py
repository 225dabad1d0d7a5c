"""Worker subprocesses for tests that kill or starve them: ``manage.py task_worker`` on the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent.parent


def database_url(settings_dict: dict | None = None, **override: object) -> str:
    """The URL of the database the tests use (the test database, not the configured one)."""
    d = {**(settings_dict or connection.settings_dict), **override}
    return f"postgres://{d['USER']}:{d['PASSWORD']}@{d['HOST']}:{d['PORT']}/{d['NAME']}"


def worker_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.support.worker_settings",
           "DATABASE_URL": database_url(), "FIELD_ENCRYPTION_KEY": ",".join(settings.FIELD_ENCRYPTION_KEYS),
           "SECRET_KEY": settings.SECRET_KEY, "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
    env.update(extra)
    return env


class Worker:
    """One ``task_worker`` process; its output goes to a temporary file (shown when a test fails)."""

    def __init__(self, worker_id: str, env: dict[str, str]) -> None:
        self.worker_id = worker_id
        self.log = tempfile.NamedTemporaryFile(prefix=f"waportal-{worker_id}.", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "task_worker", "--interval", "0.2", "--no-reload", "--no-startup-delay",
             "--worker-id", worker_id],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-3000:]

    def close(self) -> None:
        self.kill()
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)
