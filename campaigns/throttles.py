"""Throttling a status webhook reports after the send slows down like throttling in the send's answer (issue 21).

The provider may take a send and WhatsApp refuse it afterwards: a ``failed``
status webhook with error 130429 (the number's throughput), 131056 (the pair
rate to one recipient) or 429. In the send's answer such a refusal makes the
runner slow down and send later (:func:`answer_throttled`, below); reported
later, it does the same, heard on
``messaging.hooks.statuses_changed`` (registered in ``CampaignsConfig.ready``):

- a number throttle (130429, 429) keeps every sender of the number waiting
  ``LATE_THROTTLE_SECONDS`` (:func:`accounts.rates.number_slow_down`; the
  campaign page says "throttled by the provider");
- a campaign's recipient whose message it was is put back to be sent again:
  the refused message keeps its history under its key with
  ``:throttled:<message>`` appended (WhatsApp did not deliver it), and the
  recipient is ``claimed`` by nobody until the wait is over (at least
  ``CAMPAIGN_PAIR_SECONDS`` for a 131056), its attempt not counted -- then any
  worker claims it and stores and sends a new message under the recipient's
  key. Never a duplicate (the first one was refused), never a failure.

Only while the campaign can still send (running, scheduled, paused: a resume
claims it); once it completed or was cancelled the recipient stays failed with
the throttle's code -- kept out of the automatic pause's failure ratio either
way. The recipient and the message move together, each only from the state
the webhook found them in (one transaction): a recipient whose worker has not
recorded its outcome yet (the webhook beat the chunk's end) is left to it.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from accounts import rates
from campaigns import conf
from campaigns.claims import defer
from campaigns.models import CampaignRecipient, CampaignStatus, RecipientState
from messaging import sending
from messaging.models import Direction, Message, MessageStatus

logger = logging.getLogger(__name__)

# After a throttled answer without Retry-After: wait BASE * 2^(n-1) seconds (n in a row), at most CAP.
THROTTLE_BASE_SECONDS = 0.25
THROTTLE_CAP_SECONDS = 8.0
#: How long a number throttle reported by a status webhook holds every sender of the number back.
LATE_THROTTLE_SECONDS = 1.0
NUMBER_CODES = frozenset({"429", *sending.NUMBER_THROTTLE_CODES})
RECIPIENT_CODES = frozenset(sending.RECIPIENT_THROTTLE_CODES)
CODES = NUMBER_CODES | RECIPIENT_CODES
# The campaign states in which a recipient put back is sent again (a paused one when it resumes).
SENDING_CAMPAIGN = (CampaignStatus.RUNNING, CampaignStatus.SCHEDULED, CampaignStatus.PAUSED)
# The recipient states a linked message's failure can be found in (the outcome recorded, maybe synced).
RECORDED = (RecipientState.SENDING, RecipientState.SENT, RecipientState.DELIVERED, RecipientState.FAILED)
_CAMPAIGN_KEY = re.compile(r"campaign:(\d+):recipient:(\d+)")


def throttle_code(message: Message) -> str:
    """The throttling code of a failed outbound message ("" when it failed for another reason or not at all)."""
    if message.status != MessageStatus.FAILED or message.direction != Direction.OUTBOUND:
        return ""
    code = (message.error_code or "").strip().lstrip("#")
    return code if code in CODES else ""


def answer_throttled(*, campaign_id: int, phone_number_id: int, batch: sending.TemplateBatch, recipient_id: int,
                     message: Message, outcome, worker_id: str, in_a_row: int) -> None:
    """The provider did not take a campaign's send because of throttling: slow down, and send it later.

    Not a failure (the auto-pause ratio never sees it) and never a
    duplicate: the provider refused it, so its message is withdrawn (it
    never left) and the recipient is put back with a lease that keeps it
    for ``delay`` -- claimed again afterwards, by any worker, and stored
    afresh under the same key. A number throttle (429, 130429) also keeps
    every sender of the number waiting that long; a recipient throttle
    (131056) waits at least ``CAMPAIGN_PAIR_SECONDS``. ``in_a_row``: the
    worker's throttled answers in a row, this one included (the backoff's
    exponent).
    """
    delay = min(outcome.retry_after or THROTTLE_BASE_SECONDS * 2 ** (in_a_row - 1), THROTTLE_CAP_SECONDS)
    if outcome.throttle == "number":
        rates.number_slow_down(phone_number_id=phone_number_id, seconds=delay)
    else:
        delay = max(delay, float(conf.setting("CAMPAIGN_PAIR_SECONDS")))
    if not batch.withdraw(message):
        logger.warning("campaign %s: throttled message %s moved meanwhile; left to its lease", campaign_id,
                       message.pk)
        return
    defer(recipient_ids=[recipient_id], worker_id=worker_id, seconds=delay)


def on_statuses_changed(*, messages) -> None:
    """``messaging.hooks.statuses_changed``: throttles reported after the send slow down and send again later."""
    throttled = [m for m in messages if m.status == MessageStatus.FAILED and throttle_code(m)]
    if not throttled:
        return
    for number_id in {m.phone_number_id for m in throttled if throttle_code(m) in NUMBER_CODES}:
        rates.number_slow_down(phone_number_id=number_id, seconds=LATE_THROTTLE_SECONDS)
    for message in throttled:
        recipient_send_later(message=message)


def recipient_send_later(*, message: Message) -> bool:
    """Put back the campaign recipient whose ``message`` WhatsApp refused for throttling; whether it was."""
    match = _CAMPAIGN_KEY.fullmatch(message.idempotency_key or "")
    if match is None:
        return False
    campaign_id, recipient_id = int(match[1]), int(match[2])
    seconds = LATE_THROTTLE_SECONDS
    if throttle_code(message) in RECIPIENT_CODES:
        seconds = max(seconds, float(conf.setting("CAMPAIGN_PAIR_SECONDS")))
    renamed = f"{message.idempotency_key}:throttled:{message.pk.hex[:12]}"[:200]
    with transaction.atomic():
        moved = CampaignRecipient.objects.filter(
            pk=recipient_id, campaign_id=campaign_id, message_id=message.pk, state__in=RECORDED,
            campaign__status__in=SENDING_CAMPAIGN,
        ).update(
            state=RecipientState.CLAIMED, claimed_by="", lease_until=timezone.now() + timedelta(seconds=seconds),
            message=None, error_code="", error="", finished_at=None,
            attempts=Case(When(attempts__gt=0, then=F("attempts") - 1), default=Value(0)),
        )
        if not moved:
            return False
        if not Message.objects.filter(pk=message.pk, idempotency_key=message.idempotency_key,
                                      status=MessageStatus.FAILED).update(idempotency_key=renamed):
            transaction.set_rollback(True)
            return False
    message.idempotency_key = renamed
    logger.info("campaign %s: recipient %s throttled by WhatsApp after the send (%s); sent again in %.0f s",
                campaign_id, recipient_id, throttle_code(message), seconds)
    return True
