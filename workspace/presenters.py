"""How the workspace shows a thread: messaging's bubbles, templates as the customer read them, notes, history."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from messaging.models import ConversationStatus, Message, MessageType
from messaging.presenters import bubble, quote_text
from templates_mgr.spec import spec_filled, spec_sent, template_spec
from workspace.models import ActivityKind, ConversationActivity, Note


def template_read(message: Message) -> dict[str, str] | None:
    """A template send as the customer read it: header, body and footer with its parameters in place."""
    if message.type != MessageType.TEMPLATE or message.template is None:
        return None
    return spec_sent(template_spec(message.template), message.content)


def template_typed(template, values) -> dict[str, str]:
    """The picker's preview: the template with what the agent typed so far (``tpl_header_n``, ``tpl_body_n``)."""
    def typed(part: str) -> list[str]:
        return [str(values.get(f"tpl_{part}_{n}", "")) for n in range(1, 31)]

    return spec_filled(template_spec(template), header=typed("header"), body=typed("body"))


def message_item(message: Message) -> dict[str, Any]:
    return {"kind": "message", "id": f"msg-{message.pk}", "time": message.created_at, "b": bubble(message),
            "read_as": template_read(message), "preview": quote_text(message)}


def note_item(note: Note) -> dict[str, Any]:
    return {"kind": "note", "id": f"note-{note.pk}", "time": note.created_at, "note": note}


def _status_label(value: str) -> str:
    try:
        return str(ConversationStatus(value).label)
    except ValueError:
        return value


def activity_words(activity: ConversationActivity) -> str:
    who = (activity.actor.get_full_name() or activity.actor.get_username()) if activity.actor else _("The customer")
    detail = activity.detail or {}
    if activity.kind == ActivityKind.ASSIGNED:
        if detail.get("round_robin"):
            return _("Assigned to %(to)s in turn (team %(team)s)") % {"to": detail.get("to", ""),
                                                                     "team": detail["round_robin"]}
        if detail.get("to"):
            return _("%(who)s assigned the conversation to %(to)s") % {"who": who, "to": detail["to"]}
        return _("%(who)s unassigned the conversation") % {"who": who}
    if activity.kind in (ActivityKind.STATUS, ActivityKind.REOPENED):
        words = _("%(who)s changed the status to %(status)s") % {"who": who,
                                                                   "status": _status_label(detail.get("to", ""))}
        return words if activity.kind == ActivityKind.STATUS else _("%(who)s wrote: the conversation is open again") % {
            "who": who}
    if activity.kind == ActivityKind.TEAM:
        if detail.get("auto"):
            return _("The conversation went to the team %(team)s (it serves this number)") % {"team": detail.get("to")}
        if detail.get("to"):
            return _("%(who)s assigned the conversation to the team %(team)s") % {"who": who, "team": detail["to"]}
        return _("%(who)s removed the conversation's team") % {"who": who}
    if activity.kind == ActivityKind.WOKEN:
        return _("The snooze ended: the conversation is open again")
    if activity.kind == ActivityKind.LABELS:
        return _("%(who)s set the labels: %(labels)s") % {"who": who,
                                                          "labels": ", ".join(detail.get("to") or []) or "—"}
    return _("%(who)s added a private note") % {"who": who}


def activity_item(activity: ConversationActivity) -> dict[str, Any]:
    return {"kind": "activity", "id": f"act-{activity.pk}", "time": activity.created_at,
            "words": activity_words(activity)}


def timeline(messages, notes, activities) -> list[dict[str, Any]]:
    """Messages, notes and history in time order (notes' own history lines are left out: the note shows)."""
    items = [*map(message_item, messages), *map(note_item, notes),
             *(activity_item(activity) for activity in activities if activity.kind != ActivityKind.NOTE)]
    return sorted(items, key=lambda item: item["time"])
