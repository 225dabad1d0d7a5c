"""The workspace's navigation by task, from what the user may open.

Contacts is the workspace's own page (every role reads it). Campaigns, Templates and Analytics lead to today's
admin pages; each appears only when the admin itself lists that page for the user (``admin.site.get_app_list``:
the same role rules, so a link never leads to a refusal). Settings lists every other admin page the user may use.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import admin
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

# (key, label, app label, model object name) of the task links that open an admin page.
TASK_PAGES = [
    ("campaigns", _("Campaigns"), "campaigns", "Campaign"),
    ("templates", _("Templates"), "templates_mgr", "Template"),
    ("analytics", _("Analytics"), "analytics", "ConversationDataPoint"),
]
# Task links the workspace serves itself (shown on the same admin rule), by key → URL name.
WORKSPACE_PAGES = {"templates": "workspace:templates", "analytics": "workspace:analytics"}
# Admin pages the workspace's own screens replace: not repeated under Settings.
REPLACED = {("messaging", "Conversation")}


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url: str


def admin_pages(request) -> dict[tuple[str, str], dict]:
    """The admin's models the user may open, by (app label, object name)."""
    pages = {}
    for app in admin.site.get_app_list(request):
        for model in app["models"]:
            if model.get("admin_url"):
                pages[(app["app_label"], model["object_name"])] = {**model, "app_name": app["name"]}
    return pages


def nav_items(request) -> list[NavItem]:
    pages = admin_pages(request)
    items = [NavItem("inbox", str(_("Inbox")), reverse("workspace:inbox")),
             NavItem("contacts", str(_("Contacts")), reverse("workspace:contacts"))]
    for key, label, app_label, object_name in TASK_PAGES:
        page = pages.get((app_label, object_name))
        if page:
            url = reverse(WORKSPACE_PAGES[key]) if key in WORKSPACE_PAGES else page["admin_url"]
            items.append(NavItem(key, str(label), url))
    if settings_groups(request, pages):
        items.append(NavItem("settings", str(_("Settings")), reverse("workspace:settings")))
    return items


def settings_groups(request, pages: dict | None = None) -> list[dict]:
    """The remaining admin pages, grouped by app, for the Settings page."""
    pages = admin_pages(request) if pages is None else pages
    task_keys = {(app_label, object_name) for _key, _label, app_label, object_name in TASK_PAGES}
    groups: dict[str, list[dict]] = {}
    for key, model in pages.items():
        if key in task_keys or key in REPLACED:
            continue
        groups.setdefault(model["app_name"], []).append(model)
    return [{"name": name, "models": models} for name, models in groups.items()]
