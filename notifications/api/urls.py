"""Notifications API routes: /api/v1/webhook-endpoints/ (with deliveries) and /api/v1/alerts/."""

from rest_framework.routers import SimpleRouter

from notifications.api import views

router = SimpleRouter()
router.register("webhook-endpoints", views.WebhookEndpointViewSet, basename="webhook-endpoint")
router.register("alerts", views.AlertViewSet, basename="alert")
urlpatterns = router.urls
