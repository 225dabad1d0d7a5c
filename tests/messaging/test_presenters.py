"""One preview: the conversation list, the inbox quote and every send path show a message the same way."""

from __future__ import annotations

import pytest

from messaging.models import Conversation, Direction, MessageStatus, MessageType
from messaging.presenters import message_preview, quote_text
from messaging.sending import BatchItem, TemplateBatch, message_send
from tests.factories import TemplateFactory
from tests.messaging.factories import MessageFactory

pytestmark = pytest.mark.django_db

CUSTOMER = "573131234567"


def _content(name: str, value: str) -> dict:
    return {"name": name, "language": {"code": "es"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": value}]}]}


def test_a_template_sent_alone_or_in_a_batch_is_previewed_as_its_customer_read_it(number, agent, fake):
    """The conversation list shows a template send's body with that customer's values, as WhatsApp's own chat
    list does -- each conversation of a batch its own -- and the inbox quote says the same."""
    template = TemplateFactory(waba=number.waba, name="aviso")  # body "Hola {{1}}"
    single = message_send(actor=agent, phone_number=number, to=CUSTOMER, type="template",
                          content=_content("aviso", "Ana"))
    batch = TemplateBatch(phone_number=number, template=template)
    queued = batch.store([BatchItem(to="573130009999", content=_content("aviso", "Beto"), idempotency_key="k-1"),
                          BatchItem(to="573130008888", content=_content("aviso", "Caro"), idempotency_key="k-2")])

    for message, text in zip((single, *queued), ("📝 Hola Ana", "📝 Hola Beto", "📝 Hola Caro"), strict=True):
        conversation = Conversation.objects.get(pk=message.conversation_id)
        assert conversation.last_message_preview == quote_text(message) == text
    batch.finish()


def test_a_template_send_without_its_template_is_previewed_by_name(number):
    message = MessageFactory(phone_number=number, client=number.client, type=MessageType.TEMPLATE,
                             content=_content("aviso_viejo", "Ana"), template=None)
    assert quote_text(message) == message_preview(MessageType.TEMPLATE, message.content) == "📝 aviso_viejo"


def test_an_inbound_media_message_is_previewed_as_in_the_inbox(number):
    message = MessageFactory(phone_number=number, client=number.client, direction=Direction.INBOUND,
                             type=MessageType.IMAGE, content={"caption": "Factura"}, status=MessageStatus.RECEIVED)

    assert quote_text(message) == message_preview(MessageType.IMAGE, message.content) == "📷 Factura"
