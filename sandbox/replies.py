"""Customer replies: what a simulated customer writes to a business number, in each provider's shape.

The lifecycles in ``callbacks.py`` plan an answer for a share of the messages
read; :func:`sandbox_customer_reply` and :func:`sandbox_cv_customer_reply`
make a customer write on demand (the admin, tests) and post it at once.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime
from typing import Any

import requests
from django.utils import timezone

from . import payloads
from .delivery import deliver_callback
from .faults import account_rng
from .ids import new_inbound_id, new_uuid
from .media import media_link, media_sha256
from .models import (
    CallbackKind,
    Direction,
    Provider,
    SandboxAccount,
    SandboxCallback,
    SandboxMessage,
    SandboxPhoneNumber,
    SandboxTemplate,
)
from .outbox import plan, schedule_all

CUSTOMER_NAMES = ("Laura Gómez", "Andrés Ramírez", "Camila Torres", "Julián Castro", "Valentina Ríos")
CUSTOMER_TEXTS = (
    "Hola, gracias por la información 🙌",
    "¿Me pueden confirmar el horario de atención?",
    "Perfecto, quedo atenta.",
    "No reconozco este cobro, ¿me ayudan?",
    "Sí, confirmo mi cita.",
)


def auto_reply_kind(message: SandboxMessage, rng: random.Random) -> tuple[str, dict[str, Any]]:
    """What a customer plausibly answers to ``message``: a tap on its buttons, a list choice, or text."""
    body = message.body or {}
    if message.type == "template":
        payloads_sent = [
            (c.get("index"), p.get("payload"))
            for c in (body.get("template") or {}).get("components") or []
            if c.get("sub_type") == "quick_reply"
            for p in c.get("parameters") or []
            if p.get("type") == "payload"
        ]
        if payloads_sent:
            index, payload = rng.choice(payloads_sent)
            return "button", {"payload": payload, "text": quick_reply_text(message, index) or payload}
    if message.type == "interactive":
        interactive = body.get("interactive") or {}
        action = interactive.get("action") or {}
        if interactive.get("type") == "button" and action.get("buttons"):
            reply = rng.choice(action["buttons"]).get("reply") or {}
            return "button_reply", {"id": reply.get("id"), "title": reply.get("title")}
        if interactive.get("type") == "list" and action.get("sections"):
            rows = [row for section in action["sections"] for row in section.get("rows") or []]
            if rows:
                row = rng.choice(rows)
                return "list_reply", {
                    "id": row.get("id"),
                    "title": row.get("title"),
                    "description": row.get("description"),
                }
    return "reply", {"body": rng.choice(CUSTOMER_TEXTS)}


def quick_reply_text(message: SandboxMessage, index: Any) -> str:
    """The label of quick-reply button ``index`` of the sent template, as the customer saw it."""
    template = SandboxTemplate.objects.filter(
        waba__phone_numbers__number=message.from_number, name=message.template_name
    ).first()
    if template is None:
        return ""
    buttons = next((c.get("buttons") or [] for c in template.components if c.get("type") == "BUTTONS"), [])
    quick = [b for b in buttons if b.get("type") == "QUICK_REPLY"]
    try:
        return str(quick[int(index)].get("text") or "")
    except (ValueError, TypeError, IndexError):
        return ""


def inbound_content(reply_type: str, *, extra: dict[str, Any] | None = None, webhook_url: str = ""
                    ) -> tuple[str, dict[str, Any]]:
    """The wire ``type`` and content keys of a simulated inbound message of kind ``reply_type``.

    ``extra`` overrides the defaults (a button's payload and text, a list
    row, a text body) so answers can match what was actually sent.
    """
    extra = extra or {}
    if reply_type in ("text", "reply"):
        return "text", {"text": {"body": extra.get("body") or CUSTOMER_TEXTS[0]}}
    if reply_type in payloads.MEDIA_TYPES:
        extension, mime = payloads.MEDIA_TYPES[reply_type]
        media_id = str(uuid.uuid4())
        obj = payloads.media_object(
            media_id=media_id,
            link=media_link(media_id, extension, webhook_url=webhook_url),
            sha256=media_sha256(extension),
            mime_type=mime,
            caption=extra.get("caption"),
        )
        return reply_type, {reply_type: obj}
    if reply_type == "location":
        return "location", {
            "location": {
                "latitude": 4.69212,
                "longitude": -74.052984,
                "name": extra.get("name", "Oficina Chicó"),
                "address": extra.get("address", "Cra. 11 # 93-53, Bogotá"),
            }
        }
    if reply_type == "contacts":
        return "contacts", {"contacts": payloads.inbound_contacts_content()}
    if reply_type == "list_reply":
        row = {
            "id": extra.get("id") or "<ID 1.1>",
            "title": extra.get("title") or "<Title 1.1>",
            "description": extra.get("description") or "<Description 1.1>",
        }
        return "interactive", {"interactive": {"type": "list_reply", "list_reply": row}}
    if reply_type == "button_reply":
        button = {"id": extra.get("id") or "btn1", "title": extra.get("title") or "Button 1"}
        return "interactive", {"interactive": {"type": "button_reply", "button_reply": button}}
    if reply_type == "button":
        payload = extra.get("payload") or "1. Confirmar-Button-Payload"
        return "button", {"button": {"payload": payload, "text": extra.get("text") or "Opción # 1"}}
    if reply_type == "referral":
        media_id = str(uuid.uuid4())
        return "text", {
            "text": {"body": extra.get("body") or "Vi esto en Facebook..."},
            "referral": payloads.inbound_referral_content(image_link=media_link(media_id, "jpg", webhook_url=webhook_url)),
        }
    if reply_type == "order":
        return "order", {"order": payloads.inbound_order_content(extra.get("product_items"))}
    raise ValueError(f"Unknown inbound type {reply_type!r}; expected one of {', '.join(payloads.INBOUND_TYPES)}.")


def plan_aldeamo_inbound(
    *,
    account: SandboxAccount,
    business_number: str,
    customer_number: str,
    reply_type: str,
    context_id: str,
    due_at: datetime,
    rng: random.Random,
    extra: dict[str, Any] | None = None,
) -> SandboxCallback:
    message_id = new_inbound_id()
    wire_type, content = inbound_content(reply_type, extra=extra, webhook_url=account.webhook_url)
    context = payloads.inbound_context(business_number=business_number, context_id=context_id) if context_id else None
    payload = payloads.aldeamo_inbound(
        message=payloads.inbound_message(
            message_id=message_id,
            from_number=customer_number,
            timestamp=due_at,
            wire_type=wire_type,
            content=content,
            context=context,
        ),
        contact_name=rng.choice(CUSTOMER_NAMES),
        wa_id=customer_number,
        origin_number=business_number,
        # The seed's reply-with-context example names it originNumber; keep that quirk alive.
        origin_key="originNumber" if reply_type == "reply" else "origin_number",
    )
    effect = {
        "inbound": {
            "provider": Provider.ALDEAMO,
            "message_id": message_id,
            "type": wire_type,
            "from_number": customer_number,
            "to_number": business_number,
            "context_message_id": context_id,
            "body": payload["messages"][0],
        }
    }
    return plan(
        account=account,
        provider=Provider.ALDEAMO,
        kind=CallbackKind.INBOUND,
        payload=payload,
        due_at=due_at,
        effect=effect,
    )


def plan_cv_reply(
    *, account: SandboxAccount, mobile: str, text: str, custom_field: str, due_at: datetime
) -> SandboxCallback:
    payload = payloads.cv_reply(mobile=mobile, message=text, custom_field=custom_field)
    effect = {
        "inbound": {
            "provider": Provider.CONTACTO_VIRTUAL,
            "message_id": new_uuid(),
            "type": "text",
            "from_number": mobile,
            "to_number": "",
            "context_message_id": "",
            "body": payload,
            "custom_field": custom_field,
        }
    }
    return plan(
        account=account,
        provider=Provider.CONTACTO_VIRTUAL,
        kind=CallbackKind.CV_REPLY,
        payload=payload,
        due_at=due_at,
        effect=effect,
    )


def last_outbound(
    *, account: SandboxAccount, provider: str, to_number: str, from_number: str = "", types: tuple[str, ...] = ()
) -> SandboxMessage | None:
    messages = SandboxMessage.objects.filter(
        account=account, provider=provider, direction=Direction.OUTBOUND, to_number=to_number
    )
    if from_number:
        messages = messages.filter(from_number=from_number)
    if types:
        messages = messages.filter(type__in=types)
    return messages.order_by("-created_at", "-id").first()


def sandbox_customer_reply(
    *,
    phone_number: SandboxPhoneNumber | str,
    from_number: str,
    type: str,
    context_id: str = "",
    deliver: bool = True,
    session: requests.Session | None = None,
    now: datetime | None = None,
) -> SandboxCallback:
    """Simulate a customer writing to a business number, and post it to the account's webhook.

    ``phone_number`` is the business line (model or digits), ``from_number``
    the customer, ``type`` one of :data:`payloads.INBOUND_TYPES`. ``reply``
    answers ``context_id`` -- or, when not given, the last message the line
    sent to the customer; button/list answers pick their choice from that
    message when it had buttons or a list. With ``deliver`` the webhook is
    posted now (call it outside a transaction: the portal writes while
    answering); otherwise it waits for :func:`sandbox_deliver_due`.
    """
    if type not in payloads.INBOUND_TYPES:
        raise ValueError(f"Unknown inbound type {type!r}; expected one of {', '.join(payloads.INBOUND_TYPES)}.")
    if isinstance(phone_number, str):
        phone_number = SandboxPhoneNumber.objects.select_related("waba__client__account").get(number=phone_number)
    account = phone_number.waba.client.account
    now = now or timezone.now()
    rng = account_rng(account)
    extra: dict[str, Any] = {}
    wanted = {"button": ("template",), "button_reply": ("interactive",), "list_reply": ("interactive",)}.get(type, ())
    original = None
    if context_id:
        original = SandboxMessage.objects.filter(account=account, message_id=context_id).first()
    elif type == "reply" or wanted:
        original = last_outbound(
            account=account,
            provider=Provider.ALDEAMO,
            to_number=from_number,
            from_number=phone_number.number,
            types=wanted,
        )
        if original is not None:
            context_id = original.message_id
    if type == "reply" and not context_id:
        raise ValueError("A reply needs a message to answer: pass context_id or send the customer a message first.")
    if original is not None and wanted:
        kind, chosen = auto_reply_kind(original, rng)
        if kind == type:
            extra = chosen
    [callback] = schedule_all([plan_aldeamo_inbound(
        account=account,
        business_number=phone_number.number,
        customer_number=from_number,
        reply_type=type,
        context_id=context_id,
        due_at=now,
        rng=rng,
        extra=extra,
    )])
    if deliver:
        deliver_callback(callback.pk, now=now, session=session)
        callback.refresh_from_db()
    return callback


def sandbox_cv_customer_reply(
    *,
    account: SandboxAccount,
    mobile: str,
    message: str = "",
    custom_field: str | None = None,
    deliver: bool = True,
    session: requests.Session | None = None,
    now: datetime | None = None,
) -> SandboxCallback:
    """Simulate a Contacto Virtual customer answering; echoes the ``custom_field`` of the last send to them."""
    now = now or timezone.now()
    if custom_field is None:
        last = last_outbound(account=account, provider=Provider.CONTACTO_VIRTUAL, to_number=mobile)
        custom_field = last.custom_field if last else ""
    [callback] = schedule_all([plan_cv_reply(
        account=account, mobile=mobile, text=message or CUSTOMER_TEXTS[0], custom_field=custom_field, due_at=now
    )])
    if deliver:
        deliver_callback(callback.pk, now=now, session=session)
        callback.refresh_from_db()
    return callback
