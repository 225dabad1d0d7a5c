"""Webhooks as the manuals print them (issue 18): each test failed on the code before it.

- trailing commas in the manual's webhook JSON (seed 000 l.1870, l.1906, l.2063) are decoded as responses are;
- an interactive answer typed ``"list_reply/button_replay"`` (seed 000 l.2081) is read by its content;
- a Contacto Virtual customer answering the same word twice keeps both messages, while a replay of one stored
  receipt still stores one.
"""

from __future__ import annotations

import json
import threading

import pytest

from messaging import tasks
from messaging.models import Message, WebhookEvent
from messaging.webhooks.process import webhook_event_reprocess, webhook_events_process
from messaging.webhooks.receive import account_cache_clear
from tests.messaging.factories_inbound import aldeamo_line, contacto_virtual_line

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_receiver_state(monkeypatch):
    account_cache_clear()
    monkeypatch.setattr(tasks, "_local", threading.local())
    yield
    account_cache_clear()


def process_all() -> None:
    while webhook_events_process(limit=500):
        pass


def post(client, account, text: str, content_type: str = "application/json"):
    return client.post(account.webhook_path, data=text, content_type=content_type)


INTERACTIVE_AS_PRINTED = """{
"contacts": [{"profile": {"name": "Laura"}, "wa_id": "573115550000"}],
"messages": [{
  "context": null,
  "from": "573115550000",
  "id": "ABEGVzE3AEU1Ago-sGFyNWirb6O",
  "timestamp": "1640019033",
  "type": "interactive",
  "text": null,
  "interactive": {
    "type": "list_reply/button_replay",
    "list_reply": {"id": "opt-1", "title": "Agendar cita", "description": "Mañana"},
  },
}],
"statuses": null,
"origin_number": "%s",
}"""


def test_an_interactive_reply_typed_as_the_manual_prints_it_shows_its_choice(client):
    line = aldeamo_line(digits="573180000001")

    body = INTERACTIVE_AS_PRINTED.replace("%s", line.digits)
    assert post(client, line.client.provider_account, body).status_code == 200
    process_all()

    event = WebhookEvent.objects.get()
    assert event.state == WebhookEvent.State.PROCESSED, event.reason
    message = Message.objects.get(direction="in")
    assert message.content["type"] == "list_reply"
    assert message.content["list_reply"]["title"] == "Agendar cita"
    assert "Agendar cita" in message.conversation.last_message_preview


def test_a_button_reply_under_the_combined_type_is_read_too():
    from providers.aldeamo.webhooks import interactive_reply_by_content

    content = {"type": "list_reply/button_replay", "list_reply": None, "button_reply": {"id": "b", "title": "Sí"}}
    assert interactive_reply_by_content(content)["type"] == "button_reply"
    plain = {"type": "button_reply", "button_reply": {"id": "b", "title": "Sí"}}
    assert interactive_reply_by_content(plain) is plain


def test_a_status_webhook_with_trailing_commas_is_processed(client):
    line = aldeamo_line(digits="573180000002")
    body = """{"contacts": null, "messages": null, "statuses": [{"id": "gBEGnope", "timestamp": "1640019033",
    "recipient_id": "573115550000", "status": "delivered", "errors": null,},], "origin_number": "LINE",}"""
    body = body.replace("LINE", line.digits)

    post(client, line.client.provider_account, body)
    process_all()

    assert WebhookEvent.objects.get().state != WebhookEvent.State.UNPROCESSED, WebhookEvent.objects.get().reason


def test_a_cv_customer_answering_the_same_word_twice_keeps_both_messages(client):
    line = contacto_virtual_line(digits="573001234599")
    account = line.client.provider_account
    body = json.dumps({"mobile": "573002222222", "message": "Sí", "custom_field": "pedido-7"})

    assert post(client, account, body).status_code == 200
    assert post(client, account, body).status_code == 200
    process_all()

    answers = Message.objects.filter(direction="in")
    assert [m.content["body"] for m in answers] == ["Sí", "Sí"]
    assert len({m.provider_message_id for m in answers}) == 2


def test_a_replayed_cv_receipt_is_still_one_message(client):
    line = contacto_virtual_line(digits="573001234598")
    post(client, line.client.provider_account, json.dumps({"mobile": "573002222222", "message": "Hola"}))
    process_all()

    webhook_event_reprocess(event=WebhookEvent.objects.get())

    assert Message.objects.filter(direction="in").count() == 1


def test_a_cv_status_event_posted_twice_is_still_stored_once(client):
    line = contacto_virtual_line(digits="573001234597")
    body = json.dumps({"type": "message-event", "type2": " sent", "messageId_whatsapp": "w1",
                       "fecha_envio_por_whatsapp": "2026-12-01 10:00:00", "&messageId": "m1"})
    post(client, line.client.provider_account, body)
    post(client, line.client.provider_account, body)
    assert WebhookEvent.objects.count() == 1
