"""A message's status moving forward: one rule for every path that reports one.

:func:`status_apply` is the rule, used by webhook processing (a batch of
reported statuses), by the sweep and :func:`status_events_link` (statuses that
arrived before their message was stored), and by the send service for the
send's own outcome (:mod:`messaging.sending.delivery`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from messaging import hooks
from messaging.models import STATUS_FIELDS, Direction, Message, MessageStatus, StatusEvent
from messaging.webhooks.batch import BatchContext, Item, MessageIndex, attribute, bulk_update_rows
from providers.types import StatusUpdate

#: Statuses a provider reports that move a message (anything else is kept in the history only).
APPLICABLE_STATUSES = frozenset({MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ,
                                 MessageStatus.FAILED})

#: How far back the per-batch sweep looks for status events still waiting for their message.
#: A status normally waits milliseconds (the send's commit); older orphans belong to
#: messages sent outside the portal and are not worth rescanning forever.
UNLINKED_SWEEP_WINDOW = timedelta(days=2)
UNLINKED_SWEEP_LIMIT = 500

ERROR_CODE_MAX = Message._meta.get_field("error_code").max_length


def status_apply(message: Message, *, status: str, at: datetime | None, error_code: str = "",
                 error_title: str = "", error_kind: str = "", whatsapp_id: str = "",
                 first_hand: bool = False) -> bool:
    """Move ``message`` forward with one status, in memory; return whether any status field changed.

    Forward only (``Message.advance``): a late ``delivered`` after ``read``
    only fills ``delivered_at``. The error (code cut to its column, title,
    kind) is kept when the status takes effect:

    - a status a provider *reported* (``first_hand`` False) moves the message
      only if it is one of :data:`APPLICABLE_STATUSES`, and keeps its error
      only for a ``failed`` that takes effect;
    - the send's *own* outcome (``first_hand``: sent, failed, unknown) keeps
      its error when it takes effect or meets the same status a webhook
      recorded first (its words say what to do), never over a status a webhook
      moved further meanwhile ("may not have been sent" next to "delivered"
      would only confuse).

    A WhatsApp id learnt from a status fills an empty one (Contacto Virtual
    tells it only there).
    """
    if not first_hand and status not in APPLICABLE_STATUSES:
        return False
    before = tuple(getattr(message, name) for name in STATUS_FIELDS)
    moved = message.advance(status, at)
    if first_hand:
        keep_error = bool(error_code or error_title) and (moved or message.status == status)
    else:
        keep_error = moved and status == MessageStatus.FAILED
    if keep_error:
        message.error_code = (error_code or "")[:ERROR_CODE_MAX]
        message.error_title = error_title
        message.error_kind = error_kind
    if whatsapp_id and not message.whatsapp_id:
        message.whatsapp_id = whatsapp_id
    return tuple(getattr(message, name) for name in STATUS_FIELDS) != before


def _event_apply(message: Message, event: StatusEvent) -> bool:
    """Apply one stored status event (one that waited for its message) with :func:`status_apply`."""
    return status_apply(message, status=event.status, at=event.timestamp or event.created_at,
                        error_code=event.error_code, error_title=event.error_title)


def status_events_attach(message: Message, *, account_id: int | None) -> int:
    """Link and apply, in memory, the status events that arrived before ``message`` had its ids; how many.

    An event names the message by its provider id or its WhatsApp id. The
    caller holds the message's row lock and saves :data:`STATUS_FIELDS`; the
    events' link is written here.
    """
    ids = [value for value in {message.provider_message_id, message.whatsapp_id} if value]
    if not ids or message.direction != Direction.OUTBOUND:
        return 0
    events = list(
        StatusEvent.objects.filter(provider_account_id=account_id, message__isnull=True,
                                   provider_message_id__in=ids).order_by("timestamp", "id")
    )
    if not events:
        return 0
    for event in events:
        _event_apply(message, event)
        event.message_id = message.pk
    StatusEvent.objects.bulk_update(events, ["message"])
    return len(events)


def status_events_link(*, message: Message) -> int:
    """Attach the status events that arrived before ``message`` was stored, and apply them; return how many.

    For a message stored outside a send (the send service attaches its own
    early events as it records the outcome); the sweep in every processing
    batch does the same for anything missed. ``message`` is updated in place
    with the resulting status.
    """
    from accounts.models import Client

    if not message.provider_message_id and not message.whatsapp_id:
        return 0
    account_id = Client.objects.filter(pk=message.client_id).values_list("provider_account_id", flat=True).first()
    with transaction.atomic():
        locked = Message.objects.select_for_update().get(pk=message.pk)
        count = status_events_attach(locked, account_id=account_id)
        if count:
            locked.save(update_fields=STATUS_FIELDS)
    if count:
        for name in STATUS_FIELDS:
            setattr(message, name, getattr(locked, name))
    return count


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
        context = BatchContext.load(account_ids)
        messages = context.lookup_messages({orphan.provider_message_id for orphan in orphans})
        changed: dict[Any, Message] = {}
        linked = []
        for orphan in orphans:
            message = messages.outbound(orphan.provider_account_id, orphan.provider_message_id)
            if message is None:
                continue
            if _event_apply(message, orphan):
                changed[message.pk] = message
            orphan.message_id = message.pk
            linked.append(orphan)
        if changed:
            bulk_update_rows(Message, list(changed.values()), STATUS_FIELDS)
        if linked:
            bulk_update_rows(StatusEvent, linked, ["message"])
    return len(linked)


def statuses_apply(items: list[Item], messages: MessageIndex) -> None:
    """Apply a batch's reported statuses (``Item``s of ``StatusUpdate``) and keep each once in the history."""
    history: dict[tuple[int, str, str], StatusEvent] = {}
    changed: dict[Any, Message] = {}
    for item in items:
        update: StatusUpdate = item.event  # type: ignore[assignment]
        at = update.timestamp or item.received_at
        message = messages.outbound(item.account_id, update.message_id, update.whatsapp_id)
        if message is not None:
            attribute(item.webhook, message.client_id)
        if message is not None and status_apply(
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
            error_code=update.error_code[:ERROR_CODE_MAX],
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
        bulk_update_rows(Message, list(changed.values()), STATUS_FIELDS)
        hooks.statuses_changed.fire(messages=list(changed.values()))
