"""The provider accounts' admin: operators change, re-key and rotate them; a client's admin sees theirs
read-only and may test and sync it."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters

from accounts import services
from accounts.api.serializers import absolute_url
from accounts.models import Client, ProviderAccount, Role
from accounts.selectors import account_setup_notes
from accounts.tenancy import client_ids_for, is_operator, require_account_admin
from providers.base import ProviderError
from waportal.admin_base import badge
from waportal.errors import ApplicationError

SECRET_LABELS = {
    "api_key": _("API key"),
    "analytics_token": _("ISV analytics token"),
    "token": _("Contacto Virtual token"),
}


class ProviderAccountForm(forms.ModelForm):
    """Secrets are never rendered: each has a "replace" field that is empty on every page."""

    replace_api_key = forms.CharField(
        label=_("API key"), required=False, strip=True, widget=forms.PasswordInput(render_value=False)
    )
    replace_analytics_token = forms.CharField(
        label=_("ISV analytics token"), required=False, strip=True, widget=forms.PasswordInput(render_value=False)
    )
    replace_token = forms.CharField(
        label=_("Contacto Virtual token"), required=False, strip=True, widget=forms.PasswordInput(render_value=False)
    )

    class Meta:
        model = ProviderAccount
        fields = [
            "name",
            "provider",
            "environment",
            "base_url",
            "user_id",
            "templates_list_path",
            "login",
            "line_number",
            "is_active",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for secret in ProviderAccount.SECRET_FIELDS:
            field = self.fields[f"replace_{secret}"]
            if self.instance.pk and getattr(self.instance, secret):
                field.help_text = _("Stored (hidden). Type a new value to replace it; leave empty to keep it.")
            else:
                field.help_text = _("Not set.")
        if self.instance.pk and "provider" in self.fields:
            self.fields["provider"].disabled = True

    def clean(self):
        cleaned = super().clean()
        # Put replacements on the instance before model validation runs.
        for secret in ProviderAccount.SECRET_FIELDS:
            value = cleaned.get(f"replace_{secret}")
            if value:
                setattr(self.instance, secret, value)
        return cleaned


@admin.register(ProviderAccount)
class ProviderAccountAdmin(admin.ModelAdmin):
    """Operators change accounts; a client's admin sees theirs read-only and may test and sync it.

    The webhook URL (it carries the account's secret) is shown to operators only,
    built per request in ``change_view`` (never stored on this shared instance:
    gunicorn threads serve several requests with one ModelAdmin).
    """

    form = ProviderAccountForm
    list_display = ["name", "provider", "environment", "is_active", "sync_state", "balance", "last_sync_at"]
    list_filter = ["provider", "environment", "is_active"]
    search_fields = ["name", "login", "user_id"]
    readonly_fields = ["balance", "balance_checked_at", "last_sync_at", "last_sync_error"]
    actions = ["action_test_connection", "action_sync", "action_rotate_webhook_secret"]
    change_form_template = "admin/accounts/provideraccount/change_form.html"

    def get_fieldsets(self, request, obj=None):
        aldeamo = ["user_id", "replace_api_key", "replace_analytics_token", "templates_list_path"]
        contacto_virtual = ["login", "replace_token", "line_number"]
        if not self.has_change_permission(request, obj):
            # Read-only view: the replace fields are form-only, so show whether each secret is set instead.
            aldeamo = ["user_id", "api_key_state", "analytics_token_state", "templates_list_path"]
            contacto_virtual = ["login", "token_state", "line_number"]
        fieldsets = [
            (None, {"fields": ["name", "provider", "environment", "base_url", "is_active"]}),
            (
                _("Aldeamo"),
                {
                    "fields": aldeamo,
                    "description": _("Sending and templates use the API key and user id; WABAs, numbers and "
                                     "analytics use the ISV token."),
                },
            ),
            (_("Contacto Virtual"), {"fields": contacto_virtual}),
        ]
        if obj is not None:
            fieldsets.append(
                (_("Status"), {"fields": ["balance", "balance_checked_at", "last_sync_at", "last_sync_error"]})
            )
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        if self.has_change_permission(request, obj):
            return self.readonly_fields
        return [*self.readonly_fields, "api_key_state", "analytics_token_state", "token_state"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if is_operator(request.user):
            return queryset
        return queryset.filter(pk__in=Client.objects.filter(
            pk__in=client_ids_for(request.user, Role.ADMIN) or ()).values("provider_account_id"))

    def has_module_permission(self, request):
        return is_operator(request.user) or (request.user.is_staff and bool(client_ids_for(request.user, Role.ADMIN)))

    def has_view_permission(self, request, obj=None):
        if not self.has_module_permission(request):
            return False
        if obj is None or is_operator(request.user):
            return True
        try:
            require_account_admin(request.user, obj)
        except ApplicationError:
            return False
        return True

    def has_change_permission(self, request, obj=None):
        return is_operator(request.user)

    def has_add_permission(self, request):
        return is_operator(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_operator(request.user)

    def has_manage_permission(self, request, obj=None):
        """Test connection and sync: operators and the account's client admins."""
        return self.has_view_permission(request, obj)

    def has_operate_permission(self, request, obj=None):
        return is_operator(request.user)

    def _secret_state(self, obj, name):
        return gettext("stored (hidden)") if getattr(obj, name) else gettext("not set")

    @admin.display(description=_("API key"))
    def api_key_state(self, obj):
        return self._secret_state(obj, "api_key")

    @admin.display(description=_("ISV analytics token"))
    def analytics_token_state(self, obj):
        return self._secret_state(obj, "analytics_token")

    @admin.display(description=_("Contacto Virtual token"))
    def token_state(self, obj):
        return self._secret_state(obj, "token")

    @admin.display(description=_("sync"))
    def sync_state(self, obj):
        if obj.last_sync_error:
            return badge(gettext("error"), "red")
        if obj.last_sync_at:
            return badge(gettext("synced"), "green")
        return badge(gettext("never"), "grey")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        account = self.get_object(request, object_id)
        if account is not None and is_operator(request.user):
            extra_context["webhook_url"] = absolute_url(request, account.webhook_path)
            extra_context["webhook_previous_until"] = account.previous_webhook_secret_until
        if account is not None:
            # Notes name WABAs: a client admin reads only their own clients' (the account may be shared).
            scope_ids = None if is_operator(request.user) else set(client_ids_for(request.user, Role.ADMIN) or ())
            extra_context["setup_notes"] = account_setup_notes(account=account, client_ids=scope_ids)
        extra_context["can_manage_account"] = account is not None and self.has_manage_permission(request, account)
        extra_context["can_operate_account"] = is_operator(request.user)
        return sensitive_post_parameters("replace_api_key", "replace_analytics_token", "replace_token")(
            super().change_view
        )(request, object_id, form_url, extra_context)

    def add_view(self, request, form_url="", extra_context=None):
        return sensitive_post_parameters("replace_api_key", "replace_analytics_token", "replace_token")(
            super().add_view
        )(request, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        data = {name: getattr(obj, name) for name in ProviderAccountForm.Meta.fields if name != "provider" or not change}
        for secret in ProviderAccount.SECRET_FIELDS:
            if form.cleaned_data.get(f"replace_{secret}"):
                data[secret] = form.cleaned_data[f"replace_{secret}"]
        if change:
            current = ProviderAccount.objects.get(pk=obj.pk)
            services.provider_account_update(account=current, actor=request.user, **data)
        else:
            account = services.provider_account_create(actor=request.user, **data)
            obj.pk = account.pk
            obj.webhook_secret = account.webhook_secret
            obj._state.adding = False

    def delete_model(self, request, obj):
        services.provider_account_delete(account=obj, actor=request.user)

    # --- actions: list action and buttons on the change page ------------------

    def get_urls(self):
        return [
            path("<int:pk>/test-connection/", self.admin_site.admin_view(self.test_connection_view),
                 name="accounts_provideraccount_test"),
            path("<int:pk>/sync/", self.admin_site.admin_view(self.sync_view), name="accounts_provideraccount_sync"),
            path("<int:pk>/rotate-webhook-secret/", self.admin_site.admin_view(self.rotate_view),
                 name="accounts_provideraccount_rotate"),
        ] + super().get_urls()

    def _test(self, request, account):
        check = services.provider_account_test_connection(account=account)
        if check.ok:
            self.message_user(request, gettext("%(name)s: connected. %(words)s") % {"name": account, "words": check.message},
                              messages.SUCCESS)
        else:
            self.message_user(request, gettext("%(name)s: not connected. %(words)s")
                              % {"name": account, "words": check.message}, messages.ERROR)

    def _sync(self, request, account):
        try:
            require_account_admin(request.user, account)
            result = services.provider_account_sync(account=account, actor=request.user)
            result = services.sync_result_visible(result=result, account=account, user=request.user)
        except (ProviderError, ApplicationError) as exc:
            words = (services.provider_error_words(exc, account=account) if isinstance(exc, ProviderError)
                     else exc.message)
            self.message_user(request, gettext("%(name)s: sync failed: %(words)s") % {"name": account, "words": words},
                              messages.ERROR)
            return
        self.message_user(
            request,
            gettext("%(name)s: synced %(clients)d clients, %(wabas)d WABAs, %(numbers)d numbers, %(templates)d templates.")
            % {"name": account, "clients": result.clients, "wabas": result.wabas, "numbers": result.phone_numbers,
               "templates": result.templates},
            messages.SUCCESS,
        )
        for warning in result.warnings:
            self.message_user(request, f"{account}: {warning}", messages.WARNING)

    @admin.action(description=_("Test connection"), permissions=["manage"])
    def action_test_connection(self, request, queryset):
        for account in queryset:
            self._test(request, account)

    @admin.action(description=_("Sync now"), permissions=["manage"])
    def action_sync(self, request, queryset):
        for account in queryset:
            self._sync(request, account)

    @admin.action(description=_("Rotate webhook secret"), permissions=["operate"])
    def action_rotate_webhook_secret(self, request, queryset):
        for account in queryset:
            self._rotate(request, account)

    def _rotate(self, request, account):
        try:
            account = services.provider_account_webhook_secret_rotate(account=account, actor=request.user)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(
            request,
            gettext("%(name)s: new webhook URL. Give it to the provider; the old one works until %(until)s.")
            % {"name": account, "until": date_format(localtime(account.previous_webhook_secret_until),
                                                     "DATETIME_FORMAT")},
            messages.SUCCESS,
        )

    def _back(self, pk):
        return HttpResponseRedirect(reverse("admin:accounts_provideraccount_change", args=[pk]))

    def _account_for(self, request, pk, permission):
        account = get_object_or_404(self.get_queryset(request), pk=pk)
        if not permission(request, account):
            raise PermissionDenied
        return account

    def test_connection_view(self, request, pk):
        account = self._account_for(request, pk, self.has_manage_permission)
        if request.method == "POST":
            self._test(request, account)
        return self._back(pk)

    def sync_view(self, request, pk):
        account = self._account_for(request, pk, self.has_manage_permission)
        if request.method == "POST":
            self._sync(request, account)
        return self._back(pk)

    def rotate_view(self, request, pk):
        account = self._account_for(request, pk, self.has_operate_permission)
        if request.method == "POST":
            self._rotate(request, account)
        return self._back(pk)
