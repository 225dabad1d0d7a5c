"""The admin of the clients (tenants) and their inventory: WABAs and business numbers, entered by hand or synced,
written through :mod:`accounts.services` so the same checks apply as in the API."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.models import Client, Membership, PhoneNumber, WhatsAppBusinessAccount
from waportal.admin_base import QUALITY_CLASSES, TenantAdminMixin, badge
from waportal.admin_words import word_filter
from waportal.errors import ApplicationError
from waportal.words import word


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Client)
class ClientAdmin(TenantAdminMixin, admin.ModelAdmin):
    client_path = "pk"
    list_display = ["__str__", "client_id", "provider_account", "is_active", "synced_at"]
    list_filter = ["is_active", "provider_account__provider"]
    search_fields = ["name", "client_id"]
    list_select_related = ["provider_account"]
    readonly_fields = ["provider_account", "client_id", "synced_at"]
    inlines = [MembershipInline]

    def has_add_permission(self, request, *args):
        return False  # clients come from the provider's sync

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        instances = formset.save(commit=False)
        for membership in formset.deleted_objects:
            services.membership_remove(actor=request.user, membership=membership)
        for membership in instances:
            services.membership_set(actor=request.user, user=membership.user, client=membership.client,
                                    role=membership.role)


class _ServiceCheckedForm(forms.ModelForm):
    """Runs the inventory services' checks as form validation, so a bad value is shown on its field."""

    def _checked(self, check, name: str):
        try:
            return check(self.cleaned_data.get(name) or "")
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from exc


class WabaForm(_ServiceCheckedForm):
    class Meta:
        model = WhatsAppBusinessAccount
        fields = ["client", "waba_id", "name", "namespace", "is_active"]

    def clean_waba_id(self):
        return self._checked(lambda value: services.digits_only(value, field="waba_id", minimum=5, maximum=32),
                             "waba_id")

    def clean_namespace(self):
        return self._checked(services.checked_namespace, "namespace")


@admin.register(WhatsAppBusinessAccount)
class WabaAdmin(TenantAdminMixin, admin.ModelAdmin):
    """WABAs: synced with the ISV token, or added here by hand (id and namespace); the namespace is always typed."""

    form = WabaForm
    list_display = ["waba_id", "name", "client", "namespace", "is_active", "synced_at"]
    list_filter = ["is_active", "client"]
    search_fields = ["waba_id", "name", "namespace"]
    list_select_related = ["client"]
    readonly_fields = ["synced_at"]

    def get_readonly_fields(self, request, obj=None):
        return ["synced_at", "client", "waba_id"] if obj is not None else ["synced_at"]

    def save_model(self, request, obj, form, change):
        try:
            if change:
                data = {name: form.cleaned_data[name] for name in services.WABA_EDITABLE if name in form.changed_data}
                services.waba_update(actor=request.user, waba=WhatsAppBusinessAccount.objects.get(pk=obj.pk), **data)
            else:
                created = services.waba_create(actor=request.user, client=obj.client, waba_id=obj.waba_id,
                                               name=obj.name, namespace=obj.namespace)
                obj.pk = created.pk
        except ApplicationError as exc:
            raise PermissionDenied(exc.message) from exc


class PhoneNumberForm(_ServiceCheckedForm):
    class Meta:
        model = PhoneNumber
        fields = ["client", "waba", "digits", "display_phone_number", "verified_name", "phone_number_id", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("display_phone_number", "phone_number_id"):
            if name in self.fields:
                self.fields[name].required = False
        if "phone_number_id" in self.fields:
            self.fields["phone_number_id"].help_text = gettext("Optional: the provider's id of the number, if known.")

    def clean_digits(self):
        return self._checked(lambda value: services.digits_only(value, field="digits", minimum=8, maximum=15),
                             "digits")

    def clean(self):
        data = super().clean()
        client, waba = data.get("client"), data.get("waba")
        if client is not None and waba is not None and waba.client_id != client.pk:
            self.add_error("waba", gettext("The WABA belongs to another client."))
        digits = data.get("digits")
        if (self.instance.pk is None and client is not None and digits
                and PhoneNumber.objects.filter(client=client, digits=digits).exists()):
            self.add_error("digits", gettext("This client already has the number %(digits)s.") % {"digits": digits})
        return data


@admin.register(PhoneNumber)
class PhoneNumberAdmin(TenantAdminMixin, admin.ModelAdmin):
    """Numbers: synced (ISV token, or the Contacto Virtual line), or added here by hand."""

    form = PhoneNumberForm
    list_display = ["display_phone_number", "verified_name", "quality", "verification", "waba", "client",
                    "is_active"]
    list_filter = ["quality_rating", "is_active",
                   word_filter("code_verification_status", "code_verification", _("code verification")), "client"]
    search_fields = ["digits", "display_phone_number", "verified_name", "phone_number_id"]
    list_select_related = ["client", "waba"]
    readonly_fields = ["synced_at"]

    def get_readonly_fields(self, request, obj=None):
        return ["synced_at", "client", "digits", "phone_number_id"] if obj is not None else ["synced_at"]

    def save_model(self, request, obj, form, change):
        try:
            if change:
                data = {name: form.cleaned_data[name] for name in services.PHONE_NUMBER_EDITABLE
                        if name in form.changed_data}
                services.phone_number_update(actor=request.user, number=PhoneNumber.objects.get(pk=obj.pk), **data)
            else:
                created = services.phone_number_create(
                    actor=request.user, client=obj.client, waba=obj.waba, digits=obj.digits,
                    display_phone_number=obj.display_phone_number, verified_name=obj.verified_name,
                    phone_number_id=obj.phone_number_id)
                obj.pk = created.pk
        except ApplicationError as exc:
            raise PermissionDenied(exc.message) from exc

    @admin.display(description=_("code verification"), ordering="code_verification_status")
    def verification(self, obj) -> str:
        return word("code_verification", obj.code_verification_status)

    @admin.display(description=_("quality"), ordering="quality_rating")
    def quality(self, obj):
        return badge(obj.get_quality_rating_display(), QUALITY_CLASSES.get(obj.quality_rating, "grey"))
