"""Every app's API routes under /api/v1/."""

from django.urls import include, path

urlpatterns = [
    path("", include("accounts.api.urls")),
    path("", include("templates_mgr.api.urls")),
    path("", include("messaging.api.urls")),
    path("", include("contacts.api.urls")),
    path("", include("campaigns.api.urls")),
    path("", include("analytics.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("workspace.api.urls")),
]
