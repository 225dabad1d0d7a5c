from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts import conf
from accounts.models import Client, PhoneNumber, ProviderAccount, WhatsAppBusinessAccount
from accounts.tenancy import is_operator


def absolute_url(request, path: str) -> str:
    base = conf.setting("PUBLIC_BASE_URL").rstrip("/")
    if base:
        return base + path
    if request is not None:
        return request.build_absolute_uri(path)
    return path


class ProviderAccountSerializer(serializers.ModelSerializer):
    """Provider credentials. Secrets are write-only: they go in and never come back."""

    api_key = serializers.CharField(
        write_only=True, required=False, allow_blank=True, trim_whitespace=True, style={"input_type": "password"}
    )
    analytics_token = serializers.CharField(
        write_only=True, required=False, allow_blank=True, trim_whitespace=True, style={"input_type": "password"}
    )
    token = serializers.CharField(
        write_only=True, required=False, allow_blank=True, trim_whitespace=True, style={"input_type": "password"}
    )
    webhook_url = serializers.SerializerMethodField(
        help_text=_("Give this URL to the provider for its callbacks. Shown to operators only (null for others).")
    )
    has_api_key = serializers.SerializerMethodField()
    has_analytics_token = serializers.SerializerMethodField()
    has_token = serializers.SerializerMethodField()

    class Meta:
        model = ProviderAccount
        fields = [
            "id",
            "name",
            "provider",
            "environment",
            "base_url",
            "user_id",
            "api_key",
            "analytics_token",
            "templates_list_path",
            "login",
            "token",
            "line_number",
            "is_active",
            "webhook_url",
            "has_api_key",
            "has_analytics_token",
            "has_token",
            "balance",
            "balance_checked_at",
            "last_sync_at",
            "last_sync_error",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["balance", "balance_checked_at", "last_sync_at", "last_sync_error", "created_at", "updated_at"]

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_webhook_url(self, obj: ProviderAccount) -> str | None:
        """Operators only: the URL carries the secret that lets anyone post events into every client."""
        request = self.context.get("request")
        if request is None or not is_operator(request.user):
            return None
        return absolute_url(request, obj.webhook_path)

    def get_has_api_key(self, obj: ProviderAccount) -> bool:
        return bool(obj.api_key)

    def get_has_analytics_token(self, obj: ProviderAccount) -> bool:
        return bool(obj.analytics_token)

    def get_has_token(self, obj: ProviderAccount) -> bool:
        return bool(obj.token)


class AccountSyncResultSerializer(serializers.Serializer):
    clients = serializers.IntegerField()
    wabas = serializers.IntegerField()
    phone_numbers = serializers.IntegerField()
    templates = serializers.IntegerField()
    deactivated = serializers.IntegerField()
    warnings = serializers.ListField(child=serializers.CharField())


class ClientSerializer(serializers.ModelSerializer):
    provider = serializers.CharField(source="provider_account.provider", read_only=True)

    class Meta:
        model = Client
        fields = ["id", "client_id", "name", "provider_account", "provider", "is_active", "synced_at"]


class WabaSerializer(serializers.ModelSerializer):
    client_id = serializers.CharField(source="client.client_id", read_only=True)

    class Meta:
        model = WhatsAppBusinessAccount
        fields = ["id", "waba_id", "name", "namespace", "client", "client_id", "is_active", "synced_at"]


@extend_schema_field(serializers.IntegerField())
class _ScopedClientField(serializers.PrimaryKeyRelatedField):
    """A client the requesting user can see (another tenant's client "does not exist")."""

    def get_queryset(self):
        from accounts.tenancy import scope

        request = self.context.get("request")
        return scope(Client.objects.select_related("provider_account"), getattr(request, "user", None), "pk")


@extend_schema_field(serializers.IntegerField())
class _ScopedWabaField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        from accounts.tenancy import scope

        request = self.context.get("request")
        return scope(WhatsAppBusinessAccount.objects.all(), getattr(request, "user", None), "client")


class WabaCreateSerializer(serializers.Serializer):
    """A WABA entered by hand: the client it belongs to, its id and the template namespace."""

    client = _ScopedClientField(help_text=_("The client (id in /api/v1/clients/)."))
    waba_id = serializers.CharField(max_length=64, help_text=_("The WhatsApp Business Account id (digits)."))
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    namespace = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="",
        help_text=_("The template namespace (WhatsApp Manager); sent with every template message."),
    )


class WabaUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    namespace = serializers.CharField(max_length=100, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class PhoneNumberCreateSerializer(serializers.Serializer):
    """A business number entered by hand."""

    client = _ScopedClientField(help_text=_("The client (id in /api/v1/clients/)."))
    waba = _ScopedWabaField(required=False, allow_null=True, default=None,
                            help_text=_("The number's WABA (required for Aldeamo)."))
    digits = serializers.CharField(max_length=20, help_text=_("The number with country code, digits only."))
    display_phone_number = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    verified_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    phone_number_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    send_limit = serializers.IntegerField(
        min_value=1, max_value=1000, required=False,
        help_text=_("The number's sending limit in messages per second (default 80; 1,000 after Meta's upgrade, "
                    "20 for a coexistence number), shared by its campaigns, the composer and the API."))


class PhoneNumberUpdateSerializer(serializers.Serializer):
    waba = _ScopedWabaField(required=False, allow_null=True)
    display_phone_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    verified_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)
    send_limit = serializers.IntegerField(
        min_value=1, max_value=1000, required=False,
        help_text=_("The number's sending limit in messages per second (default 80; 1,000 after Meta's upgrade, "
                    "20 for a coexistence number), shared by its campaigns, the composer and the API."))


class PhoneNumberSerializer(serializers.ModelSerializer):
    client_id = serializers.CharField(source="client.client_id", read_only=True)
    waba_id = serializers.CharField(source="waba.waba_id", read_only=True, default=None, allow_null=True)
    send_limit = serializers.SerializerMethodField(
        help_text=_("The number's sending limit in messages per second (default 80)."))

    class Meta:
        model = PhoneNumber
        fields = [
            "id",
            "phone_number_id",
            "display_phone_number",
            "digits",
            "verified_name",
            "code_verification_status",
            "quality_rating",
            "client",
            "client_id",
            "waba",
            "waba_id",
            "is_active",
            "synced_at",
            "send_limit",
        ]

    @extend_schema_field(serializers.IntegerField())
    def get_send_limit(self, number: PhoneNumber) -> int:
        from accounts import rates

        return rates.number_limit(number)
