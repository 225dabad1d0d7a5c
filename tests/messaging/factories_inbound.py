"""Factories for the receiving side: accounts with their numbers, contacts, conversations, messages, events.

Kept apart from ``tests/messaging/factories.py`` (the sending side) so both can grow independently.
"""

from __future__ import annotations

import hashlib
import json
import uuid

import factory
from django.utils import timezone

from messaging.models import Contact, Conversation, Direction, Message, MessageStatus, WebhookEvent
from templates_mgr.models import Template, TemplateStatus
from tests.factories import (
    ClientFactory,
    ContactoVirtualAccountFactory,
    MembershipFactory,
    PhoneNumberFactory,
    ProviderAccountFactory,
    UserFactory,
)

__all__ = [
    "ClientFactory",
    "ContactFactory",
    "ContactoVirtualAccountFactory",
    "ConversationFactory",
    "InboundMessageFactory",
    "MembershipFactory",
    "OutboundMessageFactory",
    "PhoneNumberFactory",
    "ProviderAccountFactory",
    "TemplateFactory",
    "UserFactory",
    "WebhookEventFactory",
    "aldeamo_line",
    "contacto_virtual_line",
]


def aldeamo_line(*, digits: str | None = None, account=None):
    """A business number of an Aldeamo account (its client and WABA created with it)."""
    kwargs = {"digits": digits} if digits else {}
    if account is not None:
        kwargs["waba__client__provider_account"] = account
    return PhoneNumberFactory(**kwargs)


def contacto_virtual_line(*, digits: str = "573001234567", account=None):
    """The line of a Contacto Virtual account: a number with no WABA under the account's client."""
    account = account or ContactoVirtualAccountFactory(line_number=digits)
    client = ClientFactory(provider_account=account)
    return PhoneNumberFactory(waba=None, client=client, digits=digits)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    client = factory.SubFactory(ClientFactory)
    wa_id = factory.Sequence(lambda n: f"57310{n:07d}")
    profile_name = factory.Sequence(lambda n: f"Customer {n}")


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    phone_number = factory.SubFactory(PhoneNumberFactory)
    client = factory.SelfAttribute("phone_number.client")
    contact = factory.SubFactory(ContactFactory, client=factory.SelfAttribute("..client"))
    last_message_at = factory.LazyFunction(timezone.now)
    last_inbound_at = factory.LazyFunction(timezone.now)
    last_message_preview = "Hola"


class OutboundMessageFactory(factory.django.DjangoModelFactory):
    """A message we sent and the provider accepted (status ``sent`` unless told otherwise)."""

    class Meta:
        model = Message

    phone_number = factory.SubFactory(PhoneNumberFactory)
    client = factory.SelfAttribute("phone_number.client")
    direction = Direction.OUTBOUND
    type = "text"
    from_number = factory.SelfAttribute("phone_number.digits")
    to_number = factory.Sequence(lambda n: f"57311{n:07d}")
    content = factory.LazyFunction(lambda: {"body": "Hola, ¿en qué podemos ayudarte?"})
    provider_message_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    status = MessageStatus.SENT


class InboundMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    phone_number = factory.SelfAttribute("conversation.phone_number")
    client = factory.SelfAttribute("conversation.client")
    direction = Direction.INBOUND
    type = "text"
    from_number = factory.SelfAttribute("conversation.contact.wa_id")
    to_number = factory.SelfAttribute("phone_number.digits")
    content = factory.LazyFunction(lambda: {"body": "Buenas tardes"})
    provider_message_id = factory.Sequence(lambda n: f"wamid.TEST{n:08d}")
    status = MessageStatus.RECEIVED
    status_at = factory.LazyFunction(timezone.now)


class TemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Template

    client = factory.SubFactory(ClientFactory)
    provider_template_id = factory.Sequence(lambda n: str(7000 + n))
    name = factory.Sequence(lambda n: f"template_{n}")
    language = "es"
    category = "UTILITY"
    status = TemplateStatus.PENDING


class WebhookEventFactory(factory.django.DjangoModelFactory):
    """A stored, not yet processed callback; ``payload`` becomes its body (a dict as JSON, a str as is)."""

    class Meta:
        model = WebhookEvent
        exclude = ("payload",)

    provider_account = factory.SubFactory(ProviderAccountFactory)
    payload = factory.LazyFunction(lambda: {"statuses": []})
    body = factory.LazyAttribute(lambda o: o.payload if isinstance(o.payload, str) else json.dumps(o.payload))
    body_sha256 = factory.LazyAttribute(lambda o: hashlib.sha256(o.body.encode()).hexdigest())
    content_type = "application/json"
