"""The inbox, the workspace's home: the conversation list, its filters, and the poll that keeps it live.

The page polls ``changes`` every few seconds with a cursor; the answer carries only the rows changed since
(htmx out-of-band swaps: new activity moves a row to the top, a workflow change refreshes it in place, a
row that left the filter goes away), the next cursor, and the page title with the unread badge.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from messaging.models import Conversation, ConversationStatus
from messaging.presenters import window_state
from workspace import conf, selectors, services
from workspace.context import frame
from workspace.selectors import InboxFilter


def cursor_of(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1_000_000))


def cursor_parse(raw: str) -> datetime:
    if raw.isdigit() and len(raw) < 20:
        return datetime.fromtimestamp(int(raw) / 1_000_000, tz=UTC)
    return timezone.now()


def filter_query(flt: InboxFilter, **changes: Any) -> str:
    values = {"view": flt.view, "status": flt.status, "label": flt.label, "number": flt.number or "", "q": flt.q}
    values.update(changes)
    return urlencode({key: value for key, value in values.items() if value not in ("", None)})


def row(conversation: Conversation, now: datetime) -> dict[str, Any]:
    return {
        "c": conversation,
        "url": reverse("workspace:thread", args=[conversation.pk]),
        "window": window_state(conversation, now=now),
        "labels": [label.name for label in conversation.labels.all()],
    }


def wake_snoozed() -> None:
    """Reopen ended snoozes, at most every few seconds per process (the inbox and its poll call this)."""
    if cache.add("workspace:wake", True, timeout=conf.setting("WORKSPACE_WAKE_SECONDS")):
        services.conversations_wake()


def page_title(unread: int) -> str:
    title = _("Inbox")
    if unread:
        return f"({unread if unread < 100 else '99+'}) {title}"
    return title


@login_required
@require_GET
def inbox(request):
    wake_snoozed()
    flt = InboxFilter.from_query(request.GET)
    now = timezone.now()
    rows = [row(conversation, now) for conversation in selectors.inbox_page(request.user, flt)]
    unread = selectors.unread_conversations(request.user)
    context = frame(request, current="inbox", title=page_title(unread), unread=unread)
    context.update({
        "rows": rows,
        "filter": flt,
        "query": filter_query(flt),
        "cursor": cursor_of(now),
        "views": [(key, label, filter_query(flt, view=key)) for key, label in (
            ("mine", _("Mine")), ("teams", _("My teams")), ("unassigned", _("Unassigned")), ("all", _("All")))],
        "statuses": [(key, label, filter_query(flt, status=key)) for key, label in (
            *ConversationStatus.choices, ("all", _("All statuses")))],
        "labels": selectors.labels_visible(request.user),
        "numbers": selectors.numbers_visible(request.user),
    })
    return render(request, "workspace/inbox.html", context)


@login_required
@require_GET
def inbox_changes(request):
    """The rows changed since ``cursor`` (out-of-band swaps), the next poller, the title."""
    wake_snoozed()
    flt = InboxFilter.from_query(request.GET)
    since = cursor_parse(request.GET.get("cursor", ""))
    changes = selectors.inbox_changes(request.user, flt, since=since)
    fresh_after = since - selectors.POLL_OVERLAP
    shown = {int(pk) for pk in request.GET.getlist("shown")[:500] if pk.isdigit()}
    rows = []
    for conversation in changes.matching:
        item = row(conversation, changes.cursor)
        item["shown"] = conversation.pk in shown
        # New activity moves a row to the top; a row the page lacks is added there too; others refresh in place.
        item["moved"] = not item["shown"] or (
            conversation.last_message_at is not None and conversation.last_message_at > fresh_after)
        # A customer wrote since the last poll (the page's alerts read this; they skip what they already saw).
        item["new_inbound"] = conversation.last_inbound_at is not None and conversation.last_inbound_at > fresh_after
        item["new_conversation"] = item["new_inbound"] and not item["shown"]
        rows.append(item)
    unread = selectors.unread_conversations(request.user)
    return render(request, "workspace/inbox_changes.html", {
        "rows": rows,
        "leaving": [pk for pk in changes.leaving if pk in shown],
        "query": filter_query(flt),
        "cursor": cursor_of(changes.cursor),
        "title": page_title(unread),
        "poll_seconds": conf.setting("WORKSPACE_POLL_SECONDS"),
    })
