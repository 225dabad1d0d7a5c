"""The sandbox page of the admin: everything a demo needs to show live.

Flip fault injection straight from the account list; approve, reject
(with a reason), pause or disable templates; make a customer answer with any
inbound type from a phone number's page; watch and replay the callbacks the
portal received.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import delivery, payloads, replies, services_templates
from .models import (
    CallbackState,
    Direction,
    Provider,
    SandboxAccount,
    SandboxAnalyticsPoint,
    SandboxCallback,
    SandboxClient,
    SandboxCVTemplate,
    SandboxMessage,
    SandboxPhoneNumber,
    SandboxTemplate,
    SandboxWaba,
    TemplateStatus,
)

INBOUND_TYPE_LABELS = {
    "text": _("Text"),
    "reply": _("Text replying to a message (context)"),
    "image": _("Image"),
    "video": _("Video"),
    "audio": _("Audio"),
    "document": _("Document"),
    "voice": _("Voice note"),
    "sticker": _("Sticker"),
    "location": _("Location"),
    "contacts": _("Contacts"),
    "list_reply": _("Interactive list reply"),
    "button_reply": _("Interactive button reply"),
    "button": _("Template quick-reply button"),
    "referral": _("Text from an ad (referral)"),
    "order": _("Catalog order"),
}
REJECTION_REASONS = [
    ("INVALID_FORMAT", "INVALID_FORMAT"),
    ("PROMOTIONAL", "PROMOTIONAL"),
    ("TAG_CONTENT_MISMATCH", "TAG_CONTENT_MISMATCH"),
    ("ABUSIVE_CONTENT", "ABUSIVE_CONTENT"),
    ("SCAM", "SCAM"),
]


# --- accounts ---------------------------------------------------------------------------------


@admin.register(SandboxAccount)
class SandboxAccountAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "cv_balance",
        "latency_ms",
        "error_share",
        "rate_limit_share",
        "timeout_share",
        "failed_share",
        "reply_share",
        "random_seed",
    ]
    list_editable = ["latency_ms", "error_share", "rate_limit_share", "timeout_share", "failed_share", "reply_share"]
    readonly_fields = ["random_draws", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name"]}),
        (_("Aldeamo"), {"fields": ["aldeamo_api_key", "aldeamo_user_id", "aldeamo_token", "webhook_url"]}),
        (
            _("Contacto Virtual"),
            {"fields": ["cv_login", "cv_token", "cv_webhook_url", "cv_balance", "cv_active", "cv_multiagent"]},
        ),
        (
            _("Fault injection"),
            {
                "fields": [
                    "latency_ms",
                    "error_share",
                    "rate_limit_share",
                    "timeout_share",
                    "timeout_seconds",
                    "random_seed",
                    "random_draws",
                ]
            },
        ),
        (
            _("Callbacks"),
            {
                "fields": [
                    "status_delay_seconds",
                    "failed_share",
                    "read_share",
                    "reply_share",
                    "duplicate_share",
                    "reorder_share",
                    "template_review_seconds",
                ]
            },
        ),
        (_("Dates"), {"fields": ["created_at", "updated_at"]}),
    ]
    actions = ["clear_faults", "post_template_performance", "deliver_due_now"]

    @admin.action(description=_("Clear fault injection"))
    def clear_faults(self, request: HttpRequest, queryset: QuerySet[SandboxAccount]) -> None:
        count = queryset.update(latency_ms=0, error_share=0, rate_limit_share=0, timeout_share=0)
        self.message_user(
            request, ngettext("%d account is healthy again.", "%d accounts are healthy again.", count) % count
        )

    @admin.action(description=_("Post template performance metrics"))
    def post_template_performance(self, request: HttpRequest, queryset: QuerySet[SandboxAccount]) -> None:
        posted = sum(1 for account in queryset if services_templates.sandbox_template_performance(account=account))
        self.message_user(request, ngettext("%d event scheduled.", "%d events scheduled.", posted) % posted)

    @admin.action(description=_("Deliver due callbacks now"))
    def deliver_due_now(self, request: HttpRequest, queryset: QuerySet[SandboxAccount]) -> None:
        done = delivery.sandbox_deliver_due()
        self.message_user(request, ngettext("%d callback processed.", "%d callbacks processed.", done) % done)


@admin.register(SandboxClient)
class SandboxClientAdmin(admin.ModelAdmin):
    list_display = ["client_id", "name", "account"]
    search_fields = ["name", "client_id"]


class PhoneNumberInline(admin.TabularInline):
    model = SandboxPhoneNumber
    extra = 0
    fields = ["phone_number_id", "number", "display_phone_number", "verified_name", "quality_rating"]


@admin.register(SandboxWaba)
class SandboxWabaAdmin(admin.ModelAdmin):
    list_display = ["waba_id", "name", "client", "namespace"]
    search_fields = ["waba_id", "name"]
    inlines = [PhoneNumberInline]


# --- phone numbers and customer replies ------------------------------------------------------------


class CustomerReplyForm(forms.Form):
    type = forms.ChoiceField(
        label=_("Message type"), choices=[(t, INBOUND_TYPE_LABELS[t]) for t in payloads.INBOUND_TYPES]
    )
    from_number = forms.RegexField(
        label=_("Customer number"), regex=r"^\d{7,15}$", help_text=_("Digits only, e.g. 573135550123.")
    )
    context_id = forms.CharField(
        label=_("In reply to (message id)"),
        required=False,
        help_text=_("Empty: the last message this line sent to the customer, when the type needs one."),
    )


@admin.register(SandboxPhoneNumber)
class SandboxPhoneNumberAdmin(admin.ModelAdmin):
    list_display = [
        "display_phone_number",
        "number",
        "waba",
        "verified_name",
        "quality_rating",
        "code_verification_status",
        "reply_link",
    ]
    list_editable = ["quality_rating", "code_verification_status"]
    list_filter = ["quality_rating", "waba"]
    search_fields = ["number", "display_phone_number", "verified_name"]

    def get_urls(self) -> list:
        custom = [
            path(
                "<int:pk>/customer-reply/",
                self.admin_site.admin_view(self.customer_reply_view),
                name="sandbox_sandboxphonenumber_customer_reply",
            )
        ]
        return custom + super().get_urls()

    @admin.display(description=_("Customer reply"))
    def reply_link(self, obj: SandboxPhoneNumber) -> str:
        url = reverse("admin:sandbox_sandboxphonenumber_customer_reply", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Simulate…"))

    def customer_reply_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """A form: pick a type and a customer, and the sandbox posts that inbound message to the portal now."""
        phone = get_object_or_404(SandboxPhoneNumber.objects.select_related("waba__client__account"), pk=pk)
        if not self.has_change_permission(request, phone):
            return HttpResponseRedirect(reverse("admin:index"))
        last = (
            SandboxMessage.objects.filter(from_number=phone.number, direction=Direction.OUTBOUND)
            .order_by("-created_at", "-id")
            .first()
        )
        if request.method == "POST":
            form = CustomerReplyForm(request.POST)
            if form.is_valid():
                try:
                    callback = replies.sandbox_customer_reply(
                        phone_number=phone,
                        from_number=form.cleaned_data["from_number"],
                        type=form.cleaned_data["type"],
                        context_id=form.cleaned_data["context_id"],
                    )
                except ValueError as exc:
                    form.add_error(None, str(exc))
                else:
                    level = messages.SUCCESS if callback.state == CallbackState.DELIVERED else messages.WARNING
                    self.message_user(
                        request,
                        _("Customer message posted: %(state)s %(error)s")
                        % {"state": callback.get_state_display(), "error": callback.last_error},
                        level,
                    )
                    return HttpResponseRedirect(reverse("admin:sandbox_sandboxphonenumber_changelist"))
        else:
            form = CustomerReplyForm(initial={"type": "reply", "from_number": last.to_number if last else ""})
        context = {
            **self.admin_site.each_context(request),
            "title": _("Simulate a customer message to %(number)s") % {"number": phone.display_phone_number},
            "form": form,
            "phone": phone,
            "opts": self.model._meta,
            "last_message": last,
        }
        return TemplateResponse(request, "admin/sandbox/customer_reply.html", context)


# --- templates ----------------------------------------------------------------------------------------


class RejectForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=REJECTION_REASONS)


@admin.register(SandboxTemplate)
class SandboxTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "language", "waba", "category", "status", "rejected_reason", "review_due_at", "template_id"]
    list_filter = ["status", "category", "waba"]
    search_fields = ["name", "template_id"]
    readonly_fields = ["created_at", "updated_at"]
    actions = ["approve", "reject", "pause", "disable", "flip_category"]

    def _set_status(
        self, request: HttpRequest, queryset: QuerySet[SandboxTemplate], status: str, reason: str = ""
    ) -> None:
        for template in queryset:
            services_templates.sandbox_template_set_status(template=template, status=status, reason=reason)
        count = queryset.count()
        self.message_user(
            request,
            ngettext(
                "%(count)d template is now %(status)s; the status event is on its way.",
                "%(count)d templates are now %(status)s; the status events are on their way.",
                count,
            )
            % {"count": count, "status": status},
        )

    @admin.action(description=_("Approve"))
    def approve(self, request: HttpRequest, queryset: QuerySet[SandboxTemplate]) -> None:
        self._set_status(request, queryset, TemplateStatus.APPROVED)

    @admin.action(description=_("Reject (with a reason)…"))
    def reject(self, request: HttpRequest, queryset: QuerySet[SandboxTemplate]) -> HttpResponse | None:
        """Asks for the reason on an intermediate page, then rejects."""
        if "apply" in request.POST:
            form = RejectForm(request.POST)
            if form.is_valid():
                self._set_status(request, queryset, TemplateStatus.REJECTED, form.cleaned_data["reason"])
                return None
        else:
            form = RejectForm()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reject templates"),
            "form": form,
            "templates": queryset,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/sandbox/reject_templates.html", context)

    @admin.action(description=_("Pause"))
    def pause(self, request: HttpRequest, queryset: QuerySet[SandboxTemplate]) -> None:
        self._set_status(request, queryset, TemplateStatus.PAUSED)

    @admin.action(description=_("Disable"))
    def disable(self, request: HttpRequest, queryset: QuerySet[SandboxTemplate]) -> None:
        self._set_status(request, queryset, TemplateStatus.DISABLED)

    @admin.action(description=_("Recategorize (MARKETING ↔ UTILITY)"))
    def flip_category(self, request: HttpRequest, queryset: QuerySet[SandboxTemplate]) -> None:
        for template in queryset:
            new = "UTILITY" if template.category == "MARKETING" else "MARKETING"
            services_templates.sandbox_template_recategorize(template=template, new_category=new)
        self.message_user(request, _("Category update events scheduled."))


@admin.register(SandboxCVTemplate)
class SandboxCVTemplateAdmin(admin.ModelAdmin):
    list_display = ["id_template", "name", "status", "account"]
    list_editable = ["status"]
    search_fields = ["name"]


# --- messages and callbacks ----------------------------------------------------------------------------


@admin.register(SandboxMessage)
class SandboxMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "provider", "direction", "type", "from_number", "to_number", "status", "message_id"]
    list_filter = ["provider", "direction", "status", "type"]
    search_fields = ["message_id", "whatsapp_id", "to_number", "from_number", "custom_field"]
    date_hierarchy = "created_at"
    actions = ["customer_replies"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    @admin.action(description=_("The customer answers (text with context / echo of custom_field)"))
    def customer_replies(self, request: HttpRequest, queryset: QuerySet[SandboxMessage]) -> None:
        posted = 0
        for message in queryset.filter(direction=Direction.OUTBOUND).select_related("account"):
            if message.provider == Provider.ALDEAMO:
                replies.sandbox_customer_reply(
                    phone_number=message.from_number,
                    from_number=message.to_number,
                    type="reply",
                    context_id=message.message_id,
                )
            else:
                replies.sandbox_cv_customer_reply(
                    account=message.account, mobile=message.to_number, custom_field=message.custom_field
                )
            posted += 1
        self.message_user(request, ngettext("%d answer posted.", "%d answers posted.", posted) % posted)


@admin.register(SandboxCallback)
class SandboxCallbackAdmin(admin.ModelAdmin):
    list_display = ["due_at", "kind", "provider", "state", "attempts", "last_status_code", "delivered_at"]
    list_filter = ["state", "kind", "provider"]
    date_hierarchy = "due_at"
    actions = ["deliver_now", "retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    @admin.action(description=_("Deliver now"))
    def deliver_now(self, request: HttpRequest, queryset: QuerySet[SandboxCallback]) -> None:
        now = timezone.now()
        ids = list(queryset.filter(state=CallbackState.PENDING).values_list("id", flat=True))
        SandboxCallback.objects.filter(id__in=ids).update(due_at=now)
        results = [delivery.deliver_callback(pk, now=now) for pk in ids]
        delivered = results.count(CallbackState.DELIVERED)
        self.message_user(request, _("%(done)d of %(total)d delivered.") % {"done": delivered, "total": len(ids)})

    @admin.action(description=_("Retry (failed ones start over)"))
    def retry(self, request: HttpRequest, queryset: QuerySet[SandboxCallback]) -> None:
        now = timezone.now()
        ids = list(queryset.filter(state=CallbackState.FAILED).values_list("id", flat=True))
        SandboxCallback.objects.filter(id__in=ids).update(state=CallbackState.PENDING, attempts=0, due_at=now)
        results = [delivery.deliver_callback(pk, now=now) for pk in ids]
        delivered = results.count(CallbackState.DELIVERED)
        self.message_user(request, _("%(done)d of %(total)d delivered.") % {"done": delivered, "total": len(ids)})


@admin.register(SandboxAnalyticsPoint)
class SandboxAnalyticsPointAdmin(admin.ModelAdmin):
    list_display = [
        "start",
        "waba",
        "phone_number",
        "country",
        "conversation_type",
        "conversation_direction",
        "conversations",
    ]
    list_filter = ["waba", "country", "conversation_type", "conversation_direction"]
    date_hierarchy = "start"
    show_full_result_count = False
