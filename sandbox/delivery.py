"""Delivery: posting due callbacks to the portal and applying what each stands for.

* :func:`deliver_callback` posts one due row (claiming it first, so the task
  worker and a direct call never both post it), applies the state change it
  stands for, and on failure reschedules it with exponential backoff.
* :func:`sandbox_deliver_due` delivers everything due: tests call it
  synchronously (with a ``now`` in the future instead of sleeping);
  ``run_sandbox`` calls it in a loop; ``tasks.py`` a batch at a time.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

import requests
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from .conf import setting
from .models import (
    CallbackState,
    Direction,
    MessageStatus,
    Provider,
    SandboxAccount,
    SandboxCallback,
    SandboxMessage,
    SandboxTemplate,
    TemplateStatus,
)
from .outbox import enqueue_delivery

logger = logging.getLogger("sandbox")

_STATUS_RANK = {
    MessageStatus.ACCEPTED: 0,
    MessageStatus.SENT: 1,
    MessageStatus.DELIVERED: 2,
    MessageStatus.READ: 3,
}
STALE_CLAIM = timedelta(minutes=5)


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


def apply_effect(callback: SandboxCallback) -> None:
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
            apply_effect(callback)
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
    transaction.on_commit(lambda: enqueue_delivery([retry_at]))
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
