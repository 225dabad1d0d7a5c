"""Admin: the charts page (the changelist of conversation analytics), the plain list, syncs on demand.

``/admin/analytics/conversationdatapoint/`` is the charts page; the usual
table of stored points stays at ``…/list/``. Data points are written only by
the sync, so nothing here adds, changes or deletes them.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics import services
from analytics.models import AnalyticsSync, ConversationDataPoint
from analytics.pages import charts_page
from waportal.admin_base import TenantAdminMixin, badge

LEVELS = {"success": messages.SUCCESS, "warning": messages.WARNING, "error": messages.ERROR}
STATE_TONES = {"ok": "green", "empty": "grey", "error": "red", "running": "blue"}


class _ReadOnly:
    """Points and sync logs are written by the sync service only: nobody edits them by hand."""

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ConversationDataPoint)
class ConversationDataPointAdmin(_ReadOnly, TenantAdminMixin, admin.ModelAdmin):
    change_role = None
    list_display = [
        "start",
        "granularity",
        "waba",
        "phone_number",
        "country",
        "conversation_type",
        "conversation_direction",
        "conversations",
        "synced_at",
    ]
    list_filter = ["granularity", "conversation_type", "conversation_direction", "country"]
    search_fields = ["phone_number", "waba__waba_id", "country"]
    list_select_related = ["waba"]
    date_hierarchy = "start"
    show_full_result_count = False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("list/", wrap(self.list_view), name="analytics_conversationdatapoint_list"),
            path("sync/", wrap(self.sync_view), name="analytics_conversationdatapoint_sync"),
            *super().get_urls(),
        ]

    def list_view(self, request: HttpRequest) -> HttpResponse:
        """The plain table of stored points (the changelist URL shows the charts)."""
        return super().changelist_view(request, extra_context={"title": _("Conversation analytics: data points")})

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """The charts page; ``?export=<chart>`` answers the CSV of that chart with the same filters."""
        if not self.has_view_or_change_permission(request):
            raise DjangoPermissionDenied
        page = charts_page(request)
        if isinstance(page, HttpResponse):
            return page
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Conversation analytics"),
            **page,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/analytics/charts.html", context)

    def sync_view(self, request: HttpRequest) -> HttpResponse:
        """POST: sync the posted WABAs for the posted range now, then back to the same charts."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        back = reverse("admin:analytics_conversationdatapoint_changelist")
        query = QueryDict(request.POST.get("query", "")).urlencode()
        back_url = f"{back}?{query}" if query else back
        said = services.analytics_sync_wabas(
            actor=request.user, waba_ids=request.POST.getlist("waba"), start=request.POST.get("start"),
            end=request.POST.get("end"), granularity=request.POST.get("granularity"),
            tz=timezone.get_current_timezone(),
        )
        for level, words in said:
            self.message_user(request, words, LEVELS[level])
        return HttpResponseRedirect(back_url)


@admin.register(AnalyticsSync)
class AnalyticsSyncAdmin(_ReadOnly, TenantAdminMixin, admin.ModelAdmin):
    change_role = None
    list_display = ["started_at", "waba", "granularity", "range_start", "range_end", "result", "points", "actor"]
    list_filter = ["state", "granularity"]
    search_fields = ["waba__waba_id", "message"]
    list_select_related = ["waba", "actor"]
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in AnalyticsSync._meta.fields]

    @admin.display(description=gettext_lazy("result"), ordering="state")
    def result(self, obj: AnalyticsSync) -> str:
        return badge(obj.get_state_display(), STATE_TONES.get(obj.state, "grey"))
