"""``manage.py task_worker``: django-tasks-db's ``db_worker`` that survives a lost database.

django-tasks-db's loop lets an ``OperationalError`` (a database restart, a
dropped connection) escape and the process exits, leaving stored work pending
until someone starts a worker by hand. This command runs the same loop (same
options) inside a guard:

- a lost database makes it wait -- 0.5 s, then doubling up to 5 s -- until a
  new connection answers, then carry on; it never exits for that;
- on start and after each reconnect it takes back the task it left ``RUNNING``
  (one the outage interrupted), and runs the hooks of
  ``TASK_WORKER_RECONNECT_HOOKS`` (by default: ask for the pending webhook
  events to be processed);
- a thread writes the worker's heartbeat every ``TASK_WORKER_HEARTBEAT_SECONDS``
  so other workers can tell it is alive while it runs a long task, and every
  ``TASK_WORKER_RECOVER_SECONDS`` takes back tasks left ``RUNNING`` by workers
  silent for ``TASK_WORKER_STALE_SECONDS`` (killed, or on a machine that died).

Process supervision (restarting a worker that dies for any other reason) is the
Makefile's job in the demo and systemd's in production (``deploy/``).
"""

from __future__ import annotations

import logging
import threading
import time

from django.db import InterfaceError, OperationalError, close_old_connections, connection, connections
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.management.commands import db_worker
from django_tasks_db.utils import is_locked_database_exception

from waportal import conf
from waportal.workers import services

logger = logging.getLogger("waportal.workers")

DATABASE_ERRORS = (OperationalError, InterfaceError)


def database_wait(*, stop: threading.Event | None = None, first: float = 0.5, longest: float = 5.0) -> None:
    """Block until a fresh connection to the database answers (or ``stop`` is set)."""
    delay = first
    while stop is None or not stop.is_set():
        connections.close_all()
        try:
            connection.ensure_connection()
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            return
        except DATABASE_ERRORS as exc:
            logger.warning("database unavailable (%s); trying again in %.1f s", str(exc).strip()[:200], delay)
            time.sleep(delay)
            delay = min(longest, delay * 2)


class Heartbeat(threading.Thread):
    """Writes the worker's heartbeat every few seconds; silent (and retrying) while the database is away."""

    def __init__(self, worker_id: str) -> None:
        super().__init__(name=f"heartbeat-{worker_id}", daemon=True)
        self.worker_id = worker_id
        self.every = float(conf.setting("TASK_WORKER_HEARTBEAT_SECONDS"))
        self.stop = threading.Event()
        self.started = timezone.now()

    def run(self) -> None:
        recover_every = float(conf.setting("TASK_WORKER_RECOVER_SECONDS"))
        recovered_at = time.monotonic()
        connected_since: float | None = None
        try:
            while not self.stop.is_set():
                try:
                    services.worker_heartbeat_beat(worker_id=self.worker_id, started_at=self.started)
                    now = time.monotonic()
                    connected_since = connected_since or now
                    # Another worker may have died. Only once this one has been connected for the stale
                    # period: after a database outage every heartbeat is old, and the live workers need
                    # that long to say they are alive again.
                    if now - recovered_at >= recover_every and now - connected_since >= services.stale_seconds():
                        recovered_at = now
                        services.tasks_running_recover()
                except DATABASE_ERRORS:
                    connected_since = None
                    connections.close_all()
                except Exception:
                    logger.exception("worker heartbeat failed")
                self.stop.wait(self.every)
        finally:
            connections.close_all()


class SurvivingWorker(db_worker.Worker):
    """The library's worker loop, restarted after a database error instead of exiting."""

    def recover(self) -> None:
        recovered = services.tasks_running_recover(own_worker_id=self.worker_id, others=False)
        if recovered:
            logger.warning("took back %d task(s) this worker left running", len(recovered))
        for path in conf.setting("TASK_WORKER_RECONNECT_HOOKS"):
            try:
                import_string(path)()
            except DATABASE_ERRORS:
                raise
            except Exception:
                logger.exception("worker hook %s failed", path)

    def run(self) -> None:
        heartbeat = Heartbeat(self.worker_id)
        heartbeat.start()
        try:
            needs_recovery = True
            while self.running:
                try:
                    if needs_recovery:
                        self.recover()
                        needs_recovery = False
                    super().run()
                    return  # batch done, max tasks reached, or asked to stop
                except DATABASE_ERRORS as exc:
                    if is_locked_database_exception(exc):
                        time.sleep(self.interval or 0.1)
                        continue
                    self.running_task = False
                    logger.warning("worker %s lost the database (%s); waiting to reconnect",
                                   self.worker_id, str(exc).strip()[:200])
                    database_wait()
                    close_old_connections()
                    needs_recovery = True
        finally:
            heartbeat.stop.set()
            try:
                services.worker_heartbeat_forget(worker_id=self.worker_id)
            except DATABASE_ERRORS:
                pass


class Command(db_worker.Command):
    help = "Run a database background worker that waits for the database when it goes away (never exits for it)."

    def handle(self, *args, **options):
        original = db_worker.Worker
        db_worker.Worker = SurvivingWorker
        try:
            return super().handle(*args, **options)
        finally:
            db_worker.Worker = original
