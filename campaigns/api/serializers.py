"""Input and output shapes of /api/v1/campaigns/. No business logic: services decide."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import PhoneNumber
from campaigns import conf, selectors
from campaigns.models import Campaign, CampaignRecipient
from contacts.models import Segment
from templates_mgr.models import Template


class CampaignSerializer(serializers.ModelSerializer):
    """A campaign with its progress counts by status (from the cached counts)."""

    status_label = serializers.CharField(source="get_status_display", read_only=True)
    from_number = serializers.CharField(source="phone_number.digits", read_only=True)
    template_name = serializers.CharField(source="template.name", read_only=True)
    template_language = serializers.CharField(source="template.language", read_only=True)
    counts = serializers.SerializerMethodField()
    percent = serializers.SerializerMethodField()
    report = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.get_username", read_only=True, default=None)

    class Meta:
        model = Campaign
        fields = [
            "id", "name", "status", "status_label", "client", "phone_number", "from_number", "template",
            "template_name", "template_language", "pace", "start_at", "default_country", "variables",
            "pause_kind", "pause_reason", "paused_at", "recipient_count", "counts", "percent", "report",
            "source_campaign", "segment", "created_by", "created_at", "started_at", "finished_at", "updated_at",
        ]
        read_only_fields = fields

    def get_counts(self, obj: Campaign) -> dict[str, int]:
        return selectors.group_counts(obj.counts or {})

    def get_percent(self, obj: Campaign) -> int:
        return selectors.percent_done(obj)

    def get_report(self, obj: Campaign) -> dict:
        report = obj.report or {}
        return {"rows": report.get("rows", 0), "sendable": report.get("sendable", 0),
                "skipped": report.get("skipped", 0), "reasons": report.get("reasons", {}),
                "seen": obj.report_seen_at is not None}


class FailureReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()
    code = serializers.CharField()
    count = serializers.IntegerField()


class CampaignDetailSerializer(CampaignSerializer):
    """One campaign: counts plus the top failure reasons in words and the estimated time to finish."""

    # A plain string here: the enum is documented once, on Campaign (an enum shared by two
    # components collides with the other models' "status" enums in the schema).
    status = serializers.CharField(read_only=True, help_text=_("As in Campaign: draft, validated, scheduled, "
                                                               "running, paused, completed, cancelled."))
    top_failures = serializers.SerializerMethodField()
    eta_seconds = serializers.SerializerMethodField()

    class Meta(CampaignSerializer.Meta):
        fields = [*CampaignSerializer.Meta.fields, "top_failures", "eta_seconds"]
        read_only_fields = fields

    def _progress(self, obj: Campaign) -> dict:
        cache = self.context.setdefault("_progress", {})
        if obj.pk not in cache:
            cache[obj.pk] = selectors.campaign_progress(campaign=obj)
        return cache[obj.pk]

    def get_top_failures(self, obj: Campaign) -> list[dict]:
        return FailureReasonSerializer(self._progress(obj)["top_failures"], many=True).data

    def get_eta_seconds(self, obj: Campaign) -> int | None:
        return self._progress(obj)["eta_seconds"]


class RecipientInputSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=64, allow_blank=True,
                                  help_text=_("The customer's number, ideally with its country code."))
    variables = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False), required=False, default=dict,
        help_text=_("Values by slot: body_1, body_2 … header_1, header_media, button_0."),
    )


class CampaignCreateSerializer(serializers.Serializer):
    """Input of POST /campaigns/: a JSON ``recipients`` list, or a multipart ``file`` (CSV)."""

    name = serializers.CharField(max_length=200)
    phone_number = serializers.PrimaryKeyRelatedField(
        queryset=PhoneNumber.objects.none(), help_text=_("Our id of the sender number (see /api/v1/phone-numbers/).")
    )
    template = serializers.PrimaryKeyRelatedField(
        queryset=Template.objects.none(), help_text=_("Our id of the template (see /api/v1/templates/).")
    )
    pace = serializers.IntegerField(required=False, min_value=1, help_text=_("Messages per second (default 20)."))
    start_at = serializers.DateTimeField(required=False, allow_null=True)
    default_country = serializers.CharField(required=False, max_length=2, default="CO")
    variables = serializers.JSONField(required=False, default=dict,
                                      help_text=_("Fixed values shared by every recipient, by slot."))
    recipients = RecipientInputSerializer(many=True, required=False)
    file = serializers.FileField(required=False, help_text=_("A CSV: a phone column and one column per variable."))
    phone_column = serializers.CharField(required=False, allow_blank=True, default="")
    mapping = serializers.JSONField(required=False, default=dict,
                                    help_text=_("For a CSV: the column of each slot, e.g. {\"body_1\": \"name\"}."))
    segment = serializers.PrimaryKeyRelatedField(
        queryset=Segment.objects.none(), required=False, allow_null=True,
        help_text=_("Our id of a saved contact segment: its contacts, taken when the campaign is created."))
    attribute_mapping = serializers.JSONField(
        required=False, default=dict,
        help_text=_("For a segment: the contact attribute of each slot, e.g. {\"body_1\": \"name\"}."))

    def __init__(self, *args, phone_numbers=None, templates=None, segments=None, **kwargs):
        super().__init__(*args, **kwargs)
        if phone_numbers is not None:
            self.fields["phone_number"].queryset = phone_numbers
        if templates is not None:
            self.fields["template"].queryset = templates
        if segments is not None:
            self.fields["segment"].queryset = segments

    def _string_dict(self, value, field: str) -> dict[str, str]:
        if not isinstance(value, dict):
            raise serializers.ValidationError({field: [_("Give an object of slot → value.")]})
        return {str(k): "" if v is None else str(v) for k, v in value.items()}

    def validate(self, attrs):
        attrs["variables"] = self._string_dict(attrs.get("variables") or {}, "variables")
        attrs["mapping"] = self._string_dict(attrs.get("mapping") or {}, "mapping")
        attrs["attribute_mapping"] = self._string_dict(attrs.get("attribute_mapping") or {}, "attribute_mapping")
        has_file, has_list = attrs.get("file") is not None, attrs.get("recipients") is not None
        if has_file + has_list + (attrs.get("segment") is not None) != 1:
            raise serializers.ValidationError(
                {"recipients": [_("Give one of: a recipients list (JSON), a CSV file (multipart) or a segment.")]}
            )
        limit = int(conf.setting("CAMPAIGN_JSON_MAX_RECIPIENTS"))
        if has_list and len(attrs["recipients"]) > limit:
            raise serializers.ValidationError(
                {"recipients": [_("At most %(limit)d recipients in JSON; upload a CSV file for more.")
                                % {"limit": limit}]}
            )
        if has_list and not attrs["recipients"]:
            raise serializers.ValidationError({"recipients": [_("The list has no recipients.")]})
        return attrs


class CampaignStartSerializer(serializers.Serializer):
    start_at = serializers.DateTimeField(required=False, allow_null=True,
                                         help_text=_("Empty: now (or the campaign's own start time)."))


class CampaignRetrySerializer(serializers.Serializer):
    include_unknown = serializers.BooleanField(
        required=False, default=False,
        help_text=_("Also retry recipients whose outcome is unknown (they may get the message twice)."),
    )


class RecipientSerializer(serializers.ModelSerializer):
    row = serializers.IntegerField(source="row_number")
    message_status = serializers.CharField(source="message.status", read_only=True, default=None)
    provider_message_id = serializers.CharField(source="message.provider_message_id", read_only=True, default=None)

    class Meta:
        model = CampaignRecipient
        fields = ["id", "row", "phone", "variables", "state", "skip_reason", "skip_detail", "message",
                  "message_status", "provider_message_id", "error_code", "error", "finished_at"]
        read_only_fields = fields


class ReportIssueSerializer(serializers.ModelSerializer):
    row = serializers.IntegerField(source="row_number")
    reason = serializers.CharField(source="skip_reason")
    reason_label = serializers.CharField(source="get_skip_reason_display")
    detail = serializers.CharField(source="skip_detail")

    class Meta:
        model = CampaignRecipient
        fields = ["row", "phone", "reason", "reason_label", "detail"]
        read_only_fields = fields
