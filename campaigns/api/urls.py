"""Campaign API routes: /api/v1/campaigns/ and its actions."""

from rest_framework.routers import SimpleRouter

from campaigns.api import views

router = SimpleRouter()
router.register("campaigns", views.CampaignViewSet, basename="campaign")
urlpatterns = router.urls
