"""Thin API views of outgoing webhooks and alerts: validate, call a service or selector, shape the answer."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from accounts.models import Role
from accounts.tenancy import scope
from notifications import alerts, services
from notifications.api.serializers import (
    AlertSerializer,
    AlertsReadSerializer,
    DeliveryDetailSerializer,
    DeliverySerializer,
    WebhookEndpointCreateSerializer,
    WebhookEndpointSecretSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateSerializer,
)
from notifications.models import AlertReceipt, Delivery, WebhookEndpoint


class WebhookEndpointViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                             mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Outgoing webhooks: URLs of the client's own systems that receive its events (client admins only)."""

    serializer_class = WebhookEndpointSerializer
    filterset_fields = ["client", "is_active"]
    search_fields = ["url", "description"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    parser_classes = [JSONParser]

    def get_queryset(self):
        return scope(WebhookEndpoint.objects.all(), self.request.user, "client", Role.ADMIN)

    @extend_schema(request=WebhookEndpointCreateSerializer, responses={201: WebhookEndpointSecretSerializer})
    def create(self, request, *args, **kwargs):
        data = WebhookEndpointCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_create(actor=request.user, **data.validated_data)
        return Response(WebhookEndpointSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=WebhookEndpointUpdateSerializer, responses={200: WebhookEndpointSerializer})
    def partial_update(self, request, *args, **kwargs):
        endpoint = self.get_object()
        data = WebhookEndpointUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_update(actor=request.user, endpoint=endpoint, **data.validated_data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    def destroy(self, request, *args, **kwargs):
        services.webhook_endpoint_delete(actor=request.user, endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: WebhookEndpointSecretSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """A new signing secret, shown only in this answer; the old one still signs for 24 hours."""
        endpoint = services.webhook_endpoint_rotate_secret(actor=request.user, endpoint=self.get_object())
        return Response(WebhookEndpointSecretSerializer(endpoint).data)

    @extend_schema(responses={200: DeliverySerializer(many=True)})
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        """The delivery log of this endpoint, newest first (``?state=pending|delivered|given_up``)."""
        queryset = Delivery.objects.filter(endpoint=self.get_object()).order_by("-id")
        state = request.query_params.get("state")
        if state in Delivery.State.values:
            queryset = queryset.filter(state=state)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    def _delivery(self, delivery_id) -> Delivery:
        return get_object_or_404(Delivery.objects.select_related("endpoint").prefetch_related("attempt_log"),
                                 pk=delivery_id, endpoint=self.get_object())

    @extend_schema(responses={200: DeliveryDetailSerializer})
    @action(detail=True, methods=["get"], url_path=r"deliveries/(?P<delivery_id>\d+)", url_name="delivery")
    def delivery(self, request, pk=None, delivery_id=None):
        """One delivery with every attempt (status, latency, the start of the answer)."""
        return Response(DeliveryDetailSerializer(self._delivery(delivery_id)).data)

    @extend_schema(request=None, responses={200: DeliveryDetailSerializer})
    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_id>\d+)/redeliver",
            url_name="redeliver")
    def redeliver(self, request, pk=None, delivery_id=None):
        """Send this delivery again now; the answer shows the attempt."""
        row = services.webhook_delivery_redeliver(actor=request.user, delivery_row=self._delivery(delivery_id))
        row = Delivery.objects.prefetch_related("attempt_log").get(pk=row.pk)
        return Response(DeliveryDetailSerializer(row).data)


class AlertViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The requesting person's alerts (their bell), newest first; ``?unread=1`` for the unread ones."""

    serializer_class = AlertSerializer
    parser_classes = [JSONParser]
    filterset_fields: list[str] = []
    search_fields: list[str] = []
    ordering_fields = ["alert__last_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return AlertReceipt.objects.none()
        queryset = AlertReceipt.objects.filter(user=self.request.user).select_related("alert").order_by(
            "-alert__last_at", "-id")
        queryset = scope(queryset, self.request.user, "alert__client")
        if self.request.query_params.get("unread") in ("1", "true"):
            queryset = queryset.filter(read_at__isnull=True)
        return queryset

    @extend_schema(request=AlertsReadSerializer,
                   responses={200: inline_serializer("AlertsRead", {"marked": serializers.IntegerField()})})
    @action(detail=False, methods=["post"])
    def read(self, request):
        """Mark alerts read (the given ids, or every unread one)."""
        data = AlertsReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        marked = alerts.alerts_mark_read(user=request.user, alert_ids=data.validated_data.get("ids"))
        return Response({"marked": marked})
