from django.urls import path
from rest_framework.routers import DefaultRouter

from accounts.api import views
from accounts.api.auth import TokenView

router = DefaultRouter()
router.register("provider-accounts", views.ProviderAccountViewSet, basename="provider-account")
router.register("clients", views.ClientViewSet, basename="client")
router.register("wabas", views.WabaViewSet, basename="waba")
router.register("phone-numbers", views.PhoneNumberViewSet, basename="phone-number")

urlpatterns = [path("auth/token/", TokenView.as_view(), name="api-token"), *router.urls]
