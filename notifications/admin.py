"""Admin of outgoing webhooks (endpoints with their delivery log, redelivery, secret shown once) and alerts
(each person's bell: "my alerts"; subscriptions). Thin: forms validate, services write."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from accounts.tenancy import has_role, is_operator
from notifications import alerts, services, ssrf
from notifications.alert_texts import alert_title
from notifications.models import (
    AlertReceipt,
    AlertSubscription,
    Delivery,
    EventType,
    InventoryChange,
    WebhookEndpoint,
)
from waportal.admin_base import ReadOnlyAdmin, TenantAdminMixin, badge
from waportal.admin_words import word_filter
from waportal.errors import ApplicationError
from waportal.words import choice_label, word


class WebhookEndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(choices=EventType.choices, required=False,
                                       widget=forms.CheckboxSelectMultiple,
                                       help_text=_("None ticked: every type."))

    class Meta:
        model = WebhookEndpoint
        fields = ["client", "url", "description", "events", "is_active", "allow_private_network"]

    def clean(self):
        data = super().clean()
        url = data.get("url")
        if url:
            allow = data.get("allow_private_network", getattr(self.instance, "allow_private_network", False))
            try:
                ssrf.url_check(url, allow_private_network=bool(allow))
            except ApplicationError as exc:
                self.add_error("url", exc.message)
        return data


class DeliveryInline(admin.TabularInline):
    model = Delivery
    fields = ["created_at", "type", "state", "attempts", "last_status_code", "last_error", "next_attempt_at",
              "delivered_at", "redeliver"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-id"]
    verbose_name_plural = _("latest deliveries")

    def get_queryset(self, request):
        """The latest 50 of the endpoint (its whole log is in the API, paginated)."""
        from django.db.models import OuterRef, Subquery

        latest = Delivery.objects.filter(endpoint=OuterRef("endpoint")).order_by("-id").values("pk")[:50]
        return super().get_queryset(request).filter(pk__in=Subquery(latest)).order_by("-id")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("redeliver"))
    def redeliver(self, obj):
        from django.utils.html import format_html

        url = reverse("admin:notifications_webhookendpoint_redeliver", args=[obj.endpoint_id, obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Send again"))


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(TenantAdminMixin, admin.ModelAdmin):
    """A client's outgoing webhooks: its admins manage them; the signing secret is shown once."""

    form = WebhookEndpointForm
    list_display = ["url", "client", "state", "event_list", "failing_since", "created_at"]
    list_filter = ["is_active", "client"]
    search_fields = ["url", "description"]
    list_select_related = ["client"]
    readonly_fields = ["failing_since", "disabled_at", "disabled_reason", "created_at"]
    inlines = [DeliveryInline]

    def get_queryset(self, request):
        from accounts.tenancy import scope

        return scope(admin.ModelAdmin.get_queryset(self, request), request.user, "client", Role.ADMIN)

    def get_fields(self, request, obj=None):
        fields = ["client", "url", "description", "events", "is_active"]
        if is_operator(request.user):
            fields.append("allow_private_network")
        return fields + (self.readonly_fields if obj is not None else [])

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "client"] if obj is not None else []

    @admin.display(description=_("state"))
    def state(self, obj):
        if not obj.is_active:
            return badge(gettext("Disabled"), "grey")
        if obj.failing_since:
            return badge(gettext("Failing"), "red")
        return badge(gettext("Active"), "green")

    @admin.display(description=_("events"))
    def event_list(self, obj):
        return ", ".join(choice_label(EventType, event) for event in obj.events) if obj.events else gettext(
            "every type")

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.changed_data
                if name in ("url", "description", "events", "is_active", "allow_private_network")}
        try:
            if change:
                services.webhook_endpoint_update(actor=request.user, endpoint=WebhookEndpoint.objects.get(pk=obj.pk),
                                                 **data)
            else:
                created = services.webhook_endpoint_create(
                    actor=request.user, client=obj.client, url=obj.url, description=obj.description,
                    events=form.cleaned_data.get("events") or [], is_active=obj.is_active,
                    allow_private_network=bool(form.cleaned_data.get("allow_private_network")))
                obj.pk, obj.secret = created.pk, created.secret
        except ApplicationError as exc:
            raise PermissionDenied(exc.message) from exc

    def response_add(self, request, obj, post_url_continue=None):
        return self._secret_page(request, obj, gettext("Endpoint created"))

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/rotate-secret/", wrap(self.rotate_view), name="notifications_webhookendpoint_rotate"),
            path("<int:pk>/deliveries/<int:delivery_id>/redeliver/", wrap(self.redeliver_view),
                 name="notifications_webhookendpoint_redeliver"),
            *super().get_urls(),
        ]

    def _endpoint_or_404(self, request, pk) -> WebhookEndpoint:
        endpoint = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, endpoint):
            raise PermissionDenied
        return endpoint

    def _secret_page(self, request, endpoint, title):
        context = {**self.admin_site.each_context(request), "title": title, "endpoint": endpoint,
                   "opts": self.model._meta,
                   "change_url": reverse("admin:notifications_webhookendpoint_change", args=[endpoint.pk])}
        return TemplateResponse(request, "admin/notifications/secret.html", context)

    def rotate_view(self, request, pk):
        endpoint = self._endpoint_or_404(request, pk)
        if request.method != "POST":
            context = {**self.admin_site.each_context(request), "title": gettext("Rotate the signing secret"),
                       "endpoint": endpoint, "opts": self.model._meta}
            return TemplateResponse(request, "admin/notifications/rotate.html", context)
        endpoint = services.webhook_endpoint_rotate_secret(actor=request.user, endpoint=endpoint)
        return self._secret_page(request, endpoint, gettext("New signing secret"))

    def redeliver_view(self, request, pk, delivery_id):
        endpoint = self._endpoint_or_404(request, pk)
        row = get_object_or_404(Delivery, pk=delivery_id, endpoint=endpoint)
        change_url = reverse("admin:notifications_webhookendpoint_change", args=[endpoint.pk])
        if request.method != "POST":
            context = {**self.admin_site.each_context(request), "title": gettext("Send the event again"),
                       "endpoint": endpoint, "delivery": row, "opts": self.model._meta, "change_url": change_url}
            return TemplateResponse(request, "admin/notifications/redeliver.html", context)
        try:
            row = services.webhook_delivery_redeliver(actor=request.user, delivery_row=row)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect(change_url)
        if row.state == Delivery.State.DELIVERED and not row.last_error:
            messages.success(request, gettext("Sent again: the endpoint answered %(code)s.") % {
                "code": row.last_status_code})
        else:
            messages.warning(request, gettext("The endpoint did not accept it: %(error)s") % {
                "error": row.last_error or row.last_status_code})
        return redirect(change_url)


@admin.register(AlertReceipt)
class AlertReceiptAdmin(admin.ModelAdmin):
    """My alerts: the bell's page. Each person sees only their own; opening the list marks nothing."""

    list_display = ["title", "client", "count", "last_at", "is_read"]
    list_filter = [("read_at", admin.EmptyFieldListFilter)]
    actions = ["mark_read"]

    def get_queryset(self, request):
        from notifications.selectors import alert_receipts_for

        return alert_receipts_for(user=request.user).select_related("alert__client").order_by(
            "-alert__last_at", "-id")

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff and (obj is None or obj.user_id == request.user.pk)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("alert"))
    def title(self, obj):
        return alert_title(obj.alert)

    @admin.display(description=_("client"))
    def client(self, obj):
        return obj.alert.client

    @admin.display(description=_("times"))
    def count(self, obj):
        return obj.alert.count

    @admin.display(description=_("last"), ordering="alert__last_at")
    def last_at(self, obj):
        return obj.alert.last_at

    @admin.display(description=_("read"), boolean=True)
    def is_read(self, obj):
        return obj.read_at is not None

    @admin.action(description=_("Mark as read"))
    def mark_read(self, request, queryset):
        alerts.alerts_mark_read(user=request.user, alert_ids=list(queryset.values_list("alert_id", flat=True)))

    def has_mark_read_permission(self, request):
        return request.user.is_active and request.user.is_staff


@admin.register(AlertSubscription)
class AlertSubscriptionAdmin(TenantAdminMixin, admin.ModelAdmin):
    """Who hears of which alerts. A person edits their own; a client's admins edit anyone's in the client."""

    list_display = ["user", "client", "is_active", "email", "language"]
    list_filter = ["is_active", "client"]
    list_select_related = ["user", "client"]
    fields = ["user", "client", "is_active", "kinds", "email", "language"]
    change_role = Role.VIEWER

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        admin_of = [c for c in queryset.values_list("client_id", flat=True).distinct()
                    if has_role(request.user, c, Role.ADMIN)]
        from django.db.models import Q

        return queryset.filter(Q(user=request.user) | Q(client_id__in=admin_of))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user" and not request.user.is_superuser:
            from django.contrib.auth import get_user_model

            from accounts.tenancy import client_ids_for

            kwargs["queryset"] = get_user_model().objects.filter(
                memberships__client_id__in=client_ids_for(request.user)).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser and obj.user_id != request.user.pk and not has_role(
                request.user, obj.client_id, Role.ADMIN):
            raise PermissionDenied
        super().save_model(request, obj, form, change)


@admin.register(InventoryChange)
class InventoryChangeAdmin(TenantAdminMixin, ReadOnlyAdmin):
    """Numbers' history: quality rating and verification changes found by the scheduled refresh."""

    change_role = None
    list_display = ["at", "phone_number", "field_display", "old_display", "new_display", "client"]
    list_filter = [word_filter("field", "field", _("field")), "client"]
    list_select_related = ["phone_number", "client"]
    search_fields = ["phone_number__digits"]

    @admin.display(description=_("field"), ordering="field")
    def field_display(self, change: InventoryChange) -> str:
        return word("field", change.field)

    @admin.display(description=pgettext_lazy("value change", "from"))
    def old_display(self, change: InventoryChange) -> str:
        return change.value_words(change.old_value)

    @admin.display(description=pgettext_lazy("value change", "to"))
    def new_display(self, change: InventoryChange) -> str:
        return change.value_words(change.new_value)
