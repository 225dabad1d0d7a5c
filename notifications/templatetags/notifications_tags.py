"""``{% alerts_bell %}``: the bell with its unread count rendered in the page (two queries), for the workspace.

The admin header includes ``notifications/bell_lazy.html`` instead: no query while rendering, the count is
fetched by ``notifications/bell.js`` from ``/api/v1/alerts/?unread=1``.
"""

from __future__ import annotations

from django import template

from notifications.alert_texts import alert_title
from notifications.selectors import alerts_bell as bell_data

register = template.Library()


@register.inclusion_tag("notifications/bell.html", takes_context=True)
def alerts_bell(context) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    data = bell_data(user=user)
    return {"show": True, "unread": data["unread"],
            "latest": [{"title": alert_title(r.alert), "unread": r.read_at is None} for r in data["latest"]]}
