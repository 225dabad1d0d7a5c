from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import WhatsAppBusinessAccount
from templates_mgr.models import Template, TemplateChange


class TemplateChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = TemplateChange
        fields = ["at", "field", "old_value", "new_value", "reason", "source"]


class TemplateSerializer(serializers.ModelSerializer):
    waba_id = serializers.CharField(source="waba.waba_id", read_only=True, default=None, allow_null=True)
    is_deleted = serializers.BooleanField(read_only=True)
    needs_provider_template_id = serializers.SerializerMethodField(
        help_text=_("A Contacto Virtual template without its id_template: it cannot be sent until it is set "
                    "(PATCH provider_template_id)."))

    def get_needs_provider_template_id(self, obj: Template) -> bool:
        return obj.needs_provider_template_id

    class Meta:
        model = Template
        fields = [
            "id",
            "client",
            "waba",
            "waba_id",
            "provider_template_id",
            "needs_provider_template_id",
            "name",
            "language",
            "category",
            "status",
            "rejected_reason",
            "components",
            "text",
            "quality_score",
            "messages_sent_7d",
            "messages_opened_7d",
            "top_block_reason",
            "synced_at",
            "is_deleted",
            "deleted_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class TemplateDetailSerializer(TemplateSerializer):
    history = TemplateChangeSerializer(source="changes", many=True, read_only=True)

    class Meta(TemplateSerializer.Meta):
        fields = [*TemplateSerializer.Meta.fields, "history"]
        read_only_fields = fields


class TemplateUpdateSerializer(serializers.Serializer):
    """Input of PATCH /templates/{id}/: what the provider cannot list."""

    provider_template_id = serializers.CharField(
        max_length=64, allow_blank=True,
        help_text=_("Contacto Virtual's id_template (a number), needed to send the template."),
    )


class TemplateCreateSerializer(serializers.Serializer):
    """Input of POST /templates/: Aldeamo's createTemplate shape, plus our WABA id."""

    waba = serializers.PrimaryKeyRelatedField(
        queryset=WhatsAppBusinessAccount.objects.none(), help_text=_("Our id of the WABA (see /api/v1/wabas/).")
    )
    name = serializers.CharField(max_length=512)
    language = serializers.CharField(max_length=16)
    category = serializers.CharField(max_length=32)
    components = serializers.ListField(child=serializers.DictField(), allow_empty=False)

    def __init__(self, *args, wabas=None, **kwargs):
        super().__init__(*args, **kwargs)
        if wabas is not None:
            self.fields["waba"].queryset = wabas
