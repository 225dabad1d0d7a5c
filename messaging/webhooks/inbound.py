"""Inbound messages of a batch: filed under their business number and conversation, stored once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from messaging import hooks
from messaging.models import Contact, Conversation, Direction, Message, MessageStatus, MessageType
from messaging.presenters import message_preview
from messaging.webhooks.batch import (
    MAX_NUMBER,
    BatchContext,
    Item,
    MessageIndex,
    Phone,
    attribute,
    bulk_update_rows,
    number_variants,
)
from providers.types import InboundMessage


@dataclass
class _Inbound:
    item: Item
    phone: Phone
    reply_to: Message | None
    moment: datetime

    @property
    def event(self) -> InboundMessage:
        return self.item.event  # type: ignore[return-value]


def inbound_apply(items: list[Item], context: BatchContext, messages: MessageIndex,
                   problems: dict[int, list[str]]) -> None:
    if not items:
        return
    by_custom_field = _custom_field_targets(items, context)
    resolved: list[_Inbound] = []
    for item in items:
        event: InboundMessage = item.event  # type: ignore[assignment]
        account = context.accounts[item.account_id]
        reply_to = None
        phone = None
        if account.capabilities.custom_field:
            # No business number and no context id on the wire (Contacto Virtual): the
            # message that carried this custom_field to this mobile tells both.
            reply_to = by_custom_field.get((item.account_id, event.custom_field, event.from_number))
            if reply_to is not None:
                phone = context.phone_by_id(reply_to.phone_number_id)
            phone = phone or context.account_line(item.account_id)
            if phone is None:
                problems[item.webhook.pk].append(
                    f"This {account.spec.name} account has no business number to file the reply under "
                    "(set its line number or sync its numbers, then reprocess).")
                continue
        else:
            phone = context.business_phone(item.account_id, event.business_number)
            if phone is None:
                problems[item.webhook.pk].append(
                    f"Business number {event.business_number!r} is not one of this account's numbers "
                    "(sync the account, then reprocess)." if event.business_number else
                    "The payload names no business number and the account has several.")
                continue
            reply_to = messages.any(item.account_id, event.context_id)
        attribute(item.webhook, phone.client_id)
        resolved.append(_Inbound(item=item, phone=phone, reply_to=reply_to,
                                 moment=event.timestamp or item.received_at))
    if not resolved:
        return

    contacts = _contacts_upsert(resolved)
    conversations = _conversations_for(resolved, contacts)

    # Already stored (a replay, or a redelivery with another body): skipped, and not counted unread again.
    existing = set(
        Message.objects.filter(direction=Direction.INBOUND, phone_number_id__in={r.phone.id for r in resolved},
                               provider_message_id__in={r.event.message_id for r in resolved})
        .values_list("phone_number_id", "provider_message_id")
    )
    new_messages: list[Message] = []
    for entry in resolved:
        key = (entry.phone.id, entry.event.message_id)
        if key in existing:
            continue
        existing.add(key)
        conversation = conversations[(entry.phone.id, entry.event.from_number)]
        message_type, content = _stored_content(entry.event)
        message = Message(
            client_id=entry.phone.client_id,
            conversation=conversation,
            phone_number_id=entry.phone.id,
            direction=Direction.INBOUND,
            type=message_type,
            from_number=entry.event.from_number,
            to_number=entry.phone.digits[:MAX_NUMBER],
            content=content,
            context_id=entry.event.context_id,
            reply_to=entry.reply_to,
            provider_message_id=entry.event.message_id,
            custom_field=entry.event.custom_field[:1000],
            status=MessageStatus.RECEIVED,
            status_at=entry.moment,
        )
        new_messages.append(message)
        if conversation.last_message_at is None or entry.moment >= conversation.last_message_at:
            conversation.last_message_at = entry.moment
            conversation.last_message_preview = message_preview(message_type, content)
        if conversation.last_inbound_at is None or entry.moment > conversation.last_inbound_at:
            conversation.last_inbound_at = entry.moment
        conversation.unread_count += 1
        conversation.updated_at = timezone.now()
        conversation._touched = True  # type: ignore[attr-defined]
    if new_messages:
        Message.objects.bulk_create(new_messages, ignore_conflicts=True)
    touched = [conversation for conversation in conversations.values() if getattr(conversation, "_touched", False)]
    if touched:
        bulk_update_rows(Conversation, touched,
                         ["last_message_at", "last_inbound_at", "last_message_preview", "unread_count", "updated_at"])
    if new_messages:
        hooks.inbound_stored.fire(messages=new_messages)


def _custom_field_targets(items: list[Item], context: BatchContext) -> dict[tuple[int, str, str], Message]:
    """(account, custom_field, mobile) → the latest outbound message that carried that custom_field to that mobile."""
    wanted = [item for item in items
              if context.accounts[item.account_id].capabilities.custom_field and item.event.custom_field]
    if not wanted:
        return {}
    client_ids = set().union(*(context.clients_by_account.get(item.account_id, set()) for item in wanted))
    mobiles: set[str] = set()
    for item in wanted:
        mobiles.update(number_variants(item.event.from_number))
    rows = list(
        Message.objects.filter(client_id__in=client_ids, direction=Direction.OUTBOUND,
                               custom_field__in={item.event.custom_field for item in wanted}, to_number__in=mobiles)
        .only("id", "client_id", "phone_number_id", "to_number", "custom_field", "created_at")
        .order_by("-created_at")
    )
    found: dict[tuple[int, str, str], Message] = {}
    for item in wanted:
        variants = number_variants(item.event.from_number)
        for row in rows:  # newest first
            if (context.client_account.get(row.client_id) == item.account_id
                    and row.custom_field == item.event.custom_field and row.to_number in variants):
                found[(item.account_id, item.event.custom_field, item.event.from_number)] = row
                break
    return found


def _contacts_upsert(resolved: list[_Inbound]) -> dict[tuple[int, str], Contact]:
    """Contacts of the batch, created if new; a newer non-empty profile name replaces the old one."""
    names: dict[tuple[int, str], str] = {}
    for entry in resolved:
        key = (entry.phone.client_id, entry.event.from_number)
        if entry.event.contact_name or key not in names:
            names[key] = entry.event.contact_name[:200]
    Contact.objects.bulk_create(
        [Contact(client_id=client_id, wa_id=wa_id, profile_name=name) for (client_id, wa_id), name in names.items()],
        ignore_conflicts=True,
    )
    contacts = {
        (contact.client_id, contact.wa_id): contact
        for contact in Contact.objects.filter(client_id__in={k[0] for k in names}, wa_id__in={k[1] for k in names})
        if (contact.client_id, contact.wa_id) in names
    }
    renamed = []
    for key, contact in contacts.items():
        if names[key] and contact.profile_name != names[key]:
            contact.profile_name = names[key]
            contact.updated_at = timezone.now()
            renamed.append(contact)
    if renamed:
        bulk_update_rows(Contact, renamed, ["profile_name", "updated_at"])
    return contacts


def _conversations_for(resolved: list[_Inbound], contacts: Mapping[tuple[int, str], Contact]
                       ) -> dict[tuple[int, str], Conversation]:
    """(business number, wa_id) → its conversation, created if new and locked for this batch.

    The lock makes the unread count safe against another worker adding to the
    same conversation and against the inbox resetting it meanwhile.
    """
    pairs: dict[tuple[int, str], tuple[int, Contact]] = {}
    for entry in resolved:
        contact = contacts[(entry.phone.client_id, entry.event.from_number)]
        pairs[(entry.phone.id, entry.event.from_number)] = (entry.phone.client_id, contact)
    Conversation.objects.bulk_create(
        [Conversation(client_id=client_id, phone_number_id=phone_id, contact=contact)
         for (phone_id, _), (client_id, contact) in pairs.items()],
        ignore_conflicts=True,
    )
    wanted = {(key[0], contact.pk): key for key, (_, contact) in pairs.items()}
    rows = (
        Conversation.objects.filter(phone_number_id__in={k[0] for k in wanted}, contact_id__in={k[1] for k in wanted})
        .select_for_update()
        .order_by("pk")
    )
    found: dict[tuple[int, str], Conversation] = {}
    for conversation in rows:
        key = wanted.get((conversation.phone_number_id, conversation.contact_id))
        if key is not None:
            conversation.contact = pairs[key][1]
            found[key] = conversation
    return found


def _stored_content(event: InboundMessage) -> tuple[str, Any]:
    """The message type and content as stored: the type's object as received.

    A text that came from an ad keeps its ``referral`` inside the content; a
    type the model does not list is stored as ``unsupported`` with the original
    type and object, so nothing is lost.
    """
    message_type = event.type
    content = event.content
    if message_type not in MessageType.values or message_type in (MessageType.REFERRAL, MessageType.UNSUPPORTED):
        return MessageType.UNSUPPORTED, {"type": message_type, "content": content, "referral": event.referral}
    if isinstance(content, Mapping):
        content = dict(content)
    elif content is None:
        content = {}
    if event.referral:
        if isinstance(content, dict):
            content["referral"] = dict(event.referral)
        else:
            content = {"items": content, "referral": dict(event.referral)}
    return message_type, content
