"""Input and output shapes of the notifications API. The signing secret appears only in the answers of
create and rotate-secret (``WebhookEndpointSecretSerializer``), never in reads."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Client, Role
from notifications.alert_texts import alert_title
from notifications.models import AlertReceipt, Delivery, DeliveryAttempt, EventType, WebhookEndpoint


@extend_schema_field(serializers.IntegerField())
class _AdminClientField(serializers.PrimaryKeyRelatedField):
    """A client the requesting user is an admin of (another tenant's client "does not exist")."""

    def get_queryset(self):
        from accounts.tenancy import scope

        request = self.context.get("request")
        return scope(Client.objects.all(), getattr(request, "user", None), "pk", Role.ADMIN)


_events_field = serializers.ListField(
    child=serializers.ChoiceField(choices=EventType.choices), required=False, max_length=len(EventType.choices),
    help_text=_("Event types to receive; empty or absent: every type."))


class WebhookEndpointSerializer(serializers.ModelSerializer):
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "client", "url", "description", "events", "active", "allow_private_network",
                  "failing_since", "disabled_at", "disabled_reason", "created_at", "updated_at"]
        read_only_fields = fields


class WebhookEndpointSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text=_(
        "The signing secret: shown only now. Verify the Waportal-Signature header with it."))

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointCreateSerializer(serializers.Serializer):
    client = _AdminClientField(help_text=_("The client (id in /api/v1/clients/)."))
    url = serializers.URLField(max_length=500)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    events = _events_field
    active = serializers.BooleanField(required=False, default=True, source="is_active")
    allow_private_network = serializers.BooleanField(required=False, default=False, help_text=_(
        "Operators only: let the URL point at private or loopback addresses."))


class WebhookEndpointUpdateSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500, required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    events = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices), required=False,
                                   max_length=len(EventType.choices))
    active = serializers.BooleanField(required=False, source="is_active", help_text=_(
        "false pauses deliveries; true re-enables an endpoint disabled after failing."))
    allow_private_network = serializers.BooleanField(required=False)


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["at", "status_code", "latency_ms", "response_excerpt", "error", "success", "manual"]


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = ["id", "event_id", "type", "created_at", "state", "attempts", "next_attempt_at",
                  "last_status_code", "last_error", "delivered_at", "data"]


class DeliveryDetailSerializer(DeliverySerializer):
    attempt_log = DeliveryAttemptSerializer(many=True, read_only=True)

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "attempt_log"]


class AlertSerializer(serializers.ModelSerializer):
    """One alert in the requesting person's bell."""

    id = serializers.IntegerField(source="alert.id", read_only=True)
    client = serializers.IntegerField(source="alert.client_id", read_only=True)
    kind = serializers.CharField(source="alert.kind", read_only=True)
    title = serializers.SerializerMethodField()
    count = serializers.IntegerField(source="alert.count", read_only=True)
    first_at = serializers.DateTimeField(source="alert.first_at", read_only=True)
    last_at = serializers.DateTimeField(source="alert.last_at", read_only=True)

    def get_title(self, obj: AlertReceipt) -> str:
        return alert_title(obj.alert)

    class Meta:
        model = AlertReceipt
        fields = ["id", "client", "kind", "title", "count", "first_at", "last_at", "read_at"]


class AlertsReadSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**31 - 1), required=False,
                                max_length=500,
                                help_text=_("Alert ids to mark read; absent: every unread alert."))
