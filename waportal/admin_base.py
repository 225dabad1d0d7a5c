"""Admin building blocks shared by every app: tenancy and role-based permissions.

Non-superusers see only their clients' objects; what they may do follows
their role there (viewer: read; agent: operate; admin: configure) instead of
Django's per-model permissions, which cannot say "in this client".
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.admin.filters import FieldListFilter, RelatedFieldListFilter
from django.utils.html import format_html

from accounts.models import Role
from accounts.tenancy import client_ids_for, has_role, scope


class TenantAdminMixin:
    """Scope an admin to the user's clients.

    ``client_path``: lookup from the model to its Client (``"client"``,
    ``"waba__client"``, ``"pk"`` for Client itself). ``change_role``: the role
    needed to add, change or delete; ``None`` makes the admin read-only for
    non-superusers.
    """

    client_path = "client"
    change_role: str | None = Role.ADMIN

    def get_queryset(self, request):
        return scope(super().get_queryset(request), request.user, self.client_path)

    def _client_id_of(self, obj) -> int | None:
        current = obj
        if self.client_path == "pk":
            return obj.pk
        for part in self.client_path.split("__"):
            current = getattr(current, part, None)
            if current is None:
                return None
        return current.pk

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff and (
            request.user.is_superuser or bool(client_ids_for(request.user))
        )

    def has_view_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        if not request.user.is_staff:
            return False
        if obj is None:
            return bool(client_ids_for(request.user))
        client_id = self._client_id_of(obj)
        return client_id is not None and has_role(request.user, client_id, Role.VIEWER)

    def _can_change(self, request, obj=None) -> bool:
        if request.user.is_superuser:
            return True
        if self.change_role is None or not request.user.is_staff:
            return False
        if obj is None:
            return bool(client_ids_for(request.user, self.change_role))
        client_id = self._client_id_of(obj)
        return client_id is not None and has_role(request.user, client_id, self.change_role)

    def has_change_permission(self, request, obj=None):
        return self._can_change(request, obj)

    def has_add_permission(self, request, *args):
        return self._can_change(request)

    def has_delete_permission(self, request, obj=None):
        return self._can_change(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        """Offer only the user's clients (and their objects) in foreign-key pickers."""
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        related = db_field.related_model
        path = {"Client": "pk", "WhatsAppBusinessAccount": "client", "PhoneNumber": "client"}.get(related.__name__)
        if path and field is not None and not request.user.is_superuser:
            field.queryset = scope(field.queryset, request.user, path, self.change_role or Role.VIEWER)
        return field


class TenantRelatedFieldListFilter(RelatedFieldListFilter):
    """A foreign-key list filter offering only what the user may see.

    Django's own filter lists every row of the related table (every client of
    the portal, say). This one asks the related model's admin for its queryset,
    which is scoped to the user's clients; a related model with no admin is
    offered to operators only. Registered for every relation below, so a new
    ``list_filter = ["client"]`` is safe by default.
    """

    def field_choices(self, field, request, model_admin):
        if request.user.is_superuser:
            return super().field_choices(field, request, model_admin)
        try:
            related_admin = model_admin.admin_site.get_model_admin(field.remote_field.model)
        except NotRegistered:
            return []
        queryset = related_admin.get_queryset(request)
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            queryset = queryset.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in queryset]


FieldListFilter.register(lambda field: field.remote_field, TenantRelatedFieldListFilter, take_priority=True)


QUALITY_CLASSES = {"GREEN": "green", "YELLOW": "yellow", "RED": "red"}


def badge(text: str, tone: str) -> str:
    """A coloured pill (styles in waportal/static/waportal/admin.css)."""
    return format_html('<span class="wa-badge wa-badge-{}">{}</span>', tone, text)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
