"""A conversation's page: the timeline (messages, private notes, history), the reply box, the workflow buttons
and the contact panel. Every action answers with the parts it changed (htmx fragments); the page polls for
the rest (new messages, ticks, other agents' changes).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role
from accounts.tenancy import has_role, require_role
from messaging.admin.composer import ComposeForm, template_inputs
from messaging.models import Conversation, ConversationStatus, Direction, Message, MessageStatus, MessageType
from messaging.presenters import failure_words, window_state
from messaging.selectors import composer_templates, thread_messages
from messaging.sending import message_send
from providers.base import ProviderError
from waportal.errors import ApplicationError
from workspace import conf, presenters, selectors, services
from workspace.contact_panel import contact_panel
from workspace.context import frame
from workspace.views import replybox
from workspace.views.inbox import cursor_of, cursor_parse

OVERLAP = timedelta(seconds=5)
TEXT_LIMIT = 4096
SNOOZE_CHOICES = {"1h": timedelta(hours=1), "4h": timedelta(hours=4), "24h": timedelta(hours=24)}


def conversation_or_404(request, pk: int) -> Conversation:
    """The user's conversation with what the thread and its side panel read (another client's is a 404)."""
    return get_object_or_404(
        selectors.conversations_visible(request.user).select_related(
            "contact", "phone_number__client__provider_account", "assignee"),
        pk=pk)


def _messages(conversation: Conversation):
    return thread_messages(conversation).select_related("template__client__provider_account")


def _panel(request, conversation: Conversation, *, error: str = "") -> dict[str, Any]:
    can_act = has_role(request.user, conversation.client_id, Role.AGENT)
    return {
        "conversation": conversation,
        "can_act": can_act,
        "statuses": ConversationStatus.choices,
        "assignees": selectors.assignees_for(conversation.client_id) if can_act else [],
        "team": selectors.team_of(conversation),
        "teams": selectors.teams_of_client(conversation.client_id) if can_act else [],
        "labels": sorted(label.name for label in conversation.labels.all()),
        "snoozes": [("1h", _("1 hour")), ("4h", _("4 hours")), ("24h", _("24 hours"))],
        "window": window_state(conversation),
        "panel_error": error,
    }


def _reply_context(request, conversation: Conversation, **extra: Any) -> dict[str, Any]:
    window = window_state(conversation)
    capabilities = conversation.phone_number.client.provider_account.capabilities
    templates_only = not window["open"] or not capabilities.free_form_sends
    can_act = has_role(request.user, conversation.client_id, Role.AGENT)
    context = {
        "conversation": conversation,
        "can_act": can_act,
        "templates_only": templates_only,
        "token": uuid.uuid4().hex,
        "text": "",
        "reply_error": "",
        "text_limit": TEXT_LIMIT,
        "quoting": replybox.quoting_allowed(conversation, can_act=can_act),
        "quoted": None,
        "attach": replybox.attachment_values({}),
        "attach_open": False,
        "attach_kinds": [(kind, MessageType(kind).label) for kind in replybox.ATTACHABLE],
    }
    if templates_only:
        context["templates"] = composer_templates(request.user).filter(client_id=conversation.client_id)
    context.update(extra)
    return context


@login_required
@require_GET
def thread(request, pk: int):
    conversation = conversation_or_404(request, pk)
    services.conversation_mark_read(conversation=conversation)
    size = conf.setting("WORKSPACE_THREAD_SIZE")
    messages = list(_messages(conversation).order_by("-created_at")[:size])[::-1]
    oldest = messages[0].created_at if messages else timezone.now()
    items = presenters.timeline(
        messages,
        selectors.notes_of(conversation).filter(created_at__gte=oldest) if len(messages) == size
        else selectors.notes_of(conversation),
        selectors.activities_of(conversation).filter(created_at__gte=oldest) if len(messages) == size
        else selectors.activities_of(conversation),
    )
    now = timezone.now()
    context = frame(request, current="inbox", title=str(conversation.contact),
                    unread=selectors.unread_conversations(request.user))
    context.update(_panel(request, conversation))
    context.update(_reply_context(request, conversation))
    context.update({
        "items": items,
        "cursor": cursor_of(now),
        "oldest": cursor_of(oldest),
    })
    context.update(contact_panel(conversation, can_act=context["can_act"]))
    return render(request, "workspace/thread.html", context)


@login_required
@require_GET
def thread_changes(request, pk: int):
    """New timeline items since the cursor (the page drops its earlier copy of each), ticks, the panel."""
    conversation = conversation_or_404(request, pk)
    since = cursor_parse(request.GET.get("cursor", ""))
    oldest = cursor_parse(request.GET.get("oldest", ""))
    after = since - OVERLAP
    now = timezone.now()
    fresh = list(_messages(conversation).filter(created_at__gt=after).order_by("created_at")[:100])
    if any(message.direction == Direction.INBOUND for message in fresh):
        services.conversation_mark_read(conversation=conversation)
    items = presenters.timeline(
        fresh,
        selectors.notes_of(conversation).filter(created_at__gt=after),
        selectors.activities_of(conversation).filter(created_at__gt=after),
    )
    fresh_ids = {message.pk for message in fresh}
    ticked = [presenters.message_item(message) for message in
              _messages(conversation).filter(direction=Direction.OUTBOUND, status_at__gt=after,
                                             created_at__gte=oldest).order_by("created_at")[:100]
              if message.pk not in fresh_ids]
    context: dict[str, Any] = {
        "conversation": conversation,
        "items": items,
        "ticked": ticked,
        "cursor": cursor_of(now),
        "oldest": cursor_of(oldest),
        "poll_seconds": conf.setting("WORKSPACE_POLL_SECONDS"),
        "panel_changed": conversation.updated_at > after,
        # Bubbles coming in offer "Reply" like the page's (asked only when some come: an idle poll stays cheap).
        "quoting": bool(items or ticked) and replybox.quoting_allowed(
            conversation, can_act=has_role(request.user, conversation.client_id, Role.AGENT)),
    }
    if context["panel_changed"]:
        context.update(_panel(request, conversation))
    if request.GET.get("alerts") == "1":  # the page's bell is on: customers writing in other conversations
        context["alerts"] = selectors.inbound_alerts(request.user, since=since, exclude=conversation.pk)
    return render(request, "workspace/thread_changes.html", context)


@login_required
@require_POST
def reply(request, pk: int):
    """Send a text reply, or an attachment by URL, optionally answering one message (``context``).

    Answers a fresh reply box and the new bubble, or the box with the error (what was typed kept).
    """
    conversation = conversation_or_404(request, pk)
    text = request.POST.get("text", "").strip()
    token = "".join(ch for ch in request.POST.get("token", "") if ch.isalnum())[:64]
    quoted = None
    try:
        require_role(request.user, conversation.client_id, Role.AGENT)
        quoted = replybox.quoted_message(conversation, request.POST.get("context", ""))
        key = f"workspace-{conversation.pk}-{token}" if token else ""
        if request.POST.get("media_link", "").strip():
            message = message_send(actor=request.user, **replybox.attachment_send_kwargs(
                user=request.user, conversation=conversation, post=request.POST, text=text,
                key=key or f"workspace-{conversation.pk}-{uuid.uuid4().hex}",
                context_id=replybox.context_id_of(quoted)))
        else:
            if not text:
                raise ApplicationError(_("Write a message first."), field="text")
            if len(text) > TEXT_LIMIT:
                raise ApplicationError(_("A message has at most %(limit)d characters.") % {"limit": TEXT_LIMIT},
                                       field="text")
            message = message_send(
                actor=request.user, phone_number=conversation.phone_number, to=conversation.contact.wa_id,
                type=MessageType.TEXT, content={"body": text}, context_message_id=replybox.context_id_of(quoted),
                idempotency_key=key,
            )
    except (ApplicationError, ProviderError) as exc:
        context = _reply_context(request, conversation, text=text, reply_error=replybox.error_words(exc),
                                 token=token, quoted=replybox.quote_item(quoted),
                                 attach=replybox.attachment_values(request.POST),
                                 attach_open=bool(request.POST.get("media_link", "").strip()))
        return render(request, "workspace/_reply.html", context, status=_status_of(exc))
    return _sent(request, conversation, message)


def _status_of(exc: Exception) -> int:
    return getattr(exc, "http_status", 400) if isinstance(exc, ApplicationError) else 502


def _sent(request, conversation: Conversation, message: Message):
    message = _messages(conversation).get(pk=message.pk)
    warning = failure_words(message) if message.status == MessageStatus.FAILED else ""
    context = _reply_context(request, conversation, reply_error=(
        _("The provider refused the message: %(words)s") % {"words": warning}) if warning else "")
    context["sent"] = presenters.message_item(message)
    return render(request, "workspace/_reply.html", context)


def _template_of(request, conversation: Conversation, raw: str):
    if not raw.isdigit():
        return None
    return composer_templates(request.user).filter(client_id=conversation.client_id, pk=int(raw)).first()


@login_required
@require_GET
def template_form(request, pk: int):
    """The inputs of the picked template and its preview, as the customer will read it."""
    conversation = conversation_or_404(request, pk)
    template = _template_of(request, conversation, request.GET.get("template", ""))
    return render(request, "workspace/_template_inputs.html", {
        "conversation": conversation,
        "template": template,
        "inputs": template_inputs(template, request.GET) if template else [],
        "preview": presenters.template_typed(template, request.GET) if template else None,
    })


@login_required
@require_POST
def template_send(request, pk: int):
    """Send the picked template through the composer's form (the same checks and content) and message_send."""
    conversation = conversation_or_404(request, pk)
    token = "".join(ch for ch in request.POST.get("token", "") if ch.isalnum())[:64] or uuid.uuid4().hex
    data = {key: value for key, value in request.POST.items() if key.startswith("tpl_")}
    data.update({"idempotency_key": f"workspace-{conversation.pk}-{token}",
                 "phone_number": conversation.phone_number_id, "to": conversation.contact.wa_id,
                 "type": "template", "template": request.POST.get("template", "")})
    quoted = None
    try:
        require_role(request.user, conversation.client_id, Role.AGENT)
        quoted = replybox.quoted_message(conversation, request.POST.get("context", ""))
        data["context_message_id"] = replybox.context_id_of(quoted)
        form = ComposeForm(data, user=request.user)
        if not form.is_valid():
            raise ApplicationError(" ".join(str(error) for errors in form.errors.values() for error in errors),
                                   field="template")
        message = message_send(actor=request.user, **form.send_kwargs())
    except (ApplicationError, ProviderError) as exc:
        context = _reply_context(request, conversation, reply_error=replybox.error_words(exc), token=token,
                                 quoted=replybox.quote_item(quoted))
        return render(request, "workspace/_reply.html", context, status=_status_of(exc))
    return _sent(request, conversation, message)


@login_required
@require_GET
def canned_suggest(request, pk: int):
    """Typing ``/short`` lists the client's saved replies; ``use`` puts one in the reply box."""
    conversation = conversation_or_404(request, pk)
    canned = selectors.canned_responses_visible(request.user).filter(client_id=conversation.client_id)
    use = request.GET.get("use", "")
    if use.isdigit():
        chosen = get_object_or_404(canned, pk=int(use))
        return render(request, "workspace/_reply_text.html",
                      {"conversation": conversation, "text": chosen.text, "text_limit": TEXT_LIMIT})
    text = request.GET.get("text", "")
    matches = []
    if text.startswith("/") and " " not in text.strip() and len(text) <= 41:
        matches = list(canned.filter(shortcut__startswith=text[1:].lower()).order_by("shortcut")[:8])
    return render(request, "workspace/_canned.html", {"conversation": conversation, "matches": matches})


def _panel_answer(request, conversation: Conversation, *, error: str = "", status: int = 200):
    conversation = conversation_or_404(request, conversation.pk)
    context = _panel(request, conversation, error=error)
    context["items"] = [presenters.activity_item(activity) for activity in
                        selectors.activities_of(conversation).order_by("-created_at", "-id")[:1]] if not error else []
    return render(request, "workspace/_panel_answer.html", context, status=status)


def panel_act(request, pk: int, action) -> HttpResponse:
    conversation = conversation_or_404(request, pk)
    try:
        action(conversation)
    except ApplicationError as exc:
        return _panel_answer(request, conversation, error=exc.message, status=exc.http_status)
    return _panel_answer(request, conversation)


@login_required
@require_POST
def assign(request, pk: int):
    def action(conversation):
        raw = request.POST.get("assignee", "")
        if raw == "me":
            assignee = request.user
        elif raw in ("", "none"):
            assignee = None
        elif raw.isdigit():
            assignee = services.assignee_for(client_id=conversation.client_id, user_id=int(raw))
        else:
            raise ApplicationError(_("Pick someone to assign."), field="assignee")
        services.conversation_assign(actor=request.user, conversation=conversation, assignee=assignee)

    return panel_act(request, pk, action)


def _snooze_until(raw: str) -> datetime | None:
    if raw in SNOOZE_CHOICES:
        return timezone.now() + SNOOZE_CHOICES[raw]
    moment = parse_datetime(raw) if raw else None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


@login_required
@require_POST
def status(request, pk: int):
    def action(conversation):
        value = request.POST.get("status", "")
        until = _snooze_until(request.POST.get("snoozed_until", "")) if value == ConversationStatus.SNOOZED else None
        services.conversation_status_set(actor=request.user, conversation=conversation, status=value,
                                         snoozed_until=until)

    return panel_act(request, pk, action)


@login_required
@require_POST
def labels(request, pk: int):
    def action(conversation):
        names = [name for name in request.POST.get("labels", "").split(",") if name.strip()]
        services.conversation_labels_set(actor=request.user, conversation=conversation, labels=names)

    return panel_act(request, pk, action)


@login_required
@require_POST
def note_add(request, pk: int):
    """Add a private note; answers the note box (emptied) and the note in the timeline."""
    conversation = conversation_or_404(request, pk)
    try:
        note = services.conversation_note_add(actor=request.user, conversation=conversation,
                                              text=request.POST.get("text", ""))
    except ApplicationError as exc:
        return render(request, "workspace/_note_form.html",
                      {"conversation": conversation, "note_error": exc.message,
                       "note_text": request.POST.get("text", "")}, status=exc.http_status)
    return render(request, "workspace/_note_form.html",
                  {"conversation": conversation, "added": presenters.note_item(note)})
