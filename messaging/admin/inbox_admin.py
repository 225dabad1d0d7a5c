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
from datetime import datetime, timedelta
from typing import Any

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
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csp import csp_override

from accounts.models import Role
from accounts.tenancy import client_ids_for, has_role, require_role, scope
from messaging import conf
from messaging.models import Conversation, Direction, Message, MessageStatus, MessageType, WebhookEvent
from messaging.presenters import bubble, compose_url, failure_words, pretty_body, ticks, window_state
from messaging.selectors import (
    conversations_visible,
    thread_messages,
    webhook_accounts_visible,
    webhook_events_visible,
)
from messaging.webhooks.process import webhook_event_reprocess
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

def _thread_csp() -> dict[str, Any]:
    """The site's CSP plus ``media-src https:``: customers' audio and video live on the provider's servers."""
    base = dict(conf.setting("SECURE_CSP") or {})
    if base:
        base["media-src"] = [CSP.SELF, "https:"]
    return base


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
        capabilities = conversation.phone_number.client.provider_account.capabilities
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
            "templates_only": not capabilities.free_form_sends,
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


class AccountFilter(SimpleListFilter):
    """Provider account, offering only accounts the user may see (another tenant's name never shows)."""

    title = _("provider account")
    parameter_name = "account"

    def lookups(self, request, model_admin):
        return [(str(account.pk), str(account)) for account in webhook_accounts_visible(request.user).order_by("name")]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(provider_account_id=int(value)) if value and value.isdigit() else queryset




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
