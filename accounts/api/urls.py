from rest_framework.routers import DefaultRouter

from accounts.api import views

router = DefaultRouter()
router.register("provider-accounts", views.ProviderAccountViewSet, basename="provider-account")
router.register("clients", views.ClientViewSet, basename="client")
router.register("wabas", views.WabaViewSet, basename="waba")
router.register("phone-numbers", views.PhoneNumberViewSet, basename="phone-number")

urlpatterns = router.urls
