"""Worker processes spread over business numbers: a slice steps aside for a number nobody serves (issue 21)."""

from __future__ import annotations

import pytest
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from campaigns import spread
from campaigns.models import Campaign
from campaigns.tasks import campaign_run
from tests.factories import PhoneNumberFactory
from waportal.queueing import task_enqueue

pytestmark = pytest.mark.django_db


def _task(campaign: Campaign, *, running: bool = False) -> str:
    result = task_enqueue(campaign_run, campaign_id=campaign.pk, generation=campaign.generation)
    if running:
        DBTaskResult.objects.filter(pk=result.id).update(status=TaskResultStatus.RUNNING, started_at=timezone.now())
    return str(result.id)


@pytest.fixture
def two_numbers(make_campaign, number):
    """Campaign ``a`` on the fixture's number, ``b`` on another number of the same WABA (no tasks yet)."""
    a = make_campaign(5, start=False)
    b = make_campaign(5, start=False)
    other = PhoneNumberFactory(waba=number.waba, client=number.client)
    Campaign.objects.filter(pk=b.pk).update(phone_number=other)
    DBTaskResult.objects.all().delete()
    return a, b


def test_a_second_process_on_a_number_steps_aside_for_a_number_nobody_serves(two_numbers):
    a, b = two_numbers
    _task(a, running=True)  # another process sends from a's number
    mine = _task(a, running=True)  # this slice would be the second on it
    _task(b)  # b's number waits with nobody on it
    assert spread.campaign_steps_aside(campaign_id=a.pk, task_id=mine)
    # The waiting campaign's slice itself does not: nobody serves its number.
    assert not spread.campaign_steps_aside(campaign_id=b.pk, task_id=_task(b, running=True))


def test_of_two_slices_on_one_number_only_the_later_steps_aside(two_numbers):
    a, b = two_numbers
    first = _task(a, running=True)
    second = _task(a, running=True)
    _task(b)
    assert spread.campaign_steps_aside(campaign_id=a.pk, task_id=second)
    assert not spread.campaign_steps_aside(campaign_id=a.pk, task_id=first)  # never both, never back and forth
    started = DBTaskResult.objects.get(pk=first).started_at
    DBTaskResult.objects.filter(pk=second).update(started_at=started)  # at the same instant: the greater id
    later, earlier = sorted([first, second], key=lambda pk: DBTaskResult.objects.get(pk=pk).pk, reverse=True)
    assert spread.campaign_steps_aside(campaign_id=a.pk, task_id=later)
    assert not spread.campaign_steps_aside(campaign_id=a.pk, task_id=earlier)


def test_no_stepping_aside_without_a_better_task_waiting(two_numbers):
    a, b = two_numbers
    _task(a, running=True)
    mine = _task(a, running=True)
    assert not spread.campaign_steps_aside(campaign_id=a.pk, task_id=mine)  # nothing waits: share the number
    _task(a)  # more of the same number waiting changes nothing
    assert not spread.campaign_steps_aside(campaign_id=a.pk, task_id=mine)
    _task(b, running=True)  # b's number is served already: its waiting tasks are no better
    _task(b)
    assert not spread.campaign_steps_aside(campaign_id=a.pk, task_id=mine)


def test_the_only_process_on_its_number_never_steps_aside(two_numbers):
    a, b = two_numbers
    mine = _task(a, running=True)
    _task(b)
    assert not spread.campaign_steps_aside(campaign_id=a.pk, task_id=mine)


def test_a_slice_that_steps_aside_goes_back_to_the_queue(two_numbers, fake_send, django_capture_on_commit_callbacks):
    from tests.campaigns.test_tasks import run_queued_tasks

    a, b = two_numbers
    _task(a, running=True)  # a process is on a's number
    mine = _task(a)
    _task(b)
    run_queued_tasks(limit=1)  # this process takes the oldest ready task: a's second
    assert DBTaskResult.objects.get(pk=mine).return_value["reason"] == "stepped aside"
    assert fake_send.calls == 0
    ready = [r.args_kwargs["kwargs"]["campaign_id"]
             for r in DBTaskResult.objects.ready().order_by("run_after", "enqueued_at")]
    assert ready == [b.pk, a.pk]  # b's first, a's behind it
