"""Recipients a campaign worker holds back from a chunk before storing it (issue 21).

Two checks per chunk, one query each, before its messages are stored:
someone who opted out after the dry run (a "stop" reply mid-campaign) is
skipped, and someone this number wrote to too often just now (WhatsApp's pair
rate, error 131056) is put back for later -- deferred, not queued in front of
the others: the worker goes on with the rest (:mod:`campaigns.runner`).
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import PhoneNumber
from campaigns import conf
from campaigns.claims import Claimed, defer
from campaigns.models import Campaign, CampaignRecipient, RecipientState, SkipReason
from messaging import sending
from messaging.models import Direction, Message, MessageStatus


def without_pair_limited(*, chunk: list[Claimed], campaign: Campaign, phone_number: PhoneNumber,
                         worker_id: str) -> list[Claimed]:
    """Put back for later the recipients this number wrote to too often just now (the pair rate).

    WhatsApp allows about one message every few seconds from a number to one
    person, after a small burst (error 131056). A recipient who already got
    ``CAMPAIGN_PAIR_BURST`` messages from this number in the last
    ``CAMPAIGN_PAIR_SECONDS`` (another campaign, the API, the inbox) waits that
    long -- deferred, not queued in front of the others: the worker goes on
    with the rest. One query per chunk; its own message (a re-claimed
    recipient's) does not count.
    """
    burst = int(conf.setting("CAMPAIGN_PAIR_BURST"))
    seconds = float(conf.setting("CAMPAIGN_PAIR_SECONDS"))
    if burst <= 0 or seconds <= 0 or not chunk:
        return chunk
    own = [CampaignRecipient.idempotency_key(campaign.pk, c.id) for c in chunk]
    recent = dict(
        Message.objects.filter(phone_number_id=phone_number.pk, direction=Direction.OUTBOUND,
                               to_number__in=[c.phone for c in chunk],
                               created_at__gte=timezone.now() - timedelta(seconds=seconds))
        .exclude(idempotency_key__in=own).values_list("to_number").annotate(n=Count("id"))
    )
    later = [c.id for c in chunk if recent.get(c.phone, 0) >= burst]
    if not later:
        return chunk
    defer(recipient_ids=later, worker_id=worker_id, seconds=seconds)
    return [c for c in chunk if c.id not in set(later)]


def without_opted_out(*, chunk: list[Claimed], campaign: Campaign, batch: sending.TemplateBatch) -> list[Claimed]:
    """Skip recipients who opted out after the dry run (a "stop" reply mid-campaign).

    A re-claimed one may have been sent before its worker died: it keeps its
    message (linked by the batch's replay) instead of being skipped.
    """
    phones = {c.phone for c in chunk}
    stopped = sending.opted_out_among(client_id=campaign.client_id, phones=phones,
                              category=campaign.template.category)
    out = [c for c in chunk if c.phone in stopped]
    if not out:
        return chunk
    keys = {CampaignRecipient.idempotency_key(campaign.pk, c.id): c.id for c in out if c.attempts > 1}
    earlier = (Message.objects.filter(client_id=campaign.client_id, idempotency_key__in=list(keys))
               if keys else [])
    words = _("This person asked not to receive messages (after the list was checked).")
    sent_before = set()
    for message in earlier:
        if message.status == MessageStatus.QUEUED:
            batch.abandon(message, words=words)
        else:
            sent_before.add(keys[message.idempotency_key])
    skipped = {c.id for c in out} - sent_before
    CampaignRecipient.objects.filter(pk__in=skipped).update(
        state=RecipientState.SKIPPED, skip_reason=SkipReason.OPTED_OUT, claimed_by="", lease_until=None,
        skip_detail=words)
    return [c for c in chunk if c.id not in skipped]
