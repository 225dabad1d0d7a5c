"""Webhook ingest: store every provider callback once, then turn stored bodies into statuses and messages.

Two halves, on purpose (issue 9: the receiver must keep up with a bare one-INSERT
view, and processing must reach 1,000 events/s with one worker):

- :func:`webhook_record` runs in the request: one INSERT of the raw body, with
  ``ON CONFLICT DO NOTHING`` on (account, body hash), so a redelivered body is a
  no-op and five simultaneous copies store one row. Nothing is parsed there.
- :func:`webhook_events_process` runs in a worker: it claims pending events in
  batches (``SELECT … FOR UPDATE SKIP LOCKED`` where the database has it),
  parses them with the provider's adapter, and applies the whole batch with a
  constant number of queries: one lookup of every message the batch refers to,
  ``bulk_create`` for status history and inbound messages, ``bulk_update`` for
  message statuses, contacts, conversations and templates.

Every step is idempotent: a replayed event finds its status events, messages
and template values already there and changes nothing. What the adapter cannot
read stays stored as ``unprocessed`` with the reason; what our own code fails
on is ``error``. Both are visible in the admin and replayable with
:func:`webhook_event_reprocess`.

Reasons stored on events are operator diagnostics in English, like the
adapters' own; they are data, not interface text.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Exists, F, Model, OuterRef, Q
from django.utils import timezone

from accounts.models import Client, PhoneNumber, Provider, ProviderAccount
from messaging.models import (
    Contact,
    Conversation,
    Direction,
    Message,
    MessageStatus,
    MessageType,
    StatusEvent,
    WebhookEvent,
)
from providers.aldeamo.webhooks import parse_webhook as aldeamo_parse_webhook
from providers.base import json_loads_relaxed
from providers.contacto_virtual.webhooks import parse_webhook as contacto_virtual_parse_webhook
from providers.types import InboundMessage, StatusUpdate, TemplateEvent, UnknownEvent
from templates_mgr.models import Template, TemplateChange, TemplateStatus

logger = logging.getLogger("messaging.ingest")

#: Statuses a provider reports that move a message (anything else is kept in the history only).
APPLICABLE_STATUSES = frozenset({MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ,
                                 MessageStatus.FAILED})

#: How far back the per-batch sweep looks for status events still waiting for their message.
#: A status normally waits milliseconds (the send's commit); older orphans belong to
#: messages sent outside the portal and are not worth rescanning forever.
UNLINKED_SWEEP_WINDOW = timedelta(days=2)
UNLINKED_SWEEP_LIMIT = 500

#: Database errors that mean "try the whole batch again later", not "this event is bad".
TRANSIENT_ERRORS = (OperationalError, InterfaceError)

# Column limits of the models, checked before writing so one odd payload is
# reported on its event instead of failing the batch.
_MAX_NUMBER = 20
_MAX_PROVIDER_ID = 128

_PARSERS = {
    Provider.ALDEAMO: aldeamo_parse_webhook,
    Provider.CONTACTO_VIRTUAL: contacto_virtual_parse_webhook,
}

# Template webhook "event" values that are not statuses of our list.
_TEMPLATE_EVENT_STATUS = {"REINSTATED": TemplateStatus.APPROVED, "UNPAUSED": TemplateStatus.APPROVED}

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


# --- receiving ------------------------------------------------------------------------------------


RECEIPT_HEADER = "x-waportal-receipt"


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def webhook_record(*, account_id: int, body: bytes, content_type: str = "", headers: Mapping[str, str] | None = None,
                   receipt: str = "") -> None:
    """Store one callback body as received, once per (account, body): a single INSERT, no transaction.

    One plain ``INSERT … ON CONFLICT DO NOTHING`` (valid on PostgreSQL and
    SQLite), written once as SQL rather than compiled by the ORM per request:
    the receiver is the hottest path of the portal and its benchmark compares it
    with a bare view doing one INSERT. In autocommit that is one round trip, and
    a duplicate — sequential or concurrent — is a no-op the database arbitrates.
    Database errors propagate, so the view answers 5xx and the provider retries.

    The body is kept as text: UTF-8 when it is, Latin-1 otherwise (recorded in
    ``headers["x-waportal-body-encoding"]``), so nothing a provider sends is
    refused for its encoding. The hash is of the raw bytes.

    ``receipt`` (a per-request nonce) makes this delivery distinct from every
    other with the same body: the key is then the hash of body and receipt,
    and the receipt is kept in ``headers["x-waportal-receipt"]``. The view
    passes one for Contacto Virtual customer replies (see
    :func:`providers.contacto_virtual.webhooks.is_customer_reply_body`).
    """
    stored_headers = dict(headers or {})
    key = body_sha256(body)
    if receipt:
        stored_headers[RECEIPT_HEADER] = receipt
        key = body_sha256(body + b"\n" + receipt.encode("ascii"))
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("latin-1")
        stored_headers["x-waportal-body-encoding"] = "latin-1"
    if "\x00" in text:  # PostgreSQL text cannot hold NUL; JSON never needs a raw one
        text = text.replace("\x00", "\ufffd")
    with connection.cursor() as cursor:
        cursor.execute(
            _RECORD_SQL,
            [account_id, timezone.now(), key, text, content_type[:120], json.dumps(stored_headers),
             WebhookEvent.State.PENDING],
        )


_RECORD_SQL = (
    f'INSERT INTO "{WebhookEvent._meta.db_table}" '
    '("provider_account_id", "received_at", "body_sha256", "body", "content_type", "headers", "state", '
    '"reason", "attempts") '
    "VALUES (%s, %s, %s, %s, %s, %s, %s, '', 0) "
    'ON CONFLICT ("provider_account_id", "body_sha256") DO NOTHING'
)


# --- processing: public API ----------------------------------------------------------------------


def webhook_events_process(*, limit: int = 500) -> int:
    """Claim up to ``limit`` pending events, apply them, and sweep orphan statuses; return how many were claimed.

    Concurrent workers never claim the same event (``SKIP LOCKED`` on
    PostgreSQL; SQLite serialises writers instead). The batch is one
    transaction: a crash leaves its events pending for the next run. A
    programming or data error in the batch is isolated by re-running its events
    one by one, so only the culprit ends up ``error``; a transient database
    error (connection lost, deadlock) propagates and the batch is retried whole.
    """
    with transaction.atomic():
        events = _claim_pending(limit)
        if events:
            _process_claimed(events)
    status_events_sweep()
    return len(events)


def webhook_events_drain(*, limit: int = 500, max_seconds: float = 30.0) -> int:
    """Process batches until nothing is pending or ``max_seconds`` have passed; return the events handled."""
    started = time.monotonic()
    total = 0
    while True:
        count = webhook_events_process(limit=limit)
        total += count
        if count < limit or time.monotonic() - started >= max_seconds:
            return total


def webhook_events_pending() -> bool:
    return WebhookEvent.objects.filter(state=WebhookEvent.State.PENDING).exists()


def webhook_event_reprocess(*, event: WebhookEvent) -> WebhookEvent:
    """Process one stored event again, whatever its state (after a fix, or to inspect it); returns it refreshed.

    Safe to repeat: everything the event already produced is recognised and
    left alone.
    """
    with transaction.atomic():
        locked = list(WebhookEvent.objects.select_for_update().filter(pk=event.pk))
        if locked:
            locked[0].state = WebhookEvent.State.PENDING
            locked[0].reason = ""
            _process_claimed(locked)
    event.refresh_from_db()
    return event


def status_events_link(*, message: Message) -> int:
    """Attach the status events that arrived before ``message`` was stored, and apply them; return how many.

    The send service calls this right after it stores the provider's id (a
    status webhook can beat the send's commit); the sweep in every processing
    batch calls the same logic for anything it missed. ``message`` is updated in
    place with the resulting status.
    """
    ids = [value for value in {message.provider_message_id, message.whatsapp_id} if value]
    if not ids or message.direction != Direction.OUTBOUND:
        return 0
    account_id = Client.objects.filter(pk=message.client_id).values_list("provider_account_id", flat=True).first()
    with transaction.atomic():
        events = list(
            StatusEvent.objects.filter(provider_account_id=account_id, message__isnull=True,
                                       provider_message_id__in=ids).order_by("timestamp", "id")
        )
        if not events:
            return 0
        locked = Message.objects.select_for_update().get(pk=message.pk)
        for status_event in events:
            _apply_status(locked, status=status_event.status, at=status_event.timestamp or status_event.created_at,
                          error_code=status_event.error_code, error_title=status_event.error_title)
            status_event.message_id = locked.pk
        locked.save(update_fields=_MESSAGE_STATUS_FIELDS)
        StatusEvent.objects.bulk_update(events, ["message"])
    for name in _MESSAGE_STATUS_FIELDS:
        setattr(message, name, getattr(locked, name))
    return len(events)


def status_events_sweep(*, limit: int = UNLINKED_SWEEP_LIMIT) -> int:
    """Link recent orphan status events whose message now exists; return how many were linked.

    One query when there is nothing to do (an ``EXISTS`` against the message
    indexes over the partial index of unlinked events).
    """
    cutoff = timezone.now() - UNLINKED_SWEEP_WINDOW
    ours = Message.objects.filter(client__provider_account_id=OuterRef("provider_account_id"),
                                  direction=Direction.OUTBOUND)
    with transaction.atomic():
        orphans = list(
            StatusEvent.objects.filter(message__isnull=True, created_at__gte=cutoff)
            .filter(Exists(ours.filter(provider_message_id=OuterRef("provider_message_id")))
                    | Exists(ours.filter(whatsapp_id=OuterRef("provider_message_id"))))
            .order_by("timestamp", "id")[:limit]
        )
        if not orphans:
            return 0
        account_ids = {orphan.provider_account_id for orphan in orphans}
        context = _BatchContext.load(account_ids)
        messages = context.lookup_messages({orphan.provider_message_id for orphan in orphans})
        changed: dict[Any, Message] = {}
        linked = []
        for orphan in orphans:
            message = messages.outbound(orphan.provider_account_id, orphan.provider_message_id)
            if message is None:
                continue
            if _apply_status(message, status=orphan.status, at=orphan.timestamp or orphan.created_at,
                             error_code=orphan.error_code, error_title=orphan.error_title):
                changed[message.pk] = message
            orphan.message_id = message.pk
            linked.append(orphan)
        if changed:
            bulk_update_rows(Message, list(changed.values()), _MESSAGE_STATUS_FIELDS)
        if linked:
            bulk_update_rows(StatusEvent, linked, ["message"])
    return len(linked)


def message_preview(message_type: str, content: Any) -> str:
    """A one-line, language-neutral summary of a message for the conversation list (≤ 200 chars)."""
    text = ""
    data = content if isinstance(content, Mapping) else {}
    if message_type == MessageType.TEXT:
        text = _str(data.get("body"))
    elif message_type in (MessageType.IMAGE, MessageType.VIDEO, MessageType.AUDIO, MessageType.VOICE,
                          MessageType.DOCUMENT, MessageType.STICKER):
        text = _str(data.get("caption")) or _str(data.get("filename"))
    elif message_type == MessageType.LOCATION:
        text = _str(data.get("name")) or _str(data.get("address")) or (
            f"{data.get('latitude')}, {data.get('longitude')}" if data.get("latitude") is not None else "")
    elif message_type == MessageType.CONTACTS:
        cards = content if isinstance(content, list) else data.get("contacts") or []
        names = [_str((card.get("name") or {}).get("formatted_name")) for card in cards if isinstance(card, Mapping)
                 and isinstance(card.get("name"), Mapping)]
        text = ", ".join(name for name in names if name)
    elif message_type == MessageType.INTERACTIVE:
        # An answer carries list_reply/button_reply; a message we send carries a body.
        reply = data.get(_str(data.get("type")))
        body = data.get("body")
        text = (_str(reply.get("title")) if isinstance(reply, Mapping) else "") or (
            _str(body.get("text")) if isinstance(body, Mapping) else "")
    elif message_type == MessageType.BUTTON:
        text = _str(data.get("text")) or _str(data.get("payload"))
    elif message_type == MessageType.ORDER:
        items = data.get("product_items") if isinstance(data.get("product_items"), list) else []
        text = f"× {len(items)}"
    elif message_type == MessageType.TEMPLATE:
        text = _str(data.get("name"))
    icon = _PREVIEW_ICONS.get(message_type, "")
    preview = f"{icon} {text}".strip() if icon else text
    return " ".join(preview.split())[:200]


# --- processing: batch machinery -----------------------------------------------------------------

_MESSAGE_STATUS_FIELDS = ["status", "status_at", "sent_at", "delivered_at", "read_at", "failed_at", "error_code",
                          "error_title", "whatsapp_id"]
_MESSAGE_LOOKUP_FIELDS = ["id", "client_id", "conversation_id", "phone_number_id", "direction", "type",
                          "provider_message_id", "whatsapp_id", "custom_field", "to_number", "created_at",
                          *_MESSAGE_STATUS_FIELDS]


class _Unreadable(Exception):
    """A stored body that cannot even be decoded into something the adapter takes."""


def _claim_pending(limit: int) -> list[WebhookEvent]:
    queryset = WebhookEvent.objects.filter(state=WebhookEvent.State.PENDING).order_by("id")
    if connection.features.has_select_for_update_skip_locked:
        queryset = queryset.select_for_update(skip_locked=True)
    return list(queryset[:limit])


def _process_claimed(events: list[WebhookEvent]) -> None:
    """Apply claimed events and record each one's outcome; isolate a failing event if the batch fails."""
    try:
        with transaction.atomic():
            outcomes = _apply(events)
    except TRANSIENT_ERRORS:
        raise
    except Exception:
        logger.exception("Webhook batch of %d events failed; retrying them one by one", len(events))
        outcomes = {}
        for event in events:
            try:
                with transaction.atomic():
                    outcomes.update(_apply([event]))
            except TRANSIENT_ERRORS:
                raise
            except Exception as exc:
                logger.exception("Webhook event %s could not be processed", event.pk)
                outcomes[event.pk] = (WebhookEvent.State.ERROR, f"{type(exc).__name__}: {exc}"[:2000])
    # Two statements whatever the batch: one plain UPDATE for the (usual) clean
    # events, a per-row update only for those with a reason to keep.
    now = timezone.now()
    clean, noted = [], []
    for event in events:
        event.state, event.reason = outcomes.get(event.pk, (WebhookEvent.State.PROCESSED, ""))
        event.attempts += 1
        event.processed_at = now
        (noted if event.pk in outcomes else clean).append(event)
    by_client: dict[int | None, list[int]] = defaultdict(list)
    for event in clean:
        by_client[event.client_id].append(event.pk)
    for client_id, pks in by_client.items():  # one statement per client in the batch (usually one)
        WebhookEvent.objects.filter(pk__in=pks).update(
            state=WebhookEvent.State.PROCESSED, reason="", attempts=F("attempts") + 1, processed_at=now,
            client_id=client_id)
    if noted:
        bulk_update_rows(WebhookEvent, noted, ["state", "reason", "attempts", "processed_at", "client"])


@dataclass
class _Item:
    """One typed event of a stored webhook, with where it came from."""

    webhook: WebhookEvent
    event: StatusUpdate | InboundMessage | TemplateEvent

    @property
    def account_id(self) -> int:
        return self.webhook.provider_account_id

    @property
    def received_at(self) -> datetime:
        return self.webhook.received_at


@dataclass
class _Phone:
    id: int
    client_id: int
    account_id: int
    digits: str
    is_active: bool


class _MessageIndex:
    """Messages of a batch by (account, provider id or WhatsApp id)."""

    def __init__(self, messages: Iterable[Message], client_account: Mapping[int, int]) -> None:
        self._any: dict[tuple[int, str], Message] = {}
        self._out: dict[tuple[int, str], Message] = {}
        for message in messages:
            account_id = client_account[message.client_id]
            for key in (message.provider_message_id, message.whatsapp_id):
                if not key:
                    continue
                self._any.setdefault((account_id, key), message)
                if message.direction == Direction.OUTBOUND:
                    self._out.setdefault((account_id, key), message)

    def outbound(self, account_id: int, *ids: str) -> Message | None:
        for key in ids:
            if key and (account_id, key) in self._out:
                return self._out[(account_id, key)]
        return None

    def any(self, account_id: int, key: str) -> Message | None:
        return self._any.get((account_id, key)) if key else None


@dataclass
class _BatchContext:
    """What a batch needs to know about its accounts, loaded with a fixed number of queries."""

    accounts: dict[int, ProviderAccount]
    client_account: dict[int, int]
    clients_by_account: dict[int, set[int]] = field(default_factory=dict)
    _phones: list[_Phone] | None = None

    @classmethod
    def load(cls, account_ids: Iterable[int]) -> _BatchContext:
        accounts = ProviderAccount.objects.only("id", "provider", "line_number").in_bulk(list(set(account_ids)))
        client_account = dict(
            Client.objects.filter(provider_account_id__in=list(accounts)).values_list("id", "provider_account_id")
        )
        clients_by_account: dict[int, set[int]] = defaultdict(set)
        for client_id, account_id in client_account.items():
            clients_by_account[account_id].add(client_id)
        return cls(accounts=accounts, client_account=client_account, clients_by_account=clients_by_account)

    @property
    def phones(self) -> list[_Phone]:
        if self._phones is None:
            rows = PhoneNumber.objects.filter(client_id__in=list(self.client_account)).values_list(
                "id", "client_id", "digits", "is_active").order_by("id")
            self._phones = [_Phone(id=pk, client_id=client_id, account_id=self.client_account[client_id],
                                   digits=digits, is_active=active) for pk, client_id, digits, active in rows]
        return self._phones

    def phone_by_id(self, phone_id: int) -> _Phone | None:
        return next((phone for phone in self.phones if phone.id == phone_id), None)

    def business_phone(self, account_id: int, number: str) -> _Phone | None:
        """The account's number ``number`` (exact, then digits only); without a number, the account's only one."""
        own = [phone for phone in self.phones if phone.account_id == account_id]
        if number:
            exact = [phone for phone in own if phone.digits == number]
            if not exact:
                digits = _digits(number)
                exact = [phone for phone in own if digits and _digits(phone.digits) == digits]
            return _prefer_active(exact)
        return self.account_line(account_id)

    def account_line(self, account_id: int) -> _Phone | None:
        """The line an account receives on when the payload names none (Contacto Virtual replies)."""
        own = [phone for phone in self.phones if phone.account_id == account_id]
        account = self.accounts.get(account_id)
        if account is not None and account.line_number:
            line = [phone for phone in own if _digits(phone.digits) == _digits(account.line_number)]
            if line:
                return _prefer_active(line)
        active = [phone for phone in own if phone.is_active]
        if len(active) == 1:
            return active[0]
        if not active and len(own) == 1:
            return own[0]
        return None

    def lookup_messages(self, ids: set[str], *, lock: bool = True) -> _MessageIndex:
        """Every message of these accounts whose provider id or WhatsApp id is in ``ids``: one query.

        Locked for the batch on databases that can (ordered by pk, so two
        workers lock in the same order): a status applied by another worker in
        between cannot be overwritten with an older one.
        """
        ids = {value for value in ids if value}
        if not ids or not self.client_account:
            return _MessageIndex([], self.client_account)
        queryset = (
            Message.objects.filter(client_id__in=list(self.client_account))
            .filter(Q(provider_message_id__in=ids) | Q(whatsapp_id__in=ids))
            .only(*_MESSAGE_LOOKUP_FIELDS)
            .order_by("pk")
        )
        if lock:
            queryset = queryset.select_for_update()
        return _MessageIndex(list(queryset), self.client_account)


def _prefer_active(phones: list[_Phone]) -> _Phone | None:
    if not phones:
        return None
    active = [phone for phone in phones if phone.is_active]
    return (active or phones)[0]


def _apply(webhooks: list[WebhookEvent]) -> dict[int, tuple[str, str]]:
    """Apply a batch of stored events; return the outcome of each event that is not simply processed."""
    problems: dict[int, list[str]] = defaultdict(list)
    context = _BatchContext.load(webhook.provider_account_id for webhook in webhooks)
    for webhook in webhooks:
        webhook._clients = set()  # type: ignore[attr-defined]  # filled by _attribute while applying

    statuses: list[_Item] = []
    inbound: list[_Item] = []
    templates: list[_Item] = []
    for webhook in webhooks:
        account = context.accounts.get(webhook.provider_account_id)
        try:
            parsed = _parse(webhook, account)
        except _Unreadable as exc:
            problems[webhook.pk].append(str(exc))
            continue
        for event in parsed:
            if isinstance(event, UnknownEvent):
                problems[webhook.pk].append(event.reason or "The adapter could not read part of the payload.")
            elif isinstance(event, StatusUpdate | InboundMessage):
                reason = _status_problem(event) if isinstance(event, StatusUpdate) else _inbound_problem(event)
                if reason:
                    problems[webhook.pk].append(reason)
                else:
                    (statuses if isinstance(event, StatusUpdate) else inbound).append(_Item(webhook, event))
            elif isinstance(event, TemplateEvent):
                templates.append(_Item(webhook, event))
            else:  # a type a newer adapter returns and this code does not know yet
                problems[webhook.pk].append(f"Unsupported event type {type(event).__name__}.")

    # One lookup of every message the batch names: status targets and replied-to messages.
    wanted: set[str] = set()
    for item in statuses:
        wanted.update((item.event.message_id, item.event.whatsapp_id))
    for item in inbound:
        wanted.add(item.event.context_id)
    messages = context.lookup_messages(wanted)

    _apply_statuses(statuses, messages)
    _apply_inbound(inbound, context, messages, problems)
    _apply_templates(templates, context, problems)
    for webhook in webhooks:
        webhook.client_id = _client_of(webhook, context)

    return {
        pk: (WebhookEvent.State.UNPROCESSED, "\n".join(dict.fromkeys(reasons))[:5000])
        for pk, reasons in problems.items() if reasons
    }


def _attribute(webhook: WebhookEvent, client_id: int) -> None:
    """Note that ``webhook`` carried data of ``client_id`` (a status of its message, a message to its number…)."""
    webhook._clients.add(client_id)  # type: ignore[attr-defined]


def _client_of(webhook: WebhookEvent, context: _BatchContext) -> int | None:
    """The one client whose data this raw event carries, or None (then only operators may read it).

    Tenants share provider accounts (one Aldeamo ISV account, several clients),
    so a raw body is shown to a client's users only when everything in it is
    theirs: what it touched, or, on an account with a single client, that client.
    """
    touched = webhook._clients  # type: ignore[attr-defined]
    if len(touched) == 1:
        return next(iter(touched))
    if not touched:
        own = context.clients_by_account.get(webhook.provider_account_id, set())
        if len(own) == 1:
            return next(iter(own))
    return None


def _parse(webhook: WebhookEvent, account: ProviderAccount | None) -> list[Any]:
    if account is None:
        raise _Unreadable("The provider account no longer exists.")
    parse = _PARSERS.get(account.provider)
    if parse is None:
        raise _Unreadable(f"No webhook parser for provider {account.provider!r}.")
    events = parse(_decode(webhook, account.provider))
    receipt = (webhook.headers or {}).get(RECEIPT_HEADER) if isinstance(webhook.headers, Mapping) else None
    if receipt:
        # One stored receipt, one customer message: a replay of this row keeps its id, another POST of the
        # same words (a separate row) gets its own.
        events = [dataclasses.replace(event, message_id=f"{event.message_id[:80]}-{str(receipt)[:32]}")
                  if isinstance(event, InboundMessage) else event for event in events]
    return events


def _decode(webhook: WebhookEvent, provider: str) -> Any:
    """The stored body in the form the adapter takes.

    Contacto Virtual's parser reads raw text itself (JSON first, then a form,
    which that provider may post). Aldeamo posts JSON only; a form body is
    decoded into a mapping so the adapter can say what it lacks.
    """
    text = webhook.body.lstrip("\ufeff")  # a byte-order mark is not part of the JSON
    if provider == Provider.CONTACTO_VIRTUAL:
        return text
    try:
        return json_loads_relaxed(text)  # the manual's webhook examples carry trailing commas
    except ValueError as exc:
        if "=" in text and "{" not in text:
            pairs = parse_qsl(text, keep_blank_values=True)
            if pairs:
                return dict(pairs)
        raise _Unreadable(f"The body is not JSON ({exc}).")


def _status_problem(event: StatusUpdate) -> str:
    if len(event.message_id) > _MAX_PROVIDER_ID or len(event.whatsapp_id) > _MAX_PROVIDER_ID:
        return f"A status names a message id longer than {_MAX_PROVIDER_ID} characters."
    if len(event.status) > 16:
        return f"Unknown status {event.status[:40]!r}."
    return ""


def _inbound_problem(event: InboundMessage) -> str:
    if len(event.from_number) > _MAX_NUMBER:
        return f"The sender {event.from_number[:40]!r} is longer than {_MAX_NUMBER} characters."
    if len(event.message_id) > _MAX_PROVIDER_ID or len(event.context_id) > _MAX_PROVIDER_ID:
        return f"A message or context id is longer than {_MAX_PROVIDER_ID} characters."
    return ""


# --- statuses ---------------------------------------------------------------------------------------


def _apply_status(message: Message, *, status: str, at: datetime | None, error_code: str = "",
                  error_title: str = "", whatsapp_id: str = "") -> bool:
    """Move ``message`` forward with one reported status; return whether any field changed.

    Forward only (``Message.advance``): a late ``delivered`` after ``read``
    only fills ``delivered_at``. A ``failed`` that takes effect keeps the
    provider's code and title; a WhatsApp id learnt from a status fills an
    empty one (Contacto Virtual tells it only there).
    """
    if status not in APPLICABLE_STATUSES:
        return False
    before = tuple(getattr(message, name) for name in _MESSAGE_STATUS_FIELDS)
    moved = message.advance(status, at)
    if moved and status == MessageStatus.FAILED:
        message.error_code = error_code[:32]
        message.error_title = error_title
    if whatsapp_id and not message.whatsapp_id:
        message.whatsapp_id = whatsapp_id
    return tuple(getattr(message, name) for name in _MESSAGE_STATUS_FIELDS) != before


def _apply_statuses(items: list[_Item], messages: _MessageIndex) -> None:
    history: dict[tuple[int, str, str], StatusEvent] = {}
    changed: dict[Any, Message] = {}
    for item in items:
        update: StatusUpdate = item.event  # type: ignore[assignment]
        at = update.timestamp or item.received_at
        message = messages.outbound(item.account_id, update.message_id, update.whatsapp_id)
        if message is not None:
            _attribute(item.webhook, message.client_id)
        if message is not None and _apply_status(
            message, status=update.status, at=at, error_code=update.error_code, error_title=update.error_title,
            whatsapp_id=update.whatsapp_id,
        ):
            changed[message.pk] = message
        key = (item.account_id, update.message_id, update.status)
        if key in history:
            continue
        history[key] = StatusEvent(
            provider_account_id=item.account_id,
            message=message,
            provider_message_id=update.message_id,
            status=update.status,
            timestamp=update.timestamp,
            recipient_id=update.recipient_id[:20],
            error_code=update.error_code[:32],
            error_title=update.error_title,
            errors=[dict(error) for error in update.errors],
            conversation_id=update.conversation_id[:128],
            conversation_origin=update.conversation_origin[:64],
            conversation_expiration=update.conversation_expiration,
            pricing=update.pricing,
            webhook_event_id=item.webhook.pk,
        )
    if history:
        # A redelivered status whose first copy arrived before its message
        # stays unlinked here (the insert is ignored); the sweep that ends every
        # processing run links it.
        StatusEvent.objects.bulk_create(list(history.values()), ignore_conflicts=True)
    if changed:
        bulk_update_rows(Message, list(changed.values()), _MESSAGE_STATUS_FIELDS)


# --- inbound messages ----------------------------------------------------------------------------


@dataclass
class _Inbound:
    item: _Item
    phone: _Phone
    reply_to: Message | None
    moment: datetime

    @property
    def event(self) -> InboundMessage:
        return self.item.event  # type: ignore[return-value]


def _apply_inbound(items: list[_Item], context: _BatchContext, messages: _MessageIndex,
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
        if account.provider == Provider.CONTACTO_VIRTUAL:
            # No business number and no context id on the wire: the message that
            # carried this custom_field to this mobile tells both.
            reply_to = by_custom_field.get((item.account_id, event.custom_field, event.from_number))
            if reply_to is not None:
                phone = context.phone_by_id(reply_to.phone_number_id)
            phone = phone or context.account_line(item.account_id)
            if phone is None:
                problems[item.webhook.pk].append(
                    "This Contacto Virtual account has no business number to file the reply under "
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
        _attribute(item.webhook, phone.client_id)
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
            to_number=entry.phone.digits[:_MAX_NUMBER],
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
        conversation._touched = True  # type: ignore[attr-defined]
    if new_messages:
        Message.objects.bulk_create(new_messages, ignore_conflicts=True)
    touched = [conversation for conversation in conversations.values() if getattr(conversation, "_touched", False)]
    if touched:
        bulk_update_rows(Conversation, touched,
                         ["last_message_at", "last_inbound_at", "last_message_preview", "unread_count"])


def _custom_field_targets(items: list[_Item], context: _BatchContext) -> dict[tuple[int, str, str], Message]:
    """(account, custom_field, mobile) → the latest outbound message that carried that custom_field to that mobile."""
    wanted = [item for item in items
              if context.accounts[item.account_id].provider == Provider.CONTACTO_VIRTUAL and item.event.custom_field]
    if not wanted:
        return {}
    client_ids = set().union(*(context.clients_by_account.get(item.account_id, set()) for item in wanted))
    mobiles: set[str] = set()
    for item in wanted:
        mobiles.update(_number_variants(item.event.from_number))
    rows = list(
        Message.objects.filter(client_id__in=client_ids, direction=Direction.OUTBOUND,
                               custom_field__in={item.event.custom_field for item in wanted}, to_number__in=mobiles)
        .only("id", "client_id", "phone_number_id", "to_number", "custom_field", "created_at")
        .order_by("-created_at")
    )
    found: dict[tuple[int, str, str], Message] = {}
    for item in wanted:
        variants = _number_variants(item.event.from_number)
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


# --- template events -----------------------------------------------------------------------------


def _apply_templates(items: list[_Item], context: _BatchContext, problems: dict[int, list[str]]) -> None:
    if not items:
        return
    client_ids = set().union(*(context.clients_by_account.get(item.account_id, set()) for item in items))
    ids = {item.event.template_id for item in items if item.event.template_id}
    names = {item.event.name for item in items if item.event.name}
    candidates = list(
        Template.objects.filter(client_id__in=client_ids)
        .filter(Q(provider_template_id__in=ids) | Q(name__in=names))
    )
    candidates.sort(key=lambda template: (template.deleted_at is not None, template.pk))  # live ones first
    changed: dict[int, Template] = {}
    changes: list[TemplateChange] = []
    for item in items:
        event: TemplateEvent = item.event  # type: ignore[assignment]
        template = _match_template(candidates, context, item.account_id, event)
        if template is None:
            problems[item.webhook.pk].append(
                f"Template {event.template_id or event.name!r} ({event.language or '-'}) is not known for this "
                "account (sync templates, then reprocess).")
            continue
        _attribute(item.webhook, template.client_id)
        if _apply_template_event(template, event, changes):
            changed[template.pk] = template
    if changed:
        bulk_update_rows(
            Template, list(changed.values()),
            ["status", "category", "rejected_reason", "messages_sent_7d", "messages_opened_7d", "top_block_reason",
             "updated_at"],
        )
    if changes:
        TemplateChange.objects.bulk_create(changes)


def _match_template(candidates: Sequence[Template], context: _BatchContext, account_id: int,
                    event: TemplateEvent) -> Template | None:
    own = [template for template in candidates if context.client_account.get(template.client_id) == account_id]
    if event.template_id:
        for template in own:
            if template.provider_template_id == event.template_id:
                return template
    if event.name:
        language = _language_key(event.language)
        for template in own:
            if template.name == event.name and (not language or _language_key(template.language) == language):
                return template
    return None


def _apply_template_event(template: Template, event: TemplateEvent, changes: list[TemplateChange]) -> bool:
    """Apply one template event in memory, recording status/category changes; return whether anything changed."""
    before = (template.status, template.category, template.rejected_reason, template.messages_sent_7d,
              template.messages_opened_7d, template.top_block_reason)
    if event.kind == "status" and event.status:
        raw = event.status.upper()
        status = _TEMPLATE_EVENT_STATUS.get(raw) or (raw if raw in TemplateStatus.values else TemplateStatus.UNKNOWN)
        reason = event.reason if event.reason and event.reason.upper() != "NONE" else ""
        if status != template.status:
            changes.append(TemplateChange(template=template, field="status", old_value=template.status[:64],
                                          new_value=status[:64], reason=reason or (raw if status != raw else ""),
                                          source=TemplateChange.Source.WEBHOOK))
            template.status = status
        if status == TemplateStatus.REJECTED:
            template.rejected_reason = reason
        elif status == TemplateStatus.APPROVED:
            template.rejected_reason = ""
    elif event.kind == "category" and event.new_category:
        category = event.new_category.upper()[:32]
        if category != template.category:
            changes.append(TemplateChange(template=template, field="category", old_value=template.category[:64],
                                          new_value=category[:64], source=TemplateChange.Source.WEBHOOK))
            template.category = category
    elif event.kind == "performance":
        if event.messages_sent_7d is not None:
            template.messages_sent_7d = event.messages_sent_7d
        if event.messages_opened_7d is not None:
            template.messages_opened_7d = event.messages_opened_7d
        template.top_block_reason = event.top_block_reason[:64]
    after = (template.status, template.category, template.rejected_reason, template.messages_sent_7d,
             template.messages_opened_7d, template.top_block_reason)
    if after != before:
        template.updated_at = timezone.now()
        return True
    return False


def bulk_update_rows(model: type[Model], objs: Sequence[Model], field_names: Sequence[str]) -> None:
    """``bulk_update`` in one statement whose cost does not grow with rows × fields.

    Django's ``bulk_update`` builds a ``CASE WHEN pk=… THEN …`` per field and
    row; at 500 rows that expression building dominates a processing batch
    (issue 9 measured it at most of the time). On PostgreSQL this sends one
    array per column instead: ``UPDATE … FROM unnest(%s::uuid[], …) AS v``.
    Other databases (SQLite in tests and the demo) use ``bulk_update``.
    """
    if not objs:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_update(objs, list(field_names))
        return
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in field_names)]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    arrays = [[column.get_db_prep_save(getattr(obj, column.attname), connection) for obj in objs]
              for column in columns]
    assignments = ", ".join(f"{quote(column.column)} = v.{quote(column.column)}" for column in columns[1:])
    sources = ", ".join(f"%s::{column.db_type(connection)}[]"
                        for column in columns)
    names = ", ".join(quote(column.column) for column in columns)
    pk_column = quote(meta.pk.column)
    sql = (f"UPDATE {table} SET {assignments} FROM unnest({sources}) AS v({names}) "
           f"WHERE {table}.{pk_column} = v.{pk_column}")
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)


# --- small helpers -------------------------------------------------------------------------------


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def _number_variants(mobile: str) -> set[str]:
    """A Colombian mobile as it may have been stored: as given, with or without the 57 prefix."""
    digits = _digits(mobile)
    variants = {mobile, digits}
    if len(digits) >= 10:
        variants.update({digits[-10:], "57" + digits[-10:]})
    return {variant for variant in variants if variant}


def _language_key(language: str) -> str:
    return language.replace("-", "_").lower()


def _str(value: Any) -> str:
    if value is None or isinstance(value, bool | dict | list):
        return ""
    return str(value).strip()


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
        currency = _str(item.get("currency"))
        line = {
            "product": _str(item.get("product_retailer_id")),
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



def webhook_events_requeue(*, states: Sequence[str], account_id: int | None = None) -> int:
    """Put ``unprocessed``/``error`` events back in the queue (after a fix); return how many."""
    allowed = {WebhookEvent.State.UNPROCESSED, WebhookEvent.State.ERROR}
    queryset = WebhookEvent.objects.filter(state__in=[state for state in states if state in allowed])
    if account_id is not None:
        queryset = queryset.filter(provider_account_id=account_id)
    return queryset.update(state=WebhookEvent.State.PENDING, reason="")
