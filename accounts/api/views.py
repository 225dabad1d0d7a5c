"""Thin API views: validate input, call a service or selector, shape the output."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import services
from accounts.api.serializers import (
    AccountSyncResultSerializer,
    ClientSerializer,
    PhoneNumberCreateSerializer,
    PhoneNumberSerializer,
    PhoneNumberUpdateSerializer,
    ProviderAccountSerializer,
    WabaCreateSerializer,
    WabaSerializer,
    WabaUpdateSerializer,
)
from accounts.models import Client, PhoneNumber, WhatsAppBusinessAccount
from accounts.tenancy import provider_accounts_visible, require_account_admin, require_operator, scope


class ProviderAccountViewSet(viewsets.ModelViewSet):
    serializer_class = ProviderAccountSerializer
    filterset_fields = ["provider", "environment", "is_active"]
    search_fields = ["name", "login", "user_id"]
    ordering_fields = ["name", "created_at", "last_sync_at"]

    def get_queryset(self):
        return provider_accounts_visible(self.request.user)

    def create(self, request, *args, **kwargs):
        require_operator(request.user, _("Only the portal's operators may add provider accounts."))
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account = services.provider_account_create(actor=request.user, **serializer.validated_data)
        return Response(self.get_serializer(account).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        account = self.get_object()
        require_operator(request.user)
        serializer = self.get_serializer(account, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        account = services.provider_account_update(account=account, actor=request.user, **serializer.validated_data)
        return Response(self.get_serializer(account).data)

    def destroy(self, request, *args, **kwargs):
        account = self.get_object()
        require_operator(request.user, _("Only the portal's operators may delete provider accounts."))
        services.provider_account_delete(account=account, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=AccountSyncResultSerializer)
    @action(detail=True, methods=["post"])
    def sync(self, request, pk=None):
        """Pull clients, WABAs, phone numbers and templates from the provider now (operators and client admins)."""
        account = self.get_object()
        require_account_admin(request.user, account)
        result = services.provider_account_sync(account=account, actor=request.user)
        result = services.sync_result_visible(result=result, account=account, user=request.user)
        return Response(AccountSyncResultSerializer(result.as_dict()).data)

    @extend_schema(request=None, responses=ProviderAccountSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-webhook-secret")
    def rotate_webhook_secret(self, request, pk=None):
        """A new webhook URL (operators only); the old one keeps working for a grace period, then 404."""
        account = self.get_object()
        account = services.provider_account_webhook_secret_rotate(account=account, actor=request.user)
        return Response(self.get_serializer(account).data)


class ClientViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ClientSerializer
    filterset_fields = ["provider_account", "is_active", "client_id"]
    search_fields = ["name", "client_id"]

    def get_queryset(self):
        return scope(Client.objects.select_related("provider_account"), self.request.user, "pk")


class _InventoryWrites:
    """POST and PATCH of inventory the provider cannot list: client admins of that client, operators anywhere.

    Another tenant's object is a 404 (``get_queryset`` is scoped); another
    tenant's client in a POST is a 400 naming ``client``.
    """

    http_method_names = ["get", "post", "patch", "head", "options"]
    create_serializer_class: type
    update_serializer_class: type

    def _answer(self, obj, code=status.HTTP_200_OK):
        return Response(self.get_serializer(obj).data, status=code)


class WabaViewSet(_InventoryWrites, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """WABAs: synced with the ISV token, or entered by hand; ``namespace`` is always entered by hand."""

    serializer_class = WabaSerializer
    filterset_fields = ["client", "is_active", "waba_id"]
    search_fields = ["name", "waba_id"]

    def get_queryset(self):
        return scope(WhatsAppBusinessAccount.objects.select_related("client"), self.request.user, "client")

    @extend_schema(request=WabaCreateSerializer, responses={201: WabaSerializer})
    def create(self, request, *args, **kwargs):
        data = WabaCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        waba = services.waba_create(actor=request.user, **data.validated_data)
        return self._answer(waba, status.HTTP_201_CREATED)

    @extend_schema(request=WabaUpdateSerializer, responses={200: WabaSerializer})
    def partial_update(self, request, *args, **kwargs):
        waba = self.get_object()
        data = WabaUpdateSerializer(data=request.data, partial=True, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        return self._answer(services.waba_update(actor=request.user, waba=waba, **data.validated_data))


class PhoneNumberViewSet(_InventoryWrites, mixins.CreateModelMixin, mixins.UpdateModelMixin,
                         mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Business numbers: synced with the ISV token (or the CV line), or entered by hand."""

    serializer_class = PhoneNumberSerializer
    filterset_fields = ["client", "waba", "quality_rating", "is_active", "digits"]
    search_fields = ["digits", "display_phone_number", "verified_name"]

    def get_queryset(self):
        return scope(PhoneNumber.objects.select_related("client", "waba", "send_rate"), self.request.user, "client")

    @extend_schema(request=PhoneNumberCreateSerializer, responses={201: PhoneNumberSerializer})
    def create(self, request, *args, **kwargs):
        data = PhoneNumberCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        number = services.phone_number_create(actor=request.user, **data.validated_data)
        return self._answer(number, status.HTTP_201_CREATED)

    @extend_schema(request=PhoneNumberUpdateSerializer, responses={200: PhoneNumberSerializer})
    def partial_update(self, request, *args, **kwargs):
        number = self.get_object()
        data = PhoneNumberUpdateSerializer(data=request.data, partial=True, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        return self._answer(services.phone_number_update(actor=request.user, number=number, **data.validated_data))
