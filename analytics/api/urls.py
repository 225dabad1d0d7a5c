from django.urls import path

from analytics.api import views

urlpatterns = [
    path("analytics/conversations/", views.ConversationsView.as_view(), name="analytics-conversations"),
    path("analytics/sync/", views.SyncView.as_view(), name="analytics-sync"),
]
