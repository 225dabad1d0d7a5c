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


def test_a_template_sent_alone_or_in_a_batch_is_previewed_as_in_the_inbox(number, agent, fake):
    template = TemplateFactory(waba=number.waba, name="aviso")
    content = {"name": "aviso", "language": {"code": "es"},
               "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}]}

    single = message_send(actor=agent, phone_number=number, to=CUSTOMER, type="template", content=content)
    batch = TemplateBatch(phone_number=number, template=template)
    [queued] = batch.store([BatchItem(to="573130009999", content=content, idempotency_key="k-1")])

    for message in (single, queued):
        conversation = Conversation.objects.get(pk=message.conversation_id)
        assert conversation.last_message_preview == quote_text(message) == "📝 aviso"
    batch.finish()


def test_an_inbound_media_message_is_previewed_as_in_the_inbox(number):
    message = MessageFactory(phone_number=number, client=number.client, direction=Direction.INBOUND,
                             type=MessageType.IMAGE, content={"caption": "Factura"}, status=MessageStatus.RECEIVED)

    assert quote_text(message) == message_preview(MessageType.IMAGE, message.content) == "📷 Factura"
