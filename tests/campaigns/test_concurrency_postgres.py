"""Two workers on one campaign, on PostgreSQL: each recipient sent once, the pace shared, a killed worker's
chunk finished exactly once. Each worker is a thread with its own database connection."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from campaigns import runner
from campaigns.models import Campaign, CampaignRecipient, CampaignStatus, RecipientState
from messaging.models import Message

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL)"),
]


class Killed(BaseException):
    """Stands in for SIGKILL: not an Exception, so nothing in the worker catches it."""


def run_worker(campaign_id: int, worker_id: str, errors: list[BaseException], *, swallow_kill: bool = False) -> None:
    """What a db_worker does with the campaign's task: slices until the task would stop re-enqueuing."""
    try:
        generation = Campaign.objects.values_list("generation", flat=True).get(pk=campaign_id)
        for _slice in range(200):
            outcome = runner.campaign_work(campaign_id=campaign_id, generation=generation, worker_id=worker_id,
                                           budget_seconds=0.5)
            if not outcome.again:
                return
            if outcome.run_after:
                time.sleep(max(0.0, min(0.2, (outcome.run_after - timezone.now()).total_seconds())))
    except Killed:
        if not swallow_kill:
            raise
    except BaseException as exc:  # surfaced to the test
        errors.append(exc)
    finally:
        connection.close()


def run_in_threads(*targets) -> None:
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)


def test_two_workers_never_send_a_recipient_twice(make_campaign, fake_send, settings):
    settings.CAMPAIGN_CHUNK_MAX = 7
    campaign = make_campaign(300, pace=100000)
    fake_send.before_send = lambda to: time.sleep(0.001)
    errors: list[BaseException] = []
    run_in_threads(lambda: run_worker(campaign.pk, "a", errors), lambda: run_worker(campaign.pk, "b", errors))
    assert not errors
    calls = fake_send.per_number()
    assert len(calls) == 300 and set(calls.values()) == {1}
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED
    assert CampaignRecipient.objects.filter(campaign=campaign, state=RecipientState.SENT).count() == 300
    assert Message.objects.filter(campaign_recipient__campaign=campaign).count() == 300
    owners = set(Message.objects.filter(campaign_recipient__campaign=campaign).values_list("to_number", flat=True))
    assert len(owners) == 300


def test_two_workers_share_one_pace(make_campaign, fake_send):
    campaign = make_campaign(61, pace=100)
    errors: list[BaseException] = []
    started = time.monotonic()
    run_in_threads(lambda: run_worker(campaign.pk, "a", errors), lambda: run_worker(campaign.pk, "b", errors))
    elapsed = time.monotonic() - started
    assert not errors
    assert len(fake_send.provider_calls) == 61
    assert elapsed >= 60 / 100 - 0.02  # 61 sends at 100/s need at least 0.6 s, however many workers


def test_a_killed_worker_chunk_is_finished_exactly_once(make_campaign, fake_send, settings):
    settings.CAMPAIGN_CHUNK_MAX = 10
    settings.CAMPAIGN_CLAIM_LEASE_SECONDS = 1
    campaign = make_campaign(40)

    def kill_worker_a_on_its_fourth_send(to):
        if threading.current_thread().name == "a" and fake_send.calls >= 4:
            raise Killed()

    fake_send.before_send = kill_worker_a_on_its_fourth_send
    errors: list[BaseException] = []
    killed = threading.Thread(target=lambda: run_worker(campaign.pk, "a", errors, swallow_kill=True), name="a")
    killed.start()
    killed.join(timeout=30)
    assert not errors
    stranded = CampaignRecipient.objects.filter(campaign=campaign, state=RecipientState.CLAIMED, claimed_by="a")
    # It claimed 10, stored their messages (queued), sent 3 and died on the 4th, before recording any recipient.
    assert stranded.count() == 10
    assert len(fake_send.provider_calls) == 3
    stored = Message.objects.filter(idempotency_key__startswith=f"campaign:{campaign.pk}:")
    assert stored.filter(status="sent").count() == 3
    assert not stored.exclude(status__in=["sent", "queued"]).exists()
    fake_send.before_send = None

    # A restarted worker (and a second one) finish the job once the dead worker's lease expired.
    CampaignRecipient.objects.filter(campaign=campaign, claimed_by="a").update(
        lease_until=timezone.now() - timedelta(seconds=1))
    run_in_threads(lambda: run_worker(campaign.pk, "b", errors), lambda: run_worker(campaign.pk, "c", errors))
    assert not errors
    calls = fake_send.per_number()
    assert len(calls) == 40 and set(calls.values()) == {1}
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED
    assert CampaignRecipient.objects.filter(campaign=campaign, state=RecipientState.SENT).count() == 40
    assert Message.objects.filter(campaign_recipient__campaign=campaign).count() == 40
