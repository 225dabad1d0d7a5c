"""The admin of people: users with their profile and memberships (roles per client), and the audit trail."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts import services
from accounts.models import AuditEntry, Membership, Role, UserProfile
from waportal.admin_base import ReadOnlyAdmin, TenantAdminMixin

User = get_user_model()


@admin.register(AuditEntry)
class AuditEntryAdmin(TenantAdminMixin, ReadOnlyAdmin):
    change_role = None
    list_display = ["created_at", "actor", "action", "target_repr", "client"]
    list_filter = ["action", "target_type"]
    search_fields = ["target_repr", "actor__username", "action"]
    list_select_related = ["actor", "client"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        queryset = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return queryset
        # Tenants see their clients' entries; credential entries stay with operators.
        return queryset.filter(client__in=Membership.objects.filter(user=request.user, role=Role.ADMIN)
                               .values("client_id"))


class ProfileInline(admin.StackedInline):
    model = UserProfile
    can_delete = False


class UserMembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fk_name = "user"


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [ProfileInline, UserMembershipInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        instances = formset.save(commit=False)
        for membership in formset.deleted_objects:
            services.membership_remove(actor=request.user, membership=membership)
        for membership in instances:
            services.membership_set(actor=request.user, user=membership.user, client=membership.client,
                                    role=membership.role)
