"""Outgoing webhooks end to end: events recorded with their cause, delivered by a run to a local receiver,
signed, retried with backoff, in order per conversation, and never to another client's endpoint."""

from __future__ import annotations

import pytest
from django.utils import timezone

from campaigns import services as campaign_services
from campaigns.models import PauseKind
from campaigns.stops import auto_pause
from messaging.models import MessageStatus
from notifications import delivery, services, signing
from notifications.models import Delivery, DeliveryAttempt, EventType, WebhookEndpoint
from templates_mgr.models import TemplateStatus
from tests.factories import ClientFactory, TemplateFactory
from tests.messaging.factories_inbound import OutboundMessageFactory, aldeamo_line
from tests.messaging.test_ingest import inbound_payload, process, status_payload, store, text_message

pytestmark = pytest.mark.django_db


def deliver(endpoint) -> delivery.RunResult:
    return delivery.endpoint_deliver(endpoint_id=endpoint.pk)


def inbound(line, n: int, *, wa_id: str = "573115550000", prefix: str = "IN"):
    account = line.client.provider_account
    for i in range(n):
        store(account, inbound_payload(text_message(f"hola {i}", message_id=f"wamid.{prefix}{wa_id}{i}",
                                                    wa_id=wa_id), origin=line.digits, wa_id=wa_id))
    process()


def assert_signed(record, secret: str, now) -> None:
    assert signing.verify(record["headers"][signing.HEADER], record["body"], secret, now=now.timestamp())


def test_every_event_type_reaches_the_receiver_signed(receiver, endpoint, line, fake_clock, client_admin):
    secret = endpoint.secret  # shown once, at creation
    # message.received
    inbound(line, 1)
    # message.status
    OutboundMessageFactory(phone_number=line, provider_message_id="prov-1", status=MessageStatus.SENT)
    store(line.client.provider_account, status_payload("prov-1", "delivered", when=timezone.now(), origin=line.digits))
    process()
    # template.status
    template = TemplateFactory(client=line.client, waba=line.waba, provider_template_id="777", name="aviso",
                               language="es", status=TemplateStatus.APPROVED,
                               components=[{"type": "BODY", "text": "Hola {{1}}"}])
    store(line.client.provider_account, {"field": "message_template_status_update", "value": {
        "event": "PAUSED", "message_template_id": 777, "message_template_name": "aviso",
        "message_template_language": "es"}})
    process()
    # campaign.started / paused / finished
    template.status = TemplateStatus.APPROVED
    template.save(update_fields=["status"])
    campaign = campaign_services.campaign_create_with_recipients(
        actor=client_admin, phone_number=line, template=template, name="Promo",
        recipients=[{"phone": "573001112233", "variables": {"body_1": "x"}}])
    campaign.report_seen_at = timezone.now()
    campaign.save(update_fields=["report_seen_at"])
    campaign = campaign_services.campaign_start(actor=client_admin, campaign=campaign)
    auto_pause(campaign=campaign, kind=PauseKind.FAILURES, reason="too many failures")
    campaign_services.campaign_cancel(actor=client_admin, campaign=campaign)

    assert receiver.received == []  # nothing is sent where the events happen
    result = deliver(endpoint)
    assert result.failed == 0
    types = [r["json"]["type"] for r in receiver.received]
    assert types == ["message.received", "message.status", "template.status", "campaign.started",
                     "campaign.paused", "campaign.finished"]
    for record in receiver.received:
        assert_signed(record, secret, fake_clock.now)
        envelope = record["json"]
        assert set(envelope) == {"id", "type", "created_at", "client", "data"}
        assert envelope["client"] == line.client.pk
        assert record["headers"]["Waportal-Event-Id"] == envelope["id"]
    assert receiver.received[0]["json"]["data"]["content"] == {"body": "hola 0"}
    assert receiver.received[1]["json"]["data"]["status"] == "delivered"
    assert receiver.received[2]["json"]["data"]["new"] == "PAUSED"
    assert receiver.received[4]["json"]["data"]["pause_kind"] == "failures"
    assert not signing.verify(receiver.received[0]["headers"][signing.HEADER], receiver.received[0]["body"],
                              "whsec_wrong", now=fake_clock.now.timestamp())
    assert Delivery.objects.filter(state=Delivery.State.DELIVERED).count() == 6


def test_a_receiver_answering_500_gets_the_event_again_later_and_no_more_after_200(receiver, endpoint, line,
                                                                                 fake_clock):
    receiver.status = 500
    inbound(line, 1)
    assert deliver(endpoint).failed == 1
    row = Delivery.objects.get()
    assert (row.state, row.attempts, row.last_status_code) == (Delivery.State.PENDING, 1, 500)
    assert row.next_attempt_at > fake_clock.now  # backed off
    assert deliver(endpoint).sent == 0  # not due yet: nothing sent
    assert len(receiver.received) == 1

    receiver.status = 200
    fake_clock.advance(minutes=5)
    assert deliver(endpoint).sent == 1
    fake_clock.advance(hours=30)
    deliver(endpoint)
    assert [r["status"] for r in receiver.received] == [500, 200]
    assert receiver.received[0]["json"]["id"] == receiver.received[1]["json"]["id"]  # the same event, again
    row.refresh_from_db()
    assert (row.state, row.attempts) == (Delivery.State.DELIVERED, 2)
    log = list(DeliveryAttempt.objects.order_by("at").values_list("status_code", "success", "response_excerpt"))
    assert log == [(500, False, "ok"), (200, True, "ok")]


def test_a_receiver_down_for_an_hour_gets_every_event_afterwards_in_order_per_conversation(receiver, endpoint,
                                                                                           line, fake_clock):
    receiver.stop()  # connection refused from now on
    inbound(line, 3, wa_id="573115550001", prefix="A")
    inbound(line, 3, wa_id="573115550002", prefix="B")
    for _ in range(12):  # an hour of the worker coming back whenever the endpoint is due
        deliver(endpoint)
        fake_clock.advance(minutes=5)
    assert Delivery.objects.filter(state=Delivery.State.PENDING).count() == 6
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.failing_since is not None

    receiver.start()  # back, on the same port
    for _ in range(10):
        fake_clock.advance(hours=1)  # past the capped backoff
        deliver(endpoint)
        if not Delivery.objects.filter(state=Delivery.State.PENDING).exists():
            break
    assert Delivery.objects.filter(state=Delivery.State.PENDING).count() == 0
    bodies = [r["json"]["data"]["content"]["body"] for r in receiver.ok()]
    by_conversation: dict[int, list[str]] = {}
    for record in receiver.ok():
        by_conversation.setdefault(record["json"]["data"]["conversation"], []).append(
            record["json"]["data"]["content"]["body"])
    assert sorted(bodies) == sorted(["hola 0", "hola 1", "hola 2"] * 2)
    assert [values for values in by_conversation.values()] == [["hola 0", "hola 1", "hola 2"]] * 2
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.failures == 0


def test_an_endpoint_failing_for_days_is_disabled_and_its_client_alerted(receiver, endpoint, line, fake_clock,
                                                                         client_admin):
    from notifications.models import Alert, AlertKind

    receiver.status = 503
    inbound(line, 1)
    for _ in range(80):
        deliver(endpoint)
        fake_clock.advance(hours=1)
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_at is not None
    assert Delivery.objects.get().state == Delivery.State.GIVEN_UP
    alert = Alert.objects.get(kind=AlertKind.ENDPOINT_DISABLED)
    assert alert.client_id == line.client.pk and alert.receipts.filter(user=client_admin).exists()
    # Re-enabled by its admin: healthy again.
    services.webhook_endpoint_update(actor=client_admin, endpoint=endpoint, is_active=True)
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.failing_since is None


def test_an_endpoint_receives_only_its_clients_events(receiver, endpoint, line, fake_clock):
    other_line = aldeamo_line(digits="573235550999", account=line.client.provider_account)
    assert other_line.client_id != line.client_id
    other = services.webhook_endpoint_create(actor=None, client=other_line.client, url=receiver.url + "/other")
    inbound(line, 2)
    assert Delivery.objects.filter(endpoint=other).count() == 0
    deliver(other)
    deliver(endpoint)
    assert len(receiver.received) == 2
    assert {r["json"]["client"] for r in receiver.received} == {line.client.pk}


def test_events_an_endpoint_did_not_subscribe_to_are_not_recorded(receiver, line, fake_clock):
    endpoint = services.webhook_endpoint_create(actor=None, client=line.client, url=receiver.url,
                                                events=[EventType.MESSAGE_STATUS])
    inbound(line, 2)
    assert not Delivery.objects.filter(endpoint=endpoint).exists()


def test_a_client_without_endpoints_costs_no_query(line, django_assert_num_queries):
    from messaging.models import Message
    from notifications.receivers import on_inbound_stored

    ClientFactory()
    inbound(line, 1)
    messages = list(Message.objects.all())
    with django_assert_num_queries(0):
        on_inbound_stored(messages=messages)


def test_after_a_rotation_both_secrets_sign_for_a_day(receiver, endpoint, line, fake_clock):
    old = endpoint.secret
    endpoint = services.webhook_endpoint_rotate_secret(actor=None, endpoint=endpoint)
    new = endpoint.secret
    assert new != old
    inbound(line, 1)
    deliver(endpoint)
    record = receiver.received[0]
    assert_signed(record, new, fake_clock.now)
    assert_signed(record, old, fake_clock.now)


def test_manual_redelivery_sends_again_and_logs_it(receiver, endpoint, line, fake_clock):
    inbound(line, 1)
    deliver(endpoint)
    row = Delivery.objects.get()
    services.webhook_delivery_redeliver(actor=None, delivery_row=row)
    assert len(receiver.ok()) == 2
    assert DeliveryAttempt.objects.filter(delivery=row, manual=True, success=True).count() == 1


def test_the_stored_secret_is_encrypted(endpoint):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM notifications_webhookendpoint WHERE id = %s", [endpoint.pk])
        stored = cursor.fetchone()[0]
    assert stored.startswith("fernet:") and endpoint.secret not in stored
    assert WebhookEndpoint.objects.get().secret == endpoint.secret


def test_the_fan_out_wakes_the_other_endpoints_it_made_deliveries_for(receiver, endpoint, line, fake_clock,
                                                                       monkeypatch,
                                                                       django_capture_on_commit_callbacks):
    from notifications import tasks

    other = services.webhook_endpoint_create(actor=None, client=line.client, url=receiver.url + "/2")
    asked: list[int] = []
    monkeypatch.setattr(tasks, "endpoint_delivery_schedule", lambda *, endpoint_id: asked.append(endpoint_id))
    inbound(line, 2)
    asked.clear()
    with django_capture_on_commit_callbacks(execute=True):
        deliver(endpoint)  # its run fans the outbox out for both endpoints
    assert asked == [other.pk]  # the other one's run may have found nothing a moment ago: it is asked again
    assert Delivery.objects.filter(endpoint=other, state=Delivery.State.PENDING).count() == 2
