"""Progress follows the messages (in SQL), failure reasons in words, the export, and "retry failed"."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import selectors, services, tracking
from campaigns.models import Campaign, CampaignStatus, RecipientState
from campaigns.presenters import export_response
from messaging.models import Direction, Message, MessageStatus
from tests.campaigns.conftest import work

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_campaign(make_campaign, fake_send) -> Campaign:
    campaign = make_campaign(8)
    work(campaign)
    campaign.refresh_from_db()
    return campaign


def _messages(campaign):
    return list(Message.objects.filter(campaign_recipient__campaign=campaign).order_by(
        "campaign_recipient__row_number"))


def test_recipient_states_follow_their_messages(sent_campaign):
    m = _messages(sent_campaign)
    Message.objects.filter(pk=m[0].pk).update(status=MessageStatus.DELIVERED)
    Message.objects.filter(pk=m[1].pk).update(status=MessageStatus.READ)
    Message.objects.filter(pk=m[2].pk).update(status=MessageStatus.FAILED, error_code="131026",
                                              error_title="Message undeliverable")
    Message.objects.filter(pk=m[3].pk).update(status=MessageStatus.UNKNOWN)
    Message.objects.filter(pk=m[4].pk).update(status=MessageStatus.SENDING)
    # The customer of the 6th message (delivered) answered after it was sent.
    Message.objects.filter(pk=m[5].pk).update(status=MessageStatus.DELIVERED)
    Message.objects.create(
        client=sent_campaign.client, phone_number=sent_campaign.phone_number, direction=Direction.INBOUND,
        type="text", from_number=m[5].to_number, to_number=sent_campaign.phone_number.digits,
        content={"body": "Gracias"}, status=MessageStatus.RECEIVED, provider_message_id="wamid.in1",
    )
    # An answer from another customer before the campaign is not a reply.
    old = Message.objects.create(
        client=sent_campaign.client, phone_number=sent_campaign.phone_number, direction=Direction.INBOUND,
        type="text", from_number=m[6].to_number, to_number=sent_campaign.phone_number.digits,
        content={"body": "hola"}, status=MessageStatus.RECEIVED, provider_message_id="wamid.in0",
    )
    Message.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=1))

    assert tracking.campaigns_refresh(campaign_ids=[sent_campaign.pk]) == [sent_campaign.pk]
    sent_campaign.refresh_from_db()
    assert sent_campaign.counts == {"delivered": 1, "read": 1, "failed": 1, "unknown": 1, "sending": 1,
                                    "replied": 1, "sent": 2}
    progress = selectors.campaign_progress(campaign=sent_campaign)
    assert progress["counts"] == {"replied": 1, "read": 1, "delivered": 1, "sent": 2, "unknown": 1, "failed": 1,
                                  "sending": 1, "queued": 0, "cancelled": 0}
    assert progress["total"] == 8 and progress["done"] == 7 and progress["percent"] == 87
    reasons = {f["code"]: f for f in progress["top_failures"]}
    assert reasons["131026"]["count"] == 1 and "cannot receive" in reasons["131026"]["reason"]
    assert "did not answer" in reasons[""]["reason"]
    failed = sent_campaign.recipients.get(state=RecipientState.FAILED)
    assert failed.error_code == "131026" and failed.error == "Message undeliverable"
    assert abs(sum(s["width"] for s in progress["segments"]) - 100) < 0.01


def test_refresh_is_throttled_and_grouped(sent_campaign, settings, django_assert_max_num_queries):
    settings.CAMPAIGN_COUNTS_MAX_AGE = 60
    tracking.campaigns_refresh(campaign_ids=[sent_campaign.pk], force=True)
    assert tracking.campaigns_refresh(campaign_ids=[sent_campaign.pk]) == []
    settings.CAMPAIGN_COUNTS_MAX_AGE = 0
    with django_assert_max_num_queries(6):
        tracking.campaigns_refresh(campaign_ids=[sent_campaign.pk, 999999])


def test_eta_uses_the_recent_rate_or_the_pace(make_campaign, fake_send, settings):
    settings.CAMPAIGN_CHUNK_MAX = 5
    campaign = make_campaign(20, pace=10)
    services.campaign_pause(actor=campaign.started_by, campaign=campaign)
    campaign.refresh_from_db()
    assert selectors.eta_seconds(campaign=campaign, remaining=20) == (None, None)
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.RUNNING)
    campaign.refresh_from_db()
    assert selectors.eta_seconds(campaign=campaign, remaining=20) == (2, None)


def test_failure_words_know_provider_codes():
    assert "24 hours" in selectors.failure_words(code="131047", error="Re-engagement message")
    assert selectors.failure_words(code="999", error="Something odd") == "Something odd"
    assert "balance" in selectors.failure_words(code="5", error="", provider="contacto_virtual")
    assert "credentials" in selectors.failure_words(code="401", error="")


def test_export_streams_one_line_per_recipient(make_campaign, fake_send):
    campaign = make_campaign(5, recipients=[
        {"phone": "573000000001", "variables": {"body_1": "=HYPERLINK(\"x\")", "body_2": "lunes"}},
        {"phone": "573000000002", "variables": {"body_1": "Bob", "body_2": "martes"}},
        {"phone": "nope", "variables": {"body_1": "Bob", "body_2": "martes"}},
    ])
    work(campaign)
    response = export_response(campaign)
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["row"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["state"] == "sent" and rows[0]["message_id"] and rows[0]["provider_message_id"]
    assert rows[0]["body_1"].startswith("'=")  # no formula injection when opened in a spreadsheet
    assert rows[2]["state"] == "skipped" and rows[2]["not_sent_because"] == "bad_number"


def test_retry_failed_creates_a_follow_up_with_only_those(make_campaign, fake_send, agent):
    campaign = make_campaign(6)
    failing = set(campaign.recipients.order_by("row_number").values_list("phone", flat=True)[:2])
    fake_send.outcome = lambda to: ((MessageStatus.FAILED, "131000", "x") if to in failing
                                    else (MessageStatus.UNKNOWN, "", "") if to.endswith("5")
                                    else (MessageStatus.SENT, "", ""))
    work(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED
    follow_up = services.campaign_retry_failed(actor=agent, campaign=campaign)
    assert follow_up.source_campaign_id == campaign.pk
    assert follow_up.status == CampaignStatus.VALIDATED and follow_up.recipient_count == 2
    assert set(follow_up.recipients.values_list("phone", flat=True)) == failing
    assert follow_up.recipients.first().variables["body_2"] == "lunes"
    with_unknown = services.campaign_retry_failed(actor=agent, campaign=campaign, include_unknown=True)
    assert with_unknown.recipient_count == 3
    # The follow-up sends them again (new keys), once.
    fake_send.outcome = lambda to: (MessageStatus.SENT, "", "")
    services.campaign_report_seen(actor=agent, campaign=follow_up)
    services.campaign_start(actor=agent, campaign=follow_up)
    work(follow_up)
    assert all(fake_send.per_number()[p] == 2 for p in failing)


def test_retry_needs_failures_and_a_stopped_campaign(make_campaign, fake_send, agent):
    campaign = make_campaign(2)
    with pytest.raises(Exception) as error:
        services.campaign_retry_failed(actor=agent, campaign=campaign)
    assert error.value.field == "status"
    work(campaign)
    campaign.refresh_from_db()
    with pytest.raises(Exception) as error:
        services.campaign_retry_failed(actor=agent, campaign=campaign)
    assert error.value.field == "recipients"
