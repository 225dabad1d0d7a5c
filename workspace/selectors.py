"""Reads of the workspace, every one scoped by tenancy (``accounts.tenancy.scope``).

The inbox list and its poll are bounded: an indexed order (``client, -last_message_at`` / ``client,
updated_at``), a page of rows, their labels in one more query. With 10 or 100,000 conversations they
cost the same number of queries and about the same time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import PhoneNumber, Role
from accounts.tenancy import scope
from campaigns.models import CampaignRecipient
from contacts.models import ConsentEvent, Tag
from contacts.selectors import contacts_filter, contacts_visible
from messaging.models import Contact, Conversation, ConversationStatus, Label, Message
from workspace import conf
from workspace.models import CannedResponse, ConversationActivity, ConversationTeam, Note, Team

VIEWS = ("mine", "teams", "unassigned", "all")
# A change committed up to this long after its timestamp was taken is still seen by the next poll.
POLL_OVERLAP = timedelta(seconds=5)
# Up to this many messages matching a search are read as ids; beyond it the word is common (see
# ``_message_text_condition``).
MESSAGE_MATCHES = 500


@dataclass(frozen=True)
class InboxFilter:
    """What the list shows: one of VIEWS, a status (or all), a label name, a business number id, a search."""

    view: str = "all"
    status: str = ConversationStatus.OPEN
    label: str = ""
    number: int | None = None
    q: str = ""

    @classmethod
    def from_query(cls, params) -> InboxFilter:
        view = params.get("view", "all")
        status = params.get("status", ConversationStatus.OPEN)
        number = params.get("number", "")
        return cls(
            view=view if view in VIEWS else "all",
            status=status if status in [*ConversationStatus.values, "all"] else ConversationStatus.OPEN,
            label=params.get("label", "")[:40],
            number=int(number) if str(number).isdigit() else None,
            q=" ".join(params.get("q", "").split())[:100],
        )


def conversations_visible(user) -> QuerySet[Conversation]:
    return scope(Conversation.objects.all(), user, "client")


def conversations_filtered(user, flt: InboxFilter) -> QuerySet[Conversation]:
    """The user's conversations matching ``flt`` (no order, no limit)."""
    queryset = conversations_visible(user)
    if flt.view == "mine":
        queryset = queryset.filter(assignee=user)
    elif flt.view == "teams":
        queryset = queryset.filter(team_link__team__members=user)
    elif flt.view == "unassigned":
        queryset = queryset.filter(assignee__isnull=True)
    if flt.status != "all":
        queryset = queryset.filter(status=flt.status)
    if flt.label:
        queryset = queryset.filter(labels__name=flt.label)
    if flt.number is not None:
        queryset = queryset.filter(phone_number_id=flt.number)
    if flt.q:
        digits = "".join(ch for ch in flt.q if ch.isdigit())
        people = Q(profile_name__icontains=flt.q)
        if digits:
            people |= Q(wa_id__contains=digits)
        # Subqueries, not joins: each is served by its own trigram index on PostgreSQL (migration 0004).
        condition = (Q(contact__in=scope(Contact.objects.filter(people), user, "client").values("pk"))
                     | Q(last_message_preview__icontains=flt.q) | _message_text_condition(user, flt.q))
        queryset = queryset.filter(condition)
    return queryset


def _message_text_condition(user, text: str) -> Q:
    """Conversations with a message containing ``text``, in a form whose cost is bounded either way.

    A rare word (at most ``MESSAGE_MATCHES`` messages, found through the trigram index in one query): those
    conversations by id. A common word: a per-row ``EXISTS`` while the list is read in its order — the page
    fills within its first rows, so neither case reads every message.
    """
    found = list(messages_matching(user, text).values_list("conversation_id", flat=True)[:MESSAGE_MATCHES + 1])
    if len(found) <= MESSAGE_MATCHES:
        return Q(pk__in=set(found))
    return Q(Exists(Message.objects.filter(conversation=OuterRef("pk")).alias(
        text=KeyTextTransform("body", "content")).filter(text__icontains=text)))


def messages_matching(user, text: str) -> QuerySet:
    """Ids of the conversations with a message whose text contains ``text`` (a subquery, not a list).

    ``UPPER(content ->> 'body') LIKE UPPER('%text%')``: on PostgreSQL a GIN trigram index on exactly that
    expression serves it (workspace migration 0003); SQLite reads the rows.
    """
    return (scope(Message.objects.all(), user, "client")
            .alias(text=KeyTextTransform("body", "content")).filter(text__icontains=text)
            .values("conversation_id"))


def _rows(queryset: QuerySet[Conversation]) -> QuerySet[Conversation]:
    return queryset.select_related("contact", "phone_number", "assignee").prefetch_related(
        Prefetch("labels", queryset=Label.objects.order_by("name")))


def inbox_page(user, flt: InboxFilter, *, limit: int | None = None) -> list[Conversation]:
    """The first page of the list, latest activity first."""
    limit = limit or conf.setting("WORKSPACE_PAGE_SIZE")
    # A conversation without any message is not in an inbox; without NULLs the order is the index's
    # (client, last_message_at DESC): the page is read from the index, not sorted.
    queryset = conversations_filtered(user, flt).filter(last_message_at__isnull=False).order_by(
        "-last_message_at", "-id")
    return list(_rows(queryset)[:limit])


@dataclass
class Changes:
    cursor: datetime
    matching: list[Conversation]   # changed and shown by the filter: to insert or refresh
    leaving: list[int]             # changed and no longer shown by the filter: to remove


def inbox_changes(user, flt: InboxFilter, *, since: datetime, limit: int | None = None) -> Changes:
    """Conversations changed after ``since`` (minus an overlap), split into those the filter shows and the others.

    Two queries on the ``(client, updated_at)`` index (plus one for labels), whatever the inbox's size.
    """
    limit = limit or conf.setting("WORKSPACE_PAGE_SIZE")
    now = timezone.now()
    after = since - POLL_OVERLAP
    changed = list(conversations_visible(user).filter(updated_at__gt=after)
                   .order_by("-updated_at").values_list("pk", flat=True)[:limit])
    if not changed:
        return Changes(cursor=now, matching=[], leaving=[])
    matching = list(_rows(conversations_filtered(user, flt).filter(pk__in=changed, last_message_at__isnull=False))
                    .order_by("last_message_at", "id"))
    shown = {conversation.pk for conversation in matching}
    return Changes(cursor=now, matching=matching, leaving=[pk for pk in changed if pk not in shown])


def unread_conversations(user, *, cap: int = 99) -> int:
    """How many conversations have unread messages, counted up to ``cap`` (a partial index serves it)."""
    return conversations_visible(user).filter(unread_count__gt=0).values("pk")[: cap + 1].count()


def inbound_alerts(user, *, since: datetime, exclude: int | None = None, limit: int = 10) -> list[Conversation]:
    """Conversations a customer wrote in since ``since`` (minus the poll's overlap), for the alerts of a page that
    shows another one: the ``(client, updated_at)`` index, one query, bounded."""
    after = since - POLL_OVERLAP
    queryset = conversations_visible(user).filter(updated_at__gt=after, last_inbound_at__gt=after)
    if exclude is not None:
        queryset = queryset.exclude(pk=exclude)
    return list(queryset.select_related("contact").order_by("-updated_at")[:limit])


def labels_visible(user) -> QuerySet[Label]:
    return scope(Label.objects.all(), user, "client").order_by("name")


def numbers_visible(user) -> QuerySet[PhoneNumber]:
    return scope(PhoneNumber.objects.all(), user, "client").order_by("digits")


def canned_responses_visible(user) -> QuerySet[CannedResponse]:
    return scope(CannedResponse.objects.all(), user, "client")


def teams_visible(user) -> QuerySet[Team]:
    return scope(Team.objects.all(), user, "client").order_by("name", "pk")


def teams_of_client(client_id: int) -> QuerySet[Team]:
    return Team.objects.filter(client_id=client_id).order_by("name", "pk")


def team_of(conversation: Conversation) -> Team | None:
    link = ConversationTeam.objects.filter(conversation=conversation).select_related("team").first()
    return link.team if link else None


def notes_of(conversation: Conversation) -> QuerySet[Note]:
    return Note.objects.filter(conversation=conversation).select_related("author").order_by("created_at", "id")


def activities_of(conversation: Conversation) -> QuerySet[ConversationActivity]:
    return (ConversationActivity.objects.filter(conversation=conversation).select_related("actor")
            .order_by("created_at", "id"))


def past_conversations(conversation: Conversation) -> QuerySet[Conversation]:
    """The same customer's other conversations with this client (other business numbers)."""
    return (Conversation.objects.filter(client_id=conversation.client_id, contact_id=conversation.contact_id)
            .exclude(pk=conversation.pk).select_related("phone_number").order_by("-last_message_at")[:10])


def assignees_for(client_id: int):
    """The client's agents and admins, for the assign menu."""
    from django.contrib.auth import get_user_model

    return (get_user_model().objects.filter(is_active=True, memberships__client_id=client_id,
                                            memberships__role__in=[Role.AGENT, Role.ADMIN])
            .order_by("username").distinct())


# --- contacts ---------------------------------------------------------------------------------------

CONTACTS_PER_PAGE = 50
CONSENT_FILTERS = ("opted_in", "opted_out")


def contacts_listed(user, *, search: str = "", tag: str = "", consent: str = "") -> QuerySet:
    """The user's contacts (every client they see) for the list: newest change first, tags prefetched."""
    filters = {"search": search.strip()[:100], "tags": [tag] if tag.strip() else [],
               "consent": consent if consent in CONSENT_FILTERS else ""}
    queryset = contacts_visible(user).select_related("client").prefetch_related("tags")
    return contacts_filter(queryset, {k: v for k, v in filters.items() if v}).order_by("-updated_at", "-pk")


def contact_tags(user) -> QuerySet:
    return scope(Tag.objects.all(), user, "client").order_by("name").values_list("name", flat=True).distinct()


def contact_detail(user, pk: int):
    """The contact (404 outside the user's clients), with its tags and consent history read once."""
    queryset = contacts_visible(user).select_related("client").prefetch_related(
        "tags", Prefetch("consent_events", queryset=ConsentEvent.objects.select_related("actor")))
    return get_object_or_404(queryset, pk=pk)


def contact_conversations(user, contact) -> QuerySet[Conversation]:
    return conversations_visible(user).filter(contact=contact).select_related("phone_number", "assignee").order_by(
        "-last_message_at", "-pk")


def contact_campaigns(contact, limit: int = 100) -> QuerySet[CampaignRecipient]:
    """The campaigns' rows for the contact's number in its client, newest first (with their outcome)."""
    return (CampaignRecipient.objects.filter(campaign__client_id=contact.client_id, phone=contact.wa_id)
            .select_related("campaign").order_by("-campaign__created_at", "-pk")[:limit])
