"""Workspace API routes: conversations (workflow, notes), teams and canned responses."""

from rest_framework.routers import DefaultRouter

from workspace.api import views

router = DefaultRouter()
router.register("conversations", views.ConversationViewSet, basename="conversation")
router.register("teams", views.TeamViewSet, basename="team")
router.register("canned-responses", views.CannedResponseViewSet, basename="canned-response")
urlpatterns = router.urls
