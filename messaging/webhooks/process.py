"""Processing: claim stored events in batches, parse them with the provider's adapter, apply them."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import ProviderAccount
from messaging import hooks
from messaging.models import WebhookEvent
from messaging.webhooks.batch import MAX_NUMBER, MAX_PROVIDER_ID, BatchContext, Item, bulk_update_rows, client_of
from messaging.webhooks.inbound import inbound_apply
from messaging.webhooks.record import RECEIPT_HEADER, WEBHOOK_MAX_JSON_DEPTH
from messaging.webhooks.statuses import status_events_sweep, statuses_apply
from messaging.webhooks.templates import template_events_apply
from providers import registry
from providers.base import WebhookUnreadable
from providers.types import InboundMessage, StatusUpdate, TemplateEvent, UnknownEvent
from waportal.input_policy import json_depth_exceeds

logger = logging.getLogger("messaging.webhooks")

#: Database errors that mean "try the whole batch again later", not "this event is bad".
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


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


def webhook_events_requeue(*, states: Sequence[str], account_id: int | None = None) -> int:
    """Put ``unprocessed``/``error`` events back in the queue (after a fix); return how many."""
    allowed = {WebhookEvent.State.UNPROCESSED, WebhookEvent.State.ERROR}
    queryset = WebhookEvent.objects.filter(state__in=[state for state in states if state in allowed])
    if account_id is not None:
        queryset = queryset.filter(provider_account_id=account_id)
    return queryset.update(state=WebhookEvent.State.PENDING, reason="")


# --- the batch ---------------------------------------------------------------------------------------


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
        hooks.events_unprocessed.fire(events=noted)


def _apply(webhooks: list[WebhookEvent]) -> dict[int, tuple[str, str]]:
    """Apply a batch of stored events; return the outcome of each event that is not simply processed."""
    problems: dict[int, list[str]] = defaultdict(list)
    context = BatchContext.load(webhook.provider_account_id for webhook in webhooks)
    for webhook in webhooks:
        webhook._clients = set()  # type: ignore[attr-defined]  # filled by attribute while applying

    statuses: list[Item] = []
    inbound: list[Item] = []
    templates: list[Item] = []
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
                    (statuses if isinstance(event, StatusUpdate) else inbound).append(Item(webhook, event))
            elif isinstance(event, TemplateEvent):
                templates.append(Item(webhook, event))
            else:  # a type a newer adapter returns and this code does not know yet
                problems[webhook.pk].append(f"Unsupported event type {type(event).__name__}.")

    # One lookup of every message the batch names: status targets and replied-to messages.
    wanted: set[str] = set()
    for item in statuses:
        wanted.update((item.event.message_id, item.event.whatsapp_id))
    for item in inbound:
        wanted.add(item.event.context_id)
    messages = context.lookup_messages(wanted)

    statuses_apply(statuses, messages)
    inbound_apply(inbound, context, messages, problems)
    template_events_apply(templates, context, problems)
    for webhook in webhooks:
        webhook.client_id = client_of(webhook, context)

    return {
        pk: (WebhookEvent.State.UNPROCESSED, "\n".join(dict.fromkeys(reasons))[:5000])
        for pk, reasons in problems.items() if reasons
    }


def _parse(webhook: WebhookEvent, account: ProviderAccount | None) -> list[Any]:
    if account is None:
        raise _Unreadable("The provider account no longer exists.")
    try:
        events = account.spec.parse_webhook(_decode(webhook), webhook.content_type)
    except registry.UnknownProvider:
        raise _Unreadable(f"No webhook parser for provider {account.provider!r}.") from None
    except WebhookUnreadable as exc:
        raise _Unreadable(str(exc)) from None
    receipt = (webhook.headers or {}).get(RECEIPT_HEADER) if isinstance(webhook.headers, Mapping) else None
    if receipt:
        # One stored receipt, one customer message: a replay of this row keeps its id, another POST of the
        # same words (a separate row) gets its own.
        events = [dataclasses.replace(event, message_id=f"{event.message_id[:80]}-{str(receipt)[:32]}")
                  if isinstance(event, InboundMessage) else event for event in events]
    return events


def _decode(webhook: WebhookEvent) -> str:
    """The stored body as the provider's parser takes it (text; each parser reads its own format)."""
    text = webhook.body.lstrip("\ufeff")  # a byte-order mark is not part of the JSON
    if json_depth_exceeds(text.encode("utf-8", "surrogatepass"), WEBHOOK_MAX_JSON_DEPTH):
        # No provider nests this deep; parsing it would only hit the recursion limit.
        raise _Unreadable(f"The body is nested deeper than {WEBHOOK_MAX_JSON_DEPTH} levels.")
    return text


def _status_problem(event: StatusUpdate) -> str:
    if len(event.message_id) > MAX_PROVIDER_ID or len(event.whatsapp_id) > MAX_PROVIDER_ID:
        return f"A status names a message id longer than {MAX_PROVIDER_ID} characters."
    if len(event.status) > 16:
        return f"Unknown status {event.status[:40]!r}."
    return ""


def _inbound_problem(event: InboundMessage) -> str:
    if len(event.from_number) > MAX_NUMBER:
        return f"The sender {event.from_number[:40]!r} is longer than {MAX_NUMBER} characters."
    if len(event.message_id) > MAX_PROVIDER_ID or len(event.context_id) > MAX_PROVIDER_ID:
        return f"A message or context id is longer than {MAX_PROVIDER_ID} characters."
    return ""
