"""Throttling a status webhook reports after the send (issue 21): a ``failed`` status with WhatsApp's 130429 (or
131056) for a campaign message slows the number down and sends that recipient again later -- once, never counted
as a failure -- like the same error in the send's answer."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest

from accounts.models import NumberRate
from campaigns import throttles
from campaigns.models import CampaignRecipient, CampaignStatus, RecipientState
from messaging.models import Message, MessageStatus
from messaging.webhooks.process import webhook_events_process
from tests.campaigns.test_in_flight import finish, slow  # noqa: F401 (the fixture)
from tests.campaigns.test_runner import states, work
from tests.fixtures import load_fixture

pytestmark = pytest.mark.django_db


def failed_status(client, message: Message, code: int) -> None:
    """The provider's status webhook: WhatsApp failed ``message`` with ``code``; stored, then processed."""
    body = load_fixture("aldeamo", "webhook_status_delivered")
    body["statuses"][0].update(id=message.provider_message_id, status="failed", recipient_id=message.to_number,
                               errors=[{"code": code, "title": "Rate limit hit"}])
    account = message.phone_number.client.provider_account
    answer = client.post(account.webhook_path, data=json.dumps(body), content_type="application/json")
    assert answer.status_code == 200
    while webhook_events_process(limit=500):
        pass


@pytest.fixture
def sent_part(make_campaign, slow, settings, monkeypatch):  # noqa: F811 (the fixture)
    """A running campaign of 12 whose first chunk (10) was sent; the failure ratio pauses at the first failure."""
    settings.CAMPAIGN_FAILURE_WINDOW = 10
    settings.CAMPAIGN_FAILURE_RATIO = 0.0
    settings.CAMPAIGN_PAIR_SECONDS = 0.3
    monkeypatch.setattr(throttles, "LATE_THROTTLE_SECONDS", 0.2)
    campaign = make_campaign(12)
    assert work(campaign, budget=0).reason == "slice"  # one chunk: the first 10 sent, 2 still pending
    assert states(campaign) == {RecipientState.SENT: 10, RecipientState.PENDING: 2}
    return campaign


def test_a_130429_reported_by_webhook_slows_the_number_and_sends_the_recipient_again_once(sent_part, slow, client):  # noqa: F811
    campaign = sent_part
    recipient = campaign.recipients.order_by("id")[3]
    first = recipient.message
    before = time.time()

    failed_status(client, first, 130429)

    rate = NumberRate.objects.get(phone_number=campaign.phone_number_id)
    assert rate.next_slot >= before + throttles.LATE_THROTTLE_SECONDS  # every sender of the number waits
    assert rate.throttled_until > time.time()  # the campaign page says "throttled by the provider"
    recipient.refresh_from_db()
    assert (recipient.state, recipient.claimed_by, recipient.message_id) == (RecipientState.CLAIMED, "", None)
    assert recipient.lease_until is not None and recipient.attempts == 0  # held for the wait; not counted
    first.refresh_from_db()
    assert first.status == MessageStatus.FAILED and first.error_code == "130429"  # its history stays
    assert first.idempotency_key != recipient.idempotency_key(campaign.pk, recipient.pk)

    failed_status(client, first, 130429)  # the same report again: nothing moves twice
    time.sleep(0.25)
    finish(campaign)

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED and not campaign.pause_kind  # not a failure
    assert states(campaign) == {RecipientState.SENT: 12}
    recipient.refresh_from_db()
    assert recipient.message_id != first.pk and recipient.message.status == MessageStatus.SENT
    assert slow.accepted[recipient.phone] == 2  # refused by WhatsApp once, then sent once
    assert set(Counter(r.phone for r in campaign.recipients.all()).values()) == {1}
    delivered = Counter(Message.objects.filter(idempotency_key__startswith=f"campaign:{campaign.pk}:")
                        .exclude(status=MessageStatus.FAILED).values_list("to_number", flat=True))
    assert len(delivered) == 12 and set(delivered.values()) == {1}  # one live message per recipient


def test_a_131056_by_webhook_waits_for_that_recipient_only_and_leaves_the_number_alone(sent_part, slow, client):  # noqa: F811
    campaign = sent_part
    recipient = campaign.recipients.order_by("id")[0]
    before = NumberRate.objects.get(phone_number=campaign.phone_number_id).next_slot

    failed_status(client, recipient.message, 131056)

    rate = NumberRate.objects.get(phone_number=campaign.phone_number_id)
    assert rate.next_slot == before and not rate.throttled_until > time.time()
    recipient.refresh_from_db()
    assert recipient.state == RecipientState.CLAIMED
    assert recipient.lease_until.timestamp() >= time.time() + 0.2  # at least the pair rate's wait
    time.sleep(0.35)
    finish(campaign)
    assert states(campaign) == {RecipientState.SENT: 12} and slow.accepted[recipient.phone] == 2


def test_another_failure_by_webhook_is_a_failure_and_a_finished_campaign_is_not_reopened(sent_part, client,
                                                                                        settings):
    campaign = sent_part
    settings.CAMPAIGN_FAILURE_RATIO = 0.5
    first, second = campaign.recipients.order_by("id")[:2]
    failed_status(client, first.message, 131026)  # undeliverable: a real failure, not sent again
    first.refresh_from_db()
    assert first.message_id is not None and first.state != RecipientState.CLAIMED
    finish(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED
    failed_status(client, second.message, 130429)  # the campaign is over: the recipient stays as it is
    second.refresh_from_db()
    assert second.message_id is not None and second.state != RecipientState.CLAIMED
    assert not CampaignRecipient.objects.filter(campaign=campaign, state=RecipientState.CLAIMED).exists()
