"""The reply box's extras (issue 22): reply to a message, attachments by URL, emoji, and the poll's alert markers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from messaging.models import Conversation, Direction, Message
from tests.messaging.factories import (
    ConversationFactory,
    MessageFactory,
    contacto_virtual_number,
    member,
    open_window,
)
from tests.support.sandbox_account import sandbox_aldeamo_account
from workspace.views.inbox import cursor_of

pytestmark = pytest.mark.django_db



@pytest.fixture
def browser(client):
    def as_user(user):
        client.force_login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # the words below are the English ones
        return client

    return as_user


@pytest.fixture
def sandboxed(db, settings):
    """An Aldeamo account on the sandbox, reached in-process: what the provider received is in SandboxMessage."""
    from accounts.models import PhoneNumber
    from accounts.services import provider_account_sync

    with sandbox_aldeamo_account(settings) as account:
        provider_account_sync(account=account)
        yield PhoneNumber.objects.filter(client__provider_account=account).order_by("digits").first()


def _inbound(conversation, *, text="¿Tienen envío a Cali?", provider_id="wamid.HBgMNTczMTM3MDA5OTExFQIAEhgg"):
    return MessageFactory(phone_number=conversation.phone_number, conversation=conversation,
                          direction=Direction.INBOUND, from_number=conversation.contact.wa_id,
                          to_number=conversation.phone_number.digits, content={"body": text},
                          provider_message_id=provider_id, status="received")


# --- reply to a message ---------------------------------------------------------------------------


def test_replying_to_a_message_sends_its_provider_id_as_context_and_the_bubble_quotes_it(browser, sandboxed):
    from sandbox.models import SandboxMessage

    agent = member(sandboxed)
    conversation = open_window(sandboxed, "573137009911")
    asked = _inbound(conversation)
    client = browser(agent)
    page = client.get(f"/c/{conversation.pk}/").content.decode()
    assert f'data-quote="{asked.pk}"' in page  # the bubble offers "Reply"
    strip = client.get(f"/c/{conversation.pk}/quote/?message={asked.pk}").content.decode()
    assert f'name="context" value="{asked.pk}"' in strip and "¿Tienen envío a Cali?" in strip

    answer = client.post(f"/c/{conversation.pk}/reply/", {"text": "Sí, en 2 días.", "token": "q1",
                                                         "context": str(asked.pk)})

    assert answer.status_code == 200, answer.content.decode()[:400]
    sent = Message.objects.get(conversation=conversation, direction=Direction.OUTBOUND)
    assert sent.context_id == asked.provider_message_id and sent.reply_to == asked
    reached = SandboxMessage.objects.get(message_id=sent.provider_message_id)
    assert reached.context_message_id == asked.provider_message_id  # what the provider received
    body = answer.content.decode()
    assert 'class="wa-quote"' in body and f'data-quote-id="{asked.pk}"' in body  # the new bubble shows what it answers
    assert 'name="context"' not in body.split('hx-swap-oob')[0]  # the fresh box has no quote left


def test_a_quote_from_another_conversation_is_refused_naming_the_field(browser, sandboxed, fake):
    agent = member(sandboxed)
    conversation = open_window(sandboxed, "573137009911")
    elsewhere = _inbound(open_window(sandboxed, "573137009922"))
    answer = browser(agent).post(f"/c/{conversation.pk}/reply/", {"text": "Hola", "context": str(elsewhere.pk)})
    assert answer.status_code == 400
    assert "Replying to: The message you are replying to is not in this conversation." in answer.content.decode()
    assert fake.sent == []


def test_a_provider_without_replies_in_context_offers_no_reply_button(browser):
    number = contacto_virtual_number()
    conversation = ConversationFactory(phone_number=number)
    _inbound(conversation)
    page = browser(member(number)).get(f"/c/{conversation.pk}/").content.decode()
    assert 'data-action="quote"' not in page


def test_an_inbound_reply_shows_what_it_answers(browser, number, agent, conversation):
    ours = MessageFactory(phone_number=number, conversation=conversation, content={"body": "¿Le sirve el martes?"})
    MessageFactory(phone_number=number, conversation=conversation, direction=Direction.INBOUND,
                   content={"body": "Sí"}, reply_to=ours, context_id=ours.provider_message_id, status="received")
    page = browser(agent).get(f"/c/{conversation.pk}/").content.decode()
    assert f'data-quote-id="{ours.pk}"' in page and "¿Le sirve el martes?" in page


# --- attachments by URL ---------------------------------------------------------------------------


def test_an_image_by_url_is_sent_and_shows_in_the_thread(browser, sandboxed):
    from sandbox.models import SandboxMessage

    agent = member(sandboxed)
    conversation = open_window(sandboxed, "573137009911")
    answer = browser(agent).post(f"/c/{conversation.pk}/reply/", {
        "text": "", "token": "img1", "media_type": "image", "media_link": "https://example.com/catalogo.jpg",
        "media_caption": "Nuevo catálogo"})
    assert answer.status_code == 200, answer.content.decode()[:400]
    sent = Message.objects.get(conversation=conversation, direction=Direction.OUTBOUND)
    assert sent.type == "image" and sent.content["link"] == "https://example.com/catalogo.jpg"
    assert SandboxMessage.objects.get(message_id=sent.provider_message_id).type == "image"
    body = answer.content.decode()
    assert '<img src="https://example.com/catalogo.jpg"' in body and "Nuevo catálogo" in body


def test_a_document_keeps_its_filename(browser, number, agent, conversation, fake):
    answer = browser(agent).post(f"/c/{conversation.pk}/reply/", {
        "media_type": "document", "media_link": "https://example.com/f/1.pdf", "media_filename": "factura.pdf",
        "token": "doc1"})
    assert answer.status_code == 200, answer.content.decode()[:400]
    sent = Message.objects.get(conversation=conversation)
    assert sent.content == {"link": "https://example.com/f/1.pdf", "filename": "factura.pdf"}
    assert "factura.pdf" in answer.content.decode()


@pytest.mark.parametrize(("post", "words"), [
    ({"media_type": "image", "media_link": "http://example.com/a.jpg"},
     "File URL (https): image.link must be an https:// link"),
    ({"media_type": "image", "media_link": "nota"}, "File URL (https): image.link must be an https:// link"),
    ({"media_type": "sticker", "media_link": "https://example.com/a.webp"}, "Kind of file: Pick what kind"),
    ({"media_type": "audio", "media_link": "https://example.com/a.mp3", "media_caption": "hola"},
     "Caption: An audio message carries no caption"),
    ({"media_type": "image", "media_link": "https://example.com/a.jpg", "media_filename": "a.jpg"},
     "File name: Only a document has a file name."),
    ({"media_type": "image", "media_link": "https://example.com/a.jpg", "text": "y esto"},
     "Send the text on its own"),
    ({"media_type": "image", "media_link": "https://example.com/a.jpg", "media_caption": "x" * 1025},
     "Caption: image.caption is 1025 characters long"),
])
def test_a_bad_attachment_is_refused_naming_the_field_and_keeps_what_was_typed(browser, agent, conversation, fake,
                                                                               post, words):
    answer = browser(agent).post(f"/c/{conversation.pk}/reply/", {"token": "bad", **post})
    body = answer.content.decode()
    assert answer.status_code == 400, body[:400]
    assert words in body.replace("&#x27;", "'"), body[:600]
    assert f'value="{post["media_link"]}"' in body and "ws-attach\" id=\"reply-attach\" open" in body
    assert fake.sent == [] and not Message.objects.exists()


def test_a_provider_without_free_form_sends_takes_no_attachment(browser):
    number = contacto_virtual_number()
    conversation = ConversationFactory(phone_number=number)
    client = browser(member(number))
    page = client.get(f"/c/{conversation.pk}/").content.decode()
    assert 'name="media_link"' not in page  # only the template picker
    answer = client.post(f"/c/{conversation.pk}/reply/", {"media_type": "image",
                                                         "media_link": "https://example.com/a.jpg"})
    assert answer.status_code == 400 and "send only templates" in answer.content.decode()
    assert not Message.objects.exists()


def test_a_closed_window_takes_no_attachment(browser, number, agent, fake):
    conversation = ConversationFactory(phone_number=number, last_inbound_at=timezone.now() - timedelta(days=2))
    answer = browser(agent).post(f"/c/{conversation.pk}/reply/", {"media_type": "image",
                                                                  "media_link": "https://example.com/a.jpg"})
    assert answer.status_code == 400 and fake.sent == []


def test_a_viewer_cannot_attach(browser, viewer, conversation, fake):
    answer = browser(viewer).post(f"/c/{conversation.pk}/reply/", {"media_type": "image",
                                                                   "media_link": "https://example.com/a.jpg"})
    assert answer.status_code == 403 and fake.sent == []


# --- emoji ----------------------------------------------------------------------------------------


def test_the_emoji_picker_is_grouped_and_cached(browser, agent, conversation):
    client = browser(agent)
    page = client.get(f"/c/{conversation.pk}/").content.decode()
    assert 'id="emoji-picker"' in page and 'hx-get="/emoji/"' in page
    picker = client.get("/emoji/")
    body = picker.content.decode()
    assert body.count('class="ws-emoji-group"') >= 5 and 'data-emoji="👍"' in body and "Smileys" in body
    assert "max-age=3600" in picker["Cache-Control"] and "private" in picker["Cache-Control"]


# --- alerts: the inbox poll marks new customer messages --------------------------------------------


def test_the_poll_marks_rows_with_a_new_customer_message(browser, agent, number, django_assert_max_num_queries):
    quiet = ConversationFactory(phone_number=number)
    answered = ConversationFactory(phone_number=number)
    Conversation.objects.update(updated_at=timezone.now() - timedelta(minutes=1),
                                last_inbound_at=timezone.now() - timedelta(minutes=1))
    client = browser(agent)
    client.get("/")
    cursor = cursor_of(timezone.now())
    # A customer writes in an existing conversation, another one starts a new one; an agent answers a third.
    Conversation.objects.filter(pk=quiet.pk).update(last_inbound_at=timezone.now(), last_message_at=timezone.now(),
                                                    updated_at=timezone.now(), last_message_preview="¿Abren hoy?")
    new = ConversationFactory(phone_number=number, last_inbound_at=timezone.now())
    Conversation.objects.filter(pk=answered.pk).update(last_message_at=timezone.now(), updated_at=timezone.now())
    with django_assert_max_num_queries(8):
        body = client.get(f"/inbox/changes/?cursor={cursor}&shown={quiet.pk}&shown={answered.pk}").content.decode()

    def anchor(pk):
        start = body.index(f'data-conversation="{pk}"')
        return body[start:body.index(">", start)]

    assert 'data-new-inbound="1"' in anchor(quiet.pk) and 'data-preview="¿Abren hoy?"' in anchor(quiet.pk)
    assert f'data-contact="{quiet.contact.profile_name}"' in anchor(quiet.pk)
    assert "data-new-conversation" not in anchor(quiet.pk)
    assert 'data-new-inbound="1"' in anchor(new.pk) and 'data-new-conversation="1"' in anchor(new.pk)
    assert "data-new-inbound" not in anchor(answered.pk)  # our own answer alerts nobody


def test_the_frame_has_the_bell_with_its_words_and_the_thread_marks_customer_bubbles(browser, agent, conversation):
    client = browser(agent)
    page = client.get("/").content.decode()
    assert 'id="notify-toggle"' in page and 'data-on-label="Notifications on"' in page
    assert "notify.js" in page and "onclick" not in page
    inbound = _inbound(conversation, text="Hola, ¿sigue disponible?")
    thread = client.get(f"/c/{conversation.pk}/").content.decode()
    assert f'data-inbound="{inbound.pk}" data-preview="Hola, ¿sigue disponible?"' in thread


def test_the_thread_poll_brings_other_conversations_news_only_when_the_bell_asks(browser, agent, number,
                                                                                django_assert_max_num_queries):
    opened = ConversationFactory(phone_number=number)
    other = ConversationFactory(phone_number=number)
    stranger = ConversationFactory()  # another tenant's customer writes too
    Conversation.objects.update(updated_at=timezone.now() - timedelta(minutes=1),
                                last_inbound_at=timezone.now() - timedelta(minutes=1))
    client = browser(agent)
    cursor = cursor_of(timezone.now())
    for conversation in (opened, other, stranger):
        Conversation.objects.filter(pk=conversation.pk).update(
            last_inbound_at=timezone.now(), updated_at=timezone.now(), last_message_preview="¿Hay stock?")
    quiet = client.get(f"/c/{opened.pk}/changes/?cursor={cursor}").content.decode()
    assert "ws-alerts" not in quiet  # the bell is off: the poll costs what it did
    with django_assert_max_num_queries(15):  # the panel reads the conversation's team too
        body = client.get(f"/c/{opened.pk}/changes/?cursor={cursor}&alerts=1").content.decode()
    assert '<div id="ws-alerts" hidden hx-swap-oob="true">' in body
    assert f'data-alert-conversation="{other.pk}"' in body and 'data-preview="¿Hay stock?"' in body
    assert f'data-alert-conversation="{opened.pk}"' not in body  # the open one alerts through its own bubbles
    assert f'data-alert-conversation="{stranger.pk}"' not in body


def test_a_template_sent_as_a_reply_carries_the_quoted_message(browser, agent, number, fake):
    from templates_mgr.models import TemplateStatus
    from tests.factories import TemplateFactory

    conversation = ConversationFactory(phone_number=number, last_inbound_at=timezone.now() - timedelta(days=2))
    asked = _inbound(conversation, provider_id="wamid.OLD")
    template = TemplateFactory(client=number.client, waba=number.waba, status=TemplateStatus.APPROVED,
                               components=[{"type": "BODY", "text": "Hola {{1}}"}])
    client = browser(agent)
    page = client.get(f"/c/{conversation.pk}/").content.decode()
    assert f'data-quote="{asked.pk}"' in page and 'id="reply-quote"' in page
    answer = client.post(f"/c/{conversation.pk}/template/", {"template": template.pk, "tpl_body_1": "Ana",
                                                            "token": "tq", "context": str(asked.pk)})
    assert answer.status_code == 200, answer.content.decode()[:500]
    sent = Message.objects.get(conversation=conversation, direction=Direction.OUTBOUND)
    assert sent.context_id == "wamid.OLD" and sent.reply_to == asked


def test_the_quote_strip_and_the_picker_need_a_login_and_another_tenants_message_is_a_404(browser, agent, client):
    elsewhere = _inbound(ConversationFactory())
    assert client.get("/emoji/").status_code == 302
    assert client.get(f"/c/{elsewhere.conversation_id}/quote/?message={elsewhere.pk}").status_code == 302
    assert browser(agent).get(f"/c/{elsewhere.conversation_id}/quote/?message={elsewhere.pk}").status_code == 404


def test_new_bubbles_in_the_thread_poll_offer_reply(browser, agent, number, conversation):
    cursor = cursor_of(timezone.now() - timedelta(seconds=30))
    inbound = _inbound(conversation, text="Otra pregunta")
    body = browser(agent).get(f"/c/{conversation.pk}/changes/?cursor={cursor}").content.decode()
    assert f'data-quote="{inbound.pk}"' in body and 'data-action="quote"' in body
