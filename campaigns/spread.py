"""Spreading worker processes over business numbers: a number nobody serves before a second worker on one (issue 21).

Every campaign starts ``CAMPAIGN_WORKERS`` tasks and a ``db_worker`` process
takes the queue's ready tasks in due order, so two campaigns on two numbers
worked by two processes had both processes on the first campaign's two tasks
(enqueued first), and after each slice on the second's (re-enqueued together):
one number sent at its limit while the other waited -- 80 msg/s where 160 were
allowed, unless ``CAMPAIGN_WORKERS`` was 1.

A slice about to start on a number another process is already sending from (a
``campaign_run`` task running for a campaign of that number) steps aside when
a campaign task is ready for a number no process serves: its task goes back
to the queue (behind that one) and the process takes the next. Of two slices
started together on one number only the later steps aside. Campaigns
alone on their number, or all on one number, are shared by every process as
before; a process never steps aside when there is nothing better waiting.
"""

from __future__ import annotations

from django.db.models import Q
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from campaigns.models import Campaign

TASK_PATH = "campaigns.tasks.campaign_run"


def _campaign_ids(tasks) -> set[int]:
    ids = set()
    for args_kwargs in tasks.values_list("args_kwargs", flat=True):
        campaign_id = ((args_kwargs or {}).get("kwargs") or {}).get("campaign_id")
        if isinstance(campaign_id, int):
            ids.add(campaign_id)
    return ids


def campaign_steps_aside(*, campaign_id: int, task_id: str) -> bool:
    """Whether the slice of ``campaign_id`` about to run in task ``task_id`` should let another number go first."""
    ours = Campaign.objects.filter(pk=campaign_id).values_list("phone_number_id", flat=True).first()
    if ours is None:
        return False
    running = DBTaskResult.objects.filter(task_path=TASK_PATH, status=TaskResultStatus.RUNNING).exclude(pk=task_id)
    served = set(Campaign.objects.filter(pk__in=_campaign_ids(running)).values_list("phone_number_id", flat=True))
    if ours not in served:
        return False
    # Two slices that started together on one number: only the later one (then the greater id) steps aside,
    # so two processes never both leave a number for another one together, and back.
    mine = DBTaskResult.objects.filter(pk=task_id).values_list("started_at", flat=True).first()
    if mine is not None:
        before = running.filter(Q(started_at__lt=mine) | Q(started_at=mine, pk__lt=task_id))
        if ours not in set(Campaign.objects.filter(pk__in=_campaign_ids(before))
                           .values_list("phone_number_id", flat=True)):
            return False
    waiting = _campaign_ids(DBTaskResult.objects.ready().filter(task_path=TASK_PATH))
    return Campaign.objects.filter(pk__in=waiting - {campaign_id}).exclude(
        phone_number_id__in=served | {ours}).exists()
