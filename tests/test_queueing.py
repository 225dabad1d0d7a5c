"""task_enqueue: the workers take tasks in the order they became due, whichever way they were enqueued."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from campaigns.tasks import campaign_run
from messaging.tasks import webhook_events_process_task
from waportal.queueing import task_enqueue

pytestmark = pytest.mark.django_db


def next_task_path() -> str:
    """The task a db_worker would take now (django-tasks-db's own ready set and order)."""
    return DBTaskResult.objects.ready().first().task_path


def test_a_task_enqueued_for_now_is_not_overtaken_by_deferred_tasks_that_come_due_later():
    task_enqueue(campaign_run, campaign_id=1, generation=1)
    # Deferred work enqueued afterwards whose time has also come (a sandbox callback, a processing run).
    webhook_events_process_task.using(run_after=timezone.now()).enqueue()
    assert next_task_path() == campaign_run.module_path


def test_without_a_run_after_the_same_task_waits_behind_them():
    """What task_enqueue avoids: django-tasks-db stores "no run_after" as due in the year 9999."""
    campaign_run.enqueue(campaign_id=1, generation=1)
    webhook_events_process_task.using(run_after=timezone.now()).enqueue()
    assert next_task_path() == webhook_events_process_task.module_path


def test_a_later_run_after_is_kept():
    later = timezone.now() + timedelta(minutes=5)
    result = task_enqueue(campaign_run, campaign_id=1, generation=1, run_after=later)
    assert DBTaskResult.objects.get(pk=result.id).run_after == later
    assert not DBTaskResult.objects.ready().exists()
