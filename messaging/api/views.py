"""Thin API views for messages: check the envelope, call the send service, shape the answer.

``POST /api/v1/messages/`` answers with the stored message in the body and a
status code an integrator can trust (:func:`send_status_code`): **201 only
when the provider accepted the message**; 422 when the provider refused it;
502 when our credentials or the account's configuration were refused, or the
answer was unreadable or late (the message may or may not have left: see its
``status: unknown``); 503 when the provider could not be reached after the
safe retries. The stored message (id, status, ``error_code``,
``error_title`` in words) is the body in every case. A request the portal
refuses before storing anything (bad input, closed 24-hour window, unknown
template, missing role) is a 4xx naming the field. A repeated
``Idempotency-Key`` answers the same status code with the first message and
the header ``Idempotent-Replayed: true``; the same key with a different body
is 422.
"""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from accounts.models import PhoneNumber
from accounts.tenancy import scope
from messaging import sending
from messaging.api.serializers import MessageSendSerializer, MessageSerializer
from messaging.models import Direction, Message, MessageStatus, MessageType, SendOutcome, StatusEvent

OUTCOME_STATUS_CODES = {
    SendOutcome.ACCEPTED: status.HTTP_201_CREATED,
    SendOutcome.REFUSED: status.HTTP_422_UNPROCESSABLE_ENTITY,
    SendOutcome.CONFIGURATION: status.HTTP_502_BAD_GATEWAY,
    SendOutcome.UNKNOWN: status.HTTP_502_BAD_GATEWAY,
    SendOutcome.UNREACHABLE: status.HTTP_503_SERVICE_UNAVAILABLE,
}


def send_status_code(message: Message) -> int:
    """The HTTP status answering a send: from what the provider did with it (stored, so a replay answers the same).

    Messages stored before the outcome was recorded (and campaign sends, which
    do not record it) answer from their status: accepted statuses 201, failed
    422, unknown 502, still on the way 202.
    """
    if message.send_outcome in OUTCOME_STATUS_CODES:
        return OUTCOME_STATUS_CODES[message.send_outcome]
    if message.status in (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ):
        return status.HTTP_201_CREATED
    if message.status == MessageStatus.FAILED:
        return status.HTTP_422_UNPROCESSABLE_ENTITY
    if message.status == MessageStatus.UNKNOWN:
        return status.HTTP_502_BAD_GATEWAY
    return status.HTTP_202_ACCEPTED


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


class MessageFilter(django_filters.FilterSet):
    """Filters of the message list. ``from`` and ``to`` take digits (``+57 300…`` works too)."""

    direction = django_filters.ChoiceFilter(choices=Direction.choices)
    status = django_filters.MultipleChoiceFilter(choices=MessageStatus.choices)
    type = django_filters.MultipleChoiceFilter(choices=MessageType.choices)
    from_number = django_filters.CharFilter(method="filter_digits", field_name="from_number")
    to = django_filters.CharFilter(method="filter_digits", field_name="to_number")
    campaign = django_filters.NumberFilter(method="filter_campaign", label="campaign")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Message
        fields = ["direction", "status", "type", "phone_number", "conversation", "template"]

    def filter_digits(self, queryset, name, value):
        return queryset.filter(**{name: _digits(value)})

    def filter_campaign(self, queryset, name, value):
        """Messages a campaign sent (through its recipients)."""
        return queryset.filter(campaign_recipient__campaign_id=value)


# "from" is a Python keyword: declared as from_number, exposed as the query parameter "from".
MessageFilter.base_filters["from"] = MessageFilter.base_filters.pop("from_number")


def sender_number(user, digits: str) -> PhoneNumber:
    """The user's business number with these digits; refused naming ``from`` when it is not theirs."""
    wanted = _digits(digits)
    number = (
        scope(PhoneNumber.objects.select_related("client__provider_account", "waba"), user, "client")
        .filter(digits=wanted)
        .order_by("-is_active", "pk")
        .first()
        if wanted
        else None
    )
    if number is None:
        raise serializers.ValidationError(
            {"from": [_("%(number)s is not one of your business numbers (see /api/v1/phone-numbers/).")
                      % {"number": digits}]}
        )
    return number


class MessageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Send a message; list and read sent and received messages with their status history."""

    serializer_class = MessageSerializer
    filterset_class = MessageFilter
    search_fields = ["to_number", "from_number", "provider_message_id", "whatsapp_id"]
    ordering_fields = ["created_at", "status_at"]
    ordering = ["-created_at"]

    def get_queryset(self):
        queryset = Message.objects.prefetch_related(
            Prefetch("status_events", queryset=StatusEvent.objects.order_by("timestamp", "id"))
        )
        return scope(queryset, self.request.user, "client")

    @extend_schema(
        request=MessageSendSerializer,
        responses={
            201: OpenApiResponse(MessageSerializer, description=gettext_lazy(
                "The provider accepted the message; the body is the stored message (status sent).")),
            422: OpenApiResponse(MessageSerializer, description=gettext_lazy(
                "The provider refused the message: the body is the stored message, status failed, with error_code "
                "and error_title in words. (An Idempotency-Key reused for a different body is also 422, with an "
                "error naming idempotency_key.)")),
            502: OpenApiResponse(MessageSerializer, description=gettext_lazy(
                "The provider refused our credentials or the account is misconfigured (status failed), or its "
                "answer was late or unreadable (status unknown: the message may or may not have been sent). The "
                "body is the stored message.")),
            503: OpenApiResponse(MessageSerializer, description=gettext_lazy(
                "The provider could not be reached after the safe retries; nothing was sent (status failed). The "
                "body is the stored message.")),
        },
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description=gettext_lazy("Repeat it to retry safely: the first stored message comes back and nothing is sent "
                              "again. Reusing it for a different body answers 422."),
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        """Send one message: the stored message, under the status code of what the provider did with it."""
        serializer = MessageSendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        phone_number = sender_number(request.user, data["from"])
        message = sending.message_send(
            actor=request.user,
            phone_number=phone_number,
            to=data["to"],
            type=data["type"],
            content=data[data["type"]],
            context_message_id=(data.get("context") or {}).get("message_id", ""),
            preview_url=data.get("preview_url"),
            custom_field=data.get("custom_field", ""),
            idempotency_key=request.headers.get("Idempotency-Key", ""),
            request_fingerprint=sending.request_fingerprint(serializer.fingerprint_payload()),
        )
        stored = self.get_queryset().get(pk=message.pk)
        headers = {"Location": request.build_absolute_uri(f"{request.path.rstrip('/')}/{stored.pk}/")}
        if getattr(message, "replayed", False):
            headers["Idempotent-Replayed"] = "true"
        return Response(MessageSerializer(stored).data, status=send_status_code(stored), headers=headers)
