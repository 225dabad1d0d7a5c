"""How messages and conversations are shown: one-line previews, inbox bubbles, ticks, the window.

Pure functions of stored rows (no queries of their own), shared by the admin
pages, the send service and webhook processing, so a message reads the same
everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timeuntil
from django.utils.translation import gettext

from messaging.conversations import window_closes_at, window_open
from messaging.models import Conversation, Direction, Message, MessageStatus, MessageType, WebhookEvent
from templates_mgr.spec import TemplateSpec, spec_sent, template_spec

MEDIA_TYPES = {MessageType.IMAGE, MessageType.VIDEO, MessageType.AUDIO, MessageType.VOICE, MessageType.DOCUMENT,
               MessageType.STICKER}

# Language-neutral previews: the conversation list shows them whatever the reader's language.
_PREVIEW_ICONS = {
    MessageType.IMAGE: "📷",
    MessageType.VIDEO: "🎥",
    MessageType.AUDIO: "🎵",
    MessageType.VOICE: "🎤",
    MessageType.DOCUMENT: "📄",
    MessageType.STICKER: "🏷️",
    MessageType.LOCATION: "📍",
    MessageType.CONTACTS: "👤",
    MessageType.INTERACTIVE: "☑️",
    MessageType.BUTTON: "☑️",
    MessageType.ORDER: "🛒",
    MessageType.TEMPLATE: "📝",
    MessageType.UNSUPPORTED: "❔",
}


# --- one line --------------------------------------------------------------------------------------


def message_preview(message_type: str, content: Any, *, spec: TemplateSpec | None = None) -> str:
    """A message in one line (≤ 200 characters) for the conversation list, quotes and previews.

    Language-neutral on purpose: it is stored with the conversation
    (``last_message_preview``) when a message is sent or received, and read
    later by people of any language, so a type is an icon, never a word. A
    template send with its template's ``spec`` reads as the customer read it
    (its body with the send's values), as in WhatsApp's own chat list; without
    one, by the template's name.
    """
    text = ""
    data = content if isinstance(content, Mapping) else {}
    if message_type == MessageType.TEXT:
        text = _text(data.get("body"))
    elif message_type in (MessageType.IMAGE, MessageType.VIDEO, MessageType.AUDIO, MessageType.VOICE,
                          MessageType.DOCUMENT, MessageType.STICKER):
        text = _text(data.get("caption")) or _text(data.get("filename"))
    elif message_type == MessageType.LOCATION:
        text = _text(data.get("name")) or _text(data.get("address")) or (
            f"{data.get('latitude')}, {data.get('longitude')}" if data.get("latitude") is not None else "")
    elif message_type == MessageType.CONTACTS:
        cards = content if isinstance(content, list) else data.get("contacts") or []
        names = [_text((card.get("name") or {}).get("formatted_name")) for card in cards if isinstance(card, Mapping)
                 and isinstance(card.get("name"), Mapping)]
        text = ", ".join(name for name in names if name)
    elif message_type == MessageType.INTERACTIVE:
        # An answer carries list_reply/button_reply; a message we send carries a body.
        reply = data.get(_text(data.get("type")))
        body = data.get("body")
        text = (_text(reply.get("title")) if isinstance(reply, Mapping) else "") or (
            _text(body.get("text")) if isinstance(body, Mapping) else "")
    elif message_type == MessageType.BUTTON:
        text = _text(data.get("text")) or _text(data.get("payload"))
    elif message_type == MessageType.ORDER:
        items = data.get("product_items") if isinstance(data.get("product_items"), list) else []
        text = f"× {len(items)}"
    elif message_type == MessageType.TEMPLATE:
        text = (spec_sent(spec, data)["body"] if spec is not None else "") or _text(data.get("name")) or _text(
            data.get("id"))
    icon = _PREVIEW_ICONS.get(message_type, "")
    preview = f"{icon} {text}".strip() if icon else text
    return " ".join(preview.split())[:200]


# --- bubbles: what the inbox templates render for one message -------------------------------------


def _safe_url(value: Any) -> str:
    """An http(s) URL from the payload, or "" (customers' data never becomes a javascript: link)."""
    if not isinstance(value, str):
        return ""
    url = value.strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return ""
    return url if scheme in ("http", "https") else ""


def _text(value: Any) -> str:
    if value is None or isinstance(value, bool | dict | list):
        return ""
    return str(value).strip()


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) <= 180 else None


def map_url(latitude: float, longitude: float) -> str:
    query = urlencode({"mlat": f"{latitude:.6f}", "mlon": f"{longitude:.6f}"})
    return f"https://www.openstreetmap.org/?{query}#map=16/{latitude:.6f}/{longitude:.6f}"


def failure_words(message: Message) -> str:
    """Why a message failed, in words a person can act on."""
    if message.error_title:
        return message.error_title
    if message.error_code:
        return gettext("The provider reported error %(code)s.") % {"code": message.error_code}
    return gettext("The message could not be delivered.")


def ticks(message: Message) -> dict[str, str] | None:
    """The status mark of an outbound message: ✓ sent, ✓✓ delivered, blue ✓✓ read, ⚠ failed."""
    if message.direction != Direction.OUTBOUND:
        return None
    status = message.status
    label = MessageStatus(status).label if status in MessageStatus.values else status
    marks = {
        MessageStatus.QUEUED: ("🕓", "pending"),
        MessageStatus.SENDING: ("🕓", "pending"),
        MessageStatus.UNKNOWN: ("?", "unknown"),
        MessageStatus.SENT: ("✓", "sent"),
        MessageStatus.DELIVERED: ("✓✓", "delivered"),
        MessageStatus.READ: ("✓✓", "read"),
        MessageStatus.FAILED: ("⚠", "failed"),
    }
    symbol, css = marks.get(status, ("", "unknown"))
    return {"symbol": symbol, "css": css, "label": str(label),
            "reason": failure_words(message) if status == MessageStatus.FAILED else ""}


def _contact_cards(content: Any) -> list[dict[str, Any]]:
    cards = content if isinstance(content, list) else (
        content.get("contacts") if isinstance(content, Mapping) else None)
    result = []
    for card in cards if isinstance(cards, list) else []:
        if not isinstance(card, Mapping):
            continue
        name = card.get("name") if isinstance(card.get("name"), Mapping) else {}
        org = card.get("org") if isinstance(card.get("org"), Mapping) else {}
        result.append({
            "name": _text(name.get("formatted_name")) or " ".join(
                part for part in (_text(name.get("first_name")), _text(name.get("last_name"))) if part),
            "org": _text(org.get("company")),
            "phones": [_text(p.get("phone")) for p in card.get("phones") or [] if isinstance(p, Mapping)
                       and _text(p.get("phone"))],
            "emails": [_text(e.get("email")) for e in card.get("emails") or [] if isinstance(e, Mapping)
                       and _text(e.get("email"))],
        })
    return result


def _quote(message: Message) -> dict[str, Any] | None:
    """The message this one answers, shown above it (interactive choices show what they chose from)."""
    target = message.reply_to
    if target is not None:
        return {"text": quote_text(target), "mine": target.direction == Direction.OUTBOUND, "id": str(target.pk)}
    if message.context_id:
        return {"text": gettext("A message not stored here"), "mine": False, "id": ""}
    return None


def quote_text(message: Message) -> str:
    """A short text standing for a message in a quote: its one-line preview, or its type."""
    spec = template_spec(message.template) if message.type == MessageType.TEMPLATE and message.template_id else None
    return message_preview(message.type, message.content, spec=spec)[:160] or str(message.get_type_display())


def bubble(message: Message) -> dict[str, Any]:
    """Everything the bubble template needs for ``message``, whatever its type and direction."""
    content = message.content
    data = content if isinstance(content, Mapping) else {}
    kind = message.type
    result: dict[str, Any] = {
        "id": str(message.pk),
        "direction": message.direction,
        "outbound": message.direction == Direction.OUTBOUND,
        "type": kind,
        "type_label": message.get_type_display(),
        "time": (message.status_at if message.direction == Direction.INBOUND and message.status_at
                 else message.created_at),
        "text": "",
        "quote": _quote(message),
        "ticks": ticks(message),
        "can_quote": bool(message.provider_message_id or message.whatsapp_id),
    }
    if kind == MessageType.TEXT:
        result["text"] = _text(data.get("body"))
    elif kind in MEDIA_TYPES:
        mime = _text(data.get("mime_type"))
        shown = {MessageType.IMAGE: "image", MessageType.STICKER: "image", MessageType.VIDEO: "video",
                 MessageType.AUDIO: "audio", MessageType.VOICE: "audio"}.get(kind, "file")
        result["media"] = {"kind": shown, "url": _safe_url(data.get("link")), "mime": mime,
                           "sha256": _text(data.get("sha256")),
                           "filename": _text(data.get("filename")) or _text(data.get("file")) or kind}
        result["text"] = _text(data.get("caption"))
    elif kind == MessageType.LOCATION:
        latitude, longitude = _number(data.get("latitude")), _number(data.get("longitude"))
        result["location"] = {
            "latitude": latitude, "longitude": longitude,
            "name": _text(data.get("name")), "address": _text(data.get("address")),
            "map_url": map_url(latitude, longitude) if latitude is not None and longitude is not None else "",
        }
    elif kind == MessageType.CONTACTS:
        result["contacts"] = _contact_cards(content)
    elif kind == MessageType.INTERACTIVE:
        choice_type = _text(data.get("type"))
        choice = data.get(choice_type)
        if isinstance(choice, Mapping):  # a customer's answer: list_reply / button_reply
            result["choice"] = {"title": _text(choice.get("title")), "description": _text(choice.get("description")),
                                "id": _text(choice.get("id"))}
        else:  # one we sent: body and its buttons or list
            body = data.get("body")
            result["text"] = _text(body.get("text")) if isinstance(body, Mapping) else ""
            action = data.get("action") if isinstance(data.get("action"), Mapping) else {}
            options = [_text((button.get("reply") or {}).get("title")) for button in action.get("buttons") or []
                       if isinstance(button, Mapping) and isinstance(button.get("reply"), Mapping)]
            for section in action.get("sections") or []:
                if isinstance(section, Mapping):
                    options += [_text(row.get("title")) for row in section.get("rows") or []
                                if isinstance(row, Mapping)]
            result["options"] = [option for option in options if option]
    elif kind == MessageType.BUTTON:
        result["choice"] = {"title": _text(data.get("text")), "description": "", "id": _text(data.get("payload"))}
    elif kind == MessageType.ORDER:
        lines, totals = order_totals(data)
        result["order"] = {"lines": lines, "totals": sorted(totals.items()), "catalog_id": _text(data.get("catalog_id")),
                           "text": _text(data.get("text"))}
    elif kind == MessageType.TEMPLATE:
        language = data.get("language")
        result["template"] = {
            "name": _text(data.get("name")) or _text(data.get("id")),
            "language": _text(language.get("code")) if isinstance(language, Mapping) else _text(language),
            "parameters": _template_parameters(data),
        }
    else:
        result["unsupported"] = _text(data.get("type")) or kind
    referral = data.get("referral")
    if isinstance(referral, Mapping):
        media = referral.get("image") if isinstance(referral.get("image"), Mapping) else (
            referral.get("video") if isinstance(referral.get("video"), Mapping) else {})
        result["referral"] = {
            "headline": _text(referral.get("headline")), "body": _text(referral.get("body")),
            "source_url": _safe_url(referral.get("source_url")), "source_type": _text(referral.get("source_type")),
            "image_url": _safe_url(media.get("link")) if referral.get("image") else "",
        }
    return result


def _template_parameters(data: Mapping[str, Any]) -> list[str]:
    values = []
    for component in data.get("components") or []:
        if not isinstance(component, Mapping):
            continue
        for parameter in component.get("parameters") or []:
            if isinstance(parameter, Mapping) and parameter.get("type") == "text":
                values.append(_text(parameter.get("text")))
    return [value for value in values if value]


def order_totals(content: Any) -> tuple[list[dict[str, Any]], dict[str, Decimal]]:
    """The lines of an order with their subtotals, and the total per currency.

    Quantities and prices come as numbers or strings (the manual's examples
    even carry placeholders); a line that is not numeric has no subtotal and
    counts toward no total.
    """
    items = content.get("product_items") if isinstance(content, Mapping) else None
    lines: list[dict[str, Any]] = []
    totals: dict[str, Decimal] = {}
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping):
            continue
        currency = _text(item.get("currency"))
        line = {
            "product": _text(item.get("product_retailer_id")),
            "quantity": item.get("quantity"),
            "price": item.get("item_price"),
            "currency": currency,
            "subtotal": None,
        }
        try:
            subtotal = Decimal(str(item.get("quantity"))) * Decimal(str(item.get("item_price")))
        except (InvalidOperation, ValueError, TypeError):
            subtotal = None
        if subtotal is not None and subtotal.is_finite():
            line["subtotal"] = subtotal
            totals[currency] = totals.get(currency, Decimal(0)) + subtotal
        lines.append(line)
    return lines, totals


# --- the conversation -----------------------------------------------------------------------------


def window_state(conversation: Conversation, *, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    is_open = window_open(conversation.last_inbound_at, now=now)
    closes_at = window_closes_at(conversation.last_inbound_at)
    if is_open:
        label = gettext("Window open: closes in %(left)s") % {"left": timeuntil(closes_at, now)}
    else:
        label = gettext("Window closed: only templates can be sent")
    return {"open": is_open, "closes_at": closes_at.isoformat() if closes_at else None, "label": label}


def compose_url(conversation: Conversation, *, context: Message | None = None) -> str:
    """The composer, preset with this conversation's number and customer (for templates outside the window)."""
    base = reverse("admin:messaging_message_compose")
    query = {"from": conversation.phone_number_id, "to": conversation.contact.wa_id}
    if context is not None and (context.provider_message_id or context.whatsapp_id):
        query["context"] = context.provider_message_id or context.whatsapp_id
    return f"{base}?{urlencode(query)}"


# --- raw webhook events ---------------------------------------------------------------------------


def pretty_body(event: WebhookEvent) -> str:
    """The body as a person reads it: indented JSON, a form as its fields, anything else as stored."""
    try:
        return json.dumps(json.loads(event.body), indent=2, ensure_ascii=False, sort_keys=False)
    except ValueError:
        pass
    if "=" in event.body and "{" not in event.body:
        from urllib.parse import parse_qsl

        pairs = parse_qsl(event.body, keep_blank_values=True)
        if pairs:
            return json.dumps(dict(pairs), indent=2, ensure_ascii=False)
    return event.body
