"""Snoozes end by a task enqueued for the snooze's end, not only when someone polls the inbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from messaging.models import ConversationStatus
from workspace import services
from workspace.models import ActivityKind, ConversationActivity
from workspace.tasks import snoozes_wake_task

pytestmark = pytest.mark.django_db


def wake_tasks():
    return DBTaskResult.objects.filter(task_path=snoozes_wake_task.module_path, status="READY")


def test_snoozing_enqueues_a_wake_at_the_snooze_end(agent, conversation, django_capture_on_commit_callbacks):
    until = timezone.now() + timedelta(hours=4)
    with django_capture_on_commit_callbacks(execute=True):
        services.conversation_status_set(actor=agent, conversation=conversation, status="snoozed", snoozed_until=until)
    task = wake_tasks().get()
    assert task.run_after == until
    # Too early: nothing to wake (a task for a snooze changed since finds nothing either).
    assert snoozes_wake_task.call() == 0
    # At the snooze's end the task reopens it and the history says so, with no one in the inbox.
    type(conversation).objects.filter(pk=conversation.pk).update(snoozed_until=timezone.now() - timedelta(seconds=1))
    assert snoozes_wake_task.call() == 1
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.OPEN and conversation.snoozed_until is None
    woken = ConversationActivity.objects.filter(conversation=conversation).last()
    assert woken.kind == ActivityKind.WOKEN and woken.actor is None


def test_other_statuses_and_a_rolled_back_snooze_enqueue_nothing(agent, conversation,
                                                                  django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.conversation_status_set(actor=agent, conversation=conversation, status="resolved")
    assert not wake_tasks().exists()
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):  # noqa: PT012
        with transaction.atomic():
            services.conversation_status_set(actor=agent, conversation=conversation, status="snoozed",
                                             snoozed_until=timezone.now() + timedelta(hours=1))
            raise RuntimeError("rolled back")
    assert not wake_tasks().exists()
