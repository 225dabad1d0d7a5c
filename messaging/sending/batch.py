"""Many template sends from one number at once: the campaigns' path (:class:`TemplateBatch`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import gateway
from accounts.models import PhoneNumber
from messaging import hooks
from messaging.conversations import contacts_ensure, conversations_ensure
from messaging.models import Conversation, Message, MessageStatus, StatusEvent
from messaging.presenters import message_preview
from messaging.sending import delivery
from messaging.sending.checks import require_active
from messaging.sending.delivery import Outcome, apply_outcome, call_provider, internal_error, record
from messaging.sending.prepare import Prepared, prepare
from messaging.sending.send import (
    checked_key,
    message_for_key,
    new_message,
    replay,
    request_fingerprint,
    request_payload,
)
from providers.types import OutboundMessage, TemplateSend
from templates_mgr.models import Template
from templates_mgr.spec import template_spec
from waportal.errors import ApplicationError
from waportal.sql import bound_cursor, db_param, objects_insert, values_table


@dataclass(frozen=True)
class BatchItem:
    """One send of a :class:`TemplateBatch`: recipient, template content (as for message_send), key."""

    to: str
    content: Any
    idempotency_key: str


class TemplateBatch:
    """Template sends from one number, stored many at a time and sent one by one (system sends: campaigns).

    The promises of :func:`message_send` hold -- validated first, stored before
    sent, provider failures as outcomes, retries only where safe, never twice
    for a key -- at a cost per message a campaign at full speed can afford:

    - :meth:`store` validates a chunk and stores it in a few round trips
      (contacts and conversations in bulk, the messages in one pipelined
      INSERT, :func:`waportal.sql.objects_insert`) in status ``queued``:
      stored, not yet handed to the provider.
    - :meth:`send` hands one stored message to the provider. A single UPDATE
      first marks it ``sending`` -- only while it is still ``queued``, so no
      two workers ever send it, and a ``queued`` message found after a crash is
      known never to have left -- and, in the same statement, records the
      previous send's outcome, so a crash loses at most the answer in flight.
    - :meth:`finish` records the last outcome and attaches status webhooks that
      arrived before their message's provider id was stored.

    Every item needs an idempotency key (``campaign:<id>:recipient:<id>``): a
    key already used returns its first message (``replayed``) unless that
    message is still ``queued``, which is then sent.
    """

    _FIELDS = ("status", "status_at", "sent_at", "failed_at", "provider_message_id", "whatsapp_id", "error_code",
               "error_title", "error_kind")

    def __init__(self, *, phone_number: PhoneNumber, template: Template) -> None:
        self.phone_number = phone_number
        self.template = template
        self.account = phone_number.client.provider_account
        self.spec = template_spec(template)  # each conversation's preview: the body as its customer reads it
        self._client = None
        self._preparer = None
        self._wires: dict[Any, OutboundMessage | TemplateSend] = {}
        self._unrecorded: list[tuple[Message, Outcome]] = []
        self._answered: list[Message] = []  # sent since the last finish(): early webhook events may await them
        self.throttle_back = False  # see begin()

    # -- storing --

    def store(self, items: list[BatchItem]) -> list[Message | ApplicationError]:
        """Validate and store ``items``: per item its message (send it when ``queued``) or why it was refused."""
        try:
            require_active(self.phone_number)
        except ApplicationError as exc:
            return [exc] * len(items)
        results: list[Message | ApplicationError | None] = [None] * len(items)
        keys: dict[int, str] = {}
        for index, item in enumerate(items):
            try:
                key = checked_key(item.idempotency_key)
                if not key:
                    raise ApplicationError(_("A batch send needs an idempotency key."), field="idempotency_key")
            except ApplicationError as exc:
                results[index] = exc
                continue
            keys[index] = key
        existing = {
            message.idempotency_key: message
            for message in Message.objects.filter(client_id=self.phone_number.client_id,
                                                  idempotency_key__in=list(keys.values()))
        } if keys else {}
        new: list[tuple[int, Prepared, str, str]] = []
        for index, key in keys.items():
            item = items[index]
            fingerprint = request_fingerprint(request_payload(
                phone_number=self.phone_number, to=item.to, type="template", content=item.content,
                context_message_id="", preview_url=None, template=self.template, custom_field=""))
            first = existing.get(key)
            try:
                if first is not None:
                    replay(first, fingerprint)
                    if first.status != MessageStatus.QUEUED:
                        results[index] = first  # handed to the provider before: never again
                        continue
                prepared = prepare(
                    account=self.account, phone_number=self.phone_number, to=item.to, type="template",
                    content=item.content, context_message_id="", preview_url=None, template=self.template,
                    custom_field="", client=self.preparer)
            except ApplicationError as exc:
                if first is not None and first.status == MessageStatus.QUEUED:
                    _fail_queued(first, code="refused", words=exc.message)
                results[index] = exc
                continue
            if first is not None:  # stored by an earlier attempt that never handed it to the provider
                first.replayed = False
                self._wires[first.pk] = prepared.wire
                results[index] = first
            else:
                new.append((index, prepared, key, fingerprint))
        if new:
            self._insert(new, results)
        return results

    def _insert(self, new: list[tuple[int, Prepared, str, str]], results: list) -> None:
        now = timezone.now()
        with transaction.atomic():
            contacts = contacts_ensure(client_id=self.phone_number.client_id, wa_ids=[p.to for _i, p, _k, _f in new])
            conversations = conversations_ensure(phone_number=self.phone_number, contact_ids=contacts.values())
            messages = []
            previews: dict[Any, str] = {}
            for index, prepared, key, fingerprint in new:
                previews[conversations[contacts[prepared.to]]] = message_preview(
                    "template", prepared.content, spec=self.spec)[:200]
                message = new_message(
                    actor=None, phone_number=self.phone_number, type="template", prepared=prepared, key=key,
                    fingerprint=fingerprint, status=MessageStatus.QUEUED, at=now,
                    conversation_id=conversations[contacts[prepared.to]])
                message.replayed = False
                messages.append(message)
                results[index] = message
                self._wires[message.pk] = prepared.wire
            # A key taken meanwhile by a concurrent batch: that row is skipped, and send() finds the winner.
            objects_insert(messages, ignore_conflicts=True)
            texts = set(previews.values())
            Conversation.objects.filter(pk__in=previews).update(
                last_message_at=now, updated_at=now, last_message_preview=Value(texts.pop()) if len(texts) == 1 else Case(
                    *(When(pk=pk, then=Value(text)) for pk, text in previews.items()),
                    default=F("last_message_preview")))

    # -- sending --

    @property
    def preparer(self):
        """The account's provider client that builds wire bodies (no network), made once per batch."""
        if self._preparer is None:
            self._preparer = gateway.provider_client(self.account)
        return self._preparer

    @property
    def client(self):
        if self._client is None:
            self._client = delivery.provider_client(self.account)
        return self._client

    def send(self, message: Message) -> Message:
        """Hand a ``queued`` message from :meth:`store` to the provider; the message with its outcome.

        A message another worker took meanwhile is returned as it is stored
        (``replayed``), without calling the provider. Provider failures are
        outcomes (``failed``, ``unknown``), as in :func:`message_send`.
        """
        call = self.begin(message)
        if isinstance(call, Message):
            return call
        try:
            outcome = call()
        except Exception:
            self.complete(message, None)
            self._write()
            raise
        return self.complete(message, outcome)

    def begin(self, message: Message) -> Callable[[], Outcome] | Message:
        """Mark a ``queued`` message ``sending``; the provider call to make, or the message another worker took.

        The mark is one UPDATE that also records every outcome :meth:`complete`
        got since the last one. The call returned touches no database and may
        run in any thread (:attr:`concurrent` says whether the client allows
        that); it returns the outcome, never raises a ProviderError. With
        ``throttle_back`` a throttling answer (429, WhatsApp 130429 / 131056)
        comes back at once as a ``throttled`` outcome, for the caller to slow
        down and try later (:meth:`withdraw`); otherwise it is retried here.
        """
        [call] = self.begin_many([message])
        if isinstance(call, ApplicationError):
            raise call
        return call

    def begin_many(self, messages: list[Message]) -> list[Callable[[], Outcome] | Message | ApplicationError]:
        """:meth:`begin` for several messages about to leave together: one UPDATE marks them all ``sending``.

        Per message, in order: its provider call, the message another worker
        took meanwhile, or why it cannot be sent (deleted meanwhile). Every
        mark is written before any call is returned, so each message is
        ``sending`` before its call leaves.
        """
        wires = [self._wires.pop(message.pk) for message in messages]
        marked = self._write(marks=messages)
        client, account, throttle_back = self.client, self.account, self.throttle_back
        calls: list[Callable[[], Outcome] | Message | ApplicationError] = []
        for message, wire in zip(messages, wires, strict=True):
            if message.pk not in marked:
                taken = message_for_key(client_id=self.phone_number.client_id, key=message.idempotency_key)
                if taken is None:
                    calls.append(ApplicationError(_("The message was deleted before it could be sent."),
                                                  field="message"))
                    continue
                taken.replayed = True
                calls.append(taken)
                continue
            calls.append(_provider_call(client=client, wire=wire, account=account, label=message.pk,
                                        throttle_back=throttle_back))
        return calls

    def complete(self, message: Message, outcome: Outcome | None) -> Message:
        """Put a call's outcome (None: the call raised) on the message; written with the next UPDATE or finish."""
        outcome = outcome if outcome is not None else internal_error()
        apply_outcome(message, outcome)
        self._unrecorded.append((message, outcome))
        return message

    def withdraw(self, message: Message) -> bool:
        """Forget a message the provider refused to take because of throttling: it never left.

        Deleted while still ``sending`` with no provider id (no webhook can
        name it); whoever sends its recipient later stores it afresh under the
        same key. Only for a ``throttled`` outcome -- the provider said it did
        not take it. Whether the row went.
        """
        deleted, _counts = Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING,
                                                  provider_message_id="").delete()
        return bool(deleted)

    @property
    def concurrent(self) -> bool:
        """Whether provider calls may run in other threads (pooled HTTP, not an in-process transport)."""
        return bool(getattr(self.client, "over_the_network", False))

    def abandon(self, message: Message, *, words: str) -> Message:
        """Give up on a ``queued`` message (never handed to the provider): it fails with ``words``."""
        self._wires.pop(message.pk, None)
        _fail_queued(message, code="abandoned", words=words)
        return message

    def finish(self) -> None:
        """Record the last outcome; forget what was stored but not sent; attach early status events.

        Messages stored by :meth:`store` and never handed to :meth:`send` (the
        caller stopped early) are deleted while still ``queued``: they never
        left, and whoever sends those recipients later stores them afresh. Call
        it before giving those recipients back.
        """
        self._write()
        unsent, self._wires = list(self._wires), {}
        if unsent:
            Message.objects.filter(pk__in=unsent, status=MessageStatus.QUEUED).delete()
        answered, self._answered = self._answered, []
        ids = {message.provider_message_id for message in answered}
        if not ids:
            return
        early = set(
            StatusEvent.objects.filter(provider_account=self.account, provider_message_id__in=ids,
                                       message__isnull=True).values_list("provider_message_id", flat=True)
        )
        for message in answered:
            if message.provider_message_id in early:
                record(message, account=self.account, outcome=None)

    def _write(self, *, marks: list[Message] = ()) -> set:
        """One UPDATE: the unrecorded outcomes (if any), and ``marks`` moved queued -> sending; the ids of the
        marks that took.

        Each row only applies while the message is in the status it left us in
        (``sending`` for an outcome, ``queued`` for the mark): both moves are
        forward (``STATUS_RANK``), and an outcome whose row moved meanwhile is
        recorded the careful way (:func:`record`).
        """
        rows: list[tuple[Any, ...]] = []
        db = connections[DEFAULT_DB_ALIAS]  # not the django.db.connection proxy: this runs once per send
        db_id = Message._meta.pk.get_db_prep_value
        unrecorded, self._unrecorded = self._unrecorded, []
        for message, _outcome in unrecorded:
            rows.append((db_id(message.pk, db), MessageStatus.SENDING,
                         *(db_param(getattr(message, name)) for name in self._FIELDS)))
        if marks:
            now = timezone.now()
            mark_columns = (MessageStatus.QUEUED, MessageStatus.SENDING, db_param(now),
                            *([None] * (len(self._FIELDS) - 2)))
            rows += [(db_id(mark.pk, db), *mark_columns) for mark in marks]
        if not rows:
            return set()
        table = Message._meta.db_table
        values, params, (pk, expected, *columns) = values_table(
            rows, ["uuid", None, None, *(["timestamp with time zone"] * 3), None, None, None, None, None])
        assignments = ", ".join(f"{name} = COALESCE({column}, {table}.{name})"
                                for name, column in zip(self._FIELDS, columns, strict=True))
        with bound_cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET {assignments} FROM {values} "
                           f"WHERE {table}.id = {pk} AND {table}.status = {expected} RETURNING {table}.id", params)
            written = {Message._meta.pk.to_python(row[0]) for row in cursor.fetchall()}
        moved = []
        for message, outcome in unrecorded:
            if message.pk not in written:  # something else moved it meanwhile: the careful way
                record(message, account=self.account, outcome=outcome)
                continue
            moved.append(message)
            if outcome.result is not None:
                self._answered.append(message)
        if moved:
            hooks.statuses_changed.fire(messages=moved)
        marked = set()
        for mark in marks:
            if mark.pk in written:
                mark.status, mark.status_at = MessageStatus.SENDING, now
                marked.add(mark.pk)
        return marked


def _provider_call(*, client, wire, account, label, throttle_back: bool) -> Callable[[], Outcome]:
    """The provider call of one message (no database: it may run in any thread)."""
    def call() -> Outcome:
        return call_provider(client=client, wire=wire, account=account, label=label, throttle_back=throttle_back)
    return call


def messages_lost_in_flight(*, message_ids: list, words: str) -> int:
    """Messages left ``sending`` by a worker that died mid-call become ``unknown``: the provider may have them.

    Only from ``sending`` (forward; a status that arrived since wins). "Send
    again" is offered for them (:data:`RESENDABLE`). Returns how many moved.
    """
    if not message_ids:
        return 0
    return Message.objects.filter(pk__in=list(message_ids), status=MessageStatus.SENDING).update(
        status=MessageStatus.UNKNOWN, status_at=timezone.now(), error_code="worker_lost", error_title=words)


def _fail_queued(message: Message, *, code: str, words: str) -> None:
    """A stored message that will never be handed to the provider fails with the reason (forward: queued -> failed)."""
    now = timezone.now()
    if Message.objects.filter(pk=message.pk, status=MessageStatus.QUEUED).update(
            status=MessageStatus.FAILED, status_at=now, failed_at=now, error_code=code, error_title=words):
        message.status, message.status_at, message.failed_at = MessageStatus.FAILED, now, now
        message.error_code, message.error_title = code, words
