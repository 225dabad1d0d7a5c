"""Input and output of the messages API.

The send input is Aldeamo's send shape (``from``, ``to``, ``type``, the type's
object, ``context``, ``recipient_type``, ``preview_url``) plus ``custom_field``
for Contacto Virtual lines. This serializer checks only the envelope; the
type's object is checked by the send service, which names the field inside it
(``interactive.action.buttons[3]``) the same way for every caller.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from messaging.models import Message, SendOutcome, StatusEvent
from messaging.validation.common import SENDABLE_TYPES
from providers.base import ERROR_KINDS


class ContextSerializer(serializers.Serializer):
    message_id = serializers.CharField(
        max_length=128,
        help_text=_("The message this one replies to: a WhatsApp id (wamid…) or the provider id we got when sending."),
    )


class MessageSendSerializer(serializers.Serializer):
    """``POST /api/v1/messages/``: one message in Aldeamo's send shape."""

    from_number = serializers.CharField(
        max_length=40, help_text=_("One of your business numbers, digits with country code (as in /phone-numbers/).")
    )
    to = serializers.CharField(max_length=40, help_text=_("The recipient, digits with country code."))
    type = serializers.ChoiceField(choices=SENDABLE_TYPES)
    recipient_type = serializers.ChoiceField(choices=["individual"], required=False)
    preview_url = serializers.BooleanField(required=False, allow_null=True, default=None)
    context = ContextSerializer(required=False)
    custom_field = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False,
        help_text=_("Contacto Virtual: echoed back on the customer's reply (at most 1000 characters)."),
    )
    text = serializers.JSONField(required=False, help_text=_("For type text: {\"body\": \"…\"} (≤ 4096)."))
    template = serializers.JSONField(
        required=False,
        help_text=_("For type template: {name, language: {code}, components: [...]}; Contacto Virtual: "
                    "{id | name, components}."),
    )
    image = serializers.JSONField(required=False)
    audio = serializers.JSONField(required=False)
    video = serializers.JSONField(required=False)
    document = serializers.JSONField(required=False)
    sticker = serializers.JSONField(required=False)
    location = serializers.JSONField(required=False)
    contacts = serializers.JSONField(required=False)
    interactive = serializers.JSONField(required=False)

    def get_fields(self) -> dict[str, serializers.Field]:
        # ``from`` is a Python keyword: declared as from_number, exposed as "from".
        return {("from" if name == "from_number" else name): field for name, field in super().get_fields().items()}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = attrs["type"]
        if attrs.get(kind) is None:
            raise serializers.ValidationError(
                {kind: [_("Required for type %(type)s: the message's %(type)s object.") % {"type": kind}]}
            )
        for other in SENDABLE_TYPES:
            if other != kind and attrs.get(other) is not None:
                raise serializers.ValidationError(
                    {other: [_("Only the %(type)s object may be given for type %(type)s.") % {"type": kind}]}
                )
        return attrs

    def fingerprint_payload(self) -> dict[str, Any]:
        """The normalised request an Idempotency-Key is bound to (key order and defaults do not matter)."""
        data = self.validated_data
        kind = data["type"]
        return {
            "from": "".join(ch for ch in data["from"] if ch.isdigit()),
            "to": data["to"],
            "type": kind,
            kind: data[kind],
            "context": (data.get("context") or {}).get("message_id", ""),
            "preview_url": data.get("preview_url"),
            "custom_field": data.get("custom_field", ""),
        }


class StatusEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatusEvent
        fields = [
            "status",
            "timestamp",
            "error_code",
            "error_title",
            "conversation_id",
            "conversation_origin",
            "conversation_expiration",
            "pricing",
            "created_at",
        ]
        read_only_fields = fields


class MessageSerializer(serializers.ModelSerializer):
    """A message, sent or received, with its status history (oldest first)."""

    # Exposed as "from" and "to" (see get_fields); the source must be explicit for the renamed fields.
    from_number = serializers.CharField(source="from_number", read_only=True)
    to_number = serializers.CharField(source="to_number", read_only=True)
    context = serializers.SerializerMethodField()
    status_history = StatusEventSerializer(source="status_events", many=True, read_only=True)
    # Blank for messages stored before outcomes were (inbound ones, older sends): the schema says so.
    send_outcome = serializers.ChoiceField(choices=SendOutcome.choices, allow_blank=True, read_only=True)
    # The kind of provider failure (the ProviderError class's) when a send failed or its outcome is unknown.
    error_kind = serializers.ChoiceField(choices=[(kind, kind) for kind in ERROR_KINDS], allow_blank=True,
                                         read_only=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "direction",
            "type",
            "status",
            "status_at",
            "from_number",
            "to_number",
            "phone_number",
            "conversation",
            "content",
            "context",
            "reply_to",
            "template",
            "provider_message_id",
            "whatsapp_id",
            "custom_field",
            "error_code",
            "error_title",
            "error_kind",
            "send_outcome",
            "request_body",
            "idempotency_key",
            "created_at",
            "sent_at",
            "delivered_at",
            "read_at",
            "failed_at",
            "status_history",
        ]
        read_only_fields = fields

    def get_fields(self) -> dict[str, serializers.Field]:
        renamed = {"from_number": "from", "to_number": "to"}
        return {renamed.get(name, name): field for name, field in super().get_fields().items()}

    @extend_schema_field(ContextSerializer(allow_null=True))
    def get_context(self, obj: Message) -> dict[str, str] | None:
        return {"message_id": obj.context_id} if obj.context_id else None
