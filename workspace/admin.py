"""Saved replies and teams in the admin (Settings): client admins manage them; every change goes through the services."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from accounts.tenancy import client_ids_for, scope
from waportal.admin_base import TenantAdminMixin, TenantRelatedFieldListFilter
from waportal.errors import ApplicationError
from workspace import services, teams
from workspace.models import CannedResponse, Team


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


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["client", "name", "members", "phone_numbers", "round_robin"]

    def clean(self):
        cleaned = super().clean()
        client = cleaned.get("client")
        if client is None:
            return cleaned
        checks = (("members", teams._members), ("phone_numbers", teams._numbers))
        for field, check in checks:
            try:
                check(client.pk, [item.pk for item in cleaned.get(field) or []])
            except ApplicationError as error:
                self.add_error(field, error.message)
        return cleaned


@admin.register(Team)
class TeamAdmin(TenantAdminMixin, admin.ModelAdmin):
    """Teams (Settings): client admins manage them; agents see them. Pickers offer only the admin's clients'."""

    form = TeamForm
    change_role = Role.ADMIN
    list_display = ["name", "client", "round_robin", "member_count"]
    list_filter = [("client", TenantRelatedFieldListFilter), "round_robin"]
    search_fields = ["name"]
    filter_horizontal = ["members", "phone_numbers"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_total=Count("members", distinct=True))

    @admin.display(description=_("members"), ordering="member_total")
    def member_count(self, team: Team) -> int:
        return team.member_total

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is None or request.user.is_superuser:
            return field
        if db_field.name == "members":
            clients = client_ids_for(request.user, Role.ADMIN) or set()
            field.queryset = field.queryset.filter(
                memberships__client_id__in=clients, memberships__role__in=[Role.AGENT, Role.ADMIN]).distinct()
        elif db_field.name == "phone_numbers":
            field.queryset = scope(field.queryset, request.user, "client", Role.ADMIN)
        return field

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        values = {"name": data["name"], "members": [user.pk for user in data.get("members") or []],
                  "phone_numbers": [number.pk for number in data.get("phone_numbers") or []],
                  "round_robin": data.get("round_robin", False)}
        if change:
            teams.team_update(actor=request.user, team=obj, **values)
        else:
            created = teams.team_create(actor=request.user, client_id=data["client"].pk, **values)
            obj.pk = created.pk

    def save_related(self, request, form, formsets, change):
        """The members and numbers were set by the service (``save_model``)."""

    def delete_model(self, request, obj):
        teams.team_delete(actor=request.user, team=obj)
