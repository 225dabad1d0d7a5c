"""A worker that dies mid-campaign: its claims come back in seconds, its message in flight becomes unknown."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import conf, runner
from campaigns.models import CampaignRecipient, CampaignStatus, RecipientState
from messaging.models import Message, MessageStatus
from messaging.sending import RESENDABLE
from tests.campaigns.conftest import work

pytestmark = pytest.mark.django_db


def test_leases_are_seconds_not_minutes():
    assert conf.setting("CAMPAIGN_CLAIM_LEASE_SECONDS") <= 15
    assert 0 < conf.setting("CAMPAIGN_LEASE_RENEW_SECONDS") <= conf.setting("CAMPAIGN_CLAIM_LEASE_SECONDS") / 3
    assert conf.setting("CAMPAIGN_STALL_SECONDS") <= 60


def test_the_message_in_flight_of_a_dead_worker_becomes_unknown_and_the_campaign_completes(make_campaign, fake_send):
    campaign = make_campaign(10)
    dead = runner.claim_chunk(campaign_id=campaign.pk, worker_id="dead", size=3, lease_seconds=12)
    # It stored its chunk and handed the first message to the provider, then was killed (kill -9).
    in_flight = Message.objects.create(
        client_id=campaign.client_id, phone_number=campaign.phone_number, direction="out", type="template",
        from_number=campaign.phone_number.digits, to_number=dead[0].phone, content={}, template=campaign.template,
        status=MessageStatus.SENDING, status_at=timezone.now(),
        idempotency_key=CampaignRecipient.idempotency_key(campaign.pk, dead[0].id))
    CampaignRecipient.objects.filter(claimed_by="dead").update(lease_until=timezone.now() - timedelta(seconds=1))

    outcome = work(campaign, worker="alive")

    assert outcome.reason == "completed"
    in_flight.refresh_from_db()
    assert in_flight.status == MessageStatus.UNKNOWN and in_flight.status in RESENDABLE
    assert "send again" in in_flight.error_title
    recipient = CampaignRecipient.objects.get(pk=dead[0].id)
    assert recipient.state == RecipientState.UNKNOWN and recipient.message_id == in_flight.pk
    assert dead[0].phone not in fake_send.provider_calls  # never resent blindly
    assert sorted(fake_send.per_number().values()) == [1] * 9
    assert not CampaignRecipient.objects.filter(campaign=campaign, state__in=[
        RecipientState.SENDING, RecipientState.CLAIMED, RecipientState.PENDING]).exists()


def test_a_campaign_is_not_completed_with_a_recipient_in_flight(make_campaign, fake_send):
    campaign = make_campaign(3)
    work(campaign)
    recipient = campaign.recipients.first()
    Message.objects.filter(pk=recipient.message_id).update(status=MessageStatus.SENDING)
    CampaignRecipient.objects.filter(pk=recipient.pk).update(state=RecipientState.SENDING)
    campaign.refresh_from_db()
    type(campaign).objects.filter(pk=campaign.pk).update(status=CampaignStatus.RUNNING)

    assert work(campaign).reason == "completed"

    recipient.refresh_from_db()
    assert recipient.state == RecipientState.UNKNOWN
    assert Message.objects.get(pk=recipient.message_id).status == MessageStatus.UNKNOWN


@pytest.mark.django_db(transaction=True)
def test_the_lease_keeper_renews_a_live_workers_claims(make_campaign):
    campaign = make_campaign(5, start=False)
    runner.claim_chunk(campaign_id=campaign.pk, worker_id="live", size=5, lease_seconds=1)
    with runner.LeaseKeeper(campaign_id=campaign.pk, worker_id="live", lease_seconds=12, every=0.1):
        time.sleep(0.5)
    soonest = min(CampaignRecipient.objects.filter(campaign=campaign).values_list("lease_until", flat=True))
    assert soonest > timezone.now() + timedelta(seconds=10)
    campaign.refresh_from_db()
    assert campaign.heartbeat_at is not None
