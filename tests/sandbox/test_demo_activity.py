"""Issue 22: ``make demo`` opens on a living inbox (``sandbox/demo_history.py``, ``sandbox/demo_activity.py``)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone

from sandbox.demo_activity import SCRIPT, demo_activity_step
from sandbox.transport import InProcessTransport

BASE = "http://127.0.0.1:8000"
# Where a sent message ends once its callbacks are in (the sandbox fails a few on purpose, as WhatsApp does).
FINAL = {"delivered", "read", "failed"}


@pytest.fixture
def session():
    session = requests.Session()
    session.mount(f"{BASE}/", InProcessTransport())
    yield session
    session.close()


def pump(session, rounds: int = 2) -> None:
    """The task workers' job, now: the sandbox posts what is due, the portal processes it."""
    from messaging.webhooks.process import webhook_events_process
    from sandbox.delivery import sandbox_deliver_due

    for _ in range(rounds):
        sandbox_deliver_due(now=timezone.now() + timedelta(hours=1), session=session)
        while webhook_events_process():
            pass


def waiting_runs():
    from django_tasks_db.models import DBTaskResult

    from sandbox.tasks import sandbox_demo_activity

    return DBTaskResult.objects.filter(task_path=sandbox_demo_activity.module_path, status="READY")


@pytest.fixture
def demo(db, settings):
    settings.SANDBOX_DEMO_ACTIVITY = True
    call_command("demo_setup", base_url=BASE, history_days=1, stdout=io.StringIO())


def inbound_types(customers=None) -> set[str]:
    from messaging.models import Message

    messages = Message.objects.filter(direction="in")
    if customers is not None:
        messages = messages.filter(from_number__in=customers)
    return set(messages.values_list("type", flat=True))


def test_demo_setup_leaves_earlier_conversations_and_a_finished_campaign(demo, session):
    from campaigns.models import Campaign, CampaignStatus
    from messaging.models import Conversation, Message
    from sandbox.demo_history import CAMPAIGN_NAME, HISTORY

    pump(session)
    campaign = Campaign.objects.get(name=CAMPAIGN_NAME)
    assert campaign.status == CampaignStatus.COMPLETED
    sent = Message.objects.filter(campaign_recipient__campaign=campaign)
    assert sent.count() == campaign.recipients.count() == 5
    assert set(sent.values_list("status", flat=True)) <= FINAL
    assert Conversation.objects.count() >= len(HISTORY)
    assert len(inbound_types([h[2] for h in HISTORY])) >= 4
    replies = Message.objects.filter(direction="out", type="text", to_number__in=[h[2] for h in HISTORY])
    assert replies.count() == sum(1 for h in HISTORY if h[4])
    assert set(replies.values_list("status", flat=True)) <= FINAL
    # The customers' chain waits for the workers.
    assert waiting_runs().count() == 1

    # Again: nothing is duplicated, and still one chain waits.
    call_command("demo_setup", base_url=BASE, history_days=1, stdout=io.StringIO())
    assert Campaign.objects.filter(name=CAMPAIGN_NAME).count() == 1
    assert waiting_runs().count() == 1


def test_the_first_minute_brings_several_customers_in_several_types_then_a_trickle(demo, session, settings):
    from messaging.models import Conversation

    before = Conversation.objects.count()
    t0 = timezone.now()
    outcome = demo_activity_step(started_at=None, step=0, now=t0)
    assert outcome.step == 1 and outcome.next_at == t0 + timedelta(seconds=SCRIPT[1][0])
    while outcome.step < len(SCRIPT):
        assert outcome.next_at is not None and outcome.next_at <= t0 + timedelta(minutes=1)
        outcome = demo_activity_step(started_at=outcome.started_at, step=outcome.step, now=outcome.next_at)
    pump(session)
    customers = {entry[2] for entry in SCRIPT}
    assert Conversation.objects.count() - before >= len(customers)
    assert len(inbound_types(customers)) >= 5, inbound_types(customers)
    # Then one customer every SANDBOX_DEMO_TRICKLE_SECONDS…
    assert outcome.next_at is not None
    settings.SANDBOX_DEMO_TRICKLE_SECONDS = 30
    later = demo_activity_step(started_at=outcome.started_at, step=outcome.step, now=outcome.next_at)
    assert len(later.written) == 1 and later.next_at == outcome.next_at + timedelta(seconds=30)
    # …and 0 stops the chain, as does turning the activity off.
    settings.SANDBOX_DEMO_TRICKLE_SECONDS = 0
    assert demo_activity_step(started_at=t0, step=later.step, now=later.next_at).next_at is None
    settings.SANDBOX_DEMO_ACTIVITY = False
    assert demo_activity_step(started_at=t0, step=0).next_at is None


def test_the_task_reschedules_itself(demo):
    from sandbox.tasks import sandbox_demo_activity

    waiting_runs().delete()
    assert sandbox_demo_activity.call() == 1
    [run] = waiting_runs()
    assert run.args_kwargs["kwargs"]["step"] == 1


def test_off_in_the_tests_demo_setup_adds_no_activity(db):
    from campaigns.models import Campaign

    call_command("demo_setup", base_url=BASE, history_days=1, stdout=io.StringIO())
    assert not Campaign.objects.exists()
    assert not waiting_runs().exists()

