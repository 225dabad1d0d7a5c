"""The charts page, for the two frames that show it (the admin's and the workspace's): one request, one answer."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.dashboard import CHART_KEYS, build_dashboard, csv_for
from analytics.models import Granularity
from analytics.services import MAX_SYNC_WABAS


def charts_page(request: HttpRequest) -> HttpResponse | dict[str, Any]:
    """The page's content for ``request``'s filters, as template context; or, when ``?export=<chart>`` asks for
    one chart's CSV with the same filters, that file (a 404 when the page has no such chart)."""
    params = request.GET.copy()
    export = params.pop("export", [""])[-1]
    tz = timezone.get_current_timezone()
    dashboard = build_dashboard(user=request.user, params=params, tz=tz)
    if export:
        exported = csv_for(dashboard, export) if export in CHART_KEYS else None
        if exported is None:
            return HttpResponse(_("No such chart on this page."), status=404, content_type="text/plain")
        filename, text = exported
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    query = params.urlencode()
    return {
        "dashboard": dashboard,
        "form": dashboard.form,
        "query": query,
        "export_links": {key: f"?{query}&export={key}" if query else f"?export={key}" for key in dashboard.charts},
        "sync_granularity": dashboard.granularity,
        "granularity_label": Granularity(dashboard.granularity).label,
        "time_zone": str(tz),
        "max_sync_wabas": MAX_SYNC_WABAS,
    }
