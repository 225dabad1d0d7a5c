"""The inbox in the admin: list, thread, live updates, replies; and the raw webhook events admin."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from messaging.models import Conversation, Message, MessageStatus, WebhookEvent
from messaging.presenters import bubble, map_url
from tests.messaging.factories_inbound import (
    ConversationFactory,
    InboundMessageFactory,
    MembershipFactory,
    OutboundMessageFactory,
    WebhookEventFactory,
    aldeamo_line,
    contacto_virtual_line,
)
from waportal.errors import ApplicationError

pytestmark = pytest.mark.django_db


def inbox_url() -> str:
    return reverse("admin:messaging_conversation_changelist")


def thread_url(conversation) -> str:
    return reverse("admin:messaging_inbox_thread", args=[conversation.pk])


def updates_url(conversation) -> str:
    return reverse("admin:messaging_inbox_updates", args=[conversation.pk])


def reply_url(conversation) -> str:
    return reverse("admin:messaging_inbox_reply", args=[conversation.pk])


@pytest.fixture
def line():
    return aldeamo_line(digits="573235550101")


@pytest.fixture
def conversation(line):
    return ConversationFactory(phone_number=line, contact__wa_id="573115550000", contact__profile_name="Laura Gómez",
                               unread_count=2, last_inbound_at=timezone.now() - timedelta(hours=1))


def member(client_obj, role=Role.AGENT):
    return MembershipFactory(client=client_obj, role=role).user


@pytest.fixture
def agent(line):
    return member(line.client, Role.AGENT)


@pytest.fixture
def as_agent(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def fake_send(monkeypatch):
    """Replace the send service; records its calls and returns an outbound message (or raises ``error``)."""
    calls: list[dict] = []
    state: dict = {"error": None, "status": MessageStatus.SENT, "error_title": ""}

    def message_send(**kwargs):
        calls.append(kwargs)
        if state["error"] is not None:
            raise state["error"]
        conversation = Conversation.objects.get(phone_number=kwargs["phone_number"], contact__wa_id=kwargs["to"])
        return OutboundMessageFactory(phone_number=kwargs["phone_number"], to_number=kwargs["to"],
                                      conversation=conversation, content=kwargs["content"], status=state["status"],
                                      error_title=state["error_title"])

    import messaging.sending

    monkeypatch.setattr(messaging.sending, "message_send", message_send)
    return {"calls": calls, "state": state}


# --- list ------------------------------------------------------------------------------------------


def test_inbox_lists_only_the_tenants_conversations_latest_first(as_agent, line, conversation):
    older = ConversationFactory(phone_number=line, contact__profile_name="Andrés",
                                last_message_at=timezone.now() - timedelta(days=2), unread_count=0)
    foreign = ConversationFactory(contact__profile_name="Someone Else")

    response = as_agent.get(inbox_url())

    assert response.status_code == 200
    page = response.content.decode()
    assert "Laura Gómez" in page and "Andrés" in page
    assert "Someone Else" not in page
    assert page.index("Laura Gómez") < page.index("Andrés")
    assert thread_url(conversation) in page
    assert thread_url(foreign) not in page
    assert older.pk != foreign.pk


def test_inbox_shows_unread_counts_and_window_state(as_agent, line, conversation):
    ConversationFactory(phone_number=line, contact__profile_name="Closed Window",
                        last_inbound_at=timezone.now() - timedelta(days=3))

    page = as_agent.get(inbox_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert re.search(r'class="wa-unread"[^>]*>2<', page)
    assert "Window open: closes in" in page
    assert "Window closed" in page


def test_inbox_filters_unread_and_search(as_agent, line, conversation):
    ConversationFactory(phone_number=line, contact__profile_name="Read Already", unread_count=0)

    unread = as_agent.get(inbox_url(), {"unread": "1"}).content.decode()
    search = as_agent.get(inbox_url(), {"q": "read already"}).content.decode()

    assert "Laura Gómez" in unread and "Read Already" not in unread
    assert "Read Already" in search and "Laura Gómez" not in search


def test_inbox_query_count_does_not_grow_with_conversations(as_agent, line, django_assert_max_num_queries):
    for _ in range(3):
        ConversationFactory(phone_number=line)
    as_agent.get(inbox_url())  # warm caches (sessions, permissions)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        as_agent.get(inbox_url())
    for _ in range(30):
        ConversationFactory(phone_number=line)
    with django_assert_max_num_queries(len(few)):
        as_agent.get(inbox_url())


def test_change_url_opens_the_thread(as_agent, conversation):
    response = as_agent.get(reverse("admin:messaging_conversation_change", args=[conversation.pk]))

    assert response.status_code == 302
    assert response["Location"] == thread_url(conversation)


# --- thread ----------------------------------------------------------------------------------------


def test_thread_renders_for_an_agent_and_resets_unread(as_agent, conversation):
    InboundMessageFactory(conversation=conversation, content={"body": "¿Tienen envío a Cali?"})

    response = as_agent.get(thread_url(conversation))

    assert response.status_code == 200
    page = response.content.decode()
    assert "¿Tienen envío a Cali?" in page
    assert 'id="wa-reply-form"' in page
    conversation.refresh_from_db()
    assert conversation.unread_count == 0


def test_thread_of_another_tenant_is_404(as_agent):
    foreign = ConversationFactory()

    assert as_agent.get(thread_url(foreign)).status_code == 404
    assert as_agent.get(updates_url(foreign)).status_code == 404
    assert as_agent.post(reply_url(foreign), {"text": "hola"}).status_code == 404


def test_thread_has_no_inline_script_and_allows_provider_media(as_agent, conversation):
    response = as_agent.get(thread_url(conversation))

    page = response.content.decode()
    for tag in re.findall(r"<script[^>]*>", page):
        assert "src=" in tag and "nonce=" in tag, tag
    assert "messaging/inbox.js" in page
    csp = response["Content-Security-Policy"]
    assert "media-src 'self' https:" in csp
    assert "script-src 'self' 'nonce-" in csp


def test_bubbles_for_every_type(as_agent, line, conversation):
    ours = OutboundMessageFactory(phone_number=line, conversation=conversation, type="interactive", content={
        "type": "button", "body": {"text": "¿Confirmas tu cita?"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Sí"}}]}},
        status=MessageStatus.READ)
    contents = [
        ("image", {"link": "https://cdn.example.com/f.jpg", "mime_type": "image/jpeg", "caption": "Factura",
                   "sha256": "abc123"}),
        ("video", {"link": "https://cdn.example.com/v.mp4", "mime_type": "video/mp4"}),
        ("voice", {"link": "https://cdn.example.com/n.ogg", "mime_type": "audio/ogg"}),
        ("document", {"link": "https://cdn.example.com/d.pdf", "filename": "contrato.pdf"}),
        ("sticker", {"link": "https://cdn.example.com/s.webp", "mime_type": "image/webp"}),
        ("location", {"latitude": 4.6486, "longitude": -74.0608, "name": "Oficina"}),
        ("contacts", [{"name": {"formatted_name": "Ana Ruiz"}, "phones": [{"phone": "+57 310 000 0000"}]}]),
        ("interactive", {"type": "button_reply", "button_reply": {"id": "yes", "title": "Sí"}}),
        ("button", {"payload": "CONFIRM", "text": "Confirmar"}),
        ("order", {"catalog_id": "c1", "product_items": [
            {"product_retailer_id": "SKU-1", "quantity": 2, "item_price": 45000, "currency": "COP"},
            {"product_retailer_id": "SKU-2", "quantity": 1, "item_price": 10000, "currency": "COP"}]}),
        ("text", {"body": "Vi el anuncio", "referral": {"headline": "Promo de marzo", "source_type": "ad",
                                                         "source_url": "https://fb.me/abc",
                                                         "image": {"link": "https://cdn.example.com/ad.jpg"}}}),
        ("image", {"link": "javascript:alert(1)"}),
    ]
    for kind, content in contents:
        InboundMessageFactory(conversation=conversation, type=kind, content=content,
                              reply_to=ours if kind == "interactive" else None)

    page = as_agent.get(thread_url(conversation), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<img src="https://cdn.example.com/f.jpg"' in page and "Factura" in page
    assert '<video controls preload="metadata" src="https://cdn.example.com/v.mp4">' in page
    assert '<audio controls preload="none" src="https://cdn.example.com/n.ogg">' in page
    assert "contrato.pdf" in page
    assert 'class="wa-sticker"' in page
    assert map_url(4.6486, -74.0608).replace("&", "&amp;") in page
    assert "https://www.openstreetmap.org/?mlat=4.648600&amp;mlon=-74.060800" in page
    assert "Ana Ruiz" in page and "+57 310 000 0000" in page
    assert "¿Confirmas tu cita?" in page  # the quoted question the choice answers
    assert "Confirmar" in page
    assert "SKU-1" in page and "100000 COP" in page  # order total: 2 × 45000 + 10000
    assert "Promo de marzo" in page and "https://fb.me/abc" in page
    assert "javascript:" not in page
    assert "wa-ticks-read" in page


def test_ticks_and_failure_reason_in_words(line, conversation):
    sent = OutboundMessageFactory(phone_number=line, conversation=conversation, status=MessageStatus.SENT)
    delivered = OutboundMessageFactory(phone_number=line, conversation=conversation, status=MessageStatus.DELIVERED)
    failed = OutboundMessageFactory(phone_number=line, conversation=conversation, status=MessageStatus.FAILED,
                                    error_code="131026", error_title="Message undeliverable")
    coded = OutboundMessageFactory(phone_number=line, conversation=conversation, status=MessageStatus.FAILED,
                                   error_code="1005")

    assert bubble(sent)["ticks"]["symbol"] == "✓"
    assert bubble(delivered)["ticks"]["symbol"] == "✓✓"
    assert bubble(failed)["ticks"] == {"symbol": "⚠", "css": "failed", "label": str(MessageStatus.FAILED.label),
                                       "reason": "Message undeliverable"}
    assert "1005" in bubble(coded)["ticks"]["reason"]


def test_viewer_sees_the_thread_but_no_reply_box(client, line, conversation, fake_send):
    client.force_login(member(line.client, Role.VIEWER))

    page = client.get(thread_url(conversation), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    response = client.post(reply_url(conversation), {"text": "hola"}, HTTP_ACCEPT="application/json")

    assert 'id="wa-reply-form"' not in page
    assert "agent role" in page
    assert response.status_code == 403
    assert fake_send["calls"] == []


def test_closed_window_offers_a_template_link(as_agent, line):
    closed = ConversationFactory(phone_number=line, contact__wa_id="573119990000",
                                 last_inbound_at=timezone.now() - timedelta(days=2))

    page = as_agent.get(thread_url(closed)).content.decode()

    assert re.search(r'id="wa-reply-form"[^>]*hidden', page)
    assert f"from={line.pk}&amp;to=573119990000" in page
    assert "compose/" in page


def test_contacto_virtual_line_offers_templates_only(client):
    cv = contacto_virtual_line()
    conversation = ConversationFactory(phone_number=cv)
    client.force_login(member(cv.client, Role.AGENT))

    page = client.get(thread_url(conversation), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'id="wa-reply-form"' not in page
    assert "templates only" in page


# --- updates ---------------------------------------------------------------------------------------


def test_updates_return_new_messages_ticks_and_window(as_agent, line, conversation):
    before = OutboundMessageFactory(phone_number=line, conversation=conversation, status=MessageStatus.SENT)
    Message.objects.filter(pk=before.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    cursor = (timezone.now() - timedelta(minutes=5)).isoformat()
    new = InboundMessageFactory(conversation=conversation, content={"body": "¿Sigue disponible?"})
    Message.objects.filter(pk=before.pk).update(status=MessageStatus.READ)

    data = as_agent.get(updates_url(conversation), {"after": cursor}).json()

    assert [item["id"] for item in data["messages"]] == [str(new.pk)]
    assert "¿Sigue disponible?" in data["messages"][0]["html"]
    assert "wa-ticks-read" in data["ticks"][str(before.pk)]
    assert data["window"]["open"] is True
    assert data["cursor"] >= new.created_at.isoformat()[:19]
    conversation.refresh_from_db()
    assert conversation.unread_count == 0


def test_updates_accept_a_message_id_as_cursor(as_agent, conversation):
    old = InboundMessageFactory(conversation=conversation)
    Message.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    cursor = InboundMessageFactory(conversation=conversation)
    Message.objects.filter(pk=cursor.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    new = InboundMessageFactory(conversation=conversation)

    ids = [item["id"] for item in as_agent.get(updates_url(conversation), {"after": str(cursor.pk)}).json()["messages"]]

    # A minute of overlap before the cursor (the page skips what it shows); nothing older.
    assert str(new.pk) in ids
    assert str(old.pk) not in ids


def test_updates_reach_a_message_processed_from_a_webhook(as_agent, line, conversation):
    from messaging.webhooks.process import webhook_events_process

    cursor = timezone.now().isoformat()
    payload = {"contacts": [{"profile": {"name": "Laura Gómez"}, "wa_id": "573115550000"}],
               "messages": [{"from": "573115550000", "id": "wamid.live", "timestamp": "1700000000", "type": "text",
                             "text": {"body": "Respuesta en vivo"}}],
               "statuses": None, "origin_number": line.digits}
    WebhookEventFactory(provider_account=line.client.provider_account, payload=payload)
    webhook_events_process()

    data = as_agent.get(updates_url(conversation), {"after": cursor}).json()

    assert any("Respuesta en vivo" in item["html"] for item in data["messages"])


# --- reply -----------------------------------------------------------------------------------------


def test_reply_calls_message_send(as_agent, agent, line, conversation, fake_send):
    response = as_agent.post(reply_url(conversation), {"text": "  Sí, hacemos envíos  ", "token": "abc123"},
                             HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    data = response.json()
    assert data["ok"] is True and data["warning"] == ""
    assert "Sí, hacemos envíos" in data["html"]
    (call,) = fake_send["calls"]
    assert call["actor"] == agent
    assert call["phone_number"] == line
    assert call["to"] == "573115550000"
    assert call["type"] == "text"
    assert call["content"] == {"body": "Sí, hacemos envíos"}
    assert call["context_message_id"] == ""
    assert call["idempotency_key"] == f"inbox-{conversation.pk}-abc123"


def test_reply_to_a_specific_message_passes_its_provider_id(as_agent, conversation, fake_send):
    question = InboundMessageFactory(conversation=conversation, provider_message_id="wamid.QUESTION")

    as_agent.post(reply_url(conversation), {"text": "Claro", "context": str(question.pk)},
                  HTTP_ACCEPT="application/json")

    assert fake_send["calls"][0]["context_message_id"] == "wamid.QUESTION"


def test_reply_shows_the_services_refusal(as_agent, conversation, fake_send):
    fake_send["state"]["error"] = ApplicationError("The 24-hour window is closed.", field="type")

    json_answer = as_agent.post(reply_url(conversation), {"text": "Hola"}, HTTP_ACCEPT="application/json")
    form_answer = as_agent.post(reply_url(conversation), {"text": "Hola"})

    assert json_answer.status_code == 400
    assert json_answer.json() == {"ok": False, "error": "The 24-hour window is closed.", "field": "type"}
    assert form_answer.status_code == 302
    assert [str(m) for m in get_messages(form_answer.wsgi_request)] == ["The 24-hour window is closed."]


def test_reply_refused_by_the_provider_is_a_warning(as_agent, conversation, fake_send):
    fake_send["state"].update(status=MessageStatus.FAILED, error_title="Re-engagement message")

    data = as_agent.post(reply_url(conversation), {"text": "Hola"}, HTTP_ACCEPT="application/json").json()

    assert data["ok"] is True
    assert data["warning"] == "Re-engagement message"
    assert "wa-ticks-failed" in data["html"]


def test_reply_validates_text_and_context(as_agent, conversation, fake_send):
    empty = as_agent.post(reply_url(conversation), {"text": "   "}, HTTP_ACCEPT="application/json")
    foreign = InboundMessageFactory()
    wrong_context = as_agent.post(reply_url(conversation), {"text": "x", "context": str(foreign.pk)},
                                  HTTP_ACCEPT="application/json")

    assert empty.json()["field"] == "text"
    assert wrong_context.json()["field"] == "context"
    assert fake_send["calls"] == []
    assert as_agent.get(reply_url(conversation)).status_code == 405


# --- raw webhook events ----------------------------------------------------------------------------


@pytest.fixture
def events(line):
    # Processing attributes an event to the one client its body belongs to; client admins see only those.
    ours = WebhookEventFactory(provider_account=line.client.provider_account, client=line.client,
                               payload={"mine": "visible-body"})
    theirs = WebhookEventFactory(payload={"other": "hidden-body"})
    return ours, theirs


def test_webhook_events_for_superusers(client, superuser, events):
    client.force_login(superuser)

    page = client.get(reverse("admin:messaging_webhookevent_changelist")).content.decode()

    assert "visible-body" in page and "hidden-body" in page


def test_webhook_events_for_a_client_admin_are_their_accounts_only(client, line, events):
    ours, theirs = events
    client.force_login(member(line.client, Role.ADMIN))

    page = client.get(reverse("admin:messaging_webhookevent_changelist")).content.decode()
    detail = client.get(reverse("admin:messaging_webhookevent_change", args=[ours.pk]))

    assert "visible-body" in page and "hidden-body" not in page
    assert str(theirs.provider_account) not in page  # not even in the account filter
    assert detail.status_code == 200
    assert "&quot;mine&quot;: &quot;visible-body&quot;" in detail.content.decode()  # pretty-printed, escaped
    assert client.get(reverse("admin:messaging_webhookevent_change", args=[theirs.pk])).status_code in (302, 403, 404)


def test_webhook_events_are_hidden_from_agents(client, line, events):
    client.force_login(member(line.client, Role.AGENT))

    assert client.get(reverse("admin:messaging_webhookevent_changelist")).status_code == 403


def test_webhook_events_filter_and_search(client, superuser, line, events):
    client.force_login(superuser)
    account = line.client.provider_account

    by_account = client.get(reverse("admin:messaging_webhookevent_changelist"), {"account": account.pk})
    by_state = client.get(reverse("admin:messaging_webhookevent_changelist"), {"state__exact": "processed"})
    by_text = client.get(reverse("admin:messaging_webhookevent_changelist"), {"q": "hidden-body"})

    assert "visible-body" in by_account.content.decode() and "hidden-body" not in by_account.content.decode()
    assert "visible-body" not in by_state.content.decode()
    assert "hidden-body" in by_text.content.decode() and "visible-body" not in by_text.content.decode()


def test_reprocess_action_and_button(client, superuser, line):
    account = line.client.provider_account
    event = WebhookEventFactory(provider_account=account, payload={"statuses": "not a list"},
                                state=WebhookEvent.State.ERROR, reason="old")
    client.force_login(superuser)

    client.post(reverse("admin:messaging_webhookevent_changelist"),
                {"action": "action_reprocess", "_selected_action": [event.pk]})
    event.refresh_from_db()
    assert event.state == WebhookEvent.State.UNPROCESSED
    assert "not a list" in event.reason

    WebhookEvent.objects.filter(pk=event.pk).update(body=json.dumps({"statuses": []}), state="error")
    response = client.post(reverse("admin:messaging_webhookevent_reprocess", args=[event.pk]))
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.attempts == 2
