"""One message: validated, stored before it is sent, sent once per idempotency key."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import PhoneNumber, Role
from accounts.tenancy import require_role
from messaging.conversations import conversation_for
from messaging.models import Conversation, Direction, Message, MessageStatus
from messaging.presenters import message_preview
from messaging.sending.checks import require_active, require_not_opted_out
from messaging.sending.delivery import deliver
from messaging.sending.prepare import Prepared, prepare
from templates_mgr.models import Template
from templates_mgr.spec import template_spec
from waportal.errors import ApplicationError

IDEMPOTENCY_KEY_MAX = 200

#: Statuses "send again" is offered for: the first attempt failed or its outcome is unknown.
RESENDABLE = (MessageStatus.UNKNOWN, MessageStatus.FAILED)


def request_fingerprint(payload: dict[str, Any]) -> str:
    """A stable hash of a normalised request, to tell a replay from a new request under the same key.

    Key order and JSON spacing do not matter; values do. 64 hex characters. A
    lone surrogate (refused at the API's edge, but a service may be called from
    elsewhere) is hashed as its code point, never a ``UnicodeEncodeError``.
    """
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


_fingerprint = request_fingerprint  # message_send has a parameter of the same name


def message_send(
    *,
    actor,
    phone_number: PhoneNumber,
    to: str,
    type: str,
    content: Any,
    context_message_id: str = "",
    preview_url: bool | None = None,
    template: Template | None = None,
    custom_field: str = "",
    idempotency_key: str = "",
    request_fingerprint: str = "",
) -> Message:
    """Validate, store, send one message from ``phone_number`` to ``to``; return the stored message.

    ``content`` is the type's object in Aldeamo's send shape (``{"body": …}``
    for text, the list for contacts, the template object for templates — for a
    Contacto Virtual line ``{"id" | "name", "components"}``). ``actor`` is the
    user sending (None for system sends such as campaigns): they need the agent
    role in the number's client.

    Raises ApplicationError for a refused request (nothing stored). Provider
    failures never raise: the returned message is ``sent``, ``failed`` (with
    ``error_code``/``error_title``) or ``unknown``. With an ``idempotency_key``
    already used for this client, the first message is returned untouched
    (``message.replayed`` is True), or a 422 ApplicationError when
    ``request_fingerprint`` shows a different request.
    """
    if actor is not None:
        require_role(actor, phone_number.client_id, Role.AGENT)
    require_active(phone_number)

    key = checked_key(idempotency_key)
    fingerprint = ""
    if key:
        fingerprint = request_fingerprint or _fingerprint(request_payload(
            phone_number=phone_number, to=to, type=type, content=content, context_message_id=context_message_id,
            preview_url=preview_url, template=template, custom_field=custom_field,
        ))
        existing = message_for_key(client_id=phone_number.client_id, key=key)
        if existing is not None:
            return replay(existing, fingerprint)

    account = phone_number.client.provider_account
    prepared = prepare(
        account=account, phone_number=phone_number, to=to, type=type, content=content,
        context_message_id=context_message_id, preview_url=preview_url, template=template,
        custom_field=custom_field,
    )
    if prepared.template is not None or type == "template":
        require_not_opted_out(phone_number=phone_number, to=prepared.to, template=prepared.template)
    message, created = store(
        actor=actor, phone_number=phone_number, type=type, prepared=prepared, key=key, fingerprint=fingerprint
    )
    if not created:
        return replay(message, fingerprint)
    return deliver(message=message, wire=prepared.wire, account=account)


def message_resend(*, actor, message: Message) -> Message:
    """Send an ``unknown`` or ``failed`` message again, as a NEW message with the same content.

    The old message keeps its status and history (a late webhook may still
    resolve it). If the first attempt did reach the customer, they receive the
    message twice: callers must say so before calling this.
    """
    if message.direction != Direction.OUTBOUND:
        raise ApplicationError(_("Only messages we sent can be sent again."), field="message")
    if message.status not in RESENDABLE:
        raise ApplicationError(
            _("Only messages that failed or whose outcome is unknown can be sent again; this one is %(status)s.")
            % {"status": message.get_status_display()},
            field="message",
        )
    preview_url = None
    if message.type == "text" and isinstance(message.request_body, dict):
        value = message.request_body.get("preview_url")
        preview_url = value if isinstance(value, bool) else None
    return message_send(
        actor=actor,
        phone_number=message.phone_number,
        to=message.to_number,
        type=message.type,
        content=copy.deepcopy(message.content),
        context_message_id=message.context_id,
        preview_url=preview_url,
        template=message.template,
        custom_field=message.custom_field,
    )


def checked_key(idempotency_key: str) -> str:
    key = (idempotency_key or "").strip()
    if len(key) > IDEMPOTENCY_KEY_MAX:
        raise ApplicationError(
            _("The Idempotency-Key is %(length)d characters long; at most %(limit)d are accepted.")
            % {"length": len(key), "limit": IDEMPOTENCY_KEY_MAX},
            field="idempotency_key",
        )
    return key


def request_payload(*, phone_number: PhoneNumber, to: str, type: str, content: Any, context_message_id: str,
                     preview_url: bool | None, template: Template | None, custom_field: str) -> dict[str, Any]:
    """What a request's fingerprint is computed over (a replay must match it)."""
    return {
        "phone_number": phone_number.pk,
        "to": to,
        "type": type,
        "content": content,
        "context": context_message_id,
        "preview_url": preview_url,
        "template": template.pk if template is not None else None,
        "custom_field": custom_field,
    }


# --- storing and idempotency --------------------------------------------------------------


def message_for_key(*, client_id: int, key: str) -> Message | None:
    return Message.objects.filter(client_id=client_id, idempotency_key=key).first()


def replay(message: Message, fingerprint: str) -> Message:
    if fingerprint and message.request_fingerprint and fingerprint != message.request_fingerprint:
        raise ApplicationError(
            _("This Idempotency-Key was already used for a different request (message %(id)s); use a new key for "
              "a new message.") % {"id": message.pk},
            field="idempotency_key",
            http_status=422,
        )
    message.replayed = True
    return message


def new_message(*, actor, phone_number: PhoneNumber, type: str, prepared: Prepared, key: str, fingerprint: str,
                 status: str, at, **fields: Any) -> Message:
    """The outbound message for a prepared request, not saved yet."""
    return Message(
        client_id=phone_number.client_id,
        phone_number=phone_number,
        direction=Direction.OUTBOUND,
        type=type,
        from_number=phone_number.digits,
        to_number=prepared.to,
        content=prepared.content,
        request_body=prepared.request_body,
        context_id=prepared.context_id,
        reply_to=prepared.reply_to,
        template=prepared.template,
        custom_field=prepared.custom_field,
        status=status,
        status_at=at,
        idempotency_key=key,
        request_fingerprint=fingerprint if key else "",
        created_by=actor if actor is not None and actor.is_authenticated else None,
        **fields,
    )


def store(
    *, actor, phone_number: PhoneNumber, type: str, prepared: Prepared, key: str, fingerprint: str
) -> tuple[Message, bool]:
    """Commit the outbound message in status ``sending``; (message, created).

    A concurrent request with the same idempotency key loses on the unique
    constraint and gets the winner's message back (created False).
    """
    conversation = conversation_for(phone_number=phone_number, wa_id=prepared.to)
    now = timezone.now()
    message = new_message(actor=actor, phone_number=phone_number, type=type, prepared=prepared, key=key,
                           fingerprint=fingerprint, status=MessageStatus.SENDING, at=now, conversation=conversation)
    try:
        with transaction.atomic():
            message.save(force_insert=True)
    except IntegrityError:
        if not key:
            raise
        winner = message_for_key(client_id=phone_number.client_id, key=key)
        if winner is None:
            raise
        return winner, False
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message_at=now, updated_at=now, last_message_preview=message_preview(
            type, prepared.content, spec=template_spec(prepared.template) if prepared.template else None)[:200]
    )
    message.replayed = False
    return message, True
