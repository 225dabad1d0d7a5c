"""task_worker: a lost database makes it wait and reconnect, never exit; tasks left RUNNING are taken back."""

from __future__ import annotations

import functools
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.tasks import TaskResultStatus, task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, DBTaskResultQuerySet

from waportal.queueing import task_enqueue
from waportal.workers import services
from waportal.workers.management.commands import task_worker
from waportal.workers.models import WorkerHeartbeat

RAN: list[int] = []


@task()
def remember(value: int) -> int:
    RAN.append(value)
    return value


@pytest.fixture(autouse=True)
def _quick(settings, monkeypatch):
    settings.TASK_WORKER_HEARTBEAT_SECONDS = 0.2
    settings.TASK_WORKER_RECONNECT_HOOKS = []
    RAN.clear()
    monkeypatch.setattr(task_worker, "database_wait", functools.partial(task_worker.database_wait, first=0.01,
                                                                        longest=0.01))


@pytest.mark.django_db(transaction=True)
def test_a_lost_database_makes_the_worker_wait_and_go_on(monkeypatch):
    result = task_enqueue(remember, 7)
    original = DBTaskResultQuerySet.get_locked
    failures = {"left": 3}

    def flaky(self):
        if failures["left"]:
            failures["left"] -= 1
            raise OperationalError("the connection is closed")
        return original(self)

    monkeypatch.setattr(DBTaskResultQuerySet, "get_locked", flaky)
    call_command("task_worker", "--batch", "--no-startup-delay", "--interval", "0", "--no-reload", verbosity=0)

    assert failures["left"] == 0
    assert RAN == [7]
    assert DBTaskResult.objects.get(pk=result.id).status == TaskResultStatus.SUCCESSFUL


@pytest.mark.django_db(transaction=True)
def test_a_task_interrupted_by_the_outage_runs_again_after_reconnecting(monkeypatch):
    result = task_enqueue(remember, 8)
    original = DBTaskResult.set_successful
    calls = {"n": 0}

    def lost_on_first_finish(self, value):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return original(self, value)

    monkeypatch.setattr(DBTaskResult, "set_successful", lost_on_first_finish)
    monkeypatch.setattr(DBTaskResult, "set_failed", lambda self, exc: (_ for _ in ()).throw(
        OperationalError("the connection is closed")))
    call_command("task_worker", "--batch", "--no-startup-delay", "--interval", "0", "--no-reload", verbosity=0)

    assert RAN == [8, 8]  # left RUNNING by the outage, taken back by the same worker, run again
    assert DBTaskResult.objects.get(pk=result.id).status == TaskResultStatus.SUCCESSFUL


def _running(worker: str, *, started_ago: float) -> DBTaskResult:
    result = task_enqueue(remember, 1)
    DBTaskResult.objects.filter(pk=result.id).update(
        status=TaskResultStatus.RUNNING, worker_ids=[worker],
        started_at=timezone.now() - timedelta(seconds=started_ago))
    return DBTaskResult.objects.get(pk=result.id)


@pytest.mark.django_db
def test_running_tasks_of_dead_workers_are_ready_again():
    now = timezone.now()
    WorkerHeartbeat.objects.create(worker_id="alive", seen_at=now, started_at=now)
    WorkerHeartbeat.objects.create(worker_id="silent", seen_at=now - timedelta(minutes=5), started_at=now)
    dead = _running("silent", started_ago=120)
    gone = _running("never-beat", started_ago=120)
    busy = _running("alive", started_ago=600)
    fresh = _running("starting", started_ago=1)
    mine = _running("me", started_ago=1)

    recovered = services.tasks_running_recover(own_worker_id="me")

    assert set(recovered) == {str(dead.pk), str(gone.pk), str(mine.pk)}
    statuses = dict(DBTaskResult.objects.values_list("id", "status"))
    assert statuses[dead.pk] == statuses[gone.pk] == statuses[mine.pk] == TaskResultStatus.READY
    assert statuses[busy.pk] == statuses[fresh.pk] == TaskResultStatus.RUNNING
    assert DBTaskResult.objects.ready().filter(pk=dead.pk).exists()


@pytest.mark.django_db
def test_a_worker_back_from_an_outage_takes_back_only_its_own():
    theirs = _running("silent-since-the-outage", started_ago=120)
    mine = _running("me", started_ago=120)

    assert services.tasks_running_recover(own_worker_id="me", others=False) == [str(mine.pk)]
    assert DBTaskResult.objects.get(pk=theirs.pk).status == TaskResultStatus.RUNNING


@pytest.mark.django_db(transaction=True)
def test_a_killed_workers_task_is_taken_back_by_a_live_ones_heartbeat(settings):
    settings.TASK_WORKER_STALE_SECONDS = 0.3
    settings.TASK_WORKER_RECOVER_SECONDS = 0.1
    orphan = _running("killed", started_ago=60)
    beat = task_worker.Heartbeat("survivor")
    beat.every = 0.05
    beat.start()
    try:
        deadline = time.monotonic() + 10
        while DBTaskResult.objects.get(pk=orphan.pk).status != TaskResultStatus.READY:
            assert time.monotonic() < deadline, "the orphan was never taken back"
            time.sleep(0.05)
    finally:
        beat.stop.set()
        beat.join(timeout=5)
    assert WorkerHeartbeat.objects.filter(worker_id="survivor").exists()
