"""Scheduled campaigns: rescheduled (the old tasks are superseded) or cancelled before their time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from campaigns import services
from campaigns.models import Campaign, CampaignStatus
from tests.campaigns.conftest import work

pytestmark = pytest.mark.django_db


def test_a_scheduled_campaign_is_rescheduled_and_the_old_time_is_forgotten(
        make_campaign, fake_send, agent, django_capture_on_commit_callbacks):
    campaign = make_campaign(3, start=False)
    first = timezone.now() + timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        campaign = services.campaign_start(actor=agent, campaign=campaign, start_at=first)
    old_generation = campaign.generation
    later = timezone.now() + timedelta(hours=3)
    with django_capture_on_commit_callbacks(execute=True):
        campaign = services.campaign_start(actor=agent, campaign=campaign, start_at=later)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED and campaign.start_at == later
    assert campaign.generation > old_generation
    newest = DBTaskResult.objects.filter(task_path="campaigns.tasks.campaign_run").order_by("-enqueued_at")
    assert {task.run_after for task in newest[:2]} == {later}
    # A task of the old schedule finds itself superseded; the new one waits for the new time.
    assert work(campaign, generation=old_generation).reason == "superseded"
    assert work(campaign).reason == "scheduled" and fake_send.calls == 0


def test_a_scheduled_campaign_started_again_without_a_time_starts_now(make_campaign, fake_send, agent):
    campaign = make_campaign(2, start=False)
    services.campaign_start(actor=agent, campaign=campaign, start_at=timezone.now() + timedelta(hours=1))
    campaign = services.campaign_start(actor=agent, campaign=Campaign.objects.get(pk=campaign.pk))
    assert campaign.status == CampaignStatus.RUNNING
    assert work(campaign).reason == "completed" and len(fake_send.provider_calls) == 2


def test_a_scheduled_campaign_cancelled_before_its_time_never_sends(make_campaign, fake_send, agent):
    campaign = make_campaign(2, start=False)
    services.campaign_start(actor=agent, campaign=campaign, start_at=timezone.now() + timedelta(minutes=5))
    services.campaign_cancel(actor=agent, campaign=Campaign.objects.get(pk=campaign.pk))
    Campaign.objects.filter(pk=campaign.pk).update(start_at=timezone.now() - timedelta(seconds=1))
    assert work(campaign).reason in ("superseded", "cancelled") and fake_send.calls == 0


def test_rescheduling_into_the_past_is_refused(make_campaign, agent):
    from waportal.errors import ApplicationError

    campaign = make_campaign(2, start=False)
    services.campaign_start(actor=agent, campaign=campaign, start_at=timezone.now() + timedelta(hours=1))
    with pytest.raises(ApplicationError) as refused:
        services.campaign_start(actor=agent, campaign=campaign, start_at=timezone.now() - timedelta(days=1))
    assert refused.value.field == "start_at"


def test_the_admin_reschedules_in_the_users_time_zone(client, make_campaign, agent):
    """The detail page offers the new time; the form's local time is read in the user's zone (Bogotá, UTC-5)."""
    from django.urls import reverse

    agent.is_staff = True
    agent.save(update_fields=["is_staff"])
    client.force_login(agent)
    campaign = make_campaign(2, start=False)
    services.campaign_start(actor=agent, campaign=campaign, start_at=timezone.now() + timedelta(hours=1))
    page = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    assert b"wa-campaign-reschedule" in page.content
    response = client.post(reverse("admin:campaigns_campaign_action", args=[campaign.pk, "start"]),
                           {"start_at": "2099-01-01T10:00"})
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED
    assert campaign.start_at.isoformat() == "2099-01-01T15:00:00+00:00"


@pytest.mark.django_db(transaction=True)
def test_the_task_worker_starts_a_scheduled_campaign_at_its_time_with_no_one_watching(
        number, template, agent, fake_send, settings):
    """Nothing but the queue: before its time the worker finds nothing due; once due, it runs the campaign."""
    import time

    from django.core.management import call_command

    settings.CAMPAIGN_WORKERS = 1
    campaign = services.campaign_create_with_recipients(
        actor=agent, phone_number=number, template=template, name="A las 9",
        recipients=[{"phone": f"57300000000{i}", "variables": {"body_1": "Ana", "body_2": "lunes"}}
                    for i in range(3)])
    services.campaign_report_seen(actor=agent, campaign=campaign)
    when = timezone.now() + timedelta(seconds=2)
    services.campaign_start(actor=agent, campaign=Campaign.objects.get(pk=campaign.pk), start_at=when)

    worker = ("task_worker", "--batch", "--no-startup-delay", "--interval", "0", "--no-reload")
    call_command(*worker, verbosity=0)
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SCHEDULED and fake_send.calls == 0
    time.sleep(max(0.0, (when - timezone.now()).total_seconds()) + 0.2)
    call_command(*worker, verbosity=0)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED and campaign.started_at >= when
    assert len(fake_send.provider_calls) == 3
