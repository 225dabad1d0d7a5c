"""Pure builders of every callback payload the sandbox posts.

Each function returns the JSON body exactly in a shape the seeds show
(``000_…`` for Aldeamo, ``002_…`` for Contacto Virtual): same keys, same
nulls, same quirks (Contacto Virtual's ``" sent"`` with a leading space and its
``&messageId`` key; Aldeamo's ``originNumber`` on the reply-with-context
example). No database, no clock, no randomness: callers pass ids and times, so
tests can compare these shapes with the seeds' examples key by key.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

try:
    BOGOTA: timezone | ZoneInfo = ZoneInfo("America/Bogota")
except ZoneInfoNotFoundError:  # no tz database: Colombia has had no DST since 1993
    BOGOTA = timezone(timedelta(hours=-5), "America/Bogota")

# Every message object in the seed's inbound examples lists these keys, null
# when they do not apply; we always send all of them.
INBOUND_CONTENT_KEYS = (
    "text",
    "audio",
    "document",
    "image",
    "location",
    "video",
    "voice",
    "sticker",
    "contacts",
    "interactive",
    "button",
    "referral",
    "order",
)

# Inbound kinds the sandbox can simulate. "reply" is a text answering a given
# message (with ``context``); list_reply/button_reply are interactive answers.
INBOUND_TYPES = (
    "text",
    "reply",
    "image",
    "video",
    "audio",
    "document",
    "voice",
    "sticker",
    "location",
    "contacts",
    "list_reply",
    "button_reply",
    "button",
    "referral",
    "order",
)

MEDIA_TYPES = {
    # type: (file extension, mime type)
    "image": ("jpg", "image/jpeg"),
    "video": ("mp4", "video/mp4"),
    "audio": ("mp3", "audio/mpeg"),
    "voice": ("ogg", "audio/ogg; codecs=opus"),
    "document": ("pdf", "application/pdf"),
    "sticker": ("webp", "image/webp"),
}

# Meta Cloud API errors a delivered-then-failed message realistically carries.
FAILURE_ERRORS: tuple[tuple[int, str], ...] = (
    (131026, "Message undeliverable"),
    (131047, "Re-engagement message"),
    (131049, "This message was not delivered to maintain healthy ecosystem engagement."),
    (131000, "Something went wrong"),
    (131053, "Media upload error"),
)
# Errors of template sends that name a template the WABA cannot use.
TEMPLATE_ERRORS = {
    "missing": (132001, "Template name does not exist in the translation"),
    "params": (132000, "Number of parameters does not match the expected number of params"),
    "PAUSED": (132015, "Template is Paused"),
    "DISABLED": (132016, "Template is Disabled"),
    "PENDING": (132001, "Template name does not exist in the translation"),
    "REJECTED": (132001, "Template name does not exist in the translation"),
}

# Contacto Virtual "sending error, return balance" codes (seed 002).
CV_FAILURE_CODES: dict[str, str] = {
    "1002": "Número no active para enviar mensajes a whatsapp",
    "1003": "No se puede enviar el mensaje Verifique el saldo de su billetera",
    "1004": "El envío del mensaje falló porque el usuario está inactivo para el mensaje de sesión y la mensajería "
    "de plantilla está deshabilitada",
    "1005": "El envío del mensaje fallo poque plantilla no coincidió",
    "1006": "El envío del mensaje falló porque el usuario está inactivo para el mensaje de sesión y no ha optado "
    "por el mensaje de plantilla",
    "1007": "El envío del mensaje falló porque el usuario está inactivo para el mensaje de sesión, no ha optado por "
    "el mensaje de plantilla y la plantilla no coincide",
    "1008": "falta parametros obligatorio en la plantilla",
    "1010": "URL de medios no válida",
    "1011": "Tamaño de mensaje no válido",
}


def epoch(moment: datetime) -> str:
    """Aldeamo timestamps: whole seconds since the epoch, as a string."""
    return str(int(moment.timestamp()))


def cv_datetime(moment: datetime) -> str:
    """Contacto Virtual event dates (``fecha_…``): ``YYYY-MM-DD HH:MM:SS`` on Bogotá's clock.

    The manual shows only ``"xxxxx"``; a Colombian service writes local time,
    which is also how the portal reads naive times from it.
    """
    return moment.astimezone(BOGOTA).strftime("%Y-%m-%d %H:%M:%S")


# --- Aldeamo: statuses --------------------------------------------------------


def aldeamo_error(code: int, title: str) -> dict[str, Any]:
    """One entry of a failed status's ``errors``."""
    return {"code": code, "title": title}


def aldeamo_status(
    *,
    message_id: str,
    status: str,
    timestamp: datetime,
    recipient_id: str,
    origin_number: str,
    conversation_id: str = "",
    conversation_expiration: datetime | None = None,
    origin_type: str = "business_initiated",
    billable: bool = True,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A status webhook, as the seed's "Ejemplo de evento".

    ``sent`` and ``delivered`` carry the conversation and pricing objects;
    ``read`` and ``failed`` carry them as null (WhatsApp bills on delivery and
    opens no conversation for a failed message).
    """
    conversation = None
    pricing = None
    if status in ("sent", "delivered") and conversation_id:
        conversation = {
            "expiration_timestamp": int(conversation_expiration.timestamp()) if conversation_expiration else None,
            "id": conversation_id,
            "origin": {"type": origin_type},
        }
        pricing = {"billable": billable, "category": origin_type, "pricing_model": "CBP"}
    return {
        "contacts": None,
        "messages": None,
        "statuses": [
            {
                "id": message_id,
                "timestamp": epoch(timestamp),
                "errors": errors if errors else None,
                "recipient_id": recipient_id,
                "status": status,
                "conversation": conversation,
                "pricing": pricing,
            }
        ],
        "origin_number": origin_number,
    }


# --- Aldeamo: inbound ---------------------------------------------------------


def media_object(*, media_id: str, link: str, sha256: str, mime_type: str, caption: str | None = None) -> dict:
    """The media object of inbound image/video/audio/document/voice/sticker messages."""
    return {"file": None, "id": media_id, "link": link, "sha256": sha256, "caption": caption, "mime_type": mime_type}


def inbound_context(*, business_number: str, context_id: str) -> dict[str, Any]:
    """``context`` of a message that answers another one (seed: "seleccionando mensaje a responder")."""
    return {
        "from": business_number,
        "id": context_id,
        "mentions": None,
        "forwarded": False,
        "frequently_forwarded": None,
    }


def inbound_contacts_content() -> list[dict[str, Any]]:
    """A shared contact card, as the seed's "respuesta con contactos"."""
    return [
        {
            "addresses": [
                {
                    "city": "Bogotá",
                    "country": "Colombia",
                    "country_code": "co",
                    "street": "Carrera 7 # 71-21\nTorre B Oficina 1203",
                    "type": "WORK",
                    "zip": 110231,
                }
            ],
            "emails": [{"email": "laura.gomez@example.com", "type": "INTERNET"}],
            "ims": [{"service": "", "user_id": ""}],
            "name": {
                "first_name": "Laura",
                "formatted_name": "Laura Gómez Restrepo",
                "last_name": "Gómez Restrepo",
            },
            "org": {},
            "phones": [{"phone": "+57 310 555 0199", "type": "MAIN"}],
            "urls": [],
        }
    ]


def inbound_order_content(items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An order from the catalog (seed: "respuesta con Producto" / "Lista de productos")."""
    return {
        "catalog_id": "2773436916296956",
        "product_items": items
        or [
            {"currency": "COP", "quantity": 2, "item_price": 45000, "product_retailer_id": "q15qn1bxkd"},
            {"currency": "COP", "quantity": 1, "item_price": 129900, "product_retailer_id": "9ajd3r1oh0"},
        ],
    }


def inbound_referral_content(*, image_link: str) -> dict[str, Any]:
    """The ``referral`` of a message started from a Facebook post (seed: "respuesta a Referral")."""
    return {
        "headline": "Comercial Andina",
        "body": None,
        "image": {"file": None, "id": None, "link": image_link, "sha256": None, "caption": None, "mime_type": None},
        "video": None,
        "source_type": "post",
        "source_id": "1107443223245718",
        "source_url": "https://fb.me/3CJ2r7kWS",
    }


def inbound_message(
    *,
    message_id: str,
    from_number: str,
    timestamp: datetime,
    wire_type: str,
    content: dict[str, Any],
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One entry of ``messages``: every content key present, null unless given in ``content``."""
    message: dict[str, Any] = {
        "context": context,
        "from": from_number,
        "id": message_id,
        "timestamp": epoch(timestamp),
        "type": wire_type,
    }
    for key in INBOUND_CONTENT_KEYS:
        message[key] = content.get(key)
    return message


def aldeamo_inbound(
    *,
    message: dict[str, Any],
    contact_name: str,
    wa_id: str,
    origin_number: str,
    origin_key: str = "origin_number",
) -> dict[str, Any]:
    """The inbound envelope. ``origin_key`` is ``originNumber`` in one seed example, ``origin_number`` in the rest."""
    return {
        "contacts": [{"profile": {"name": contact_name}, "wa_id": wa_id}],
        "messages": [message],
        "statuses": None,
        origin_key: origin_number,
    }


# --- Aldeamo: template events -------------------------------------------------


def template_status_update(
    *, event: str, template_id: int, name: str, language: str, reason: str | None = None
) -> dict[str, Any]:
    """``message_template_status_update`` (seed: "Objeto de actualización de estado de plantilla")."""
    return {
        "field": "message_template_status_update",
        "value": {
            "event": event,
            "message_template_id": template_id,
            "message_template_name": name,
            "message_template_language": language,
            "reason": reason,
        },
    }


def template_category_update(
    *, template_id: int, name: str, language: str, previous_category: str, new_category: str
) -> dict[str, Any]:
    """``template_category_update`` (seed: "Objeto de actualización categoría de plantilla")."""
    return {
        "field": "template_category_update",
        "value": {
            "message_template_id": template_id,
            "message_template_name": name,
            "message_template_language": language,
            "previous_category": previous_category,
            "new_category": new_category,
        },
    }


def template_performance_entry(
    *,
    template_id: str,
    name: str,
    language: str,
    messages_sent_7d: int = 0,
    messages_opened_7d: int = 0,
    top_block_reason: str | None = None,
) -> dict[str, Any]:
    """One template's metrics; as in the seed, zero counters are left out rather than sent as 0."""
    entry: dict[str, Any] = {"template_id": template_id, "template_name": name, "template_language": language}
    if messages_sent_7d:
        entry["messages_sent_7d"] = messages_sent_7d
    if messages_opened_7d:
        entry["messages_opened_7d"] = messages_opened_7d
    entry["top_block_reason"] = top_block_reason
    return entry


def template_performance_metrics(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """``template_performance_metrics`` (seed: "Métricas de rendimiento de plantillas de mensaje")."""
    return {"field": "template_performance_metrics", "value": {"templates_performance_metrics": entries}}


# --- Contacto Virtual ---------------------------------------------------------


def cv_status_event(*, status: str, message_id: str, whatsapp_id: str, moment: datetime) -> dict[str, Any]:
    """A sent/delivered/read ``message-event``, quirks kept: ``" sent"`` and ``&messageId``.

    The read event names its date ``fecha_lectura_usuario``; the others
    ``fecha_envio_por_whatsapp``, as in the seed.
    """
    date_key = "fecha_lectura_usuario" if status == "read" else "fecha_envio_por_whatsapp"
    return {
        "type": "message-event",
        "type2": f" {status}",
        "messageId_whatsapp": whatsapp_id,
        date_key: cv_datetime(moment),
        "&messageId": message_id,
    }


def cv_failed_event(*, code: str, reason: str, message_id: str) -> dict[str, Any]:
    """The failed ``message-event`` (no leading space there, and a plain ``messageId``)."""
    return {"type": "message-event", "type2": "failed", "code": code, "reason": reason, "messageId": message_id}


def cv_reply(*, mobile: str, message: str, custom_field: str) -> dict[str, Any]:
    """A customer's answer, echoing the ``custom_field`` of the message it answers."""
    return {"mobile": mobile, "message": message, "custom_field": custom_field}
