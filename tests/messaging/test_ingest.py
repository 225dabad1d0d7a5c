"""Processing stored webhook events: statuses forward only, inbound messages once, templates, replay."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from messaging.models import Contact, Conversation, Message, MessageStatus, StatusEvent, WebhookEvent
from messaging.presenters import message_preview, order_totals
from messaging.webhooks import process as ingest
from messaging.webhooks.process import webhook_event_reprocess, webhook_events_process, webhook_events_requeue
from messaging.webhooks.statuses import status_events_link
from templates_mgr.models import TemplateChange, TemplateStatus
from tests.fixtures import load_fixture
from tests.messaging.factories_inbound import (
    ConversationFactory,
    OutboundMessageFactory,
    TemplateFactory,
    WebhookEventFactory,
    aldeamo_line,
    contacto_virtual_line,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 5, 14, 0, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def status_payload(message_id: str, status: str, *, when: datetime, origin: str, errors=None, **extra) -> dict:
    entry = {"id": message_id, "timestamp": str(int(when.timestamp())), "errors": errors,
             "recipient_id": "573115550000", "status": status, **extra}
    return {"contacts": None, "messages": None, "statuses": [entry], "origin_number": origin}


def inbound_payload(message: dict, *, origin: str, name: str = "Laura Gómez", wa_id: str = "573115550000") -> dict:
    return {"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": [message], "statuses": None,
            "origin_number": origin}


def text_message(body: str, *, message_id: str, wa_id: str = "573115550000", when: datetime = T0,
                 context_id: str | None = None) -> dict:
    return {"context": {"from": "x", "id": context_id} if context_id else None, "from": wa_id, "id": message_id,
            "timestamp": str(int(when.timestamp())), "type": "text", "text": {"body": body}}


def store(account, payload) -> WebhookEvent:
    return WebhookEventFactory(provider_account=account, payload=payload)


def process() -> int:
    total = 0
    while (count := webhook_events_process(limit=500)):
        total += count
    return total


@pytest.fixture
def line():
    return aldeamo_line(digits="573235550101")


@pytest.fixture
def account(line):
    return line.client.provider_account


@pytest.fixture
def sent(line):
    return OutboundMessageFactory(phone_number=line, to_number="573115550000", status=MessageStatus.SENT,
                                  whatsapp_id="gBEGtestWAid")


# --- statuses ------------------------------------------------------------------------------------


@pytest.mark.parametrize("order", list(itertools.permutations(["sent", "delivered", "read"])))
def test_every_order_of_sent_delivered_read_ends_at_read(order, account, line, sent):
    times = {"sent": at(1), "delivered": at(2), "read": at(3)}
    for status in order:
        store(account, status_payload(sent.provider_message_id, status, when=times[status], origin=line.digits))
        process()

    sent.refresh_from_db()
    assert sent.status == MessageStatus.READ
    assert (sent.sent_at, sent.delivered_at, sent.read_at) == (at(1), at(2), at(3))
    assert sent.status_events.count() == 3


def test_all_statuses_in_one_batch_end_at_read(account, line, sent):
    for status, seconds in (("read", 3), ("sent", 1), ("delivered", 2)):
        store(account, status_payload(sent.provider_message_id, status, when=at(seconds), origin=line.digits))

    assert process() == 3

    sent.refresh_from_db()
    assert sent.status == MessageStatus.READ
    assert sent.status_at == at(3)


def test_read_without_delivered_then_late_delivered_keeps_read_and_fills_delivered_at(account, line, sent):
    store(account, status_payload(sent.provider_message_id, "read", when=at(5), origin=line.digits))
    process()
    sent.refresh_from_db()
    assert sent.status == MessageStatus.READ
    assert sent.delivered_at is None

    store(account, status_payload(sent.provider_message_id, "delivered", when=at(4), origin=line.digits))
    process()

    sent.refresh_from_db()
    assert sent.status == MessageStatus.READ
    assert sent.read_at == at(5)
    assert sent.delivered_at == at(4)


def test_failed_keeps_code_and_title(account, line, sent):
    errors = [{"code": 131026, "title": "Message undeliverable"}]
    store(account, status_payload(sent.provider_message_id, "failed", when=at(2), origin=line.digits, errors=errors))
    process()
    store(account, status_payload(sent.provider_message_id, "delivered", when=at(1), origin=line.digits))
    process()

    sent.refresh_from_db()
    assert sent.status == MessageStatus.FAILED
    assert sent.error_code == "131026"
    assert sent.error_title == "Message undeliverable"
    assert sent.failed_at == at(2)
    assert sent.delivered_at == at(1)
    history = sent.status_events.get(status="failed")
    assert history.errors == errors


def test_status_matched_by_whatsapp_id(account, line, sent):
    store(account, status_payload("gBEGtestWAid", "delivered", when=at(1), origin=line.digits))
    process()

    sent.refresh_from_db()
    assert sent.status == MessageStatus.DELIVERED
    assert StatusEvent.objects.get().message == sent


def test_status_history_keeps_conversation_and_pricing(account, line, sent):
    payload = status_payload(
        sent.provider_message_id, "delivered", when=at(1), origin=line.digits,
        conversation={"id": "conv-1", "expiration_timestamp": int(at(86400).timestamp()),
                      "origin": {"type": "business_initiated"}},
        pricing={"billable": True, "category": "business_initiated", "pricing_model": "CBP"},
    )
    store(account, payload)
    process()

    event = StatusEvent.objects.get()
    assert (event.conversation_id, event.conversation_origin) == ("conv-1", "business_initiated")
    assert event.conversation_expiration == at(86400)
    assert event.pricing == {"billable": True, "category": "business_initiated", "pricing_model": "CBP"}
    assert event.timestamp == at(1)
    assert event.recipient_id == "573115550000"


def test_redelivered_status_in_another_body_is_stored_once(account, line, sent):
    first = status_payload(sent.provider_message_id, "delivered", when=at(1), origin=line.digits)
    second = {**first, "extra": "the provider's retry differs by a byte"}
    store(account, first)
    store(account, second)
    process()

    assert StatusEvent.objects.count() == 1
    assert WebhookEvent.objects.filter(state=WebhookEvent.State.PROCESSED).count() == 2


def test_status_of_another_accounts_message_is_not_applied(account, line):
    other = OutboundMessageFactory(status=MessageStatus.SENT)  # another account entirely
    store(account, status_payload(other.provider_message_id, "read", when=at(1), origin=line.digits))
    process()

    other.refresh_from_db()
    assert other.status == MessageStatus.SENT
    assert StatusEvent.objects.get().message is None


@pytest.mark.parametrize("first", ["a", "b"])
def test_two_accounts_messages_sharing_a_provider_id_get_their_own_statuses_in_one_batch(first):
    """Provider ids are unique per account only: the batch's lookup is keyed by account too."""
    lines = {"a": aldeamo_line(digits="573235550201"), "b": aldeamo_line(digits="573235550202")}
    messages = {key: OutboundMessageFactory(phone_number=line, to_number="573115550000", status=MessageStatus.SENT,
                                            provider_message_id="shared-id-1", whatsapp_id=f"gBEG-{key}")
                for key, line in lines.items()}
    wanted = {"a": ("read", at(3)), "b": ("delivered", at(2))}
    for key in (first, *(k for k in "ab" if k != first)):
        status, when = wanted[key]
        line = lines[key]
        store(line.client.provider_account, status_payload("shared-id-1", status, when=when, origin=line.digits))

    assert process() == 2

    for key, message in messages.items():
        message.refresh_from_db()
        assert message.status == wanted[key][0], key
        event = StatusEvent.objects.get(provider_account=lines[key].client.provider_account)
        assert (event.message_id, event.status) == (message.pk, wanted[key][0])


def test_a_repeated_status_reported_later_keeps_the_first_time(account, line, sent):
    """Same status, later report (a provider re-send in another body): not a move, so the time stays."""
    store(account, status_payload(sent.provider_message_id, "delivered", when=at(2), origin=line.digits))
    process()
    store(account, status_payload(sent.provider_message_id, "delivered", when=at(9), origin=line.digits,
                                  conversation={"id": "again"}))
    process()

    sent.refresh_from_db()
    assert sent.status == MessageStatus.DELIVERED
    assert (sent.delivered_at, sent.status_at) == (at(2), at(2))


@pytest.mark.parametrize("order", [("failed", "read"), ("read", "failed")])
def test_read_beats_failed_in_either_order(order, account, line, sent):
    """The customer saw it: ``read`` outranks a ``failed`` that came before or after it."""
    errors = [{"code": 131047, "title": "Re-engagement message"}]
    for seconds, status in enumerate(order, start=1):
        store(account, status_payload(sent.provider_message_id, status, when=at(seconds), origin=line.digits,
                                      errors=errors if status == "failed" else None))
        process()

    sent.refresh_from_db()
    assert sent.status == MessageStatus.READ
    assert sent.failed_at is not None and sent.read_at is not None


def test_unknown_status_value_is_kept_in_history_without_moving_the_message(account, line, sent):
    store(account, status_payload(sent.provider_message_id, "deleted", when=at(1), origin=line.digits))
    process()

    sent.refresh_from_db()
    assert sent.status == MessageStatus.SENT
    assert StatusEvent.objects.get().status == "deleted"


# --- a status before its message -------------------------------------------------------------------


def test_status_before_its_message_is_kept_unlinked_then_linked_by_the_send_service(account, line):
    store(account, status_payload("late-uuid", "delivered", when=at(2), origin=line.digits))
    store(account, status_payload("late-uuid", "sent", when=at(1), origin=line.digits))
    process()

    assert StatusEvent.objects.filter(message__isnull=True).count() == 2
    assert WebhookEvent.objects.filter(state=WebhookEvent.State.PROCESSED).count() == 2

    message = OutboundMessageFactory(phone_number=line, provider_message_id="late-uuid", status=MessageStatus.SENDING)
    assert status_events_link(message=message) == 2

    assert message.status == MessageStatus.DELIVERED  # updated in place
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert (message.sent_at, message.delivered_at) == (at(1), at(2))
    assert StatusEvent.objects.filter(message=message).count() == 2
    assert status_events_link(message=message) == 0


def test_the_send_service_links_only_its_own_accounts_early_statuses(account, line):
    other_line = aldeamo_line(digits="573235550303")
    store(other_line.client.provider_account, status_payload("late-uuid", "read", when=at(3),
                                                             origin=other_line.digits))
    store(account, status_payload("late-uuid", "delivered", when=at(2), origin=line.digits))
    process()
    assert StatusEvent.objects.filter(message__isnull=True).count() == 2

    message = OutboundMessageFactory(phone_number=line, provider_message_id="late-uuid", status=MessageStatus.SENDING)
    assert status_events_link(message=message) == 1

    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert StatusEvent.objects.get(provider_account=other_line.client.provider_account).message is None


def test_status_before_its_message_is_linked_by_the_next_processing_run(account, line):
    store(account, status_payload("late-uuid", "read", when=at(3), origin=line.digits))
    process()
    message = OutboundMessageFactory(phone_number=line, provider_message_id="late-uuid", status=MessageStatus.SENT)

    webhook_events_process()  # nothing pending: the sweep alone

    message.refresh_from_db()
    assert message.status == MessageStatus.READ
    assert StatusEvent.objects.get().message == message


# --- inbound messages ----------------------------------------------------------------------------


def test_inbound_text_creates_contact_conversation_and_message(account, line):
    store(account, inbound_payload(text_message("Hola", message_id="wamid.1", when=at(10)), origin=line.digits))
    process()

    message = Message.objects.get(direction="in")
    assert (message.type, message.content, message.from_number, message.to_number) == (
        "text", {"body": "Hola"}, "573115550000", line.digits)
    assert message.status == MessageStatus.RECEIVED
    assert message.status_at == at(10)
    contact = Contact.objects.get()
    assert (contact.wa_id, contact.profile_name, contact.client_id) == ("573115550000", "Laura Gómez", line.client_id)
    conversation = Conversation.objects.get()
    assert message.conversation == conversation
    assert conversation.unread_count == 1
    assert conversation.last_inbound_at == at(10)
    assert conversation.last_message_at == at(10)
    assert conversation.last_message_preview == "Hola"


def test_inbound_redelivery_and_replay_store_one_message_and_count_it_once(account, line):
    payload = inbound_payload(text_message("Hola", message_id="wamid.1"), origin=line.digits)
    event = store(account, payload)
    store(account, {**payload, "retry": 1})
    process()
    webhook_event_reprocess(event=event)

    assert Message.objects.filter(direction="in").count() == 1
    assert Conversation.objects.get().unread_count == 1


def test_contact_name_is_updated_by_a_newer_message(account, line):
    store(account, inbound_payload(text_message("1", message_id="wamid.1"), origin=line.digits, name="Laura"))
    process()
    store(account, inbound_payload(text_message("2", message_id="wamid.2"), origin=line.digits, name="Laura G."))
    process()

    assert Contact.objects.get().profile_name == "Laura G."
    conversation = Conversation.objects.get()
    assert conversation.unread_count == 2
    assert conversation.messages.count() == 2


def test_reply_context_links_to_our_message_by_provider_or_whatsapp_id(account, line, sent):
    store(account, inbound_payload(text_message("Sí", message_id="wamid.a", context_id=sent.provider_message_id),
                                   origin=line.digits))
    store(account, inbound_payload(text_message("No", message_id="wamid.b", context_id="gBEGtestWAid"),
                                   origin=line.digits))
    store(account, inbound_payload(text_message("?", message_id="wamid.c", context_id="not-ours"),
                                   origin=line.digits))
    process()

    replies = {m.provider_message_id: m for m in Message.objects.filter(direction="in")}
    assert replies["wamid.a"].reply_to == sent
    assert replies["wamid.b"].reply_to == sent
    assert replies["wamid.c"].reply_to is None
    assert replies["wamid.c"].context_id == "not-ours"


def test_business_number_is_matched_among_the_accounts_numbers(account, line):
    second = aldeamo_line(digits="573235550202", account=account)
    store(account, inbound_payload(text_message("Hola", message_id="wamid.1"), origin="+57 323 555 0202"))
    process()

    assert Message.objects.get().phone_number == second


def test_unknown_business_number_is_unprocessed_then_replayed_after_a_sync(account, line):
    event = store(account, inbound_payload(text_message("Hola", message_id="wamid.1"), origin="573009999999"))
    process()
    event.refresh_from_db()
    assert event.state == WebhookEvent.State.UNPROCESSED
    assert "573009999999" in event.reason
    assert not Message.objects.exists()

    aldeamo_line(digits="573009999999", account=account)
    event = webhook_event_reprocess(event=event)

    assert event.state == WebhookEvent.State.PROCESSED
    assert event.reason == ""
    assert event.attempts == 2
    assert Message.objects.get().to_number == "573009999999"


def test_window_and_preview_follow_the_newest_message(account, line):
    store(account, inbound_payload(text_message("new", message_id="wamid.2", when=at(20)), origin=line.digits))
    store(account, inbound_payload(text_message("old", message_id="wamid.1", when=at(10)), origin=line.digits))
    process()

    conversation = Conversation.objects.get()
    assert conversation.last_inbound_at == at(20)
    assert conversation.last_message_preview == "new"
    assert conversation.unread_count == 2


def test_referral_is_kept_with_the_text(account, line):
    message = text_message("Vi esto", message_id="wamid.r")
    message["referral"] = {"headline": "Promo", "source_type": "ad", "source_url": "https://fb.me/x"}
    store(account, inbound_payload(message, origin=line.digits))
    process()

    stored = Message.objects.get()
    assert stored.type == "text"
    assert stored.content == {"body": "Vi esto", "referral": message["referral"]}


def test_unsupported_type_is_stored_with_its_original_content(account, line):
    message = {"from": "573115550000", "id": "wamid.u", "timestamp": "1700000000", "type": "reaction",
               "reaction": {"emoji": "👍", "message_id": "x"}}
    store(account, inbound_payload(message, origin=line.digits))
    process()

    stored = Message.objects.get()
    assert stored.type == "unsupported"
    assert stored.content["type"] == "reaction"
    assert stored.content["content"] == {"emoji": "👍", "message_id": "x"}


def test_location_message(account, line):
    message = {"from": "573115550000", "id": "wamid.loc", "timestamp": "1700000000", "type": "location",
               "location": {"latitude": 4.6486, "longitude": -74.0608, "name": "Oficina", "address": "Cra 7"}}
    store(account, inbound_payload(message, origin=line.digits))
    process()

    stored = Message.objects.get()
    assert stored.type == "location"
    assert stored.content["latitude"] == 4.6486
    assert Conversation.objects.get().last_message_preview == "📍 Oficina"


# --- Contacto Virtual --------------------------------------------------------------------------------


@pytest.fixture
def cv_line():
    return contacto_virtual_line(digits="573001234567")


def test_cv_statuses_and_failure_code(cv_line):
    account = cv_line.client.provider_account
    message = OutboundMessageFactory(phone_number=cv_line, provider_message_id="cv-msg-1", type="template",
                                     status=MessageStatus.SENT)
    store(account, {"type": "message-event", "type2": " delivered", "messageId_whatsapp": "wamid.CV1",
                    "fecha_envio_por_whatsapp": "2025-03-05 09:00:00", "&messageId": "cv-msg-1"})
    store(account, {"type": "message-event", "type2": "failed", "code": "1005",
                    "reason": "El envío del mensaje fallo poque plantilla no coincidió", "messageId": "cv-msg-1"})
    process()

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.error_code == "1005"
    assert message.error_title == "El envío del mensaje fallo poque plantilla no coincidió"
    assert message.whatsapp_id == "wamid.CV1"
    assert message.delivered_at == datetime(2025, 3, 5, 14, 0, tzinfo=UTC)  # 09:00 Bogotá


def test_cv_reply_links_to_the_message_that_carried_its_custom_field(cv_line):
    account = cv_line.client.provider_account
    older = OutboundMessageFactory(phone_number=cv_line, to_number="573002222222", custom_field="order-77")
    newer = OutboundMessageFactory(phone_number=cv_line, to_number="573002222222", custom_field="order-77")
    Message.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=1))
    OutboundMessageFactory(phone_number=cv_line, to_number="573009999999", custom_field="order-77")
    store(account, {"mobile": "573002222222", "message": "Sí, confirmo", "custom_field": "order-77"})
    process()

    reply = Message.objects.get(direction="in")
    assert reply.reply_to == newer
    assert reply.phone_number == cv_line
    assert reply.custom_field == "order-77"
    assert reply.content == {"body": "Sí, confirmo"}
    assert reply.provider_message_id.startswith("cv-")


def test_cv_reply_without_custom_field_goes_to_the_account_line(cv_line):
    account = cv_line.client.provider_account
    store(account, "mobile=573002222222&message=Hola+desde+un+formulario&custom_field=")
    process()

    reply = Message.objects.get(direction="in")
    assert reply.phone_number == cv_line
    assert reply.content == {"body": "Hola desde un formulario"}
    assert reply.reply_to is None


# --- template events -----------------------------------------------------------------------------


def test_template_status_category_and_metrics(account, line):
    template = TemplateFactory(client=line.client, waba=line.waba, provider_template_id="12345678",
                               name="my_message_template", language="pt_BR", category="MARKETING")
    store(account, {"field": "message_template_status_update",
                    "value": {"event": "REJECTED", "message_template_id": 12345678, "reason": "INVALID_FORMAT",
                              "message_template_name": "my_message_template", "message_template_language": "pt_BR"}})
    store(account, {"field": "template_category_update",
                    "value": {"message_template_id": 12345678, "new_category": "UTILITY",
                              "previous_category": "MARKETING"}})
    store(account, {"field": "template_performance_metrics", "value": {"templates_performance_metrics": [
        {"template_id": "12345678", "messages_sent_7d": 20, "messages_opened_7d": 7, "top_block_reason": "SPAM"}]}})
    process()

    template.refresh_from_db()
    assert template.status == TemplateStatus.REJECTED
    assert template.rejected_reason == "INVALID_FORMAT"
    assert template.category == "UTILITY"
    assert (template.messages_sent_7d, template.messages_opened_7d, template.top_block_reason) == (20, 7, "SPAM")
    changes = {(c.field, c.old_value, c.new_value, c.source) for c in TemplateChange.objects.all()}
    assert changes == {("status", "PENDING", "REJECTED", "webhook"), ("category", "MARKETING", "UTILITY", "webhook")}

    # Replaying changes nothing.
    for event in WebhookEvent.objects.all():
        webhook_event_reprocess(event=event)
    assert TemplateChange.objects.count() == 2


def test_template_matched_by_name_and_language_when_the_id_is_unknown(account, line):
    template = TemplateFactory(client=line.client, provider_template_id="", name="aviso", language="es")
    store(account, {"field": "message_template_status_update",
                    "value": {"event": "APPROVED", "message_template_id": 999, "message_template_name": "aviso",
                              "message_template_language": "es"}})
    process()

    template.refresh_from_db()
    assert template.status == TemplateStatus.APPROVED


def test_unknown_template_is_unprocessed(account, line):
    event = store(account, {"field": "template_category_update",
                            "value": {"message_template_id": 5, "new_category": "UTILITY"}})
    process()

    event.refresh_from_db()
    assert event.state == WebhookEvent.State.UNPROCESSED
    assert "not known" in event.reason


# --- what cannot be read, and replay ----------------------------------------------------------


def test_unreadable_body_is_unprocessed_with_the_reason(account):
    event = WebhookEventFactory(provider_account=account, body="this is not json", body_sha256="x" * 64)
    process()

    event.refresh_from_db()
    assert event.state == WebhookEvent.State.UNPROCESSED
    assert "not JSON" in event.reason
    assert event.attempts == 1
    assert event.processed_at is not None


def test_a_partly_readable_body_applies_what_it_can_and_says_what_it_could_not(account, line, sent):
    payload = status_payload(sent.provider_message_id, "delivered", when=at(1), origin=line.digits)
    payload["statuses"].append({"status": "read"})  # no id
    event = store(account, payload)
    process()

    event.refresh_from_db()
    sent.refresh_from_db()
    assert sent.status == MessageStatus.DELIVERED
    assert event.state == WebhookEvent.State.UNPROCESSED
    assert "no id" in event.reason


def test_an_exception_marks_only_its_event_as_error(account, line, sent, monkeypatch):
    good = store(account, status_payload(sent.provider_message_id, "delivered", when=at(1), origin=line.digits))
    bad = store(account, {"field": "template_category_update", "value": {"message_template_id": 1}})
    original = ingest.template_events_apply

    def broken(items, *args):
        if items:
            raise RuntimeError("boom")
        return original(items, *args)

    monkeypatch.setattr(ingest, "template_events_apply", broken)
    process()

    good.refresh_from_db()
    bad.refresh_from_db()
    sent.refresh_from_db()
    assert good.state == WebhookEvent.State.PROCESSED
    assert sent.status == MessageStatus.DELIVERED
    assert bad.state == WebhookEvent.State.ERROR
    assert "boom" in bad.reason

    monkeypatch.setattr(ingest, "template_events_apply", original)
    assert webhook_events_requeue(states=[WebhookEvent.State.ERROR]) == 1
    process()
    bad.refresh_from_db()
    assert bad.state == WebhookEvent.State.UNPROCESSED  # now it is only "template not known"


def test_reprocessing_a_processed_status_changes_nothing(account, line, sent):
    event = store(account, status_payload(sent.provider_message_id, "read", when=at(3), origin=line.digits))
    process()
    sent.refresh_from_db()
    before = (sent.status, sent.status_at, sent.read_at)

    webhook_event_reprocess(event=event)

    sent.refresh_from_db()
    assert (sent.status, sent.status_at, sent.read_at) == before
    assert StatusEvent.objects.count() == 1


# --- batching --------------------------------------------------------------------------------------


def _status_batch(account, line, n: int) -> None:
    messages = [OutboundMessageFactory(phone_number=line) for _ in range(n)]
    for message in messages:
        store(account, status_payload(message.provider_message_id, "delivered", when=at(1), origin=line.digits))


def test_processing_query_count_does_not_grow_with_the_batch(account, line, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _status_batch(account, line, 10)
    with CaptureQueriesContext(connection) as small:
        assert webhook_events_process(limit=500) == 10
    _status_batch(account, line, 100)

    with django_assert_max_num_queries(len(small) + 2):
        assert webhook_events_process(limit=500) == 100
    assert Message.objects.filter(status=MessageStatus.DELIVERED).count() == 110


def test_mixed_batch_query_count_is_bounded(account, line, django_assert_max_num_queries):
    messages = [OutboundMessageFactory(phone_number=line) for _ in range(50)]
    for index, message in enumerate(messages):
        store(account, status_payload(message.provider_message_id, "read", when=at(1), origin=line.digits))
        store(account, inbound_payload(text_message(f"m{index}", message_id=f"wamid.{index}",
                                                    wa_id=f"5731155{index:05d}"), origin=line.digits))
    with django_assert_max_num_queries(25):
        assert webhook_events_process(limit=500) == 100
    assert Conversation.objects.count() == 50


def test_batches_respect_the_limit_and_order(account, line, sent):
    for index in range(5):
        store(account, inbound_payload(text_message(str(index), message_id=f"wamid.{index}"), origin=line.digits))

    assert webhook_events_process(limit=2) == 2
    assert webhook_events_process(limit=2) == 2
    assert webhook_events_process(limit=2) == 1
    assert webhook_events_process(limit=2) == 0
    assert Conversation.objects.get().unread_count == 5


# --- helpers shown in the inbox -------------------------------------------------------------------


def test_previews():
    assert message_preview("image", {"caption": "Factura"}) == "📷 Factura"
    assert message_preview("interactive", {"type": "button_reply", "button_reply": {"title": "Sí"}}) == "☑️ Sí"
    assert message_preview("contacts", [{"name": {"formatted_name": "Ana"}}]) == "👤 Ana"
    assert message_preview("text", {"body": "x" * 500}) == "x" * 200


def test_order_totals_tolerate_placeholders():
    lines, totals = order_totals(json.loads(json.dumps(load_fixture("aldeamo", "webhook_inbound_order_product_list")[
        "messages"][0]["order"])))
    assert [line["subtotal"] for line in lines] == [None, None]
    assert totals == {}

    lines, totals = order_totals({"product_items": [
        {"currency": "COP", "quantity": 2, "item_price": 45000, "product_retailer_id": "a"},
        {"currency": "COP", "quantity": "1", "item_price": "129900", "product_retailer_id": "b"}]})
    assert totals == {"COP": 219900}


def test_conversation_factory_smoke():
    conversation = ConversationFactory()
    assert conversation.client == conversation.phone_number.client


def test_process_webhooks_command(account, line, sent):
    from io import StringIO

    from django.core.management import call_command

    store(account, status_payload(sent.provider_message_id, "read", when=at(1), origin=line.digits))
    broken = WebhookEventFactory(provider_account=account, body="{", body_sha256="b" * 64,
                                 state=WebhookEvent.State.ERROR)
    out = StringIO()

    call_command("process_webhooks", "--requeue", "--limit", "10", stdout=out)

    sent.refresh_from_db()
    broken.refresh_from_db()
    assert sent.status == MessageStatus.READ
    assert broken.state == WebhookEvent.State.UNPROCESSED
    assert "Requeued 1 events." in out.getvalue()
    assert "Processed 2 events" in out.getvalue()
