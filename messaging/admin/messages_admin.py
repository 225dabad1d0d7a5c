"""Admin for messages and the composer.

Messages are read-only here: they are created only by sending (the composer,
the API, the inbox, campaigns all go through :func:`messaging.sending.message_send`).
The composer is a view of the Message admin served at ``/admin/messaging/message/compose/``
(URL name ``admin:messaging_message_compose``); each message page
shows its status history and follows it without a reload (``status/``, polled
by ``messaging/message_status.js``). "Send again" exists for messages whose
outcome is unknown or failed, behind a confirmation that says the customer may
get the message twice.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import PhoneNumber, Role
from accounts.tenancy import client_ids_for, has_role, scope
from messaging import sending
from messaging.admin.composer import ComposeForm, template_data, template_inputs
from messaging.models import Direction, Message, MessageStatus
from messaging.selectors import composer_numbers, composer_templates
from messaging.sending import RESENDABLE
from templates_mgr.models import Template
from waportal.admin_base import TenantAdminMixin, badge
from waportal.errors import ApplicationError

STATUS_TONES = {
    MessageStatus.QUEUED: "grey",
    MessageStatus.SENDING: "grey",
    MessageStatus.UNKNOWN: "yellow",
    MessageStatus.SENT: "blue",
    MessageStatus.DELIVERED: "blue",
    MessageStatus.READ: "green",
    MessageStatus.FAILED: "red",
    MessageStatus.RECEIVED: "green",
}

class PhoneNumberFilter(admin.RelatedFieldListFilter):
    """The business numbers the user may see, read from their own table.

    ``RelatedOnlyFieldListFilter`` would ask for the DISTINCT numbers of every
    message the user can see: a read of the whole message table on each page
    (issue 9 measured 50-270 ms with a million messages).
    """

    def field_choices(self, field, request, model_admin):
        numbers = scope(PhoneNumber.objects.order_by("digits"), request.user, "client")
        return [(number.pk, str(number)) for number in numbers]


@admin.register(Message)
class MessageAdmin(TenantAdminMixin, admin.ModelAdmin):
    """Sent and received messages: read-only; created only by sending."""

    change_role = None
    list_display = ["created_at", "direction", "type", "from_number", "to_number", "status_badge", "error_short"]
    list_display_links = ["created_at"]
    list_filter = ["direction", "status", "type", ("phone_number", PhoneNumberFilter)]
    search_fields = ["to_number", "from_number", "provider_message_id", "whatsapp_id"]
    list_select_related = ["phone_number"]
    # One COUNT per page, not two: the unfiltered total of a million-row table costs as much again.
    show_full_result_count = False
    ordering = ["-created_at"]
    actions = ["action_send_again"]
    change_form_template = "admin/messaging/message/change_form.html"
    change_list_template = "admin/messaging/message/change_list.html"
    fieldsets = [
        # The current status and error are shown live above these (change_form.html, message_status.js).
        (None, {"fields": [("direction", "type"), ("from_number", "to_number"), "phone_number", "template",
                           "context_id", "reply_to"]}),
        (_("Provider"), {"fields": ["provider_message_id", "whatsapp_id", "custom_field", "idempotency_key",
                                    "error_kind"]}),
        (_("Content"), {"fields": ["content_display", "request_body_display"]}),
        (_("Times"), {"fields": ["created_by", "created_at", "sent_at", "delivered_at", "read_at", "failed_at"]}),
    ]
    readonly_fields = ["content_display", "request_body_display"]

    # --- read-only ------------------------------------------------------------------------

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # --- columns ----------------------------------------------------------------------------

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj: Message) -> str:
        return badge(obj.get_status_display(), STATUS_TONES.get(obj.status, "grey"))

    @admin.display(description=_("error"))
    def error_short(self, obj: Message) -> str:
        if not obj.error_title and not obj.error_code:
            return ""
        text = obj.error_title or obj.error_code
        return text if len(text) <= 90 else text[:89] + "…"

    @admin.display(description=_("content"))
    def content_display(self, obj: Message) -> str:
        return format_html("<pre class=\"wa-json\">{}</pre>", json.dumps(obj.content, indent=2, ensure_ascii=False))

    @admin.display(description=_("request as sent"))
    def request_body_display(self, obj: Message) -> str:
        if obj.request_body is None:
            return "—"
        return format_html("<pre class=\"wa-json\">{}</pre>",
                           json.dumps(obj.request_body, indent=2, ensure_ascii=False))

    # --- pages --------------------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("compose/", wrap(self.compose_view), name="messaging_message_compose"),
            path("<uuid:pk>/status/", wrap(self.status_view), name="messaging_message_status"),
            path("<uuid:pk>/resend/", wrap(self.resend_view), name="messaging_message_resend"),
        ] + super().get_urls()

    def can_compose(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff and (
            request.user.is_superuser or bool(client_ids_for(request.user, Role.AGENT))
        )

    def can_resend(self, request: HttpRequest, message: Message) -> bool:
        return (
            message.direction == Direction.OUTBOUND
            and message.status in RESENDABLE
            and has_role(request.user, message.client_id, Role.AGENT)
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_compose": self.can_compose(request)}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        message = self.get_object(request, object_id)
        extra_context = dict(extra_context or {})
        if message is not None:
            extra_context.update(
                status_events=list(message.status_events.order_by("timestamp", "id")),
                status_tone=STATUS_TONES.get(message.status, "grey"),
                status_url=reverse("admin:messaging_message_status", args=[message.pk]),
                resend_url=(reverse("admin:messaging_message_resend", args=[message.pk])
                            if self.can_resend(request, message) else ""),
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def status_view(self, request: HttpRequest, pk) -> JsonResponse:
        """The message's current status and history, polled by the message page every 2 seconds."""
        message = get_object_or_404(self.get_queryset(request), pk=pk)
        events = message.status_events.order_by("timestamp", "id")
        return JsonResponse({
            "id": str(message.pk),
            "status": message.status,
            "status_display": str(message.get_status_display()),
            "tone": STATUS_TONES.get(message.status, "grey"),
            "error_code": message.error_code,
            "error_title": message.error_title,
            "error_kind": message.error_kind,
            "provider_message_id": message.provider_message_id,
            "whatsapp_id": message.whatsapp_id,
            "history": [
                {
                    "status": event.status,
                    "status_display": event.status_display,
                    "timestamp": event.timestamp.isoformat() if event.timestamp else None,
                    # Formatted like the server-rendered rows: the user's time zone and locale.
                    "timestamp_display": formats.localize(timezone.localtime(event.timestamp)) if event.timestamp
                    else "",
                    "error_code": event.error_code,
                    "error_title": event.error_title,
                }
                for event in events
            ],
        })

    # --- composing -------------------------------------------------------------------------------

    def compose_view(self, request: HttpRequest):
        """Compose and send one message; redirect to its page, where its status follows live."""
        if not self.can_compose(request):
            raise PermissionDenied
        needs_template = False
        if request.method == "POST":
            form = ComposeForm(request.POST, user=request.user)
            if form.is_valid():
                try:
                    message = sending.message_send(actor=request.user, **form.send_kwargs())
                except ApplicationError as error:
                    form.add_service_error(error)
                    needs_template = error.extra.get("code") == "window_closed"
                else:
                    self._announce(request, message)
                    return HttpResponseRedirect(reverse("admin:messaging_message_change", args=[message.pk]))
        else:
            form = ComposeForm(initial=self._compose_initial(request), user=request.user)
        selected = self._selected_template(form)
        templates = list(form.fields["template"].queryset)
        numbers = list(form.fields["phone_number"].queryset)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Compose a message"),
            "opts": self.model._meta,
            "form": form,
            "needs_template": needs_template,
            "template_inputs": template_inputs(selected, form.data if form.is_bound else None),
            "selected_template": selected.pk if selected else "",
            "composer_data": {
                "numbers": {
                    str(number.pk): {
                        "waba": number.waba_id,
                        "client": number.client_id,
                        "templates_per_waba": number.client.provider_account.capabilities.templates_per_waba,
                        "custom_field": number.client.provider_account.capabilities.custom_field,
                        "replies_in_context": number.client.provider_account.capabilities.replies_in_context,
                        "digits": number.digits,
                        "name": number.verified_name,
                    }
                    for number in numbers
                },
                "templates": {str(template.pk): template_data(template) for template in templates},
            },
        }
        return TemplateResponse(request, "admin/messaging/compose.html", context)

    def _compose_initial(self, request: HttpRequest) -> dict[str, Any]:
        """Preselection from the query: ``?template=<id>``, ``?to=<digits>&from=<phone number id>``."""
        initial: dict[str, Any] = {"idempotency_key": uuid.uuid4().hex, "type": "text"}
        numbers = composer_numbers(request.user)
        template_id = request.GET.get("template", "")
        if template_id.isdigit():
            template = composer_templates(request.user).filter(pk=int(template_id)).first()
            if template is not None:
                initial["template"] = template.pk
                initial["type"] = "template"
                number = (numbers.filter(waba_id=template.waba_id) if template.waba_id
                          else numbers.filter(client_id=template.client_id, waba__isnull=True)).first()
                if number is not None:
                    initial["phone_number"] = number.pk
        if "phone_number" not in initial:
            only = list(numbers[:2])
            if len(only) == 1:  # one line: nothing to choose
                initial["phone_number"] = only[0].pk
        from_id = request.GET.get("from", "")
        if from_id.isdigit() and numbers.filter(pk=int(from_id)).exists():
            initial["phone_number"] = int(from_id)
        if request.GET.get("to"):
            initial["to"] = "".join(ch for ch in request.GET["to"] if ch.isdigit() or ch == "+")[:40]
        if request.GET.get("context"):
            initial["context_message_id"] = request.GET["context"][:128]
        return initial

    @staticmethod
    def _selected_template(form: ComposeForm) -> Template | None:
        raw = form.data.get("template") if form.is_bound else form.initial.get("template")
        if not raw or not str(raw).isdigit():
            return None
        return form.fields["template"].queryset.filter(pk=int(raw)).first()

    def _announce(self, request: HttpRequest, message: Message) -> None:
        if getattr(message, "replayed", False):
            self.message_user(request, gettext("This message was already sent from this form; nothing was sent "
                                               "again."), messages.INFO)
        elif message.status == MessageStatus.FAILED:
            self.message_user(request, gettext("The message was not sent: %(error)s") % {"error": message.error_title},
                              messages.ERROR)
        elif message.status == MessageStatus.UNKNOWN:
            self.message_user(request, message.error_title, messages.WARNING)
        else:
            self.message_user(request, gettext("Sent to +%(to)s. Its status updates below as it moves.")
                              % {"to": message.to_number}, messages.SUCCESS)

    # --- send again ------------------------------------------------------------------------------------

    def _resend(self, request: HttpRequest, message: Message) -> Message | None:
        try:
            new = sending.message_resend(actor=request.user, message=message)
        except ApplicationError as error:
            self.message_user(request, gettext("+%(to)s: not sent again: %(error)s")
                              % {"to": message.to_number, "error": error.message}, messages.ERROR)
            return None
        self._announce(request, new)
        return new

    def _confirmation(self, request: HttpRequest, queryset, *, action: str = "") -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Send again?"),
            "opts": self.model._meta,
            "messages_to_resend": list(queryset),
            "action_name": action,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/messaging/message/resend_confirmation.html", context)

    def resend_view(self, request: HttpRequest, pk):
        message = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.can_resend(request, message):
            raise PermissionDenied
        if request.method == "POST":
            new = self._resend(request, message)
            target = new.pk if new is not None else message.pk
            return HttpResponseRedirect(reverse("admin:messaging_message_change", args=[target]))
        return self._confirmation(request, [message])

    @admin.action(description=_("Send again (unknown or failed messages)"))
    def action_send_again(self, request: HttpRequest, queryset):
        eligible = [message for message in queryset.select_related("phone_number__client__provider_account",
                                                                    "phone_number__waba", "template")
                    if self.can_resend(request, message)]
        confirmed = request.POST.get("post") == "yes"
        skipped = queryset.count() - len(eligible)
        if skipped and (confirmed or not eligible):
            self.message_user(request, gettext("%(count)d selected message(s) were skipped: only messages we sent "
                                               "whose outcome is unknown or failed can be sent again, by an agent.")
                              % {"count": skipped}, messages.WARNING)
        if not eligible:
            return None
        if not confirmed:
            return self._confirmation(request, eligible, action="action_send_again")
        for message in eligible:
            self._resend(request, message)
        return None
