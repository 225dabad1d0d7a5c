"""The one send service: every outbound message goes through :func:`message_send`.

The admin composer, the API, replies from the inbox and campaigns all call it,
so the promises below hold everywhere:

- **Nothing is stored for a refused request.** Limits, tenancy, the template
  and the 24-hour window are checked first; a refusal is an
  :class:`~waportal.errors.ApplicationError` naming the field.
- **Stored before sent.** The message is committed with its own UUID and the
  request body exactly as it goes on the wire (Contacto Virtual's token masked)
  *before* the HTTP call, so a crash or a timeout never leaves a send
  unaccounted for, and a webhook racing the answer finds the row.
- **Provider failures are outcomes, not exceptions.** A refusal (401, 400,
  Contacto Virtual codes 2-8) marks the message ``failed`` with words a person
  can act on; a connection error, 429 or 5xx is retried with capped, jittered
  exponential backoff, because the provider did not take the message; a read
  timeout marks it ``unknown`` after exactly one call, because the message may
  be on its way and a blind resend could deliver it twice.
- **Never twice by accident.** An idempotency key returns the first stored
  message for the same request; the database's unique constraint settles races.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import gateway
from accounts.models import PhoneNumber, Provider, ProviderAccount, Role
from accounts.tenancy import require_role
from messaging import validation
from messaging.conversations import contacts_ensure, conversation_for, conversations_ensure, window_open
from messaging.models import (
    Contact,
    Conversation,
    Direction,
    Message,
    MessageStatus,
    SendOutcome,
    StatusEvent,
)
from providers.aldeamo import build_send_body
from providers.base import ProviderAuthError, ProviderError, ProviderRateLimited, ProviderTimeout
from providers.contacto_virtual import ContactoVirtualClient, mobile_problem
from providers.types import OutboundMessage, SendResult, TemplateSend
from templates_mgr.models import Template, TemplateStatus
from waportal.errors import ApplicationError
from waportal.sql import bound_cursor, db_param, objects_insert, values_table

logger = logging.getLogger(__name__)

# A module attribute (not ``from … import``) so tests replace it with a fake:
# ``monkeypatch.setattr("messaging.sending.provider_client", lambda account: fake)``.
provider_client = gateway.provider_client

#: Injectable so tests do not wait: ``monkeypatch.setattr("messaging.sending.sleep", …)``.
sleep = time.sleep

#: Attempts in all for errors the provider marks retryable (connection refused, 429, 5xx).
MAX_ATTEMPTS = 3
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0

#: What replaces Contacto Virtual's token in the stored request body.
TOKEN_MASK = "********"

IDEMPOTENCY_KEY_MAX = 200

#: Statuses "send again" is offered for: the first attempt failed or its outcome is unknown.
RESENDABLE = (MessageStatus.UNKNOWN, MessageStatus.FAILED)


def request_fingerprint(payload: dict[str, Any]) -> str:
    """A stable hash of a normalised request, to tell a replay from a new request under the same key.

    Key order and JSON spacing do not matter; values do. 64 hex characters.
    """
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_fingerprint = request_fingerprint  # message_send has a parameter of the same name


@dataclass
class _Prepared:
    """A validated request, ready to store and send."""

    to: str
    content: Any
    wire: OutboundMessage | TemplateSend
    request_body: dict[str, Any]
    context_id: str = ""
    reply_to: Message | None = None
    template: Template | None = None
    custom_field: str = ""


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
    _require_active(phone_number)

    key = _checked_key(idempotency_key)
    fingerprint = ""
    if key:
        fingerprint = request_fingerprint or _fingerprint(_request_payload(
            phone_number=phone_number, to=to, type=type, content=content, context_message_id=context_message_id,
            preview_url=preview_url, template=template, custom_field=custom_field,
        ))
        existing = _message_for_key(client_id=phone_number.client_id, key=key)
        if existing is not None:
            return _replay(existing, fingerprint)

    account = phone_number.client.provider_account
    prepared = _prepare(
        account=account, phone_number=phone_number, to=to, type=type, content=content,
        context_message_id=context_message_id, preview_url=preview_url, template=template,
        custom_field=custom_field,
    )
    if prepared.template is not None or type == "template":
        _require_not_opted_out(phone_number=phone_number, to=prepared.to)
    message, created = _store(
        actor=actor, phone_number=phone_number, type=type, prepared=prepared, key=key, fingerprint=fingerprint
    )
    if not created:
        return _replay(message, fingerprint)
    return _deliver(message=message, wire=prepared.wire, account=account)


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


def message_preview(*, type: str, content: Any) -> str:
    """A one-line summary of a message for lists and the inbox (not sent anywhere)."""
    obj = content if isinstance(content, dict) else {}
    if type == "text":
        return str(obj.get("body") or "")[:200]
    if type == "template":
        return _("[Template] %(name)s") % {"name": obj.get("name") or obj.get("id") or ""}
    if type in validation.MEDIA_TYPES:
        label = {"image": _("Image"), "audio": _("Audio"), "video": _("Video"), "document": _("Document"),
                 "sticker": _("Sticker")}[type]
        caption = obj.get("caption") or obj.get("filename") or ""
        return f"[{label}] {caption}".strip()[:200]
    if type == "location":
        return (_("[Location] %(name)s") % {"name": obj.get("name") or ""}).strip()[:200]
    if type == "contacts":
        return _("[Contacts]")
    if type == "interactive":
        body = obj.get("body") if isinstance(obj.get("body"), dict) else {}
        return (_("[Interactive] %(text)s") % {"text": body.get("text") or ""}).strip()[:200]
    return f"[{type}]"


# --- many template sends at once: the campaigns' path ---------------------------------------


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
               "error_title")

    def __init__(self, *, phone_number: PhoneNumber, template: Template) -> None:
        self.phone_number = phone_number
        self.template = template
        self.account = phone_number.client.provider_account
        self.preview = message_preview(type="template", content={"name": template.name})[:200]
        self._client = None
        self._wires: dict[Any, OutboundMessage | TemplateSend] = {}
        self._unrecorded: tuple[Message, _Outcome] | None = None
        self._answered: list[Message] = []  # sent since the last finish(): early webhook events may await them

    # -- storing --

    def store(self, items: list[BatchItem]) -> list[Message | ApplicationError]:
        """Validate and store ``items``: per item its message (send it when ``queued``) or why it was refused."""
        try:
            _require_active(self.phone_number)
        except ApplicationError as exc:
            return [exc] * len(items)
        results: list[Message | ApplicationError | None] = [None] * len(items)
        keys: dict[int, str] = {}
        for index, item in enumerate(items):
            try:
                key = _checked_key(item.idempotency_key)
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
        new: list[tuple[int, _Prepared, str, str]] = []
        for index, key in keys.items():
            item = items[index]
            fingerprint = _fingerprint(_request_payload(
                phone_number=self.phone_number, to=item.to, type="template", content=item.content,
                context_message_id="", preview_url=None, template=self.template, custom_field=""))
            first = existing.get(key)
            try:
                if first is not None:
                    _replay(first, fingerprint)
                    if first.status != MessageStatus.QUEUED:
                        results[index] = first  # handed to the provider before: never again
                        continue
                prepared = _prepare(
                    account=self.account, phone_number=self.phone_number, to=item.to, type="template",
                    content=item.content, context_message_id="", preview_url=None, template=self.template,
                    custom_field="")
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

    def _insert(self, new: list[tuple[int, _Prepared, str, str]], results: list) -> None:
        now = timezone.now()
        with transaction.atomic():
            contacts = contacts_ensure(client_id=self.phone_number.client_id, wa_ids=[p.to for _i, p, _k, _f in new])
            conversations = conversations_ensure(phone_number=self.phone_number, contact_ids=contacts.values())
            messages = []
            for index, prepared, key, fingerprint in new:
                message = _new_message(
                    actor=None, phone_number=self.phone_number, type="template", prepared=prepared, key=key,
                    fingerprint=fingerprint, status=MessageStatus.QUEUED, at=now,
                    conversation_id=conversations[contacts[prepared.to]])
                message.replayed = False
                messages.append(message)
                results[index] = message
                self._wires[message.pk] = prepared.wire
            # A key taken meanwhile by a concurrent batch: that row is skipped, and send() finds the winner.
            objects_insert(messages, ignore_conflicts=True)
            Conversation.objects.filter(pk__in=set(conversations.values())).update(
                last_message_at=now, last_message_preview=self.preview)

    # -- sending --

    @property
    def client(self):
        if self._client is None:
            self._client = provider_client(self.account)
        return self._client

    def send(self, message: Message) -> Message:
        """Hand a ``queued`` message from :meth:`store` to the provider; the message with its outcome.

        A message another worker took meanwhile is returned as it is stored
        (``replayed``), without calling the provider. Provider failures are
        outcomes (``failed``, ``unknown``), as in :func:`message_send`.
        """
        wire = self._wires.pop(message.pk)
        if not self._write(mark=message):
            taken = _message_for_key(client_id=self.phone_number.client_id, key=message.idempotency_key)
            if taken is None:
                raise ApplicationError(_("The message was deleted before it could be sent."), field="message")
            taken.replayed = True
            return taken
        try:
            outcome = _call_provider(client=self.client, wire=wire, account=self.account, label=message.pk)
        except Exception:
            failure = _internal_error()
            _apply(message, failure)
            self._unrecorded = (message, failure)
            self._write(mark=None)
            raise
        _apply(message, outcome)
        self._unrecorded = (message, outcome)
        return message

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
        self._write(mark=None)
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
                _record(message, account=self.account, outcome=None)

    def _write(self, *, mark: Message | None) -> bool:
        """One UPDATE: the unrecorded outcome (if any), and ``mark`` moved queued -> sending; whether the mark took.

        Each row only applies while the message is in the status it left us in
        (``sending`` for an outcome, ``queued`` for the mark): both moves are
        forward (``STATUS_RANK``), and an outcome whose row moved meanwhile is
        recorded the careful way (:func:`_record`).
        """
        rows: list[tuple[Any, ...]] = []
        db = connections[DEFAULT_DB_ALIAS]  # not the django.db.connection proxy: this runs once per send
        db_id = Message._meta.pk.get_db_prep_value
        unrecorded, self._unrecorded = self._unrecorded, None
        if unrecorded is not None:
            message = unrecorded[0]
            rows.append((db_id(message.pk, db), MessageStatus.SENDING,
                         *(db_param(getattr(message, name)) for name in self._FIELDS)))
        if mark is not None:
            now = timezone.now()
            rows.append((db_id(mark.pk, db), MessageStatus.QUEUED, MessageStatus.SENDING, db_param(now),
                         *([None] * (len(self._FIELDS) - 2))))
        if not rows:
            return True
        table = Message._meta.db_table
        values, params, (pk, expected, *columns) = values_table(
            rows, ["uuid", None, None, *(["timestamp with time zone"] * 3), None, None, None, None])
        assignments = ", ".join(f"{name} = COALESCE({column}, {table}.{name})"
                                for name, column in zip(self._FIELDS, columns, strict=True))
        with bound_cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET {assignments} FROM {values} "
                           f"WHERE {table}.id = {pk} AND {table}.status = {expected} RETURNING {table}.id", params)
            written = {Message._meta.pk.to_python(row[0]) for row in cursor.fetchall()}
        if unrecorded is not None:
            message, outcome = unrecorded
            if message.pk not in written:  # something else moved it meanwhile: the careful way
                _record(message, account=self.account, outcome=outcome)
            elif outcome.result is not None:
                self._answered.append(message)
        if mark is not None and mark.pk in written:
            mark.status, mark.status_at = MessageStatus.SENDING, now
            return True
        return mark is None


def _fail_queued(message: Message, *, code: str, words: str) -> None:
    """A stored message that will never be handed to the provider fails with the reason (forward: queued -> failed)."""
    now = timezone.now()
    if Message.objects.filter(pk=message.pk, status=MessageStatus.QUEUED).update(
            status=MessageStatus.FAILED, status_at=now, failed_at=now, error_code=code, error_title=words):
        message.status, message.status_at, message.failed_at = MessageStatus.FAILED, now, now
        message.error_code, message.error_title = code, words


# --- validation and preparation -------------------------------------------------------


def _require_active(phone_number: PhoneNumber) -> None:
    if not phone_number.is_active:
        raise ApplicationError(
            _("The business number %(number)s is not active; pick an active number.")
            % {"number": phone_number.display_phone_number or phone_number.digits},
            field="from",
        )


def _checked_key(idempotency_key: str) -> str:
    key = (idempotency_key or "").strip()
    if len(key) > IDEMPOTENCY_KEY_MAX:
        raise ApplicationError(
            _("The Idempotency-Key is %(length)d characters long; at most %(limit)d are accepted.")
            % {"length": len(key), "limit": IDEMPOTENCY_KEY_MAX},
            field="idempotency_key",
        )
    return key


def _request_payload(*, phone_number: PhoneNumber, to: str, type: str, content: Any, context_message_id: str,
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


def _prepare(*, account: ProviderAccount, phone_number: PhoneNumber, **request: Any) -> _Prepared:
    """Validate a request for the account's provider and build what goes on the wire."""
    if account.provider == Provider.CONTACTO_VIRTUAL:
        return _prepare_contacto_virtual(account=account, phone_number=phone_number, **request)
    return _prepare_aldeamo(phone_number=phone_number, **request)


def _prepare_aldeamo(
    *,
    phone_number: PhoneNumber,
    to: str,
    type: str,
    content: Any,
    context_message_id: str,
    preview_url: bool | None,
    template: Template | None,
    custom_field: str,
) -> _Prepared:
    recipient = validation.recipient_digits(to)
    if type not in validation.SENDABLE_TYPES:
        raise ApplicationError(
            _("type must be one of: %(types)s.") % {"types": ", ".join(validation.SENDABLE_TYPES)}, field="type"
        )
    context_id = validation.context_message_id(context_message_id)
    extra = validation.custom_field(custom_field)
    if type == "template":
        if preview_url is not None:
            raise ApplicationError(_("preview_url applies only to text messages."), field="preview_url")
        template, content = _aldeamo_template(phone_number=phone_number, content=content, template=template)
    else:
        if template is not None:
            raise ApplicationError(_("A template was picked but the type is %(type)s.") % {"type": type},
                                   field="type")
        content = validation.validate_content(type=type, content=copy.deepcopy(content), preview_url=preview_url)
        _require_open_window(phone_number=phone_number, to=recipient)
    wire = OutboundMessage(
        from_number=phone_number.digits,
        to=recipient,
        type=type,
        content=content,
        context_message_id=context_id,
        recipient_type="individual",
        preview_url=preview_url if type == "text" else None,
    )
    return _Prepared(
        to=recipient,
        content=content,
        wire=wire,
        request_body=build_send_body(wire),
        context_id=context_id,
        reply_to=_replied_message(phone_number=phone_number, context_id=context_id),
        template=template,
        custom_field=extra,
    )


def _language_code(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("code")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ApplicationError(_("template.language.code must be a language code such as es or en_US."),
                               field="template.language.code")
    return value.strip()


def _aldeamo_template(
    *, phone_number: PhoneNumber, content: Any, template: Template | None
) -> tuple[Template, dict[str, Any]]:
    """The synced, approved template this send uses, and the template object as it goes on the wire.

    The namespace comes from the number's WABA (the manual: it must be the
    WABA's namespace or the message is not sent), so a caller copying an
    example with another namespace still sends the right one.
    """
    if not isinstance(content, dict):
        raise ApplicationError(
            _("template must be an object with name, language and components."), field="template"
        )
    for key in content:
        if key not in ("namespace", "name", "language", "components"):
            raise ApplicationError(
                _("template.%(key)s is not a field of template; allowed: namespace, name, language, components.")
                % {"key": key},
                field=f"template.{key}",
            )
    waba = phone_number.waba
    if waba is None:
        raise ApplicationError(
            _("The number %(number)s has no WhatsApp Business account; sync the provider account first.")
            % {"number": phone_number.display_phone_number},
            field="from",
        )
    name = content.get("name")
    if name is not None and not isinstance(name, str):
        raise ApplicationError(_("template.name must be text."), field="template.name")
    name = (name or "").strip()
    code = _language_code(content.get("language"))
    if template is None:
        if not name:
            raise ApplicationError(_("template.name is required."), field="template.name")
        if not code:
            raise ApplicationError(_("template.language.code is required (e.g. es)."),
                                   field="template.language.code")
        template = Template.objects.filter(waba=waba, name=name, language=code).first()
        if template is None:
            raise ApplicationError(
                _("No template '%(name)s' in language '%(language)s' is synced for WABA %(waba)s. Sync the "
                  "templates, or check the name and language.") % {"name": name, "language": code,
                                                                   "waba": waba.waba_id},
                field="template.name",
            )
    else:
        if template.waba_id != waba.pk:
            raise ApplicationError(
                _("The template '%(name)s' belongs to another WhatsApp Business account than the number %(number)s.")
                % {"name": template.name, "number": phone_number.display_phone_number},
                field="template",
            )
        if name and name != template.name:
            raise ApplicationError(
                _("template.name '%(given)s' does not match the picked template '%(name)s'.")
                % {"given": name, "name": template.name},
                field="template.name",
            )
        if code and code != template.language:
            raise ApplicationError(
                _("template.language.code '%(given)s' does not match the picked template's language '%(code)s'.")
                % {"given": code, "code": template.language},
                field="template.language.code",
            )
        name, code = template.name, template.language
    _require_sendable(template)
    components = copy.deepcopy(content.get("components"))
    validation.check_template_components(template=template, components=components)
    namespace = waba.namespace or (content.get("namespace") if isinstance(content.get("namespace"), str) else "")
    if not namespace:
        raise ApplicationError(
            _("The WhatsApp Business account %(waba)s has no template namespace; enter it in the admin or give "
              "template.namespace.") % {"waba": waba.waba_id},
            field="template.namespace",
        )
    wire: dict[str, Any] = {
        "namespace": namespace,
        "language": {"policy": "deterministic", "code": code},
        "name": name,
    }
    if "components" in content:
        wire["components"] = components
    return template, wire


@dataclass(frozen=True)
class Blocker:
    """Something the provider will need that is missing: the field to fix and why, in words."""

    field: str
    reason: str


def template_send_blockers(*, phone_number: PhoneNumber, template: Template) -> list[Blocker]:
    """What stops ``template`` going out from ``phone_number``, checked before anything is sent.

    The same checks :func:`message_send` makes one message at a time, for
    callers that must refuse a whole batch up front (the campaign dry-run
    report and start): the template is approved and not deleted; an Aldeamo
    number's WABA has its template namespace (no listing returns it); a
    Contacto Virtual template has its ``id_template`` (CV's listing has none);
    the number is active. Empty when nothing is missing.
    """
    blockers: list[Blocker] = []
    if not phone_number.is_active:
        blockers.append(Blocker("phone_number", _("The sender number %(number)s is not active.")
                                % {"number": phone_number.display_phone_number or phone_number.digits}))
    if template.deleted_at is not None:
        blockers.append(Blocker("template", _("The template '%(name)s' was deleted at the provider; pick another "
                                              "one.") % {"name": template.name}))
    elif template.status != TemplateStatus.APPROVED:
        blockers.append(Blocker("template", _("The template '%(name)s' is %(status)s; only approved templates can "
                                              "be sent.") % {"name": template.name,
                                                             "status": template.get_status_display()}))
    if phone_number.waba_id is not None:
        waba = phone_number.waba
        if not waba.namespace:
            blockers.append(Blocker("namespace", _(
                "The WhatsApp Business account %(waba)s has no template namespace: enter it (WABA admin, or PATCH "
                "/api/v1/wabas/%(id)s/ with namespace) before sending templates.") % {"waba": waba.waba_id,
                                                                                       "id": waba.pk}))
    elif not template.provider_template_id:
        blockers.append(Blocker("provider_template_id", _(
            "The template '%(name)s' has no Contacto Virtual id_template: enter it (template admin, or PATCH "
            "/api/v1/templates/%(id)s/ with provider_template_id) before sending it.") % {"name": template.name,
                                                                                        "id": template.pk}))
    return blockers


def recipient_opted_out(*, client_id: int, to: str) -> bool:
    """Whether ``to`` asked this client not to be messaged (the contact's flag or the campaign opt-out list)."""
    from campaigns.models import OptOut  # campaigns build on messaging; the read goes the other way lazily

    return (Contact.objects.filter(client_id=client_id, wa_id=to, opted_out=True).exists()
            or OptOut.objects.filter(client_id=client_id, phone=to).exists())


def _require_not_opted_out(*, phone_number: PhoneNumber, to: str) -> None:
    """Templates (what a business starts) are refused to a person who opted out, before anything is stored.

    Free-form replies are not: they can only go inside the 24-hour window the
    customer opened by writing, i.e. they answer the person.
    """
    if recipient_opted_out(client_id=phone_number.client_id, to=to):
        raise ApplicationError(
            _("%(to)s asked not to receive messages from this business (opt-out); no template is sent to them.")
            % {"to": to},
            field="to",
        )


def _require_sendable(template: Template) -> None:
    if template.deleted_at is not None:
        raise ApplicationError(
            _("The template '%(name)s' was deleted at the provider; pick another one.") % {"name": template.name},
            field="template.name",
        )
    if template.status != TemplateStatus.APPROVED:
        raise ApplicationError(
            _("The template '%(name)s' is %(status)s; only approved templates can be sent.")
            % {"name": template.name, "status": template.get_status_display()},
            field="template.name",
        )


def _prepare_contacto_virtual(
    *,
    account: ProviderAccount,
    phone_number: PhoneNumber,
    to: str,
    type: str,
    content: Any,
    context_message_id: str,
    preview_url: bool | None,
    template: Template | None,
    custom_field: str,
) -> _Prepared:
    """A Contacto Virtual ``send/`` request: templates only, to Colombian numbers."""
    if type != "template":
        raise ApplicationError(
            _("Contacto Virtual lines send only templates: use type template (with template.id or template.name)."),
            field="type",
        )
    if preview_url is not None:
        raise ApplicationError(_("preview_url applies only to text messages."), field="preview_url")
    if context_message_id:
        raise ApplicationError(
            _("Contacto Virtual cannot send a reply to a specific message; remove context.message_id."),
            field="context.message_id",
        )
    try:
        recipient = validation.recipient_digits(to)
    except ApplicationError:
        # Contacto Virtual's own words say what is wrong with a Colombian number (e.g. no 57 in front).
        digits = "".join(ch for ch in str(to or "") if ch.isdigit())
        problem = mobile_problem(digits) if digits else None
        if problem:
            raise ApplicationError(problem, field="to")
        raise
    problem = mobile_problem(recipient)
    if problem:
        raise ApplicationError(problem, field="to")
    extra = validation.custom_field(custom_field)
    if not isinstance(content, dict):
        raise ApplicationError(_("template must be an object with id or name, and components."), field="template")
    for key in content:
        if key not in ("id", "name", "language", "namespace", "components"):
            raise ApplicationError(
                _("template.%(key)s is not a field of a Contacto Virtual template; allowed: id, name, components.")
                % {"key": key},
                field=f"template.{key}",
            )
    template = _contacto_virtual_template(phone_number=phone_number, content=content, template=template)
    components = copy.deepcopy(content.get("components"))
    variables, media = validation.contacto_virtual_parameters(template=template, components=components)
    wire = TemplateSend(
        id_template=template.provider_template_id,
        mobile=recipient,
        variables=variables,
        media=media,
        custom_field=extra,
    )
    stored: dict[str, Any] = {"id": template.provider_template_id, "name": template.name}
    if components is not None:
        stored["components"] = components
    return _Prepared(
        to=recipient,
        content=stored,
        wire=wire,
        request_body=_contacto_virtual_form(account=account, wire=wire),
        template=template,
        custom_field=extra,
    )


def _contacto_virtual_template(*, phone_number: PhoneNumber, content: dict[str, Any],
                               template: Template | None) -> Template:
    """The client's Contacto Virtual template by ``template.id`` (id_template) or ``template.name``."""
    templates = Template.objects.filter(client_id=phone_number.client_id, waba__isnull=True)
    if template is not None:
        if template.client_id != phone_number.client_id or template.waba_id is not None:
            raise ApplicationError(
                _("The template '%(name)s' is not a Contacto Virtual template of this line's client.")
                % {"name": template.name},
                field="template",
            )
    else:
        raw_id = content.get("id")
        name = content.get("name")
        if raw_id not in (None, ""):
            template_id = str(raw_id).strip()
            if isinstance(raw_id, bool) or not template_id.isdigit():
                raise ApplicationError(
                    _("template.id must be the numeric id_template Contacto Virtual showed when the template was "
                      "created."),
                    field="template.id",
                )
            template = templates.filter(provider_template_id=template_id).first()
            if template is None:
                raise ApplicationError(
                    _("No Contacto Virtual template with id_template %(id)s is stored for this client. Sync the "
                      "templates and enter each template's id_template in the admin.") % {"id": template_id},
                    field="template.id",
                )
        elif isinstance(name, str) and name.strip():
            template = templates.filter(name=name.strip()).first()
            if template is None:
                raise ApplicationError(
                    _("No Contacto Virtual template named '%(name)s' is synced for this client; sync the templates "
                      "or check the name.") % {"name": name.strip()},
                    field="template.name",
                )
        else:
            raise ApplicationError(
                _("Give template.id (the numeric id_template) or template.name."), field="template"
            )
    if not template.provider_template_id:
        raise ApplicationError(
            _("The template '%(name)s' has no id_template yet: an admin must enter the number Contacto Virtual "
              "showed when the template was created (Templates in the admin) before it can be sent.")
            % {"name": template.name},
            field="template.name",
        )
    _require_sendable(template)
    return template


def _contacto_virtual_form(*, account: ProviderAccount, wire: TemplateSend) -> dict[str, Any]:
    """The ``send/`` form exactly as the adapter posts it, with the token masked for storage.

    Built by the adapter itself (on a client holding a masked token) so the
    stored body cannot drift from the wire format.
    """
    masked = ContactoVirtualClient(base_url=account.effective_base_url, login=account.login, token=TOKEN_MASK)
    try:
        return masked.build_send_form(wire)
    except ValueError as exc:  # already checked above; kept as a refusal, never a crash
        raise ApplicationError(str(exc), field="template")
    finally:
        masked.session.close()


def _require_open_window(*, phone_number: PhoneNumber, to: str) -> None:
    """Refuse a free-form message outside the 24-hour customer-service window.

    The window opens with the customer's last message: the conversation's
    ``last_inbound_at`` (kept current by the webhook ingest), or, should that be
    missing, the newest stored inbound message from them.
    """
    last = (
        Conversation.objects.filter(phone_number=phone_number, contact__wa_id=to)
        .values_list("last_inbound_at", flat=True)
        .first()
    )
    if last is None:
        newest = (
            Message.objects.filter(phone_number=phone_number, direction=Direction.INBOUND, from_number=to)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        last = newest
    if window_open(last):
        return
    if last is None:
        words = _("+%(to)s has never written to this number") % {"to": to}
    else:
        words = _("the last message from +%(to)s was more than 24 hours ago") % {"to": to}
    raise ApplicationError(
        _("A template is needed: %(words)s, and WhatsApp only allows free-form messages within 24 hours of the "
          "customer's last message. Send an approved template instead.") % {"words": words},
        field="type",
        extra={"code": "window_closed"},
    )


def _replied_message(*, phone_number: PhoneNumber, context_id: str) -> Message | None:
    """The stored message a reply answers: its provider id or WhatsApp id is the context id."""
    if not context_id:
        return None
    return (
        Message.objects.filter(client_id=phone_number.client_id)
        .filter(Q(provider_message_id=context_id) | Q(whatsapp_id=context_id))
        .order_by("created_at")
        .first()
    )


# --- storing and idempotency --------------------------------------------------------------


def _message_for_key(*, client_id: int, key: str) -> Message | None:
    return Message.objects.filter(client_id=client_id, idempotency_key=key).first()


def _replay(message: Message, fingerprint: str) -> Message:
    if fingerprint and message.request_fingerprint and fingerprint != message.request_fingerprint:
        raise ApplicationError(
            _("This Idempotency-Key was already used for a different request (message %(id)s); use a new key for "
              "a new message.") % {"id": message.pk},
            field="idempotency_key",
            http_status=422,
        )
    message.replayed = True
    return message


def _new_message(*, actor, phone_number: PhoneNumber, type: str, prepared: _Prepared, key: str, fingerprint: str,
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


def _store(
    *, actor, phone_number: PhoneNumber, type: str, prepared: _Prepared, key: str, fingerprint: str
) -> tuple[Message, bool]:
    """Commit the outbound message in status ``sending``; (message, created).

    A concurrent request with the same idempotency key loses on the unique
    constraint and gets the winner's message back (created False).
    """
    conversation = conversation_for(phone_number=phone_number, wa_id=prepared.to)
    now = timezone.now()
    message = _new_message(actor=actor, phone_number=phone_number, type=type, prepared=prepared, key=key,
                           fingerprint=fingerprint, status=MessageStatus.SENDING, at=now, conversation=conversation)
    try:
        with transaction.atomic():
            message.save(force_insert=True)
    except IntegrityError:
        if not key:
            raise
        winner = _message_for_key(client_id=phone_number.client_id, key=key)
        if winner is None:
            raise
        return winner, False
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message_at=now, last_message_preview=message_preview(type=type, content=prepared.content)[:200]
    )
    message.replayed = False
    return message, True


# --- the provider call -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    """How one send ended at the provider, ready to record."""

    status: str
    at: datetime
    result: SendResult | None = None
    error_code: str = ""
    error_title: str = ""
    outcome: str = SendOutcome.ACCEPTED


def _outcome_kind(exc: ProviderError) -> str:
    """Which kind of failure ``exc`` is, for the API's status code (see ``SendOutcome``).

    Refused credentials, and answers a correctly configured account never gets
    (404/405: a wrong base URL or path; a redirect), are the account's
    configuration; retryable failures that outlived the retries are an
    unreachable provider; an answer that may hide a send is unknown; any other
    refusal (400, Contacto Virtual codes 3-8 and 1002-1011) is the provider
    refusing this message.
    """
    if exc.maybe_delivered:
        return SendOutcome.UNKNOWN
    if exc.retryable:
        return SendOutcome.UNREACHABLE
    if isinstance(exc, ProviderAuthError) or (exc.status is not None and (exc.status in (404, 405) or
                                                                         300 <= exc.status < 400)):
        return SendOutcome.CONFIGURATION
    return SendOutcome.REFUSED


def _backoff(attempt: int, error: ProviderError) -> float:
    """Seconds to wait before attempt ``attempt + 1``: exponential, capped, with jitter.

    "Equal jitter" (half fixed, half random) keeps a minimum pause while
    spreading retries of many senders; a 429's Retry-After is honoured up to
    the cap.
    """
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    if isinstance(error, ProviderRateLimited) and error.retry_after:
        delay = max(delay, min(error.retry_after, BACKOFF_CAP_SECONDS))
    return delay


def _call_provider(*, client, wire: OutboundMessage | TemplateSend, account: ProviderAccount, label: Any) -> _Outcome:
    """Send ``wire``, retrying only what is safe; the outcome, never a ProviderError.

    Anything else raised (a bug, not a provider answer) propagates: the caller
    records the message as ``unknown`` (see :func:`_internal_error`).
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            result = client.send(wire)
        except ProviderError as exc:
            if exc.maybe_delivered:
                logger.warning("send %s: outcome unknown: %s", label, exc)
                return _Outcome(MessageStatus.UNKNOWN, timezone.now(), error_title=_unknown_words(exc, account),
                                outcome=SendOutcome.UNKNOWN)
            if exc.retryable and attempt < MAX_ATTEMPTS:
                logger.info("send %s: attempt %d failed (%s); retrying", label, attempt, exc)
                sleep(_backoff(attempt, exc))
                continue
            logger.info("send %s: failed after %d attempt(s): %s", label, attempt, exc)
            return _Outcome(MessageStatus.FAILED, timezone.now(), error_code=_error_code(exc),
                            error_title=_failure_words(exc, account, attempt), outcome=_outcome_kind(exc))
        return _Outcome(MessageStatus.SENT, timezone.now(), result=result)


def _internal_error() -> _Outcome:
    # The request may or may not have left.
    return _Outcome(MessageStatus.UNKNOWN, timezone.now(), outcome=SendOutcome.UNKNOWN, error_title=_(
        "The portal hit an internal error while sending; the message may or may not have been sent. Check with the "
        "customer before sending it again."))


def _deliver(*, message: Message, wire: OutboundMessage | TemplateSend, account: ProviderAccount) -> Message:
    """Call the provider (retrying only what is safe) and record the outcome on the message."""
    try:
        outcome = _call_provider(client=provider_client(account), wire=wire, account=account, label=message.pk)
    except Exception:
        _record(message, account=account, outcome=_internal_error())
        raise
    return _record(message, account=account, outcome=outcome)


def _provider_name(account: ProviderAccount) -> str:
    return account.get_provider_display()


def _error_code(exc: ProviderError) -> str:
    if exc.code is not None:
        return str(exc.code)[:32]
    if exc.status is not None:
        return str(exc.status)
    return ""


def _failure_words(exc: ProviderError, account: ProviderAccount, attempts: int) -> str:
    """Why a send failed, in words that say what to do about it."""
    name = _provider_name(account)
    if exc.retryable:
        return _(
            "%(provider)s could not take the message after %(attempts)d attempts (%(words)s). It was not sent; try "
            "again later."
        ) % {"provider": name, "attempts": attempts, "words": exc.message}
    if account.provider == Provider.CONTACTO_VIRTUAL:
        return exc.message  # the adapter already words each code for a person
    if isinstance(exc, ProviderAuthError):
        return _(
            "%(provider)s refused the credentials (%(words)s): check the account's API key and user id."
        ) % {"provider": name, "words": exc.message}
    if exc.status == 400:
        return _(
            "%(provider)s rejected the message as invalid (%(words)s): check the recipient number and the content; "
            "for a template, that its name, language and parameters match the approved template."
        ) % {"provider": name, "words": exc.message}
    return _("%(provider)s rejected the message (%(words)s).") % {"provider": name, "words": exc.message}


def _unknown_words(exc: ProviderError, account: ProviderAccount) -> str:
    name = _provider_name(account)
    if isinstance(exc, ProviderTimeout):
        cause = _("%(provider)s did not answer in time") % {"provider": name}
    else:
        cause = _("%(provider)s gave an answer the portal could not read (%(words)s)") % {
            "provider": name, "words": exc.message}
    return _(
        "%(cause)s, so the message may or may not have been sent. It was not retried automatically. Its status will "
        "update if the provider reports it; otherwise use \"Send again\", knowing the customer may get it twice."
    ) % {"cause": cause}


def _apply(message: Message, outcome: _Outcome) -> bool:
    """Put ``outcome`` on the message in memory (forward only, see ``Message.advance``); whether it moved."""
    if outcome.result is not None:
        message.provider_message_id = outcome.result.message_id[:128]
        if outcome.result.id_kind == "whatsapp":
            message.whatsapp_id = outcome.result.message_id[:128]
    moved = message.advance(outcome.status, outcome.at)
    if (outcome.error_code or outcome.error_title) and (moved or message.status == outcome.status):
        # Not over a status a webhook recorded meanwhile: "may not have been sent" next to "delivered"
        # would only confuse.
        message.error_code = outcome.error_code
        message.error_title = outcome.error_title
    return moved


def _record(message: Message, *, account: ProviderAccount, outcome: _Outcome | None) -> Message:
    """Store the outcome without undoing a status a webhook may already have recorded.

    ``outcome`` None only attaches early status events (the outcome itself was stored).
    """
    with transaction.atomic():
        fresh = Message.objects.select_for_update().get(pk=message.pk)
        if outcome is not None:
            _apply(fresh, outcome)
            fresh.send_outcome = outcome.outcome
        if outcome is None or outcome.result is not None:
            _link_early_events(fresh, account=account)
        fresh.save(update_fields=["status", "status_at", "sent_at", "delivered_at", "read_at", "failed_at",
                                  "error_code", "error_title", "provider_message_id", "whatsapp_id",
                                  "send_outcome"])
    fresh.replayed = False
    return fresh


def _link_early_events(message: Message, *, account: ProviderAccount) -> None:
    """Attach status events that arrived before we knew the provider id (the webhook beat the answer)."""
    events = list(
        StatusEvent.objects.filter(
            provider_account=account, provider_message_id=message.provider_message_id, message__isnull=True
        ).order_by("timestamp", "id")
    )
    if not events:
        return
    StatusEvent.objects.filter(pk__in=[event.pk for event in events]).update(message=message)
    for event in events:
        if event.status not in MessageStatus.values:
            continue
        if message.advance(event.status, event.timestamp) and event.status == MessageStatus.FAILED:
            message.error_code = event.error_code
            message.error_title = event.error_title
