"""The admin of a business number's send limit (the shared token bucket of :mod:`accounts.rates`)."""

from __future__ import annotations

import time

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import NumberRate


@admin.register(NumberRate)
class NumberRateAdmin(admin.ModelAdmin):
    """A number's send limit (messages per second), shared by all its senders: operators only.

    A row appears on the number's first send with the configured default; an
    operator raises it after Meta's upgrade (1,000) or lowers it for a
    coexistence number (20). Read at every grant, so a change applies at once.
    """

    list_display = ["phone_number", "per_second", "throttled_now"]
    list_editable = ["per_second"]
    list_select_related = ["phone_number"]
    raw_id_fields = ["phone_number"]

    @admin.display(boolean=True, description=_("throttled by the provider"))
    def throttled_now(self, obj: NumberRate) -> bool:
        return obj.throttled_until > time.time()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request)
