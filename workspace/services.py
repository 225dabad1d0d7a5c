"""Writes of the workspace: a conversation's workflow (assignee, status, labels, notes) and canned responses.

Every change locks the conversation row, checks the actor's role in its client (agent or above), moves
``updated_at`` (the inbox's poll reads it) and records a ``ConversationActivity``. Keyword-only; bad
input raises ``ApplicationError`` naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Role
from accounts.tenancy import require_role
from messaging.models import Conversation, ConversationStatus, Direction, Label, Message
from notifications.events import OutEvent, events_record
from notifications.models import EventType
from waportal.errors import ApplicationError
from workspace.models import ActivityKind, CannedResponse, ConversationActivity, Note

MAX_LABELS = 20
LABEL_RE = re.compile(r"^[\w][\w .-]{0,39}$")


def _locked(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_for_update().get(pk=conversation.pk)


def _user_label(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _record(conversation: Conversation, actor, kind: str, detail: dict) -> ConversationActivity:
    return ConversationActivity.objects.create(conversation=conversation, actor=actor, kind=kind, detail=detail)


def _touch(conversation: Conversation, fields: list[str]) -> None:
    conversation.updated_at = timezone.now()
    conversation.save(update_fields=[*fields, "updated_at"])


def assignable(*, client_id: int, user) -> bool:
    """Whether ``user`` may be given the client's conversations: an agent or admin of it, or an operator."""
    if user.is_superuser:
        return user.is_active
    return user.is_active and Membership.objects.filter(
        client_id=client_id, user=user, role__in=[Role.AGENT, Role.ADMIN]).exists()


@transaction.atomic
def conversation_assign(*, actor, conversation: Conversation, assignee) -> Conversation:
    """Give the conversation to ``assignee`` (a user, or None to unassign)."""
    require_role(actor, conversation.client_id, Role.AGENT)
    conversation = _locked(conversation)
    if assignee is not None and not assignable(client_id=conversation.client_id, user=assignee):
        raise ApplicationError(_("This user cannot be assigned this client's conversations."), field="assignee")
    if conversation.assignee_id == (assignee.pk if assignee else None):
        return conversation
    previous = conversation.assignee
    conversation.assignee = assignee
    _touch(conversation, ["assignee"])
    _record(conversation, actor, ActivityKind.ASSIGNED,
            {"from": _user_label(previous), "to": _user_label(assignee)})
    _event(conversation, EventType.CONVERSATION_ASSIGNED,
           {"assignee": assignee.pk if assignee else None, "assignee_name": _user_label(assignee)})
    return conversation


@transaction.atomic
def conversation_status_set(*, actor, conversation: Conversation, status: str,
                            snoozed_until: datetime | None = None) -> Conversation:
    """Move the conversation to ``status``; snoozed needs a future ``snoozed_until``, the others take none."""
    require_role(actor, conversation.client_id, Role.AGENT)
    if status not in ConversationStatus.values:
        raise ApplicationError(_("Unknown status."), field="status")
    if status == ConversationStatus.SNOOZED:
        if snoozed_until is None:
            raise ApplicationError(_("Say until when the conversation is snoozed."), field="snoozed_until")
        if snoozed_until <= timezone.now():
            raise ApplicationError(_("A snooze ends in the future."), field="snoozed_until")
    elif snoozed_until is not None:
        raise ApplicationError(_("Only a snoozed conversation has a snooze time."), field="snoozed_until")
    conversation = _locked(conversation)
    if conversation.status == status and conversation.snoozed_until == snoozed_until:
        return conversation
    previous = conversation.status
    conversation.status = status
    conversation.snoozed_until = snoozed_until
    _touch(conversation, ["status", "snoozed_until"])
    detail = {"from": previous, "to": status}
    if snoozed_until is not None:
        detail["until"] = snoozed_until.isoformat()
    _record(conversation, actor, ActivityKind.STATUS, detail)
    if snoozed_until is not None:
        from workspace.tasks import snooze_wake_schedule

        snooze_wake_schedule(at=snoozed_until)
    if status == ConversationStatus.RESOLVED:
        _event(conversation, EventType.CONVERSATION_RESOLVED, {"previous_status": previous})
    return conversation


def _event(conversation: Conversation, event_type: str, data: dict) -> None:
    """The outgoing webhooks' event for a workflow change, recorded in the same transaction (notifications)."""
    events_record(events=[OutEvent(
        client_id=conversation.client_id, type=event_type, ordering_key=f"conversation:{conversation.pk}",
        data={"conversation": conversation.pk, "status": conversation.status, **data})])


def _clean_label_names(names: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in names:
        name = " ".join(str(raw).split()).lower()
        if not LABEL_RE.match(name):
            raise ApplicationError(
                _("A label is 1 to 40 letters, digits, spaces, dots or dashes: %(name)s") % {"name": raw[:60]},
                field="labels")
        if name not in cleaned:
            cleaned.append(name)
    if len(cleaned) > MAX_LABELS:
        raise ApplicationError(_("At most %(count)d labels per conversation.") % {"count": MAX_LABELS},
                               field="labels")
    return cleaned


@transaction.atomic
def conversation_labels_set(*, actor, conversation: Conversation, labels: Sequence[str]) -> Conversation:
    """Tag the conversation with exactly ``labels`` (names); a name the client has not used yet is created."""
    require_role(actor, conversation.client_id, Role.AGENT)
    names = _clean_label_names(labels)
    conversation = _locked(conversation)
    existing = {label.name: label for label in Label.objects.filter(client_id=conversation.client_id, name__in=names)}
    for name in names:
        if name not in existing:
            try:
                with transaction.atomic():
                    existing[name] = Label.objects.create(client_id=conversation.client_id, name=name)
            except IntegrityError:  # created concurrently
                existing[name] = Label.objects.get(client_id=conversation.client_id, name=name)
    before = sorted(conversation.labels.values_list("name", flat=True))
    if before == sorted(names):
        return conversation
    conversation.labels.set([existing[name] for name in names])
    _touch(conversation, [])
    _record(conversation, actor, ActivityKind.LABELS, {"from": before, "to": sorted(names)})
    return conversation


@transaction.atomic
def conversation_note_add(*, actor, conversation: Conversation, text: str) -> Note:
    """A private note in the thread: seen by the client's staff only, never sent anywhere."""
    require_role(actor, conversation.client_id, Role.AGENT)
    text = (text or "").strip()
    if not text:
        raise ApplicationError(_("Write the note."), field="text")
    if len(text) > 4000:
        raise ApplicationError(_("A note is at most 4,000 characters."), field="text")
    conversation = _locked(conversation)
    note = Note.objects.create(conversation=conversation, author=actor, text=text)
    _touch(conversation, [])
    _record(conversation, actor, ActivityKind.NOTE, {})
    return note


def conversation_mark_read(*, conversation: Conversation) -> None:
    """The staff saw the thread: its unread count goes to zero (one UPDATE, nothing when already zero)."""
    if conversation.unread_count:
        Conversation.objects.filter(pk=conversation.pk).update(unread_count=0, updated_at=timezone.now())
        conversation.unread_count = 0


def conversations_reopen_on_inbound(*, messages: Sequence[Message], **_ignored) -> None:
    """``messaging.hooks.inbound_stored``: a customer who writes reopens a resolved or snoozed conversation.

    Two statements per webhook batch whatever its size (one read, one update) plus one history row per
    reopened conversation.
    """
    ids = {message.conversation_id for message in messages if message.direction == Direction.INBOUND}
    if not ids:
        return
    waiting = list(Conversation.objects.filter(
        pk__in=ids, status__in=[ConversationStatus.RESOLVED, ConversationStatus.SNOOZED]).values_list("pk", "status"))
    if not waiting:
        return
    Conversation.objects.filter(pk__in=[pk for pk, _status in waiting]).update(
        status=ConversationStatus.OPEN, snoozed_until=None, updated_at=timezone.now())
    ConversationActivity.objects.bulk_create([
        ConversationActivity(conversation_id=pk, actor=None, kind=ActivityKind.REOPENED,
                             detail={"from": status, "to": ConversationStatus.OPEN})
        for pk, status in waiting])


def conversations_wake(*, now: datetime | None = None, limit: int = 500) -> int:
    """Snoozed conversations whose time came are open again (one read and one update on a partial index)."""
    now = now or timezone.now()
    due = list(Conversation.objects.filter(status=ConversationStatus.SNOOZED, snoozed_until__lte=now)
               .values_list("pk", flat=True)[:limit])
    if not due:
        return 0
    with transaction.atomic():
        woken = list(Conversation.objects.select_for_update().filter(
            pk__in=due, status=ConversationStatus.SNOOZED, snoozed_until__lte=now).values_list("pk", flat=True))
        Conversation.objects.filter(pk__in=woken).update(status=ConversationStatus.OPEN, snoozed_until=None,
                                                         updated_at=timezone.now())
        ConversationActivity.objects.bulk_create([
            ConversationActivity(conversation_id=pk, actor=None, kind=ActivityKind.WOKEN,
                                 detail={"from": ConversationStatus.SNOOZED, "to": ConversationStatus.OPEN})
            for pk in woken])
    return len(woken)


# -- canned responses ------------------------------------------------------------------------------------------


def canned_response_clean(*, shortcut: str, text: str) -> tuple[str, str]:
    """The shortcut (without its slash, lower case) and text a saved reply keeps, or a refusal naming the field."""
    return _clean_canned(shortcut, text)


def _clean_canned(shortcut: str, text: str) -> tuple[str, str]:
    shortcut = (shortcut or "").strip().lstrip("/").lower()
    if not re.fullmatch(r"[\w-]{1,40}", shortcut):
        raise ApplicationError(_("A shortcut is 1 to 40 letters, digits, dashes or underscores."), field="shortcut")
    text = (text or "").strip()
    if not text:
        raise ApplicationError(_("Write the reply's text."), field="text")
    if len(text) > 4096:
        raise ApplicationError(_("A reply is at most 4,096 characters."), field="text")
    return shortcut, text


def _save_canned(canned: CannedResponse) -> CannedResponse:
    try:
        with transaction.atomic():
            canned.save()
    except IntegrityError:
        raise ApplicationError(_("This client already has a reply with this shortcut."), field="shortcut") from None
    return canned


def canned_response_create(*, actor, client_id: int, shortcut: str, text: str) -> CannedResponse:
    """A new saved reply for the client (client admins manage them; agents use them)."""
    require_role(actor, client_id, Role.ADMIN)
    shortcut, text = _clean_canned(shortcut, text)
    return _save_canned(CannedResponse(client_id=client_id, shortcut=shortcut, text=text))


def canned_response_update(*, actor, canned: CannedResponse, shortcut: str | None = None,
                           text: str | None = None) -> CannedResponse:
    require_role(actor, canned.client_id, Role.ADMIN)
    canned.shortcut, canned.text = _clean_canned(canned.shortcut if shortcut is None else shortcut,
                                                 canned.text if text is None else text)
    return _save_canned(canned)


def canned_response_delete(*, actor, canned: CannedResponse) -> None:
    require_role(actor, canned.client_id, Role.ADMIN)
    canned.delete()


def assignee_for(*, client_id: int, user_id: int | None):
    """The user an API or form names as assignee, or None; unknown ids are refused naming the field."""
    if user_id is None:
        return None
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or not assignable(client_id=client_id, user=user):
        raise ApplicationError(_("This user cannot be assigned this client's conversations."), field="assignee")
    return user
