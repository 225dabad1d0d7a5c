"""A throwaway PostgreSQL cluster for tests that stop and start the server (never the shared one).

``initdb`` + ``pg_ctl`` on a free port in a temporary directory, as the ``postgres`` user when running as
root (as ``.ci/run`` does), as the current user otherwise. :func:`available` says whether it can run here.
"""

from __future__ import annotations

import glob
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _bin_dir() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: [int(x) for x in p.split("/")[-2].split(".")
                                                                           if x.isdigit()])
    for candidate in reversed(found):
        if os.path.exists(os.path.join(candidate, "initdb")):
            return candidate
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def available() -> str:
    """"" when a cluster can be made here, or why not."""
    if _bin_dir() is None:
        return "PostgreSQL binaries (initdb, pg_ctl) are not installed"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a postgres user"
    return ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self) -> None:
        self.bin = _bin_dir()
        self.dir = Path(tempfile.mkdtemp(prefix="waportal-pg-restart."))
        self.data = self.dir / "data"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self.user = "postgres" if self.as_postgres else os.environ.get("USER", "postgres")

    def _run(self, *args: str) -> None:
        command = " ".join(shlex.quote(a) for a in args)
        full = ["su", "postgres", "-c", command] if self.as_postgres else ["sh", "-c", command]
        subprocess.run(full, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)

    def init(self) -> None:
        self._run(f"{self.bin}/initdb", "-D", str(self.data), "-A", "trust", "-U", self.user, "-E", "UTF8")
        self.start()
        subprocess.run([f"{self.bin}/psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d",
                        "postgres", "-qc", "CREATE DATABASE waportal"], check=True, timeout=30,
                       stdout=subprocess.DEVNULL)

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        self._run(f"{self.bin}/pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"), "-w",
                  "start")

    def stop(self) -> None:
        self._run(f"{self.bin}/pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/waportal"

    def destroy(self) -> None:
        try:
            self.stop()
        except Exception:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
