"""Recipient states follow their messages; cached counts follow the recipients. All in SQL.

After a send, a message keeps moving (delivered, read, failed later, a reply
arrives) as the provider's webhooks are processed. Rather than copying each
status in Python, :func:`campaigns_refresh` runs three set-based statements per
call, for any number of campaigns at once:

1. recipients whose linked message's status maps to another state take it
   (with the message's error code and title);
2. recipients sent, delivered or read become ``replied`` when the customer
   wrote to the campaign's number after the send;
3. counts per state are grouped and cached on the campaigns.

It is called by whoever needs fresh numbers: the progress endpoint the
campaign page polls, the list pages (for the campaigns they show), the export,
and the worker when a campaign completes. Each campaign is refreshed at most
every ``CAMPAIGN_COUNTS_MAX_AGE`` seconds, so many viewers cost one refresh.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta

from django.db.models import Case, CharField, Count, Exists, F, OuterRef, Q, Subquery, Value, When
from django.utils import timezone

from campaigns import conf
from campaigns.models import Campaign, CampaignRecipient, CampaignStatus, RecipientState
from messaging.models import Direction, Message, MessageStatus

# The message statuses that leave the recipient "sending" (stored, outcome pending).
PENDING_MESSAGE = (MessageStatus.QUEUED, MessageStatus.SENDING)
FOLLOWS_MESSAGE = [
    RecipientState.CLAIMED, RecipientState.SENDING, RecipientState.SENT, RecipientState.DELIVERED,
    RecipientState.READ, RecipientState.FAILED, RecipientState.UNKNOWN,
]
REPLY_CAN_FOLLOW = [RecipientState.SENT, RecipientState.DELIVERED, RecipientState.READ]


def state_for_message(status: str) -> str:
    """The recipient state for a message status (the Python twin of :func:`_mapped_state`)."""
    return RecipientState.SENDING if status in PENDING_MESSAGE else status


def _mapped_state(message_status_ref: str):
    return Case(
        When(**{f"{message_status_ref}__in": PENDING_MESSAGE}, then=Value(RecipientState.SENDING)),
        default=F(message_status_ref),
        output_field=CharField(),
    )


def recipient_states_sync(*, campaign_ids: Iterable[int]) -> int:
    """Move recipients to their messages' states and mark replies; returns rows changed."""
    ids = list(campaign_ids)
    if not ids:
        return 0
    linked = Message.objects.filter(pk=OuterRef("message_id"))
    changed = (
        CampaignRecipient.objects.filter(campaign_id__in=ids, message__isnull=False, state__in=FOLLOWS_MESSAGE)
        .exclude(state=_mapped_state("message__status"))
        .update(
            state=Subquery(linked.annotate(mapped=_mapped_state("status")).values("mapped")[:1]),
            error_code=Subquery(linked.values("error_code")[:1]),
            error=Subquery(linked.values("error_title")[:1]),
        )
    )
    replies = Message.objects.filter(
        direction=Direction.INBOUND,
        phone_number_id=OuterRef("campaign__phone_number_id"),
        from_number=OuterRef("phone"),
        created_at__gte=OuterRef("finished_at"),
    )
    changed += (
        CampaignRecipient.objects.filter(campaign_id__in=ids, state__in=REPLY_CAN_FOLLOW, finished_at__isnull=False)
        .filter(Exists(replies))
        .update(state=RecipientState.REPLIED)
    )
    return changed


def counts_by_state(*, campaign_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Recipients per state for each campaign, from one grouped query."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (
        CampaignRecipient.objects.filter(campaign_id__in=list(campaign_ids))
        .values("campaign_id", "state")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        counts[row["campaign_id"]][row["state"]] = row["n"]
    return counts


def campaigns_refresh(*, campaign_ids: Iterable[int], force: bool = False) -> list[int]:
    """Sync states and re-cache counts for the campaigns whose counts are stale; returns their ids.

    Drafts are skipped (nothing was sent). ``force`` ignores the age limit
    (the worker completing a campaign, the export).
    """
    now = timezone.now()
    queryset = Campaign.objects.filter(pk__in=list(campaign_ids)).exclude(status=CampaignStatus.DRAFT)
    if not force:
        max_age = timedelta(seconds=float(conf.setting("CAMPAIGN_COUNTS_MAX_AGE")))
        queryset = queryset.filter(Q(counts_at__isnull=True) | Q(counts_at__lt=now - max_age))
    ids = list(queryset.values_list("pk", flat=True))
    if not ids:
        return []
    recipient_states_sync(campaign_ids=ids)
    counts = counts_by_state(campaign_ids=ids)
    campaigns = [Campaign(pk=pk, counts=counts.get(pk, {}), counts_at=now) for pk in ids]
    Campaign.objects.bulk_update(campaigns, ["counts", "counts_at"])
    return ids


def campaign_counts_cache(*, campaign: Campaign) -> dict[str, int]:
    """Re-cache one campaign's counts now (no state sync): the cheap part, for validation and workers."""
    counts = counts_by_state(campaign_ids=[campaign.pk]).get(campaign.pk, {})
    now = timezone.now()
    Campaign.objects.filter(pk=campaign.pk).update(counts=counts, counts_at=now)
    campaign.counts, campaign.counts_at = counts, now
    return counts
