"""Callbacks: what the simulated providers post back to the portal about a send or a template, and when.

``schedule_*`` functions decide, at send or create time, the whole future of
a message or template -- statuses with realistic delays, a share of
failures, duplicates, reordering, the customer's answer (``replies.py``) --
and store one outbox row per webhook call with its due time (``outbox.py``;
``delivery.py`` posts them). Choices come from the account's random
generator, so a seeded account replays exactly.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone

from . import payloads
from .faults import account_rng
from .models import (
    CallbackKind,
    CallbackState,
    Provider,
    SandboxAccount,
    SandboxCallback,
    SandboxMessage,
    SandboxTemplate,
)
from .outbox import plan, schedule, schedule_all
from .replies import CUSTOMER_TEXTS, auto_reply_kind, plan_aldeamo_inbound, plan_cv_reply


def _plan_with_duplicates(
    rng: random.Random, account: SandboxAccount, *, spread: float, **kwargs: Any
) -> list[SandboxCallback]:
    """Plan a callback, and with ``duplicate_share`` a second copy a little later (real BSPs redeliver)."""
    rows = [plan(account=account, **kwargs)]
    if account.duplicate_share and rng.random() < account.duplicate_share:
        duplicate = dict(kwargs)
        duplicate["due_at"] = kwargs["due_at"] + timedelta(seconds=spread * rng.random())
        duplicate["effect"] = {}  # the copy changes nothing; only the first one counts
        rows.append(plan(account=account, **duplicate))
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
        reply_type, extra = auto_reply_kind(message, rng)
        rows.append(
            plan_aldeamo_inbound(
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
            plan_cv_reply(
                account=account,
                mobile=message.to_number,
                text=rng.choice(CUSTOMER_TEXTS),
                custom_field=message.custom_field,
                due_at=read_at + timedelta(seconds=to_reply),
            )
        )
    return schedule_all(rows)


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
