"""Aldeamo webhook payloads → typed events.

Aldeamo POSTs three families of JSON to us (manual v6, §"WEBHOOK" and
§"INBOUND"):

- delivery statuses: ``{"contacts": null, "messages": null, "statuses": [...], "origin_number": ...}``;
- customer messages: ``{"contacts": [...], "messages": [...], "statuses": null, "origin_number"|"originNumber": ...}``;
- template events: ``{"field": "...", "value": {...}}``.

:func:`parse_webhook` never raises: whatever part it cannot read becomes an
:class:`UnknownEvent` carrying that part, so the webhook view can store it
and still answer 200 (a non-200 only makes the provider retry the same body).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from providers.types import InboundMessage, StatusUpdate, TemplateEvent, UnknownEvent, WebhookEvent

logger = logging.getLogger("providers.aldeamo")

# The keys under which an inbound message carries its content, named after its
# ``type`` (§"INBOUND" examples; "voice" is listed there although never filled).
# ``referral`` is not one: it accompanies a text message.
MESSAGE_CONTENT_KEYS = (
    "text",
    "image",
    "audio",
    "video",
    "document",
    "voice",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "button",
    "order",
)

FIELD_CATEGORY = "template_category_update"
FIELD_STATUS = "message_template_status_update"
FIELD_PERFORMANCE = "template_performance_metrics"


def parse_webhook(payload: Any) -> list[WebhookEvent]:
    """Every event in one Aldeamo webhook payload (already JSON-decoded), in payload order.

    Always returns at least one event; a payload with nothing readable gives
    a single UnknownEvent.
    """
    if not isinstance(payload, Mapping):
        return [UnknownEvent(reason="The payload is not a JSON object.", payload=payload)]
    try:
        if "field" in payload:
            return _template_events(payload)
        events = _message_events(payload)
    except Exception as exc:  # the parser must never fail a webhook
        logger.exception("Aldeamo webhook parser failed")
        return [UnknownEvent(reason=f"The payload could not be read: {exc}", payload=payload)]
    return events or [UnknownEvent(reason="The payload has no statuses, messages or template event.", payload=payload)]


# --- statuses and messages --------------------------------------------------


def _message_events(payload: Mapping[str, Any]) -> list[WebhookEvent]:
    # The manual writes both spellings: "origin_number" in most examples,
    # "originNumber" in the reply example.
    business_number = _text(payload.get("origin_number")) or _text(payload.get("originNumber"))
    events: list[WebhookEvent] = []

    statuses = payload.get("statuses")
    if isinstance(statuses, list):
        events.extend(_guarded(_status_update, item, business_number) for item in statuses)
    elif statuses is not None:
        events.append(UnknownEvent(reason="'statuses' is not a list.", payload=statuses))

    messages = payload.get("messages")
    if isinstance(messages, list):
        names = _contact_names(payload.get("contacts"))
        events.extend(_guarded(_inbound_message, item, business_number, names) for item in messages)
    elif messages is not None:
        events.append(UnknownEvent(reason="'messages' is not a list.", payload=messages))
    return events


def _guarded(parse: Callable[..., WebhookEvent], item: Any, *args: Any) -> WebhookEvent:
    """``parse(item, *args)``, or an UnknownEvent for that item if it raises."""
    try:
        return parse(item, *args)
    except Exception as exc:  # one bad part must not lose the others
        logger.exception("Aldeamo webhook part could not be read")
        return UnknownEvent(reason=f"This part could not be read: {exc}", payload=item)


def _status_update(item: Any, business_number: str) -> WebhookEvent:
    if not isinstance(item, Mapping):
        return UnknownEvent(reason="A status entry is not an object.", payload=item)
    message_id = _text(item.get("id"))
    status = _text(item.get("status")).lower()
    if not message_id or not status:
        return UnknownEvent(reason="A status entry has no id or no status.", payload=item)

    errors = item.get("errors")
    if isinstance(errors, Mapping):
        errors = [errors]
    error_list = tuple(dict(e) for e in errors if isinstance(e, Mapping)) if isinstance(errors, list) else ()
    error_code = error_title = ""
    if error_list:
        first = error_list[0]
        error_code = _text(first.get("code"))
        error_title = _text(first.get("title")) or _text(first.get("message")) or _text(first.get("details"))

    # "conversation" is an object in the manual's example; older lines send just its id.
    conversation = item.get("conversation")
    conversation_id = conversation_origin = ""
    conversation_expiration = None
    if isinstance(conversation, Mapping):
        conversation_id = _text(conversation.get("id"))
        origin = conversation.get("origin")
        conversation_origin = _text(origin.get("type")) if isinstance(origin, Mapping) else _text(origin)
        conversation_expiration = _epoch(conversation.get("expiration_timestamp"))
    else:
        conversation_id = _text(conversation)

    pricing = item.get("pricing")
    return StatusUpdate(
        message_id=message_id,
        status=status,
        timestamp=_epoch(item.get("timestamp")),
        recipient_id=_text(item.get("recipient_id")),
        business_number=business_number,
        error_code=error_code,
        error_title=error_title,
        errors=error_list,
        conversation_id=conversation_id,
        conversation_origin=conversation_origin,
        conversation_expiration=conversation_expiration,
        pricing=dict(pricing) if isinstance(pricing, Mapping) else None,
    )


def _contact_names(contacts: Any) -> dict[str, str]:
    """``wa_id`` → profile name of the payload's ``contacts`` list."""
    names: dict[str, str] = {}
    if not isinstance(contacts, list):
        return names
    for contact in contacts:
        if not isinstance(contact, Mapping):
            continue
        profile = contact.get("profile")
        name = _text(profile.get("name")) if isinstance(profile, Mapping) else ""
        names[_text(contact.get("wa_id"))] = name
    return names


REPLY_KINDS = ("list_reply", "button_reply")


def interactive_reply_by_content(content: Mapping[str, Any]) -> Mapping[str, Any]:
    """An interactive answer whose ``type`` names no filled key, re-typed by the key that is filled.

    Seed 000 l.2081 prints ``"type": "list_reply/button_replay"`` (both kinds in
    one word, the second misspelt) above both objects; a real answer carries
    one. When the type does not name a filled object, the first filled of
    ``list_reply``/``button_reply`` is the answer (the order the literal word
    names them); the original type is kept under ``type_as_sent``.
    """
    named = content.get(_text(content.get("type")))
    if isinstance(named, Mapping) and named:
        return content
    for kind in REPLY_KINDS:
        reply = content.get(kind)
        if isinstance(reply, Mapping) and reply:
            return {**content, "type": kind, "type_as_sent": content.get("type")}
    return content


def _inbound_message(item: Any, business_number: str, names: Mapping[str, str]) -> WebhookEvent:
    if not isinstance(item, Mapping):
        return UnknownEvent(reason="A message entry is not an object.", payload=item)
    message_id = _text(item.get("id"))
    from_number = _text(item.get("from"))
    if not message_id or not from_number:
        return UnknownEvent(reason="A message has no id or no sender.", payload=item)

    # The content is the object under the message's type. When that key is
    # empty but exactly one content key is filled, the type is wrong, not the
    # content: the manual's own contacts example says "type": "image" and
    # carries only "contacts". Trust the content then.
    message_type = _text(item.get("type"))
    content = item.get(message_type) if message_type else None
    if content is None:
        filled = [key for key in MESSAGE_CONTENT_KEYS if item.get(key) not in (None, "", [], {})]
        if len(filled) == 1:
            message_type, content = filled[0], item[filled[0]]
    if not message_type:
        return UnknownEvent(reason="A message has no type and no single readable content.", payload=item)
    if message_type == "interactive" and isinstance(content, Mapping):
        content = interactive_reply_by_content(content)

    context = item.get("context")
    if isinstance(context, Mapping):
        context_id = _text(context.get("id"))
    else:
        context_id = _text(context)

    # Contacts are matched to the sender by wa_id; the manual's examples often
    # mask the two differently, so a lone contact names the message anyway.
    contact_name = names.get(from_number, "")
    if not contact_name and len(names) == 1:
        contact_name = next(iter(names.values()))

    referral = item.get("referral")
    return InboundMessage(
        message_id=message_id,
        from_number=from_number,
        type=message_type,
        content=content,
        timestamp=_epoch(item.get("timestamp")),
        business_number=business_number,
        contact_name=contact_name,
        context_id=context_id,
        referral=dict(referral) if isinstance(referral, Mapping) else None,
    )


# --- template events --------------------------------------------------------


def _template_events(payload: Mapping[str, Any]) -> list[WebhookEvent]:
    field = payload.get("field")
    value = payload.get("value")
    if not isinstance(value, Mapping):
        return [UnknownEvent(reason=f"Template event {field!r} has no 'value' object.", payload=payload)]

    if field == FIELD_CATEGORY:
        template_id = _text(value.get("message_template_id"))
        if not template_id:
            return [UnknownEvent(reason="Template category update without a template id.", payload=payload)]
        return [
            TemplateEvent(
                kind="category",
                template_id=template_id,
                name=_text(value.get("message_template_name")),
                language=_text(value.get("message_template_language")),
                previous_category=_text(value.get("previous_category")),
                new_category=_text(value.get("new_category")),
            )
        ]

    if field == FIELD_STATUS:
        template_id = _text(value.get("message_template_id"))
        if not template_id:
            return [UnknownEvent(reason="Template status update without a template id.", payload=payload)]
        return [
            TemplateEvent(
                kind="status",
                template_id=template_id,
                name=_text(value.get("message_template_name")),
                language=_text(value.get("message_template_language")),
                status=_text(value.get("event")),
                reason=_text(value.get("reason")),
            )
        ]

    if field == FIELD_PERFORMANCE:
        metrics = value.get("templates_performance_metrics")
        if not isinstance(metrics, list):
            return [
                UnknownEvent(reason="Template metrics without a templates_performance_metrics list.", payload=payload)
            ]
        events: list[WebhookEvent] = [_guarded(_performance_event, entry) for entry in metrics]
        return events or [UnknownEvent(reason="Template metrics with no entries.", payload=payload)]

    return [UnknownEvent(reason=f"Unknown template event field {field!r}.", payload=payload)]


def _performance_event(entry: Any) -> WebhookEvent:
    if not isinstance(entry, Mapping) or not _text(entry.get("template_id")):
        return UnknownEvent(reason="A template metrics entry has no template id.", payload=entry)
    return TemplateEvent(
        kind="performance",
        template_id=_text(entry.get("template_id")),
        name=_text(entry.get("template_name")),
        language=_text(entry.get("template_language")),
        messages_sent_7d=_int_or_none(entry.get("messages_sent_7d")),
        messages_opened_7d=_int_or_none(entry.get("messages_opened_7d")),
        top_block_reason=_text(entry.get("top_block_reason")),
    )


# --- scalars ----------------------------------------------------------------


def _text(value: Any) -> str:
    """A string or number as text ("" for null, objects and booleans); ids may come as int or str."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float):
        return str(value)
    return ""


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _epoch(value: Any) -> datetime | None:
    """An epoch in seconds (the manual sends strings, "1636642666", and numbers) as an aware UTC datetime."""
    if value is None or isinstance(value, bool):
        return None
    try:
        seconds = float(value.strip()) if isinstance(value, str) else float(value)
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
