"""Input and output shapes of the analytics API (validation only: no logic lives here)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from analytics.models import Granularity


class _ListOrCommaField(serializers.ListField):
    """A list given as a JSON array, a repeated query parameter, or a comma-separated string."""

    child = serializers.CharField(allow_blank=True)

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = [data]
        values = super().to_internal_value(data)
        return [part.strip() for value in values for part in value.split(",") if part.strip()]


class _GranularityField(serializers.ChoiceField):
    """HALF_HOUR, DAILY or MONTHLY, in any case."""

    def __init__(self, **kwargs):
        super().__init__(choices=Granularity.choices, **kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(str(data).strip().upper())


FILTER_HELP = {
    "phone_numbers": _("Business numbers, digits with the country code (repeat or comma-separate)."),
    "country_codes": _("ISO 3166 alpha-2 codes, e.g. CO,PE."),
    "conversation_types": _("REGULAR, FREE_TIER, FREE_ENTRY_POINT, UNKNOWN."),
    "conversation_directions": _("BUSINESS_INITIATED, USER_INITIATED, UNKNOWN."),
}


class _FilterFields(serializers.Serializer):
    waba = serializers.IntegerField(help_text=_("Our id of the WABA (see /api/v1/wabas/)."))
    start = serializers.CharField(
        required=False, help_text=_("YYYY-MM-DD (a day in your time zone) or an ISO 8601 time. Default: 30 days ago.")
    )
    end = serializers.CharField(
        required=False, help_text=_("YYYY-MM-DD (that day included) or an ISO 8601 time. Default: today.")
    )
    phone_numbers = _ListOrCommaField(required=False, help_text=FILTER_HELP["phone_numbers"])
    country_codes = _ListOrCommaField(required=False, help_text=FILTER_HELP["country_codes"])
    conversation_types = _ListOrCommaField(required=False, help_text=FILTER_HELP["conversation_types"])
    conversation_directions = _ListOrCommaField(required=False, help_text=FILTER_HELP["conversation_directions"])


class ConversationsQuerySerializer(_FilterFields):
    """Query parameters of GET /analytics/conversations/."""

    granularity = _GranularityField(default=Granularity.DAILY)
    group_by = _ListOrCommaField(
        required=False,
        help_text=_("Any of conversation_type, conversation_direction, phone_number, country (repeat or comma-separate)."),
    )
    tz = serializers.CharField(
        required=False, help_text=_("IANA time zone for days and months, e.g. America/Bogota. Default: your profile's.")
    )


class ConversationPointSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    conversations = serializers.IntegerField()
    conversation_type = serializers.CharField(required=False)
    conversation_direction = serializers.CharField(required=False)
    phone_number = serializers.CharField(required=False)
    country = serializers.CharField(required=False)


class ConversationsResponseSerializer(serializers.Serializer):
    waba = serializers.IntegerField()
    waba_id = serializers.CharField()
    granularity = serializers.CharField()
    source_granularity = serializers.CharField(help_text=_("The stored granularity the series was read from."))
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    time_zone = serializers.CharField()
    group_by = serializers.ListField(child=serializers.CharField())
    results = ConversationPointSerializer(many=True)
    total = serializers.IntegerField()
    previous_total = serializers.IntegerField()
    change_percent = serializers.FloatField(allow_null=True)


class SyncRequestSerializer(_FilterFields):
    """Body of POST /analytics/sync/."""

    granularity = _GranularityField(default=Granularity.HALF_HOUR)


class SyncResultSerializer(serializers.Serializer):
    waba_id = serializers.CharField()
    granularity = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    requests = serializers.IntegerField()
    empty_requests = serializers.IntegerField()
    points = serializers.IntegerField()
    removed = serializers.IntegerField()
    conversations = serializers.IntegerField()
    state = serializers.CharField()
    message = serializers.CharField()
    sync_id = serializers.IntegerField(allow_null=True)
    filters = serializers.DictField()
