"""Provider accounts, the inventory synced from them, and who may see what.

Tenancy: a :class:`Client` is a business the portal serves (a provider's
``clientId`` for Aldeamo, the account's login for Contacto Virtual). Users
belong to clients through :class:`Membership` with a role; every object in the
portal hangs off a client and is visible only to that client's members (and
to superusers, the portal's operators).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.crypto import EncryptedTextField
from providers import registry


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class Environment(models.TextChoices):
    TEST = "test", _("Test")
    PRODUCTION = "production", _("Production")


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin (credentials, templates)")
    AGENT = "agent", _("Agent (send, answer, campaigns)")
    VIEWER = "viewer", _("Viewer (read, analytics)")


ROLE_RANK = {Role.VIEWER: 1, Role.AGENT: 2, Role.ADMIN: 3}


class QualityRating(models.TextChoices):
    GREEN = "GREEN", _("High (green)")
    YELLOW = "YELLOW", _("Medium (yellow)")
    RED = "RED", _("Low (red)")
    UNKNOWN = "UNKNOWN", _("Unknown")


class TimeStamped(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class ProviderAccount(TimeStamped):
    """Credentials for one provider, and where its API lives.

    Secrets (``api_key``, ``analytics_token``, ``token``) are encrypted at rest
    and never rendered back; ``webhook_secret`` is the unguessable path part
    of the URL the provider calls us at.
    """

    name = models.CharField(_("name"), max_length=120)
    # The registered providers (providers.registry): a callable, so a new provider needs no migration.
    provider = models.CharField(_("provider"), max_length=32, choices=registry.choices)
    environment = models.CharField(
        _("environment"),
        max_length=16,
        choices=Environment.choices,
        default=Environment.TEST,
        help_text=_("Chooses the provider's default base URL when none is given."),
    )
    base_url = models.URLField(
        _("base URL"),
        blank=True,
        help_text=_("Leave empty to use the provider's URL for the environment (a sandbox or proxy goes here)."),
    )
    # Aldeamo: sending and templates.
    user_id = models.CharField(_("user id"), max_length=64, blank=True)
    api_key = EncryptedTextField(_("API key"), blank=True)
    # Aldeamo ISV: analytics, WABAs by token, phone numbers.
    analytics_token = EncryptedTextField(_("ISV analytics token"), blank=True)
    templates_list_path = models.CharField(
        _("template listing path"),
        max_length=64,
        default="getTemplates",
        help_text=_(
            "Aldeamo's manual lists templates at getTemplates in both environments; change it only if your "
            "provider told you another path."
        ),
    )
    # Contacto Virtual.
    login = models.CharField(_("login"), max_length=254, blank=True)
    token = EncryptedTextField(_("token"), blank=True)
    line_number = models.CharField(
        _("line number"),
        max_length=20,
        blank=True,
        help_text=_("Contacto Virtual: the account's sending number, digits with country code."),
    )
    balance = models.DecimalField(_("balance"), max_digits=14, decimal_places=2, null=True, blank=True)
    balance_checked_at = models.DateTimeField(_("balance checked"), null=True, blank=True)

    webhook_secret = models.CharField(_("webhook secret"), max_length=64, unique=True, default=new_webhook_secret,
                                      editable=False)
    # After a rotation the provider may still call the old URL until an operator
    # updates it there: the old secret keeps working until this time.
    previous_webhook_secret = models.CharField(_("previous webhook secret"), max_length=64, blank=True,
                                               editable=False)
    previous_webhook_secret_until = models.DateTimeField(_("previous webhook secret accepted until"), null=True,
                                                         blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    last_sync_at = models.DateTimeField(_("last sync"), null=True, blank=True)
    last_sync_error = models.TextField(_("last sync error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("created by"),
    )

    SECRET_FIELDS = ("api_key", "analytics_token", "token")

    class Meta:
        verbose_name = _("provider account")
        verbose_name_plural = _("provider accounts")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_provider_display()})"

    def __repr__(self) -> str:  # never the secrets
        return f"<ProviderAccount {self.pk} {self.provider} {self.name!r}>"

    @property
    def spec(self):
        """This account's provider as registered (its capabilities, base URLs, credential fields)."""
        return registry.spec(self.provider)

    @property
    def capabilities(self):
        return self.spec.capabilities

    def credentials(self) -> dict[str, str]:
        """The values of the provider's credential fields (secrets decrypted: for the gateway only)."""
        return {field.name: getattr(self, field.name) or "" for field in self.spec.credential_fields}

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.provider:
            try:
                errors.update(self.spec.credential_problems(self.credentials()))
            except registry.UnknownProvider:
                errors["provider"] = _("No provider %(provider)s is installed.") % {"provider": self.provider}
        if self.templates_list_path and not self.templates_list_path.replace("_", "").isalnum():
            errors["templates_list_path"] = _("Letters, digits and underscores only, e.g. getTemplates.")
        if errors:
            raise ValidationError(errors)

    @property
    def effective_base_url(self) -> str:
        if self.base_url:
            return self.base_url
        return self.spec.base_urls[self.environment]

    @property
    def webhook_path(self) -> str:
        return f"/webhooks/{self.spec.webhook_slug}/{self.webhook_secret}/"


class Client(TimeStamped):
    """A business served through a provider account: the unit of tenancy."""

    provider_account = models.ForeignKey(
        ProviderAccount, on_delete=models.CASCADE, related_name="clients", verbose_name=_("provider account")
    )
    client_id = models.CharField(_("provider client id"), max_length=64)
    name = models.CharField(_("name"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    synced_at = models.DateTimeField(_("synced"), null=True, blank=True)

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["name", "client_id"]
        constraints = [
            models.UniqueConstraint(fields=["provider_account", "client_id"], name="client_unique_per_account"),
        ]

    def __str__(self) -> str:
        return self.name or f"{_('Client')} {self.client_id}"


class WhatsAppBusinessAccount(TimeStamped):
    """A WABA (``wabaId``) of a client; templates live per WABA."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="wabas", verbose_name=_("client"))
    waba_id = models.CharField(_("WABA id"), max_length=64)
    name = models.CharField(_("name"), max_length=200, blank=True)
    namespace = models.CharField(
        _("template namespace"), max_length=100, blank=True, help_text=_("Sent with every template message.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    synced_at = models.DateTimeField(_("synced"), null=True, blank=True)

    class Meta:
        verbose_name = _("WhatsApp Business account")
        verbose_name_plural = _("WhatsApp Business accounts")
        ordering = ["client_id", "waba_id"]
        constraints = [models.UniqueConstraint(fields=["client", "waba_id"], name="waba_unique_per_client")]

    def __str__(self) -> str:
        return self.name or self.waba_id


class PhoneNumber(TimeStamped):
    """A business number: the ``from`` of every message we send."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="phone_numbers", verbose_name=_("client"))
    waba = models.ForeignKey(
        WhatsAppBusinessAccount,
        on_delete=models.CASCADE,
        related_name="phone_numbers",
        null=True,
        blank=True,
        verbose_name=_("WABA"),
        help_text=_("Empty for a Contacto Virtual line."),
    )
    phone_number_id = models.CharField(_("provider id"), max_length=64)
    display_phone_number = models.CharField(_("display number"), max_length=40)
    digits = models.CharField(_("number (digits)"), max_length=20, db_index=True)
    verified_name = models.CharField(_("verified name"), max_length=200, blank=True)
    code_verification_status = models.CharField(_("code verification"), max_length=40, blank=True)
    quality_rating = models.CharField(
        _("quality rating"), max_length=16, choices=QualityRating.choices, default=QualityRating.UNKNOWN
    )
    is_active = models.BooleanField(_("active"), default=True)
    synced_at = models.DateTimeField(_("synced"), null=True, blank=True)

    class Meta:
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")
        ordering = ["client_id", "digits"]
        constraints = [
            models.UniqueConstraint(fields=["client", "phone_number_id"], name="phone_unique_per_client"),
        ]

    def __str__(self) -> str:
        label = self.display_phone_number or self.digits
        return f"{label} · {self.verified_name}" if self.verified_name else label

    @property
    def provider_account(self) -> ProviderAccount:
        return self.client.provider_account


class Membership(TimeStamped):
    """A user's role in a client."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("client"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "client"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} · {self.client} · {self.get_role_display()}"


class UserProfile(models.Model):
    """Per-user display preferences."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_profile",
                                verbose_name=_("user"))
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, help_text=_("e.g. America/Bogota"))

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return str(self.user)


class AuditEntry(models.Model):
    """Who changed credentials, memberships, templates and campaigns, and how.

    ``changes`` lists field names (and old/new values for non-secret fields);
    secret values are never recorded.
    """

    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("who")
    )
    action = models.CharField(_("action"), max_length=64)
    target_type = models.CharField(_("object type"), max_length=64)
    target_id = models.CharField(_("object id"), max_length=64)
    target_repr = models.CharField(_("object"), max_length=200)
    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("client"))
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.target_repr}"


class RateCounter(models.Model):
    """Hits in the current rate-limit window of one ``scope:ident``, shared by every process and machine.

    One upsert per check (waportal.throttling); rows of ended windows are
    deleted now and then by the same code.
    """

    key = models.CharField(max_length=255, primary_key=True)
    hits = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("rate counter")
        verbose_name_plural = _("rate counters")

    def __str__(self) -> str:
        return f"{self.key}: {self.hits}"


class NumberRate(models.Model):
    """A business number's send limit, shared by everything that sends from it, and its token bucket.

    WhatsApp counts a number's messages together, whoever sends them: every
    campaign worker on every machine, the composer, the API and automatic
    replies take their send slots here (:mod:`accounts.rates`). ``next_slot``
    is the epoch second of the number's next free slot, advanced with one
    atomic ``UPDATE … RETURNING`` per grant; ``throttled_until`` is set when
    the provider answered "too fast" (429, WhatsApp 130429), and the pages say
    so until then. The row is created on the number's first send with the
    configured default (``CAMPAIGN_PACE_LIMIT`` / ``CAMPAIGN_PACE_LIMITS``);
    an operator edits ``per_second`` in the admin (1,000 after Meta's upgrade,
    20 for a coexistence number).
    """

    phone_number = models.OneToOneField(PhoneNumber, on_delete=models.CASCADE, primary_key=True,
                                        related_name="send_rate", verbose_name=_("business number"))
    per_second = models.PositiveIntegerField(
        _("messages per second"), default=80, validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_("WhatsApp's limit for this number: 80 by default, 1,000 after Meta's upgrade, 20 for a "
                    "coexistence number. Campaigns, the composer and the API share it."))
    next_slot = models.FloatField(default=0.0, editable=False)
    throttled_until = models.FloatField(default=0.0, editable=False)

    class Meta:
        # Created by campaigns (migration 0003) when the bucket lived there; the table keeps its name.
        db_table = "campaigns_numberrate"
        verbose_name = _("number send limit")
        verbose_name_plural = _("number send limits")

    def __str__(self) -> str:
        return f"{self.phone_number} — {self.per_second}/s"
