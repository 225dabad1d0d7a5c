"""Callbacks: what the simulated providers post back to the portal, and when.

Everything goes through an outbox (:class:`~sandbox.models.SandboxCallback`):

* ``schedule_*`` functions decide, at send or create time, the whole future of
  a message or template -- statuses with realistic delays, a share of
  failures, duplicates, reordering, the customer's answer -- and store one row
  per webhook call with its due time. Choices come from the account's
  random generator, so a seeded account replays exactly.
* :func:`deliver_callback` posts one due row (claiming it first, so the task
  worker and a direct call never both post it), applies the state change it
  stands for, and on failure reschedules it with exponential backoff.
* :func:`sandbox_deliver_due` delivers everything due: tests call it
  synchronously (with a ``now`` in the future instead of sleeping);
  ``run_sandbox`` calls it in a loop.
* In the demo, Django's tasks framework is asked to deliver what falls due:
  one task per due second (``run_after`` = the end of that second), not one
  per row, so a campaign's three or four callbacks per message cost a few
  tasks a second instead of hundreds, and ``manage.py db_worker`` still
  delivers each on time.
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from waportal.queueing import task_enqueue

from . import payloads
from .conf import setting
from .faults import account_rng
from .media import media_link, media_sha256
from .models import (
    CallbackKind,
    CallbackState,
    Direction,
    MessageStatus,
    Provider,
    SandboxAccount,
    SandboxCallback,
    SandboxMessage,
    SandboxPhoneNumber,
    SandboxTemplate,
    TemplateStatus,
)

logger = logging.getLogger("sandbox")

_STATUS_RANK = {
    MessageStatus.ACCEPTED: 0,
    MessageStatus.SENT: 1,
    MessageStatus.DELIVERED: 2,
    MessageStatus.READ: 3,
}
STALE_CLAIM = timedelta(minutes=5)

CUSTOMER_NAMES = ("Laura Gómez", "Andrés Ramírez", "Camila Torres", "Julián Castro", "Valentina Ríos")
CUSTOMER_TEXTS = (
    "Hola, gracias por la información 🙌",
    "¿Me pueden confirmar el horario de atención?",
    "Perfecto, quedo atenta.",
    "No reconozco este cobro, ¿me ayudan?",
    "Sí, confirmo mi cita.",
)


# --- ids -----------------------------------------------------------------------


def new_uuid() -> str:
    """Aldeamo and Contacto Virtual message ids: a UUID4 string."""
    return str(uuid.uuid4())


def new_whatsapp_id() -> str:
    """A WhatsApp on-prem style id like the seed's ``gBEGkYiEB1VXAgIK1ZEqA1YKPrU``."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    rng = random.SystemRandom()
    return "gBEG" + "".join(rng.choice(alphabet) for _ in range(23))


def new_inbound_id() -> str:
    """An inbound message id in Cloud API style (``wamid.HBgM…``)."""
    return "wamid.HBgM" + uuid.uuid4().hex.upper()[:32]


# --- settings -------------------------------------------------------------------


def callback_timeout() -> tuple[float, float]:
    """(connect, read) seconds for posting a callback."""
    return tuple(setting("SANDBOX_CALLBACK_TIMEOUT"))  # type: ignore[return-value]


def max_attempts() -> int:
    return int(setting("SANDBOX_CALLBACK_MAX_ATTEMPTS"))


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the n-th failed attempt: base, 2×base, 4×base, …"""
    base = float(setting("SANDBOX_CALLBACK_RETRY_SECONDS"))
    return timedelta(seconds=base * (2 ** max(0, attempts - 1)))


_session: requests.Session | None = None
_session_lock = threading.Lock()


def delivery_session() -> requests.Session:
    """The pooled session callbacks are posted with.

    ``SANDBOX_CALLBACK_TRANSPORT_MOUNTS`` (URL prefix → adapter instance or
    dotted path) can route the portal's webhook URLs to another transport,
    e.g. the in-process one, so the demo and end-to-end tests need no server.
    """
    global _session
    with _session_lock:
        if _session is None:
            session = requests.Session()
            session.headers["User-Agent"] = "waportal-sandbox/1.0"
            for prefix, adapter in (setting("SANDBOX_CALLBACK_TRANSPORT_MOUNTS") or {}).items():
                session.mount(prefix, import_string(adapter)() if isinstance(adapter, str) else adapter)
            _session = session
        return _session


# --- scheduling ------------------------------------------------------------------


DELIVER_KEY = "waportal:sandbox:deliver:{second}"


def _enqueue(due_ats: list[datetime]) -> None:
    """Ask the task worker to deliver what falls due at ``due_ats``: one task per due second.

    Each task runs at the end of its second and delivers what is due by then,
    oldest first, whoever scheduled it (a batch at a time: see
    ``tasks.sandbox_deliver_due_callbacks``). A second already
    asked for by this process is not asked again (the cache); another
    process asking too only means a second task that finds nothing left.
    Optional (``SANDBOX_CALLBACKS_ENQUEUE``, default on): the outbox is the
    source of truth, so a failed enqueue only means the rows wait for the next
    task or for :func:`sandbox_deliver_due`. A backend that cannot defer gets
    only seconds already due.
    """
    if not setting("SANDBOX_CALLBACKS_ENQUEUE") or not due_ats:
        return
    from .tasks import sandbox_deliver_due_callbacks

    now = timezone.now()
    can_defer = sandbox_deliver_due_callbacks.get_backend().supports_defer
    for second in sorted({math.ceil(due_at.timestamp()) for due_at in due_ats}):
        when = datetime.fromtimestamp(second, tz=UTC)
        if when > now and not can_defer:
            continue
        try:
            if not cache.add(DELIVER_KEY.format(second=second), 1, timeout=max(0, second - now.timestamp()) + 60):
                continue
            task_enqueue(sandbox_deliver_due_callbacks, run_after=when)
        except Exception:  # the outbox rows remain; the next task or sandbox_deliver_due picks them up
            logger.exception("sandbox: could not enqueue the delivery of callbacks due at %s", when.isoformat())


def _plan(
    *,
    account: SandboxAccount,
    provider: str,
    kind: str,
    payload: dict[str, Any],
    due_at: datetime,
    effect: dict[str, Any] | None = None,
    message: SandboxMessage | None = None,
    template: SandboxTemplate | None = None,
) -> SandboxCallback:
    """One callback, not stored yet (:func:`schedule_all` stores a message's whole lifecycle at once)."""
    return SandboxCallback(
        account=account,
        provider=provider,
        kind=kind,
        payload=payload,
        effect=effect or {},
        message=message,
        template=template,
        due_at=due_at,
    )


def schedule_all(rows: list[SandboxCallback]) -> list[SandboxCallback]:
    """Store planned callbacks in one INSERT and enqueue each one's delivery once the transaction commits."""
    if not rows:
        return rows
    stored = SandboxCallback.objects.bulk_create(rows)
    due_ats = [callback.due_at for callback in stored]
    transaction.on_commit(lambda: _enqueue(due_ats))
    return stored


def schedule(
    *,
    account: SandboxAccount,
    provider: str,
    kind: str,
    payload: dict[str, Any],
    due_at: datetime,
    effect: dict[str, Any] | None = None,
    message: SandboxMessage | None = None,
    template: SandboxTemplate | None = None,
) -> SandboxCallback:
    """Store one callback and enqueue its delivery once the transaction commits."""
    return schedule_all([_plan(account=account, provider=provider, kind=kind, payload=payload, due_at=due_at,
                               effect=effect, message=message, template=template)])[0]


def _plan_with_duplicates(
    rng: random.Random, account: SandboxAccount, *, spread: float, **kwargs: Any
) -> list[SandboxCallback]:
    """Plan a callback, and with ``duplicate_share`` a second copy a little later (real BSPs redeliver)."""
    rows = [_plan(account=account, **kwargs)]
    if account.duplicate_share and rng.random() < account.duplicate_share:
        duplicate = dict(kwargs)
        duplicate["due_at"] = kwargs["due_at"] + timedelta(seconds=spread * rng.random())
        duplicate["effect"] = {}  # the copy changes nothing; only the first one counts
        rows.append(_plan(account=account, **duplicate))
    return rows


def conversation_for(*, from_number: str, to_number: str, moment: datetime) -> tuple[str, datetime]:
    """The conversation a message belongs to: one per business/customer pair and UTC day.

    A simplification of WhatsApp's 24-hour windows that keeps ids stable
    without storing conversations: same pair, same day, same id.
    """
    day = moment.astimezone(UTC).date()
    conversation_id = hashlib.md5(f"{from_number}:{to_number}:{day.isoformat()}".encode()).hexdigest()
    expiration = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    return conversation_id, expiration


def _delays(rng: random.Random, base: float) -> tuple[float, float, float, float]:
    """Seconds until sent, then to delivered, then to read, then to the answer."""
    return (
        base * (0.5 + rng.random()),
        base * (1.0 + 2.0 * rng.random()),
        base * (3.0 + 17.0 * rng.random()),
        base * (2.0 + 8.0 * rng.random()),
    )


def _status_timeline(
    rng: random.Random, account: SandboxAccount, now: datetime, to_sent: float, to_delivered: float, to_read: float
) -> tuple[list[tuple[str, datetime]], dict[str, datetime], datetime | None]:
    """When each status happens, and when each is posted (both providers share the lifecycle).

    Returns ``(events, due, read_at)``: ``events`` pairs each status with its true
    time (sent, delivered, maybe read per ``read_share``); ``due`` is when each is
    posted — with ``reorder_share``, ``read`` goes out before ``delivered``.
    """
    sent_at = now + timedelta(seconds=to_sent)
    delivered_at = sent_at + timedelta(seconds=to_delivered)
    read_at = delivered_at + timedelta(seconds=to_read) if rng.random() < account.read_share else None
    events: list[tuple[str, datetime]] = [("sent", sent_at), ("delivered", delivered_at)]
    if read_at is not None:
        events.append(("read", read_at))
    due = {status: moment for status, moment in events}
    if read_at is not None and account.reorder_share and rng.random() < account.reorder_share:
        due["delivered"], due["read"] = read_at, delivered_at
    return events, due, read_at


def schedule_aldeamo_lifecycle(
    *, message: SandboxMessage, failure: tuple[int, str] | None = None, now: datetime | None = None
) -> list[SandboxCallback]:
    """Plan every status of an accepted Aldeamo send (and maybe the customer's answer).

    ``failure`` forces a ``failed`` status with that error (a template the
    WABA cannot use); otherwise ``failed_share`` decides. ``reorder_share``
    posts ``read`` before ``delivered`` (the timestamps inside stay truthful).
    """
    account = message.account
    rng = account_rng(account)
    now = now or timezone.now()
    base = account.status_delay_seconds
    to_sent, to_delivered, to_read, to_reply = _delays(rng, base)
    common = {"message_id": message.message_id, "recipient_id": message.to_number, "origin_number": message.from_number}
    rows: list[SandboxCallback] = []

    if failure is None and account.failed_share and rng.random() < account.failed_share:
        failure = rng.choice(payloads.FAILURE_ERRORS)
    if failure is not None:
        moment = now + timedelta(seconds=to_sent)
        payload = payloads.aldeamo_status(
            status="failed", timestamp=moment, errors=[payloads.aldeamo_error(*failure)], **common
        )
        effect = {"message_status": "failed", "error_code": str(failure[0]), "error_title": failure[1]}
        return schedule_all(_plan_with_duplicates(
            rng,
            account,
            spread=base,
            provider=Provider.ALDEAMO,
            kind=CallbackKind.STATUS,
            payload=payload,
            due_at=moment,
            effect=effect,
            message=message,
        ))

    conversation_id, expiration = conversation_for(
        from_number=message.from_number, to_number=message.to_number, moment=now
    )
    origin = "business_initiated" if message.type == "template" else "user_initiated"
    events, due, read_at = _status_timeline(rng, account, now, to_sent, to_delivered, to_read)

    for status, moment in events:
        payload = payloads.aldeamo_status(
            status=status,
            timestamp=moment,
            conversation_id=conversation_id,
            conversation_expiration=expiration,
            origin_type=origin,
            **common,
        )
        rows += _plan_with_duplicates(
            rng,
            account,
            spread=base,
            provider=Provider.ALDEAMO,
            kind=CallbackKind.STATUS,
            payload=payload,
            due_at=due[status],
            effect={"message_status": status},
            message=message,
        )

    if read_at is not None and account.reply_share and rng.random() < account.reply_share:
        reply_type, extra = _auto_reply_kind(message, rng)
        rows.append(
            _plan_aldeamo_inbound(
                account=account,
                business_number=message.from_number,
                customer_number=message.to_number,
                reply_type=reply_type,
                context_id=message.message_id,
                due_at=read_at + timedelta(seconds=to_reply),
                rng=rng,
                extra=extra,
            )
        )
    return schedule_all(rows)


def schedule_cv_lifecycle(
    *, message: SandboxMessage, failure: tuple[str, str] | None = None, now: datetime | None = None
) -> list[SandboxCallback]:
    """Plan the ``message-event``s of an accepted Contacto Virtual send (and maybe the answer).

    A failure refunds the unit the send cost ("sending error, return balance").
    """
    account = message.account
    rng = account_rng(account)
    now = now or timezone.now()
    base = account.status_delay_seconds
    to_sent, to_delivered, to_read, to_reply = _delays(rng, base)
    rows: list[SandboxCallback] = []

    if failure is None and account.failed_share and rng.random() < account.failed_share:
        code = rng.choice(("1002", "1004", "1006", "1007"))
        failure = (code, payloads.CV_FAILURE_CODES[code])
    if failure is not None:
        payload = payloads.cv_failed_event(code=failure[0], reason=failure[1], message_id=message.message_id)
        effect = {"message_status": "failed", "error_code": failure[0], "error_title": failure[1], "cv_refund": 1}
        return schedule_all(_plan_with_duplicates(
            rng,
            account,
            spread=base,
            provider=Provider.CONTACTO_VIRTUAL,
            kind=CallbackKind.CV_EVENT,
            payload=payload,
            due_at=now + timedelta(seconds=to_sent),
            effect=effect,
            message=message,
        ))

    events, due, read_at = _status_timeline(rng, account, now, to_sent, to_delivered, to_read)
    for status, moment in events:
        payload = payloads.cv_status_event(
            status=status, message_id=message.message_id, whatsapp_id=message.whatsapp_id, moment=moment
        )
        rows += _plan_with_duplicates(
            rng,
            account,
            spread=base,
            provider=Provider.CONTACTO_VIRTUAL,
            kind=CallbackKind.CV_EVENT,
            payload=payload,
            due_at=due[status],
            effect={"message_status": status},
            message=message,
        )
    if read_at is not None and account.reply_share and rng.random() < account.reply_share:
        rows.append(
            _plan_cv_reply(
                account=account,
                mobile=message.to_number,
                text=rng.choice(CUSTOMER_TEXTS),
                custom_field=message.custom_field,
                due_at=read_at + timedelta(seconds=to_reply),
            )
        )
    return schedule_all(rows)


# --- customer replies ----------------------------------------------------------------


def _auto_reply_kind(message: SandboxMessage, rng: random.Random) -> tuple[str, dict[str, Any]]:
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
            return "button", {"payload": payload, "text": _quick_reply_text(message, index) or payload}
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


def _quick_reply_text(message: SandboxMessage, index: Any) -> str:
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


def _plan_aldeamo_inbound(
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
    return _plan(
        account=account,
        provider=Provider.ALDEAMO,
        kind=CallbackKind.INBOUND,
        payload=payload,
        due_at=due_at,
        effect=effect,
    )


def _plan_cv_reply(
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
    return _plan(
        account=account,
        provider=Provider.CONTACTO_VIRTUAL,
        kind=CallbackKind.CV_REPLY,
        payload=payload,
        due_at=due_at,
        effect=effect,
    )


def _last_outbound(
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
        original = _last_outbound(
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
        kind, chosen = _auto_reply_kind(original, rng)
        if kind == type:
            extra = chosen
    [callback] = schedule_all([_plan_aldeamo_inbound(
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
        last = _last_outbound(account=account, provider=Provider.CONTACTO_VIRTUAL, to_number=mobile)
        custom_field = last.custom_field if last else ""
    [callback] = schedule_all([_plan_cv_reply(
        account=account, mobile=mobile, text=message or CUSTOMER_TEXTS[0], custom_field=custom_field, due_at=now
    )])
    if deliver:
        deliver_callback(callback.pk, now=now, session=session)
        callback.refresh_from_db()
    return callback


# --- template events ------------------------------------------------------------


def schedule_template_status(
    *, template: SandboxTemplate, status: str, reason: str | None, due_at: datetime, apply: bool = True
) -> SandboxCallback:
    """A ``message_template_status_update`` for ``template``; ``apply`` makes it decide a PENDING template."""
    payload = payloads.template_status_update(
        event=status,
        template_id=int(template.template_id),
        name=template.name,
        language=template.language,
        reason=reason,
    )
    effect = {"template_status": status, "reason": reason or ""} if apply else {}
    return schedule(
        account=template.waba.client.account,
        provider=Provider.ALDEAMO,
        kind=CallbackKind.TEMPLATE_STATUS,
        payload=payload,
        due_at=due_at,
        effect=effect,
        template=template,
    )


def schedule_template_category(
    *, template: SandboxTemplate, previous_category: str, new_category: str, due_at: datetime
) -> SandboxCallback:
    """A ``template_category_update``; it moves the template to ``new_category`` when it falls due."""
    payload = payloads.template_category_update(
        template_id=int(template.template_id),
        name=template.name,
        language=template.language,
        previous_category=previous_category,
        new_category=new_category,
    )
    return schedule(
        account=template.waba.client.account,
        provider=Provider.ALDEAMO,
        kind=CallbackKind.TEMPLATE_CATEGORY,
        payload=payload,
        due_at=due_at,
        effect={"template_category": new_category},
        template=template,
    )


def cancel_template_events(template: SandboxTemplate) -> int:
    """Drop the template's pending status events (a person decided before the automatic review)."""
    return SandboxCallback.objects.filter(
        template=template, kind=CallbackKind.TEMPLATE_STATUS, state=CallbackState.PENDING
    ).update(state=CallbackState.CANCELLED)


# --- delivery --------------------------------------------------------------------


def _apply_effect(callback: SandboxCallback) -> None:
    """Make the world match the event: message status, template decision, refund, inbound record."""
    effect = callback.effect or {}
    if "message_status" in effect and callback.message_id:
        message = SandboxMessage.objects.select_for_update().get(pk=callback.message_id)
        new = effect["message_status"]
        if new == MessageStatus.FAILED:
            if message.status in (MessageStatus.ACCEPTED, MessageStatus.SENT):
                message.status = MessageStatus.FAILED
                message.error_code = effect.get("error_code", "")
                message.error_title = effect.get("error_title", "")
                message.save(update_fields=["status", "error_code", "error_title", "updated_at"])
        elif _STATUS_RANK.get(new, -1) > _STATUS_RANK.get(message.status, 99):
            # Monotonic: a late "delivered" never moves a "read" message back.
            message.status = new
            message.save(update_fields=["status", "updated_at"])
    if effect.get("cv_refund"):
        SandboxAccount.objects.filter(pk=callback.account_id).update(cv_balance=F("cv_balance") + effect["cv_refund"])
    if "template_status" in effect and callback.template_id:
        SandboxTemplate.objects.filter(pk=callback.template_id, status=TemplateStatus.PENDING).update(
            status=effect["template_status"], rejected_reason=effect.get("reason") or "", updated_at=timezone.now()
        )
    if "template_category" in effect and callback.template_id:
        SandboxTemplate.objects.filter(pk=callback.template_id).update(
            category=effect["template_category"], updated_at=timezone.now()
        )
    inbound = effect.get("inbound")
    if inbound:
        SandboxMessage.objects.get_or_create(
            message_id=inbound["message_id"],
            defaults={
                "account_id": callback.account_id,
                "provider": inbound["provider"],
                "direction": Direction.INBOUND,
                "type": inbound["type"],
                "from_number": inbound["from_number"],
                "to_number": inbound["to_number"],
                "context_message_id": inbound.get("context_message_id", ""),
                "custom_field": inbound.get("custom_field", ""),
                "body": inbound.get("body") or {},
                "status": MessageStatus.RECEIVED,
            },
        )


def deliver_callback(callback_id: int, *, now: datetime | None = None, session: requests.Session | None = None) -> str:
    """Post one due callback; return its resulting state (or ``"not_due"``).

    The row is claimed with a conditional UPDATE so concurrent deliverers (the
    task worker, ``run_sandbox``'s loop, an admin action) never post it twice
    -- duplicates are a deliberate feature, never an accident. The event's
    effect is applied once, before the first attempt, whether or not a webhook
    is configured; failed posts are retried with backoff up to
    ``SANDBOX_CALLBACK_MAX_ATTEMPTS`` times.
    """
    now = now or timezone.now()
    claimed = SandboxCallback.objects.filter(pk=callback_id, state=CallbackState.PENDING, due_at__lte=now).update(
        state=CallbackState.DELIVERING, claimed_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return "not_due"
    callback = SandboxCallback.objects.select_related("account").get(pk=callback_id)
    if not callback.effect_applied:
        with transaction.atomic():
            _apply_effect(callback)
            SandboxCallback.objects.filter(pk=callback_id).update(effect_applied=True)

    account = callback.account
    url = account.webhook_url if callback.provider == Provider.ALDEAMO else account.cv_webhook_url
    if not url:
        SandboxCallback.objects.filter(pk=callback_id).update(state=CallbackState.SKIPPED, delivered_at=timezone.now())
        return CallbackState.SKIPPED

    error = ""
    status_code = None
    try:
        response = (session or delivery_session()).post(url, json=callback.payload, timeout=callback_timeout())
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}: {response.text[:500]}"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"

    if not error:
        SandboxCallback.objects.filter(pk=callback_id).update(
            state=CallbackState.DELIVERED,
            delivered_at=timezone.now(),
            delivered_to=url,
            last_status_code=status_code,
            last_error="",
        )
        return CallbackState.DELIVERED

    if callback.attempts >= max_attempts():
        logger.warning(
            "sandbox: callback %s to %s failed for good after %s attempts: %s",
            callback_id,
            url,
            callback.attempts,
            error,
        )
        SandboxCallback.objects.filter(pk=callback_id).update(
            state=CallbackState.FAILED, last_status_code=status_code, last_error=error, delivered_to=url
        )
        return CallbackState.FAILED
    retry_at = now + retry_delay(callback.attempts)
    logger.info("sandbox: callback %s to %s failed (%s); retry at %s", callback_id, url, error, retry_at.isoformat())
    SandboxCallback.objects.filter(pk=callback_id).update(
        state=CallbackState.PENDING, due_at=retry_at, last_status_code=status_code, last_error=error, delivered_to=url
    )
    transaction.on_commit(lambda: _enqueue([retry_at]))
    return CallbackState.PENDING


def sandbox_deliver_due(
    *, now: datetime | None = None, session: requests.Session | None = None, limit: int = 1000
) -> int:
    """Deliver every callback due at ``now`` (default: the current time), oldest first.

    Returns how many were processed (delivered, skipped or given up on).
    Tests pass a ``now`` in the future instead of sleeping; rows abandoned
    mid-delivery by a crashed process are reclaimed after five minutes.
    """
    now = now or timezone.now()
    SandboxCallback.objects.filter(state=CallbackState.DELIVERING, claimed_at__lt=timezone.now() - STALE_CLAIM).update(
        state=CallbackState.PENDING
    )
    ids = list(
        SandboxCallback.objects.filter(state=CallbackState.PENDING, due_at__lte=now)
        .order_by("due_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    done = 0
    for callback_id in ids:
        if deliver_callback(callback_id, now=now, session=session) in (
            CallbackState.DELIVERED,
            CallbackState.SKIPPED,
            CallbackState.FAILED,
        ):
            done += 1
    return done
