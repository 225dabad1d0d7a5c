"""The reply box's extras: the message being answered (reply-to), attachments by URL, the emoji picker.

The send itself stays in :func:`workspace.views.thread.reply`; this module turns what the box posted into
:func:`messaging.sending.message_send`'s arguments, with the same checks the API and the composer use
(``messaging.validation`` through the composer's form), and every refusal naming its field in words.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from messaging.admin.composer import ComposeForm, form_field_for
from messaging.models import Conversation, Direction, Message, MessageType
from messaging.presenters import quote_text
from messaging.selectors import thread_messages
from waportal.errors import ApplicationError
from workspace import selectors
from workspace.emoji import emoji_groups

# What the box attaches by URL (a sticker is not something an agent sends from here).
ATTACHABLE = (MessageType.IMAGE, MessageType.VIDEO, MessageType.AUDIO, MessageType.DOCUMENT)
NO_CAPTION = (MessageType.AUDIO,)


def quoting_allowed(conversation: Conversation, *, can_act: bool) -> bool:
    """Whether bubbles offer "Reply": the agent may answer and the provider sends replies in context."""
    return can_act and conversation.phone_number.client.provider_account.capabilities.replies_in_context


def quoted_message(conversation: Conversation, raw: str) -> Message | None:
    """The message of this conversation the box answers (``raw``: its id as the page knows it), or None.

    Raises when an id is given but names no quotable message of this conversation.
    """
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        message = thread_messages(conversation).filter(pk=uuid.UUID(raw)).first()
    except ValueError:
        message = None
    if message is None or not (message.provider_message_id or message.whatsapp_id):
        raise ApplicationError(_("The message you are replying to is not in this conversation."), field="context")
    return message


def quote_item(message: Message | None) -> dict[str, Any] | None:
    if message is None:
        return None
    return {"id": str(message.pk), "text": quote_text(message), "mine": message.direction == Direction.OUTBOUND}


def context_id_of(message: Message | None) -> str:
    return (message.provider_message_id or message.whatsapp_id) if message is not None else ""


def attachment_values(post) -> dict[str, str]:
    """What the attachment panel posted (kept in the box when the send is refused)."""
    kind = post.get("media_type", "")
    return {
        "type": kind if kind in ATTACHABLE else MessageType.IMAGE,
        "link": post.get("media_link", "").strip(),
        "caption": post.get("media_caption", "").strip(),
        "filename": post.get("media_filename", "").strip(),
    }


def attachment_send_kwargs(*, user, conversation: Conversation, post, text: str, key: str,
                           context_id: str) -> dict[str, Any]:
    """``message_send``'s arguments for an attachment by URL, through the composer's form and its checks."""
    kind = post.get("media_type", "")
    if kind not in ATTACHABLE:
        raise ApplicationError(_("Pick what kind of file the link is: image, video, audio or document."),
                               field="media_type")
    if text:
        raise ApplicationError(
            _("Send the text on its own, or write it as the attachment's caption."), field="text")
    values = attachment_values(post)
    if values["caption"] and kind in NO_CAPTION:
        raise ApplicationError(_("An audio message carries no caption: send the words as a text."),
                               field="media_caption")
    if values["filename"] and kind != MessageType.DOCUMENT:
        raise ApplicationError(_("Only a document has a file name."), field="media_filename")
    form = ComposeForm({
        "idempotency_key": key, "phone_number": conversation.phone_number_id, "to": conversation.contact.wa_id,
        "type": kind, "media_link": values["link"], "media_caption": values["caption"],
        "media_filename": values["filename"], "context_message_id": context_id,
    }, user=user)
    if not form.is_valid():
        name, errors = next(iter(form.errors.items()))
        raise ApplicationError(" ".join(str(error) for error in errors), field=name)
    return form.send_kwargs()


def error_words(exc: Exception) -> str:
    """A refusal as the box shows it: the field's name in words, then the reason."""
    words = getattr(exc, "message", "") or str(exc)
    field = getattr(exc, "field", None)
    label = FIELD_LABELS.get(field or "") or FIELD_LABELS.get(form_field_for(field) or "")
    return f"{label()}: {words}" if label else words


FIELD_LABELS = {
    "media_type": lambda: _("Kind of file"),
    "media_link": lambda: _("File URL (https)"),
    "media_caption": lambda: _("Caption"),
    "media_filename": lambda: _("File name"),
    "context": lambda: _("Replying to"),
    "context_message_id": lambda: _("Replying to"),
}


@login_required
@require_GET
def quote(request, pk: int):
    """The "Replying to …" strip for the picked message (with its id for the send), or nothing."""
    conversation = get_object_or_404(selectors.conversations_visible(request.user), pk=pk)
    try:
        message = quoted_message(conversation, request.GET.get("message", ""))
    except ApplicationError:
        message = None
    return render(request, "workspace/_reply_quote.html", {"quoted": quote_item(message)})


@login_required
@require_GET
def emoji_picker(request):
    """The emoji picker's groups, loaded once when the agent first opens it (cached by the browser)."""
    response = render(request, "workspace/_emoji.html", {"groups": emoji_groups()})
    patch_cache_control(response, private=True, max_age=3600)
    return response
