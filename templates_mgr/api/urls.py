from rest_framework.routers import DefaultRouter

from templates_mgr.api import views

router = DefaultRouter()
router.register("templates", views.TemplateViewSet, basename="template")
urlpatterns = router.urls
