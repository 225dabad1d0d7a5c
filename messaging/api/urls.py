"""Messaging API routes; each part registers on this router."""

from rest_framework.routers import DefaultRouter

from messaging.api import views

router = DefaultRouter()
router.register("messages", views.MessageViewSet, basename="message")
urlpatterns = router.urls
