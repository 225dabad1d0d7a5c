"""The background task: slices re-enqueue themselves until the campaign is done; stalled campaigns recover."""

from __future__ import annotations

import time
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import AuditEntry
from campaigns import services
from campaigns.models import Campaign, CampaignStatus
from campaigns.tasks import campaign_run

pytestmark = pytest.mark.django_db


def queued():
    return DBTaskResult.objects.filter(task_path="campaigns.tasks.campaign_run", status="READY")


def run_queued_tasks(limit: int = 50) -> int:
    """Run ready campaign tasks the way db_worker does (synchronously here), oldest first."""
    from django_tasks_db.management.commands import db_worker

    worker = db_worker.Worker(queue_names=["default"], interval=0, batch=True, backend_name="default",
                              startup_delay=False, max_tasks=limit, worker_id="test-worker", excluded_queue_names=[])
    # The worker closes "old" connections between tasks; here that would be the test's own transaction.
    with mock.patch.object(db_worker, "close_old_connections", lambda: None):
        worker.run()
    return worker._run_tasks


def test_start_enqueues_workers_that_finish_the_campaign(make_campaign, fake_send, settings,
                                                         django_capture_on_commit_callbacks):
    settings.CAMPAIGN_WORKERS = 2
    settings.CAMPAIGN_SLICE_SECONDS = 0.05
    settings.CAMPAIGN_CHUNK_MAX = 3
    fake_send.before_send = lambda to: time.sleep(0.01)
    with django_capture_on_commit_callbacks(execute=True):
        campaign = make_campaign(12, pace=100000)
    assert queued().count() == 2
    ran = run_queued_tasks()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED
    assert sorted(fake_send.per_number().values()) == [1] * 12
    # Short slices: the tasks re-enqueued themselves along the way, and none is left behind.
    assert ran > 2
    assert not queued().exists()
    results = DBTaskResult.objects.filter(task_path="campaigns.tasks.campaign_run")
    assert {r.status for r in results} == {"SUCCESSFUL"}
    assert any(r.return_value["reason"] == "completed" for r in results)


def test_a_paused_campaign_stops_its_tasks(make_campaign, fake_send, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        campaign = make_campaign(5)
    services.campaign_pause(actor=agent, campaign=campaign)
    run_queued_tasks()
    assert fake_send.calls == 0 and not queued().exists()


def test_the_task_uses_its_result_id_as_claim_owner(make_campaign, fake_send, monkeypatch):
    from campaigns import runner

    seen = {}
    original = runner.campaign_work

    def spy(**kwargs):
        seen.update(kwargs)
        return original(**kwargs)

    monkeypatch.setattr(runner, "campaign_work", spy)
    campaign = make_campaign(1)
    result = campaign_run.enqueue(campaign_id=campaign.pk, generation=campaign.generation)
    run_queued_tasks()
    assert seen["worker_id"] == str(result.id)


def test_stalled_campaigns_get_fresh_tasks(make_campaign, django_capture_on_commit_callbacks, settings):
    settings.CAMPAIGN_STALL_SECONDS = 60
    campaign = make_campaign(3)
    assert services.campaigns_recover() == []  # it just started
    Campaign.objects.filter(pk=campaign.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.campaigns_recover() == [campaign.pk]
    fresh = Campaign.objects.get(pk=campaign.pk)
    assert fresh.generation == campaign.generation + 1
    assert queued().filter(args_kwargs__kwargs__generation=fresh.generation).count() == 2
    assert AuditEntry.objects.filter(action="campaign.recover", target_id=str(campaign.pk)).exists()
    # Recovered once: a second call finds it alive.
    assert services.campaigns_recover() == []
    Campaign.objects.filter(pk=campaign.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    call_command("campaigns_recover")
    assert Campaign.objects.get(pk=campaign.pk).generation == fresh.generation + 1
