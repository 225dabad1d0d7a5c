"""kill -9 of a worker process mid-campaign (real ``task_worker`` processes, PostgreSQL).

Two workers send a 300-recipient campaign through the real send path to a fake provider
(:mod:`tests.support.fake_provider`, which logs every call); one is killed with SIGKILL while it holds
claims. Then: every recipient was handed to the provider at most once, none is left ``sending`` or
claimed, the campaign completes, and the dead worker's claims were taken back within 30 s.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from campaigns.models import CampaignRecipient, CampaignStatus, RecipientState
from messaging.models import Message, MessageStatus
from tests.support.processes import Worker, worker_env

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL)"),
]


def _wait(condition, *, timeout: float, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    return None


def test_kill_9_mid_campaign_no_duplicate_nothing_stuck_recovered_in_seconds(make_campaign, tmp_path, capsys):
    calls = Path(tmp_path) / "provider-calls.txt"
    env = worker_env(FAKE_PROVIDER_LOG=str(calls), FAKE_PROVIDER_DELAY="0.2")  # ~5 sends in flight per worker
    campaign = make_campaign(300, pace=25)  # ~12 s of sending, 2 tasks (CAMPAIGN_WORKERS)
    workers = [Worker("kill-a", env), Worker("kill-b", env)]
    try:
        def victim_claims():
            if Message.objects.filter(campaign_recipient__campaign=campaign, status=MessageStatus.SENT).count() < 60:
                return None
            running = list(DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).values_list(
                "id", "worker_ids"))
            ids = [str(pk) for pk, owners in running if owners and owners[-1] == "kill-a"]
            held = CampaignRecipient.objects.filter(campaign=campaign, state=RecipientState.CLAIMED,
                                                    claimed_by__in=ids)
            return ids if held.exists() else None

        owners = _wait(victim_claims, timeout=60, every=0.05)
        assert owners, "worker a never held claims:\n" + workers[0].output()
        workers[0].kill()
        killed_at = time.monotonic()
        stranded = CampaignRecipient.objects.filter(campaign=campaign, state=RecipientState.CLAIMED,
                                                    claimed_by__in=owners).count()

        recovered = _wait(lambda: not CampaignRecipient.objects.filter(
            campaign=campaign, state=RecipientState.CLAIMED, claimed_by__in=owners).exists(), timeout=60)
        recovery = time.monotonic() - killed_at
        assert recovered, "the dead worker's claims were never taken back:\n" + workers[1].output()

        campaign.refresh_from_db()
        done = _wait(lambda: campaign.__class__.objects.filter(pk=campaign.pk, status=CampaignStatus.COMPLETED)
                     .exists(), timeout=60)
        assert done, "the campaign did not complete:\n" + workers[1].output()
    finally:
        for worker in workers:
            worker.close()

    sent_to = Counter(calls.read_text().split())
    duplicates = {number: n for number, n in sent_to.items() if n > 1}
    states = Counter(CampaignRecipient.objects.filter(campaign=campaign).values_list("state", flat=True))
    with capsys.disabled():
        print(f"\n[kill -9] {stranded} claims stranded; taken back {recovery:.1f} s after the kill; "
              f"recipients {dict(states)}; provider calls {sum(sent_to.values())}, duplicates {len(duplicates)}")
    assert not duplicates
    assert recovery <= 30
    assert set(states) <= {RecipientState.SENT, RecipientState.UNKNOWN}, states
    assert sum(states.values()) == 300
    assert not Message.objects.filter(campaign_recipient__campaign=campaign,
                                      status__in=[MessageStatus.SENDING, MessageStatus.QUEUED]).exists()
    unknown = CampaignRecipient.objects.filter(campaign=campaign, state=RecipientState.UNKNOWN)
    assert all(r.message.status == MessageStatus.UNKNOWN for r in unknown.select_related("message"))
    assert len(sent_to) >= states[RecipientState.SENT]
