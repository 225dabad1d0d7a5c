"""The analytics page in the workspace: the same charts, filters, totals, tables and CSV exports as the admin's
(``analytics.dashboard``, ``charts.js`` with the vendored Chart.js), and "Sync now" for the roles the admin allows
(``analytics.services.analytics_sync_wabas``)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from analytics import services
from analytics.models import ConversationDataPoint
from analytics.pages import charts_page
from workspace.context import frame

LEVELS = {"success": messages.SUCCESS, "warning": messages.WARNING, "error": messages.ERROR}


def _require_view(request) -> None:
    if not admin.site.get_model_admin(ConversationDataPoint).has_view_permission(request):
        raise PermissionDenied


@login_required
@require_GET
def analytics_page(request):
    """The charts; ``?export=<chart>`` answers that chart's CSV with the same filters."""
    _require_view(request)
    page = charts_page(request)
    if isinstance(page, HttpResponse):
        return page
    context = frame(request, current="analytics", title=_("Conversation analytics"))
    context.update(page)
    return render(request, "workspace/analytics/page.html", context)


@login_required
@require_POST
def analytics_sync(request):
    """Sync the posted WABAs for the posted range now, then back to the same charts."""
    _require_view(request)
    said = services.analytics_sync_wabas(
        actor=request.user, waba_ids=request.POST.getlist("waba"), start=request.POST.get("start"),
        end=request.POST.get("end"), granularity=request.POST.get("granularity"),
        tz=timezone.get_current_timezone(),
    )
    for level, words in said:
        messages.add_message(request, LEVELS[level], words)
    query = QueryDict(request.POST.get("query", "")).urlencode()
    back = reverse("workspace:analytics")
    return redirect(f"{back}?{query}" if query else back)
