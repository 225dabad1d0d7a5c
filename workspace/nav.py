"""The workspace's navigation by task, from what the user may open.

Contacts is the workspace's own page (every role reads it); so is Campaigns, for whoever belongs to a client
(viewers read, agents and admins run them, like the admin's rules). Templates and Analytics are workspace pages
too, shown only when the admin itself lists the matching admin page for the user (``admin.site.get_app_list``:
the same role rules, so a link never leads to a refusal). Settings lists every other admin page the user may use.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import admin
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import client_ids_for

# (key, label, app label, model object name, URL name): a task page shown when the admin lists that model.
TASK_PAGES = [
    ("templates", _("Templates"), "templates_mgr", "Template", "workspace:templates"),
    ("analytics", _("Analytics"), "analytics", "ConversationDataPoint", "workspace:analytics"),
]
# Admin pages the workspace's own screens replace: not repeated under Settings.
REPLACED = {("messaging", "Conversation"), ("campaigns", "Campaign")}


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
    if client_ids_for(request.user) != set():  # None: an operator, every client
        items.append(NavItem("campaigns", str(_("Campaigns")), reverse("workspace:campaigns")))
    for key, label, app_label, object_name, url_name in TASK_PAGES:
        if (app_label, object_name) in pages:
            items.append(NavItem(key, str(label), reverse(url_name)))
    if settings_groups(request, pages):
        items.append(NavItem("settings", str(_("Settings")), reverse("workspace:settings")))
    return items


def settings_groups(request, pages: dict | None = None) -> list[dict]:
    """The remaining admin pages, grouped by app, for the Settings page."""
    pages = admin_pages(request) if pages is None else pages
    task_keys = {(app_label, object_name) for _key, _label, app_label, object_name, _url in TASK_PAGES}
    groups: dict[str, list[dict]] = {}
    for key, model in pages.items():
        if key in task_keys or key in REPLACED:
            continue
        groups.setdefault(model["app_name"], []).append(model)
    return [{"name": name, "models": models} for name, models in groups.items()]
