"""Admin for conversations (the inbox) and raw webhook events.

The inbox is the Conversation admin: its list is the inbox (latest activity
first, unread counts, the 24-hour window), and each conversation opens as a
WhatsApp-like thread with a reply box. Routes, under
``/admin/messaging/conversation/``:

- ``""`` — the inbox list;
- ``inbox/<id>/`` — the thread (opening it resets the unread count);
- ``inbox/<id>/updates/?after=<iso time or message id>`` — JSON polled every
  2 s by ``messaging/inbox.js``: new bubbles as rendered HTML, the current
  ticks of recent outbound messages, the window state;
- ``inbox/<id>/reply/`` — POST; sends through ``messaging.sending.message_send``.

Views are thin: reading is scoped with ``accounts.tenancy``; sending is the
send service's job (it enforces the window and the agent role again).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import SimpleListFilter
from django.core.paginator import Paginator
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Substr
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.csp import CSP
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.timesince import timeuntil
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csp import csp_override

from accounts.models import Client, Provider, ProviderAccount, Role
from accounts.tenancy import client_ids_for, has_role, require_role, scope
from messaging.conversations import window_closes_at, window_open
from messaging.ingest import order_totals, webhook_event_reprocess
from messaging.models import Conversation, Direction, Message, MessageStatus, MessageType, WebhookEvent
from providers.base import ProviderError
from waportal.admin_base import TenantAdminMixin, badge
from waportal.errors import ApplicationError

INBOX_PAGE_SIZE = 50
THREAD_SIZE = 100
SIDEBAR_SIZE = 30
#: How far back the updates endpoint looks before the client's cursor: a message
#: committed late (a worker's batch) still has an earlier ``created_at``; the
#: client skips bubbles it already shows.
UPDATES_OVERLAP = timedelta(seconds=60)
UPDATES_LIMIT = 100
TEXT_LIMIT = 4096

MEDIA_TYPES = {MessageType.IMAGE, MessageType.VIDEO, MessageType.AUDIO, MessageType.VOICE, MessageType.DOCUMENT,
               MessageType.STICKER}


def _thread_csp() -> dict[str, Any]:
    """The site's CSP plus ``media-src https:``: customers' audio and video live on the provider's servers."""
    base = dict(getattr(settings, "SECURE_CSP", {}) or {})
    if base:
        base["media-src"] = [CSP.SELF, "https:"]
    return base


# --- bubbles: what the templates render for one message ----------------------------------------------


def _safe_url(value: Any) -> str:
    """An http(s) URL from the payload, or "" (customers' data never becomes a javascript: link)."""
    if not isinstance(value, str):
        return ""
    url = value.strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return ""
    return url if scheme in ("http", "https") else ""


def _text(value: Any) -> str:
    if value is None or isinstance(value, bool | dict | list):
        return ""
    return str(value).strip()


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) <= 180 else None


def map_url(latitude: float, longitude: float) -> str:
    query = urlencode({"mlat": f"{latitude:.6f}", "mlon": f"{longitude:.6f}"})
    return f"https://www.openstreetmap.org/?{query}#map=16/{latitude:.6f}/{longitude:.6f}"


def failure_words(message: Message) -> str:
    """Why a message failed, in words a person can act on."""
    if message.error_title:
        return message.error_title
    if message.error_code:
        return gettext("The provider reported error %(code)s.") % {"code": message.error_code}
    return gettext("The message could not be delivered.")


def ticks(message: Message) -> dict[str, str] | None:
    """The status mark of an outbound message: ✓ sent, ✓✓ delivered, blue ✓✓ read, ⚠ failed."""
    if message.direction != Direction.OUTBOUND:
        return None
    status = message.status
    label = MessageStatus(status).label if status in MessageStatus.values else status
    marks = {
        MessageStatus.QUEUED: ("🕓", "pending"),
        MessageStatus.SENDING: ("🕓", "pending"),
        MessageStatus.UNKNOWN: ("?", "unknown"),
        MessageStatus.SENT: ("✓", "sent"),
        MessageStatus.DELIVERED: ("✓✓", "delivered"),
        MessageStatus.READ: ("✓✓", "read"),
        MessageStatus.FAILED: ("⚠", "failed"),
    }
    symbol, css = marks.get(status, ("", "unknown"))
    return {"symbol": symbol, "css": css, "label": str(label),
            "reason": failure_words(message) if status == MessageStatus.FAILED else ""}


def _contact_cards(content: Any) -> list[dict[str, Any]]:
    cards = content if isinstance(content, list) else (
        content.get("contacts") if isinstance(content, Mapping) else None)
    result = []
    for card in cards if isinstance(cards, list) else []:
        if not isinstance(card, Mapping):
            continue
        name = card.get("name") if isinstance(card.get("name"), Mapping) else {}
        org = card.get("org") if isinstance(card.get("org"), Mapping) else {}
        result.append({
            "name": _text(name.get("formatted_name")) or " ".join(
                part for part in (_text(name.get("first_name")), _text(name.get("last_name"))) if part),
            "org": _text(org.get("company")),
            "phones": [_text(p.get("phone")) for p in card.get("phones") or [] if isinstance(p, Mapping)
                       and _text(p.get("phone"))],
            "emails": [_text(e.get("email")) for e in card.get("emails") or [] if isinstance(e, Mapping)
                       and _text(e.get("email"))],
        })
    return result


def _quote(message: Message) -> dict[str, Any] | None:
    """The message this one answers, shown above it (interactive choices show what they chose from)."""
    target = message.reply_to
    if target is not None:
        return {"text": quote_text(target), "mine": target.direction == Direction.OUTBOUND, "id": str(target.pk)}
    if message.context_id:
        return {"text": gettext("A message not stored here"), "mine": False, "id": ""}
    return None


def quote_text(message: Message) -> str:
    """A short text standing for a message in a quote."""
    content = message.content if isinstance(message.content, Mapping) else {}
    if message.type == MessageType.TEXT:
        text = _text(content.get("body"))
    elif message.type == MessageType.INTERACTIVE:
        body = content.get("body")
        reply = content.get(_text(content.get("type")))
        text = (_text(body.get("text")) if isinstance(body, Mapping) else "") or (
            _text(reply.get("title")) if isinstance(reply, Mapping) else "")
    elif message.type == MessageType.TEMPLATE:
        text = gettext("Template %(name)s") % {"name": _text(content.get("name")) or _text(content.get("id"))}
    elif message.type in MEDIA_TYPES:
        text = _text(content.get("caption")) or str(message.get_type_display())
    else:
        text = str(message.get_type_display())
    return (text or str(message.get_type_display()))[:160]


def bubble(message: Message) -> dict[str, Any]:
    """Everything the bubble template needs for ``message``, whatever its type and direction."""
    content = message.content
    data = content if isinstance(content, Mapping) else {}
    kind = message.type
    result: dict[str, Any] = {
        "id": str(message.pk),
        "direction": message.direction,
        "outbound": message.direction == Direction.OUTBOUND,
        "type": kind,
        "type_label": message.get_type_display(),
        "time": (message.status_at if message.direction == Direction.INBOUND and message.status_at
                 else message.created_at),
        "text": "",
        "quote": _quote(message),
        "ticks": ticks(message),
        "can_quote": bool(message.provider_message_id or message.whatsapp_id),
    }
    if kind == MessageType.TEXT:
        result["text"] = _text(data.get("body"))
    elif kind in MEDIA_TYPES:
        mime = _text(data.get("mime_type"))
        shown = {MessageType.IMAGE: "image", MessageType.STICKER: "image", MessageType.VIDEO: "video",
                 MessageType.AUDIO: "audio", MessageType.VOICE: "audio"}.get(kind, "file")
        result["media"] = {"kind": shown, "url": _safe_url(data.get("link")), "mime": mime,
                           "sha256": _text(data.get("sha256")),
                           "filename": _text(data.get("filename")) or _text(data.get("file")) or kind}
        result["text"] = _text(data.get("caption"))
    elif kind == MessageType.LOCATION:
        latitude, longitude = _number(data.get("latitude")), _number(data.get("longitude"))
        result["location"] = {
            "latitude": latitude, "longitude": longitude,
            "name": _text(data.get("name")), "address": _text(data.get("address")),
            "map_url": map_url(latitude, longitude) if latitude is not None and longitude is not None else "",
        }
    elif kind == MessageType.CONTACTS:
        result["contacts"] = _contact_cards(content)
    elif kind == MessageType.INTERACTIVE:
        choice_type = _text(data.get("type"))
        choice = data.get(choice_type)
        if isinstance(choice, Mapping):  # a customer's answer: list_reply / button_reply
            result["choice"] = {"title": _text(choice.get("title")), "description": _text(choice.get("description")),
                                "id": _text(choice.get("id"))}
        else:  # one we sent: body and its buttons or list
            body = data.get("body")
            result["text"] = _text(body.get("text")) if isinstance(body, Mapping) else ""
            action = data.get("action") if isinstance(data.get("action"), Mapping) else {}
            options = [_text((button.get("reply") or {}).get("title")) for button in action.get("buttons") or []
                       if isinstance(button, Mapping) and isinstance(button.get("reply"), Mapping)]
            for section in action.get("sections") or []:
                if isinstance(section, Mapping):
                    options += [_text(row.get("title")) for row in section.get("rows") or []
                                if isinstance(row, Mapping)]
            result["options"] = [option for option in options if option]
    elif kind == MessageType.BUTTON:
        result["choice"] = {"title": _text(data.get("text")), "description": "", "id": _text(data.get("payload"))}
    elif kind == MessageType.ORDER:
        lines, totals = order_totals(data)
        result["order"] = {"lines": lines, "totals": sorted(totals.items()), "catalog_id": _text(data.get("catalog_id")),
                           "text": _text(data.get("text"))}
    elif kind == MessageType.TEMPLATE:
        language = data.get("language")
        result["template"] = {
            "name": _text(data.get("name")) or _text(data.get("id")),
            "language": _text(language.get("code")) if isinstance(language, Mapping) else _text(language),
            "parameters": _template_parameters(data),
        }
    else:
        result["unsupported"] = _text(data.get("type")) or kind
    referral = data.get("referral")
    if isinstance(referral, Mapping):
        media = referral.get("image") if isinstance(referral.get("image"), Mapping) else (
            referral.get("video") if isinstance(referral.get("video"), Mapping) else {})
        result["referral"] = {
            "headline": _text(referral.get("headline")), "body": _text(referral.get("body")),
            "source_url": _safe_url(referral.get("source_url")), "source_type": _text(referral.get("source_type")),
            "image_url": _safe_url(media.get("link")) if referral.get("image") else "",
        }
    return result


def _template_parameters(data: Mapping[str, Any]) -> list[str]:
    values = []
    for component in data.get("components") or []:
        if not isinstance(component, Mapping):
            continue
        for parameter in component.get("parameters") or []:
            if isinstance(parameter, Mapping) and parameter.get("type") == "text":
                values.append(_text(parameter.get("text")))
    return [value for value in values if value]


# --- selectors --------------------------------------------------------------------------------------


def conversations_visible(user) -> QuerySet[Conversation]:
    return scope(Conversation.objects.all(), user, "client")


def thread_messages(conversation: Conversation) -> QuerySet[Message]:
    return Message.objects.filter(conversation=conversation).select_related("reply_to")


def window_state(conversation: Conversation, *, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    is_open = window_open(conversation.last_inbound_at, now=now)
    closes_at = window_closes_at(conversation.last_inbound_at)
    if is_open:
        label = gettext("Window open: closes in %(left)s") % {"left": timeuntil(closes_at, now)}
    else:
        label = gettext("Window closed: only templates can be sent")
    return {"open": is_open, "closes_at": closes_at.isoformat() if closes_at else None, "label": label}


def compose_url(conversation: Conversation, *, context: Message | None = None) -> str:
    """The composer, preset with this conversation's number and customer (for templates outside the window)."""
    base = reverse("admin:messaging_message_compose")
    query = {"from": conversation.phone_number_id, "to": conversation.contact.wa_id}
    if context is not None and (context.provider_message_id or context.whatsapp_id):
        query["context"] = context.provider_message_id or context.whatsapp_id
    return f"{base}?{urlencode(query)}"


# --- the Conversation admin: the inbox -------------------------------------------------------------


@admin.register(Conversation)
class ConversationAdmin(TenantAdminMixin, admin.ModelAdmin):
    """The inbox. Conversations are made by messages, never edited by hand."""

    change_role = None
    list_select_related = ["contact", "phone_number"]

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("inbox/<int:pk>/", wrap(self.thread_view), name="messaging_inbox_thread"),
            path("inbox/<int:pk>/updates/", wrap(self.updates_view), name="messaging_inbox_updates"),
            path("inbox/<int:pk>/reply/", wrap(self.reply_view), name="messaging_inbox_reply"),
            *super().get_urls(),
        ]

    # --- list -------------------------------------------------------------------------------------

    def changelist_view(self, request: HttpRequest, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise Http404
        queryset = self._inbox_queryset(request)
        numbers = self._numbers(request)
        number = request.GET.get("number", "")
        if number.isdigit():
            queryset = queryset.filter(phone_number_id=int(number))
        if request.GET.get("unread") == "1":
            queryset = queryset.filter(unread_count__gt=0)
        search = request.GET.get("q", "").strip()[:100]
        if search:
            digits = "".join(ch for ch in search if ch.isdigit())
            condition = Q(contact__profile_name__icontains=search)
            if digits:
                condition |= Q(contact__wa_id__contains=digits)
            queryset = queryset.filter(condition)
        page = Paginator(queryset, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
        now = timezone.now()
        rows = [self._row(conversation, now) for conversation in page.object_list]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Inbox"),
            "rows": rows,
            "page": page,
            "numbers": numbers,
            "selected_number": number,
            "unread_only": request.GET.get("unread") == "1",
            "search": search,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/messaging/inbox/index.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not str(object_id).isdigit():
            raise Http404
        return HttpResponseRedirect(reverse("admin:messaging_inbox_thread", args=[int(object_id)]))

    def _inbox_queryset(self, request: HttpRequest) -> QuerySet[Conversation]:
        return (
            conversations_visible(request.user)
            .select_related("contact", "phone_number")
            .order_by(F("last_message_at").desc(nulls_last=True), "-id")
        )

    def _numbers(self, request: HttpRequest):
        from accounts.models import PhoneNumber

        return scope(PhoneNumber.objects.all(), request.user, "client").order_by("digits")

    @staticmethod
    def _row(conversation: Conversation, now: datetime) -> dict[str, Any]:
        return {
            "conversation": conversation,
            "url": reverse("admin:messaging_inbox_thread", args=[conversation.pk]),
            "window": window_state(conversation, now=now),
        }

    # --- thread -----------------------------------------------------------------------------------

    def _conversation(self, request: HttpRequest, pk: int) -> Conversation:
        return get_object_or_404(
            conversations_visible(request.user).select_related("contact", "phone_number__client__provider_account"),
            pk=pk,
        )

    def thread_view(self, request: HttpRequest, pk: int):
        conversation = self._conversation(request, pk)
        if conversation.unread_count:
            Conversation.objects.filter(pk=conversation.pk).update(unread_count=0)
            conversation.unread_count = 0
        recent = list(thread_messages(conversation).order_by("-created_at")[:THREAD_SIZE])
        recent.reverse()
        cursor = max((message.created_at for message in recent), default=timezone.now())
        provider = conversation.phone_number.client.provider_account.provider
        can_reply = has_role(request.user, conversation.client_id, Role.AGENT)
        sidebar = [self._row(item, timezone.now())
                   for item in self._inbox_queryset(request)[:SIDEBAR_SIZE]]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": str(conversation.contact),
            "conversation": conversation,
            "bubbles": [bubble(message) for message in recent],
            "window": window_state(conversation),
            "cursor": cursor.isoformat(),
            "can_reply": can_reply,
            "text_only_provider": provider == Provider.CONTACTO_VIRTUAL,
            "compose_url": compose_url(conversation),
            "updates_url": reverse("admin:messaging_inbox_updates", args=[conversation.pk]),
            "reply_url": reverse("admin:messaging_inbox_reply", args=[conversation.pk]),
            "reply_token": uuid.uuid4().hex,
            "text_limit": TEXT_LIMIT,
            "sidebar": sidebar,
            "inbox_url": reverse("admin:messaging_conversation_changelist"),
        }
        response = TemplateResponse(request, "admin/messaging/inbox/thread.html", context)
        return csp_override(_thread_csp())(lambda _request: response)(request)

    def updates_view(self, request: HttpRequest, pk: int):
        """New bubbles since ``after`` (with an overlap; the page skips ids it shows), ticks, window."""
        conversation = self._conversation(request, pk)
        after = self._cursor(request.GET.get("after", ""), conversation)
        fresh = list(thread_messages(conversation).filter(created_at__gt=after - UPDATES_OVERLAP)
                     .order_by("created_at")[:UPDATES_LIMIT])
        if any(message.direction == Direction.INBOUND for message in fresh) and conversation.unread_count:
            Conversation.objects.filter(pk=conversation.pk).update(unread_count=0)
        recent_outbound = list(
            Message.objects.filter(conversation=conversation, direction=Direction.OUTBOUND)
            .order_by("-created_at")[:50]
        )
        cursor = max([after, *(message.created_at for message in fresh)])
        return JsonResponse({
            "cursor": cursor.isoformat(),
            "messages": [{"id": str(message.pk), "html": self._bubble_html(request, message)} for message in fresh],
            "ticks": {str(message.pk): render_to_string("admin/messaging/inbox/ticks.html",
                                                        {"ticks": ticks(message)}, request=request)
                      for message in recent_outbound},
            "window": window_state(conversation),
        })

    @staticmethod
    def _cursor(raw: str, conversation: Conversation) -> datetime:
        moment = None
        if raw:
            try:
                moment = parse_datetime(raw.replace(" ", "+"))
            except ValueError:
                moment = None
            if moment is None:
                try:
                    moment = (Message.objects.filter(conversation=conversation, pk=uuid.UUID(raw))
                              .values_list("created_at", flat=True).first())
                except ValueError:
                    moment = None
        if moment is not None and timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment or timezone.now() - UPDATES_OVERLAP

    @staticmethod
    def _bubble_html(request: HttpRequest, message: Message) -> str:
        return render_to_string("admin/messaging/inbox/bubble.html", {"b": bubble(message)}, request=request)

    # --- reply ------------------------------------------------------------------------------------

    def reply_view(self, request: HttpRequest, pk: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        conversation = self._conversation(request, pk)
        wants_json = "application/json" in request.headers.get("Accept", "")
        text = request.POST.get("text", "").strip()
        context_message = None
        context_id = request.POST.get("context", "").strip()
        try:
            require_role(request.user, conversation.client_id, Role.AGENT)
            if not text:
                raise ApplicationError(gettext("Write a message first."), field="text")
            if len(text) > TEXT_LIMIT:
                raise ApplicationError(gettext("A message has at most %(limit)d characters.") % {"limit": TEXT_LIMIT},
                                       field="text")
            if context_id:
                try:
                    context_message = Message.objects.filter(conversation=conversation,
                                                             pk=uuid.UUID(context_id)).first()
                except ValueError:
                    context_message = None
                if context_message is None:
                    raise ApplicationError(gettext("The message you are replying to is not in this conversation."),
                                           field="context")
            from messaging.sending import message_send  # the send service; imported when used

            token = "".join(ch for ch in request.POST.get("token", "") if ch.isalnum())[:64]
            message = message_send(
                actor=request.user,
                phone_number=conversation.phone_number,
                to=conversation.contact.wa_id,
                type=MessageType.TEXT,
                content={"body": text},
                context_message_id=(context_message.provider_message_id or context_message.whatsapp_id)
                if context_message is not None else "",
                idempotency_key=f"inbox-{conversation.pk}-{token}" if token else "",
            )
        except (ApplicationError, ProviderError) as exc:
            words = getattr(exc, "message", "") or str(exc)
            if wants_json:
                status = getattr(exc, "http_status", 400) if isinstance(exc, ApplicationError) else 502
                return JsonResponse({"ok": False, "error": words, "field": getattr(exc, "field", None)}, status=status)
            messages.error(request, words)
            return HttpResponseRedirect(reverse("admin:messaging_inbox_thread", args=[conversation.pk]))

        warning = failure_words(message) if message.status == MessageStatus.FAILED else ""
        if wants_json:
            return JsonResponse({"ok": True, "id": str(message.pk), "warning": warning, "token": uuid.uuid4().hex,
                                 "html": self._bubble_html(request, message)})
        if warning:
            messages.warning(request, gettext("The provider refused the message: %(words)s") % {"words": warning})
        return HttpResponseRedirect(reverse("admin:messaging_inbox_thread", args=[conversation.pk]))


# --- raw webhook events ----------------------------------------------------------------------------


def webhook_accounts_visible(user) -> QuerySet[ProviderAccount]:
    """Accounts whose events ``user`` may filter by: all for operators, else those where they are a client admin."""
    ids = client_ids_for(user, Role.ADMIN)
    if ids is None:
        return ProviderAccount.objects.all()
    return ProviderAccount.objects.filter(
        pk__in=Client.objects.filter(pk__in=ids).values("provider_account_id"))


def webhook_events_visible(user) -> QuerySet[WebhookEvent]:
    """Raw events ``user`` may read: all for operators; a client admin's only those attributed to their clients.

    An event not (yet) attributed to one client may carry another tenant's
    customers (accounts are shared), so it stays with the operators.
    """
    ids = client_ids_for(user, Role.ADMIN)
    if ids is None:
        return WebhookEvent.objects.all()
    return WebhookEvent.objects.filter(client_id__in=ids)


class AccountFilter(SimpleListFilter):
    """Provider account, offering only accounts the user may see (another tenant's name never shows)."""

    title = _("provider account")
    parameter_name = "account"

    def lookups(self, request, model_admin):
        return [(str(account.pk), str(account)) for account in webhook_accounts_visible(request.user).order_by("name")]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(provider_account_id=int(value)) if value and value.isdigit() else queryset


def pretty_body(event: WebhookEvent) -> str:
    """The body as a person reads it: indented JSON, a form as its fields, anything else as stored."""
    try:
        return json.dumps(json.loads(event.body), indent=2, ensure_ascii=False, sort_keys=False)
    except ValueError:
        pass
    if "=" in event.body and "{" not in event.body:
        from urllib.parse import parse_qsl

        pairs = parse_qsl(event.body, keep_blank_values=True)
        if pairs:
            return json.dumps(dict(pairs), indent=2, ensure_ascii=False)
    return event.body


STATE_TONES = {
    WebhookEvent.State.PENDING: "grey",
    WebhookEvent.State.PROCESSED: "green",
    WebhookEvent.State.UNPROCESSED: "yellow",
    WebhookEvent.State.ERROR: "red",
}


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    """Every callback as received, for audit and replay. Superusers and client admins only."""

    list_display = ["received_at", "provider_account", "state_badge", "summary", "attempts", "processed_at"]
    list_filter = [AccountFilter, "state", "received_at"]
    search_fields = ["body"]
    list_select_related = ["provider_account"]
    show_full_result_count = False
    actions = ["action_reprocess"]
    fields = ["provider_account", "received_at", "state", "reason", "attempts", "processed_at", "content_type",
              "headers_pretty", "body_pretty", "body_sha256"]
    readonly_fields = fields
    change_form_template = "admin/messaging/webhookevent/change_form.html"

    def get_queryset(self, request):
        queryset = webhook_events_visible(request.user).select_related(*self.list_select_related)
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name == "messaging_webhookevent_changelist":
            # The list shows the start of each body; whole bodies (up to 1 MiB each) stay in the database.
            queryset = queryset.annotate(body_start=Substr("body", 1, 120)).defer("body", "headers")
        return queryset

    def _allowed(self, request) -> bool:
        user = request.user
        return user.is_active and user.is_staff and (user.is_superuser or bool(client_ids_for(user, Role.ADMIN)))

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        if not self._allowed(request):
            return False
        return obj is None or webhook_events_visible(request.user).filter(pk=obj.pk).exists()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_reprocess_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    @admin.display(description=_("state"), ordering="state")
    def state_badge(self, obj: WebhookEvent):
        return badge(obj.get_state_display(), STATE_TONES.get(obj.state, "grey"))

    @admin.display(description=_("body"))
    def summary(self, obj: WebhookEvent):
        text = obj.body_start if hasattr(obj, "body_start") else obj.body[:120]
        return text if len(text) < 120 else text[:117] + "…"

    @admin.display(description=_("headers"))
    def headers_pretty(self, obj: WebhookEvent):
        return format_html('<pre class="wa-pre">{}</pre>', json.dumps(obj.headers, indent=2, ensure_ascii=False))

    @admin.display(description=_("body"))
    def body_pretty(self, obj: WebhookEvent):
        return format_html('<pre class="wa-pre">{}</pre>', pretty_body(obj))

    @admin.action(description=_("Reprocess selected events"), permissions=["reprocess"])
    def action_reprocess(self, request, queryset):
        outcome: dict[str, int] = {}
        for event in queryset.order_by("id")[:1000]:
            state = webhook_event_reprocess(event=event).state
            outcome[state] = outcome.get(state, 0) + 1
        summary = ", ".join(f"{WebhookEvent.State(state).label}: {count}" for state, count in sorted(outcome.items()))
        self.message_user(request, gettext("Reprocessed. %(summary)s") % {"summary": summary or "-"},
                          messages.SUCCESS)

    def get_urls(self):
        return [
            path("<int:pk>/reprocess/", self.admin_site.admin_view(self.reprocess_view),
                 name="messaging_webhookevent_reprocess"),
            *super().get_urls(),
        ]

    def reprocess_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        event = get_object_or_404(self.get_queryset(request), pk=pk)
        if request.method == "POST" and self.has_reprocess_permission(request, event):
            event = webhook_event_reprocess(event=event)
            level = messages.SUCCESS if event.state == WebhookEvent.State.PROCESSED else messages.WARNING
            self.message_user(request, gettext("Reprocessed: %(state)s.") % {"state": event.get_state_display()},
                              level)
        return HttpResponseRedirect(reverse("admin:messaging_webhookevent_change", args=[pk]))
