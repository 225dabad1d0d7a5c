"""Contacto Virtual webhooks -> the normalised event types.

The manual (seed ``002``) shows three shapes, all POSTed to the URL we give:

- a failure, after the provider accepted a send::

    {"type": "message-event", "type2": "failed", "code": "1005", "reason": "...", "messageId": "..."}

- sent / delivered / read, note the *leading space* in ``type2`` and the
  ``&messageId`` key (a query-string leftover; ``messageId`` is accepted too)::

    {"type": "message-event", "type2": " sent", "messageId_whatsapp": "...",
     "fecha_envio_por_whatsapp": "...", "&messageId": "..."}

  ``read`` carries ``fecha_lectura_usuario`` instead of ``fecha_envio_por_whatsapp``;
  ``delivered`` carries ``fecha_envio_por_whatsapp`` (the manual gives no
  delivery-date key), which we take as the event's time all the same.

- a customer reply, with no id, no time and no type::

    {"mobile": "57300222222", "message": "Hola, ...", "custom_field": "1020-3040-5060-7089"}

:func:`parse_webhook` never raises: what it cannot read becomes an
:class:`~providers.types.UnknownEvent`, so the view can answer 200 and the raw
body stays stored for a replay.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from providers.base import json_loads_relaxed
from providers.types import InboundMessage, StatusUpdate, UnknownEvent, WebhookEvent

from .codes import describe_code


def _bogota() -> tzinfo:
    """America/Bogota; a fixed UTC-5 when the system has no tz database (Colombia has had no DST since 1993)."""
    try:
        return ZoneInfo("America/Bogota")
    except ZoneInfoNotFoundError:
        return timezone(timedelta(hours=-5), "America/Bogota")


#: The zone assumed for naive provider times: Contacto Virtual is a Colombian
#: service and the manual gives no zone.
PROVIDER_TIME_ZONE = _bogota()

#: Prefix of the ids we derive for customer replies (the provider gives none).
REPLY_ID_PREFIX = "cv-"

STATUSES = frozenset({"sent", "delivered", "read", "failed"})

# Naive layouts fromisoformat does not read; all year-first, so never ambiguous.
# Day-first layouts (31/01/2024) are deliberately absent: 01/02/2024 could be
# either month, and a wrong time is worse than none.
_EXTRA_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d")

# Epoch values at or above this are milliseconds (10**11 s is the year 5138).
_EPOCH_MILLIS_FROM = 10**11


def parse_timestamp(value: Any) -> datetime | None:
    """An aware datetime from the provider's date fields, or None; never raises.

    The manual only shows ``"xxxxx"``, so common forms are read: ISO 8601
    (``2024-03-05T14:30:00Z``, ``2024-03-05T14:30:00-05:00``), ``YYYY-MM-DD
    HH:MM:SS`` and ``YYYY/MM/DD HH:MM:SS``, and epoch seconds (milliseconds when
    the number is too large to be seconds), as a number or a digit string.
    Naive times are taken as America/Bogota.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_epoch(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return _from_epoch(float(text)) if text.replace(".", "", 1).isdigit() else _from_text(text)
    except (ValueError, OverflowError, OSError):
        return None


def _from_epoch(number: float) -> datetime | None:
    if number != number or number < 0:  # NaN or before 1970: not a real event time
        return None
    seconds = number / 1000 if number >= _EPOCH_MILLIS_FROM else number
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _from_text(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
        for layout in _EXTRA_FORMATS:
            try:
                parsed = datetime.strptime(text, layout)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=PROVIDER_TIME_ZONE)
    return parsed


def is_customer_reply_body(body: bytes) -> bool:
    """Whether a raw webhook body is a customer reply rather than a message event (a byte test, no parsing).

    Message events always carry ``type2`` (seed 002 l.86-130); replies are
    ``{"mobile", "message", "custom_field"}`` (l.134-139). The receiver uses it
    to keep every reply POST as its own receipt.
    """
    return b"type2" not in body and b"message-event" not in body


def reply_message_id(payload: Mapping[str, Any]) -> str:
    """The content part of a customer reply's id: ``cv-`` + SHA-256 of the payload's canonical JSON.

    The provider sends replies with no id, no time and no sequence (seed 002
    l.134-139), and promises no redelivery. Two identical bodies are therefore
    far more likely a customer answering the same word twice ("Sí", "Sí") than
    a redelivery: a redelivery only happens if our 200 -- sent within
    milliseconds, after one INSERT -- is lost on the way back. So the portal
    decides by *receipt*, not by content: every POST of a reply is stored as
    its own webhook row (the receiver adds a nonce, see
    :func:`is_customer_reply_body`), and the ingest appends that receipt to this
    id. A true redelivery, as the portal can tell one, is the same stored
    receipt processed again (a worker retry, a replay from the admin): it keeps
    its id and deduplicates. The cost of the rule is a duplicate bubble in the
    rare case our answer is lost; the rule it replaces lost the customer's
    second message every time.
    """
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return REPLY_ID_PREFIX + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def parse_webhook(payload: Any) -> list[WebhookEvent]:
    """The events in one Contacto Virtual webhook body.

    ``payload`` is the parsed JSON (a dict, or a list of them), a form body
    already decoded into a mapping (Django's ``QueryDict`` or ``parse_qs``
    output: one-element lists are unwrapped), or the raw body as ``str`` /
    ``bytes`` (JSON first, then form-encoded), which lets a stored body be
    replayed as is. Never raises.
    """
    if isinstance(payload, bytes | bytearray):
        try:
            payload = bytes(payload).decode("utf-8")
        except UnicodeDecodeError:
            return [UnknownEvent(reason="The webhook body is not UTF-8 text.", payload=None)]
    if isinstance(payload, str):
        return _parse_text(payload)
    if isinstance(payload, list | tuple):
        if not payload:
            return [UnknownEvent(reason="The webhook body is an empty list.", payload=list(payload))]
        events: list[WebhookEvent] = []
        for item in payload:
            events.extend(parse_webhook(item) if isinstance(item, Mapping) else [_unknown_item(item)])
        return events
    if isinstance(payload, Mapping):
        return [_parse_mapping(_flatten(payload))]
    return [UnknownEvent(reason=f"The webhook body is a {type(payload).__name__}, not a JSON object.", payload=payload)]


def _unknown_item(item: Any) -> UnknownEvent:
    return UnknownEvent(reason=f"A webhook list item is a {type(item).__name__}, not a JSON object.", payload=item)


def _parse_text(text: str) -> list[WebhookEvent]:
    if not text.strip():
        return [UnknownEvent(reason="The webhook body is empty.", payload=text)]
    try:
        decoded = json_loads_relaxed(text)  # trailing commas, as the manuals print JSON
    except ValueError:
        # Not JSON: try a form body. Lenient on purpose: the provider's
        # "&messageId" key hints at hand-built query strings ("...&&messageId=").
        pairs = parse_qsl(text, keep_blank_values=True) if "=" in text else []
        if not pairs:
            return [UnknownEvent(reason="The webhook body is neither JSON nor a form.", payload=text)]
        return [_parse_mapping(dict(pairs))]
    if isinstance(decoded, str):
        # A JSON-encoded string: not one of the provider's shapes. Not decoded
        # again, so no input can make parsing loop.
        return [UnknownEvent(reason="The webhook body is a JSON string, not a JSON object.", payload=decoded)]
    return parse_webhook(decoded)


def _flatten(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A plain dict; one-element lists of form decoders become their value."""
    flat: dict[str, Any] = {}
    for key, value in payload.items():
        if isinstance(value, list | tuple) and len(value) == 1 and not isinstance(value[0], Mapping | list):
            value = value[0]
        flat[str(key)] = value
    return flat


def _text(value: Any) -> str:
    if value is None or isinstance(value, bool | dict | list):
        return ""
    return str(value).strip()


def _message_id(payload: Mapping[str, Any]) -> str:
    """The provider's message id, whatever the key: ``&messageId`` (manual), ``messageId``.

    Matching ignores leading ``&``, surrounding spaces and case, so the
    query-string slip can come in any of its forms.
    """
    for key in ("&messageId", "messageId"):
        if _text(payload.get(key)):
            return _text(payload[key])
    for key, value in payload.items():
        if key.strip().lstrip("&").strip().lower() == "messageid" and _text(value):
            return _text(value)
    return ""


def _parse_mapping(payload: dict[str, Any]) -> WebhookEvent:
    if not payload:
        return UnknownEvent(reason="The webhook body is an empty object.", payload=payload)
    if _text(payload.get("type")).lower() == "message-event" or "type2" in payload:
        return _parse_status(payload)
    if "mobile" in payload and "message" in payload:
        return _parse_reply(payload)
    return UnknownEvent(
        reason="Not a Contacto Virtual message event or customer reply (keys: "
        + ", ".join(sorted(payload)[:20])
        + ").",
        payload=payload,
    )


def _parse_status(payload: dict[str, Any]) -> WebhookEvent:
    # " sent" with a leading space is how the manual writes it; strip, then compare.
    status = _text(payload.get("type2")).lower()
    if status not in STATUSES:
        return UnknownEvent(reason=f"Unknown message-event type2 {payload.get('type2')!r}.", payload=payload)
    message_id = _message_id(payload)
    if not message_id:
        return UnknownEvent(reason=f"A {status} message-event without messageId cannot be matched.", payload=payload)
    if status == "read":
        when = payload.get("fecha_lectura_usuario") or payload.get("fecha_envio_por_whatsapp")
    else:
        when = payload.get("fecha_envio_por_whatsapp") or payload.get("fecha_lectura_usuario")
    error_code = _text(payload.get("code")) if status == "failed" else ""
    error_title = ""
    if status == "failed":
        error_title = _text(payload.get("reason")) or (describe_code(error_code) if error_code else "")
    return StatusUpdate(
        message_id=message_id,
        status=status,
        timestamp=parse_timestamp(when),
        whatsapp_id=_text(payload.get("messageId_whatsapp")),
        recipient_id=_text(payload.get("mobile")),
        error_code=error_code,
        error_title=error_title,
    )


def _parse_reply(payload: dict[str, Any]) -> WebhookEvent:
    message = payload.get("message")
    if isinstance(message, Mapping | list | tuple | bool):
        return UnknownEvent(reason="A customer reply whose message is not text.", payload=payload)
    from_number = _text(payload.get("mobile"))
    if not from_number:
        return UnknownEvent(reason="A customer reply without the customer's mobile.", payload=payload)
    return InboundMessage(
        message_id=reply_message_id(payload),
        from_number=from_number,
        type="text",
        content={"body": "" if message is None else str(message)},
        custom_field=_text(payload.get("custom_field")),
    )
