"""Contacts and conversations: found or created, never duplicated."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import PhoneNumber
from messaging.models import Contact, Conversation
from waportal.sql import objects_insert

# WhatsApp's customer-service window: free-form messages only within 24 hours
# of the customer's last message.
SERVICE_WINDOW = timedelta(hours=24)


def contact_upsert(*, client_id: int, wa_id: str, profile_name: str = "") -> Contact:
    """The client's contact for ``wa_id``; a newer non-empty profile name replaces the old one."""
    try:
        with transaction.atomic():
            contact, created = Contact.objects.get_or_create(
                client_id=client_id, wa_id=wa_id, defaults={"profile_name": profile_name}
            )
    except IntegrityError:  # created concurrently
        contact, created = Contact.objects.get(client_id=client_id, wa_id=wa_id), False
    if not created and profile_name and contact.profile_name != profile_name:
        contact.profile_name = profile_name
        contact.save(update_fields=["profile_name", "updated_at"])
    return contact


def conversation_for(*, phone_number: PhoneNumber, wa_id: str, profile_name: str = "") -> Conversation:
    """The conversation between a business number and a customer, created on first contact."""
    contact = contact_upsert(client_id=phone_number.client_id, wa_id=wa_id, profile_name=profile_name)
    try:
        with transaction.atomic():
            conversation, _created = Conversation.objects.get_or_create(
                phone_number=phone_number, contact=contact, defaults={"client_id": phone_number.client_id}
            )
    except IntegrityError:
        conversation = Conversation.objects.get(phone_number=phone_number, contact=contact)
    conversation.contact = contact
    return conversation


def contacts_ensure(*, client_id: int, wa_ids: Iterable[str]) -> dict[str, int]:
    """Contact ids by ``wa_id`` for many numbers, creating the missing ones (a few statements, any count).

    Existing contacts are left as they are; concurrent creators cannot
    duplicate a contact (the unique constraint, ``ON CONFLICT DO NOTHING``).
    """
    wanted = set(wa_ids)
    found = dict(Contact.objects.filter(client_id=client_id, wa_id__in=wanted).values_list("wa_id", "id"))
    missing = wanted - found.keys()
    if missing:
        objects_insert([Contact(client_id=client_id, wa_id=wa_id) for wa_id in sorted(missing)],
                       ignore_conflicts=True)
        found.update(Contact.objects.filter(client_id=client_id, wa_id__in=missing).values_list("wa_id", "id"))
    return found


def conversations_ensure(*, phone_number: PhoneNumber, contact_ids: Iterable[int]) -> dict[int, int]:
    """Conversation ids by contact id between ``phone_number`` and many contacts, created on first contact."""
    wanted = set(contact_ids)
    found = dict(Conversation.objects.filter(phone_number=phone_number, contact_id__in=wanted)
                 .values_list("contact_id", "id"))
    missing = wanted - found.keys()
    if missing:
        objects_insert(
            [Conversation(client_id=phone_number.client_id, phone_number=phone_number, contact_id=contact_id)
             for contact_id in sorted(missing)],
            ignore_conflicts=True)
        found.update(Conversation.objects.filter(phone_number=phone_number, contact_id__in=missing)
                     .values_list("contact_id", "id"))
    return found


def window_open(last_inbound_at: datetime | None, *, now: datetime | None = None) -> bool:
    """Whether the 24-hour customer-service window is open."""
    if last_inbound_at is None:
        return False
    return (now or timezone.now()) - last_inbound_at < SERVICE_WINDOW


def window_closes_at(last_inbound_at: datetime | None) -> datetime | None:
    return last_inbound_at + SERVICE_WINDOW if last_inbound_at else None
