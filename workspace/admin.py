"""Saved replies in the admin (Settings): client admins manage them; every change goes through the services."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from waportal.admin_base import TenantAdminMixin
from waportal.errors import ApplicationError
from workspace import services
from workspace.models import CannedResponse


class CannedResponseForm(forms.ModelForm):
    class Meta:
        model = CannedResponse
        fields = ["client", "shortcut", "text"]

    def clean(self):
        cleaned = super().clean()
        try:
            cleaned["shortcut"], cleaned["text"] = services.canned_response_clean(
                shortcut=cleaned.get("shortcut", ""), text=cleaned.get("text", ""))
        except ApplicationError as error:
            self.add_error(error.field if error.field in self.fields else None, error.message)
        return cleaned


@admin.register(CannedResponse)
class CannedResponseAdmin(TenantAdminMixin, admin.ModelAdmin):
    form = CannedResponseForm
    change_role = Role.ADMIN
    list_display = ["shortcut_display", "text_display", "client"]
    list_filter = ["client"]
    search_fields = ["shortcut", "text"]

    @admin.display(description=_("shortcut"), ordering="shortcut")
    def shortcut_display(self, canned: CannedResponse) -> str:
        return f"/{canned.shortcut}"

    @admin.display(description=_("text"))
    def text_display(self, canned: CannedResponse) -> str:
        return Truncator(canned.text).chars(80)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.canned_response_update(actor=request.user, canned=obj, shortcut=data["shortcut"],
                                            text=data["text"])
        else:
            created = services.canned_response_create(actor=request.user, client_id=data["client"].pk,
                                                      shortcut=data["shortcut"], text=data["text"])
            obj.pk = created.pk

    def delete_model(self, request, obj):
        services.canned_response_delete(actor=request.user, canned=obj)

    def delete_queryset(self, request, queryset):
        for canned in queryset:
            services.canned_response_delete(actor=request.user, canned=canned)
