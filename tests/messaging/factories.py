"""Factories for the sending side: templates to send, conversations with an open window, sent messages.

The receiving side keeps its own in ``factories_inbound.py``; both build on ``tests/factories.py``.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import factory
from django.utils import timezone

from accounts.models import Role
from messaging.models import Contact, Conversation, Direction, Message, MessageStatus, StatusEvent
from templates_mgr.models import Template, TemplateStatus
from tests.factories import (
    ClientFactory,
    ContactoVirtualAccountFactory,
    MembershipFactory,
    PhoneNumberFactory,
)


class ContactoVirtualTemplateFactory(factory.django.DjangoModelFactory):
    """An approved Contacto Virtual template: no WABA, the numeric id_template, text with ``{n}``."""

    class Meta:
        model = Template

    client = factory.SubFactory(ClientFactory, provider_account=factory.SubFactory(ContactoVirtualAccountFactory))
    waba = None
    provider_template_id = factory.Sequence(lambda n: str(990 + n))
    name = factory.Sequence(lambda n: f"Plantilla {n}")
    language = ""
    status = TemplateStatus.APPROVED
    text = "Hola *{1}*, tu saldo es {2}."


def aldeamo_number(**kwargs):
    """A business number of an Aldeamo account (its client, WABA and account created with it)."""
    return PhoneNumberFactory(**kwargs)


def contacto_virtual_number(*, digits: str = "573001234567", account=None):
    """The line of a Contacto Virtual account: a number with no WABA."""
    account = account or ContactoVirtualAccountFactory(line_number=digits)
    client = ClientFactory(provider_account=account)
    return PhoneNumberFactory(waba=None, client=client, digits=digits, display_phone_number=f"+{digits}")


def member(number, role: str = Role.AGENT):
    """A staff user with ``role`` in the number's client."""
    return MembershipFactory(client=number.client, role=role).user


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact
        django_get_or_create = ("client", "wa_id")

    client = factory.SubFactory(ClientFactory)
    wa_id = factory.Sequence(lambda n: f"57313{n:07d}")
    profile_name = factory.Sequence(lambda n: f"Cliente {n}")


class ConversationFactory(factory.django.DjangoModelFactory):
    """A conversation whose customer wrote an hour ago: the 24-hour window is open."""

    class Meta:
        model = Conversation
        django_get_or_create = ("phone_number", "contact")

    phone_number = factory.SubFactory(PhoneNumberFactory)
    client = factory.SelfAttribute("phone_number.client")
    contact = factory.SubFactory(ContactFactory, client=factory.SelfAttribute("..client"))
    last_inbound_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    last_message_at = factory.SelfAttribute("last_inbound_at")


def open_window(number, to: str, *, hours_ago: float = 1) -> Conversation:
    """Make ``to`` a customer who wrote to ``number`` ``hours_ago`` hours ago."""
    contact = ContactFactory(client=number.client, wa_id=to)
    conversation = ConversationFactory(phone_number=number, contact=contact)
    conversation.last_inbound_at = timezone.now() - timedelta(hours=hours_ago)
    conversation.save(update_fields=["last_inbound_at"])
    return conversation


class MessageFactory(factory.django.DjangoModelFactory):
    """An outbound text message the provider accepted."""

    class Meta:
        model = Message

    phone_number = factory.SubFactory(PhoneNumberFactory)
    client = factory.SelfAttribute("phone_number.client")
    direction = Direction.OUTBOUND
    type = "text"
    from_number = factory.SelfAttribute("phone_number.digits")
    to_number = factory.Sequence(lambda n: f"57311{n:07d}")
    content = factory.LazyFunction(lambda: {"body": "Hola"})
    request_body = factory.LazyAttribute(
        lambda m: {"from": m.from_number, "to": m.to_number, "type": m.type, m.type: m.content}
    )
    provider_message_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    status = MessageStatus.SENT
    status_at = factory.LazyFunction(timezone.now)


class StatusEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StatusEvent

    message = factory.SubFactory(MessageFactory)
    provider_account = factory.SelfAttribute("message.client.provider_account")
    provider_message_id = factory.SelfAttribute("message.provider_message_id")
    status = MessageStatus.DELIVERED
    timestamp = factory.LazyFunction(timezone.now)
