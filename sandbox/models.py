"""State of the simulated providers.

The sandbox keeps the world a real BSP would keep on its side: accounts and
their credentials, the Aldeamo inventory (clients → WABAs → phone numbers →
templates), Contacto Virtual templates and balance, every message accepted,
analytics history, and an outbox of callbacks (``SandboxCallback``) that are
posted to the portal when they fall due. Nothing here calls the network; the
``services*.py``, ``callbacks.py``, ``replies.py`` and ``delivery.py`` modules do the work.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

SHARE_VALIDATORS = [MinValueValidator(0.0), MaxValueValidator(1.0)]


class Provider(models.TextChoices):
    ALDEAMO = "aldeamo", "Aldeamo"
    CONTACTO_VIRTUAL = "contacto_virtual", "Contacto Virtual"


class SandboxAccount(models.Model):
    """One customer of both simulated BSPs, with its credentials and behaviour knobs.

    A single account carries both protocols' credentials because the demo
    portal configures one provider account per BSP against the same world.
    The knobs (fault injection, callback timing, shares) are per account so a
    test or a benchmark can make one account misbehave without touching others.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)

    # Aldeamo: ApiKey/UserId headers on sends and templates; ISV token on analytics.
    aldeamo_api_key = models.CharField(_("Aldeamo ApiKey"), max_length=64, unique=True)
    aldeamo_user_id = models.CharField(_("Aldeamo UserId"), max_length=32)
    aldeamo_token = models.CharField(_("Aldeamo ISV token"), max_length=64, unique=True)
    webhook_url = models.URLField(
        _("Aldeamo webhook URL"), max_length=500, blank=True, help_text=_("Where Aldeamo-style callbacks are posted.")
    )

    # Contacto Virtual: login/token in the form of every request.
    cv_login = models.CharField(_("Contacto Virtual login"), max_length=150, unique=True)
    cv_token = models.CharField(_("Contacto Virtual token"), max_length=64)
    cv_webhook_url = models.URLField(
        _("Contacto Virtual webhook URL"),
        max_length=500,
        blank=True,
        help_text=_("Where Contacto Virtual message events and replies are posted."),
    )
    cv_balance = models.IntegerField(_("Contacto Virtual balance"), default=0)
    cv_active = models.BooleanField(_("Contacto Virtual active"), default=True)
    cv_multiagent = models.BooleanField(
        _("has multiagent/chatbot"), default=True, help_text=_("Without it every Contacto Virtual call answers code 3.")
    )

    # Fault injection, applied to every endpoint once the account is identified.
    latency_ms = models.PositiveIntegerField(_("added latency (ms)"), default=0)
    error_share = models.FloatField(_("share of 5xx answers"), default=0.0, validators=SHARE_VALIDATORS)
    rate_limit_share = models.FloatField(_("share of 429 answers"), default=0.0, validators=SHARE_VALIDATORS)
    timeout_share = models.FloatField(_("share of timeouts"), default=0.0, validators=SHARE_VALIDATORS)
    timeout_seconds = models.FloatField(
        _("timeout duration (s)"),
        null=True,
        blank=True,
        help_text=_("How long a simulated timeout stalls. Empty: the portal's read timeout plus one second."),
    )
    random_seed = models.IntegerField(
        _("random seed"),
        null=True,
        blank=True,
        help_text=_("When set, faults and callback choices repeat exactly from one run to the next."),
    )
    random_draws = models.PositiveBigIntegerField(_("random draws so far"), default=0, editable=False)

    # Callbacks.
    status_delay_seconds = models.FloatField(
        _("status delay (s)"), default=2.0, help_text=_("Base delay between sent, delivered and read; 0 in tests.")
    )
    failed_share = models.FloatField(_("share of failed messages"), default=0.05, validators=SHARE_VALIDATORS)
    read_share = models.FloatField(_("share of delivered messages read"), default=0.85, validators=SHARE_VALIDATORS)
    reply_share = models.FloatField(
        _("share of read messages answered"),
        default=0.0,
        validators=SHARE_VALIDATORS,
        help_text=_("The simulated customer answers this share of the messages it reads."),
    )
    duplicate_share = models.FloatField(_("share of duplicated callbacks"), default=0.0, validators=SHARE_VALIDATORS)
    reorder_share = models.FloatField(
        _("share of reordered statuses"),
        default=0.0,
        validators=SHARE_VALIDATORS,
        help_text=_("This share of messages get their read status before the delivered one."),
    )
    template_review_seconds = models.FloatField(
        _("template review delay (s)"),
        default=30.0,
        help_text=_("Created templates stay PENDING this long, then become APPROVED (or REJECTED, see docs)."),
    )

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("sandbox account")
        verbose_name_plural = _("sandbox accounts")

    def __str__(self) -> str:
        return self.name

    @property
    def has_faults(self) -> bool:
        return bool(self.latency_ms or self.error_share or self.rate_limit_share or self.timeout_share)


class SandboxClient(models.Model):
    """An Aldeamo client (``clientId``) of the ISV account."""

    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="clients",
                                verbose_name=_("sandbox account"))
    client_id = models.PositiveIntegerField(_("clientId"))
    name = models.CharField(_("name"), max_length=150)

    class Meta:
        verbose_name = _("sandbox client")
        verbose_name_plural = _("sandbox clients")
        ordering = ["client_id"]
        constraints = [models.UniqueConstraint(fields=["account", "client_id"], name="sandbox_client_unique_id")]

    def __str__(self) -> str:
        return f"{self.client_id} {self.name}"


class SandboxWaba(models.Model):
    """A WhatsApp Business Account; its namespace must match on template sends."""

    client = models.ForeignKey(SandboxClient, on_delete=models.CASCADE, related_name="wabas",
                               verbose_name=_("sandbox client"))
    waba_id = models.CharField(_("WABA id"), max_length=32, unique=True)
    namespace = models.CharField(_("namespace"), max_length=64)
    name = models.CharField(_("name"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("sandbox WABA")
        verbose_name_plural = _("sandbox WABAs")
        ordering = ["waba_id"]

    def __str__(self) -> str:
        return f"{self.waba_id} {self.name}".strip()


class QualityRating(models.TextChoices):
    GREEN = "GREEN", _("Green")
    YELLOW = "YELLOW", _("Yellow")
    RED = "RED", _("Red")
    UNKNOWN = "UNKNOWN", _("Unknown")


class CodeVerificationStatus(models.TextChoices):
    VERIFIED = "VERIFIED", _("Verified")
    NOT_VERIFIED = "NOT_VERIFIED", _("Not verified")
    EXPIRED = "EXPIRED", _("Expired")


class SandboxPhoneNumber(models.Model):
    """A business number. ``number`` (digits) is what sends use in ``from``."""

    waba = models.ForeignKey(SandboxWaba, on_delete=models.CASCADE, related_name="phone_numbers",
                             verbose_name=_("sandbox WABA"))
    phone_number_id = models.CharField(_("phone number id"), max_length=32, unique=True)
    number = models.CharField(_("number (digits)"), max_length=20, unique=True)
    display_phone_number = models.CharField(_("display number"), max_length=32)
    verified_name = models.CharField(_("verified name"), max_length=150)
    code_verification_status = models.CharField(
        _("code verification status"),
        max_length=20,
        choices=CodeVerificationStatus.choices,
        default=CodeVerificationStatus.VERIFIED,
    )
    quality_rating = models.CharField(
        _("quality rating"), max_length=10, choices=QualityRating.choices, default=QualityRating.UNKNOWN
    )

    class Meta:
        verbose_name = _("sandbox phone number")
        verbose_name_plural = _("sandbox phone numbers")
        ordering = ["number"]

    def __str__(self) -> str:
        return self.display_phone_number

    def clean(self) -> None:
        digits = "".join(ch for ch in self.display_phone_number if ch.isdigit())
        if self.number and digits != self.number:
            raise ValidationError({"display_phone_number": _("The display number must have the same digits.")})


class TemplateStatus(models.TextChoices):
    APPROVED = "APPROVED", _("Approved")
    PENDING = "PENDING", _("Pending")
    REJECTED = "REJECTED", _("Rejected")
    PAUSED = "PAUSED", _("Paused")
    DISABLED = "DISABLED", pgettext_lazy("template status", "Disabled")


class SandboxTemplate(models.Model):
    """An Aldeamo template of a WABA, components kept in the createTemplate format.

    ``review_due_at`` is when a PENDING template gets its automatic decision;
    empty means it waits for a person (the admin's approve/reject actions).
    """

    waba = models.ForeignKey(SandboxWaba, on_delete=models.CASCADE, related_name="templates",
                             verbose_name=_("sandbox WABA"))
    template_id = models.CharField(_("template id"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=512)
    language = models.CharField(_("language"), max_length=16)
    category = models.CharField(_("category"), max_length=40)
    status = models.CharField(
        _("status"), max_length=16, choices=TemplateStatus.choices, default=TemplateStatus.PENDING
    )
    components = models.JSONField(_("components"), default=list)
    rejected_reason = models.CharField(_("rejection reason"), max_length=200, blank=True)
    review_due_at = models.DateTimeField(_("automatic review at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("sandbox template")
        verbose_name_plural = _("sandbox templates")
        ordering = ["waba_id", "name", "language"]
        constraints = [
            models.UniqueConstraint(fields=["waba", "name", "language"], name="sandbox_template_unique_name_lang")
        ]

    def __str__(self) -> str:
        return f"{self.name} [{self.language}] {self.status}"


class CVTemplateStatus(models.TextChoices):
    APPROVED = "approved", _("Approved")
    PENDING = "pending", _("Pending")
    REJECTED = "rejected", _("Rejected")


class SandboxCVTemplate(models.Model):
    """A Contacto Virtual template: numeric id, name and text with ``{1}`` placeholders."""

    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="cv_templates",
                                verbose_name=_("sandbox account"))
    id_template = models.PositiveIntegerField(_("id_template"))
    name = models.CharField(_("name"), max_length=200)
    text = models.TextField(_("text"))
    status = models.CharField(
        _("status"), max_length=10, choices=CVTemplateStatus.choices, default=CVTemplateStatus.APPROVED
    )

    class Meta:
        verbose_name = _("sandbox Contacto Virtual template")
        verbose_name_plural = _("sandbox Contacto Virtual templates")
        ordering = ["id_template"]
        constraints = [models.UniqueConstraint(fields=["account", "id_template"], name="sandbox_cvtemplate_unique_id")]

    def __str__(self) -> str:
        return f"{self.id_template} {self.name}"


class MessageStatus(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")
    FAILED = "failed", _("Failed")
    RECEIVED = "received", _("Received")


class Direction(models.TextChoices):
    OUTBOUND = "outbound", _("Outbound")
    INBOUND = "inbound", _("Inbound")


class SandboxMessage(models.Model):
    """A message the sandbox accepted (outbound) or simulated from a customer (inbound).

    ``message_id`` is the id the send answered with (Aldeamo's uuid for text
    and template, the WhatsApp id for the other types, Contacto Virtual's
    uuid); status callbacks carry that same id. ``whatsapp_id`` is the
    WhatsApp-side id, shown as ``messageId_whatsapp`` in Contacto Virtual events.
    """

    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="messages",
                                verbose_name=_("sandbox account"))
    provider = models.CharField(_("provider"), max_length=20, choices=Provider.choices)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices, default=Direction.OUTBOUND)
    message_id = models.CharField(_("message id"), max_length=100, unique=True)
    whatsapp_id = models.CharField(_("WhatsApp id"), max_length=100, blank=True)
    service = models.CharField(_("service"), max_length=20, blank=True)
    type = models.CharField(_("type"), max_length=20)
    from_number = models.CharField(_("from"), max_length=20)
    to_number = models.CharField(_("to"), max_length=20)
    body = models.JSONField(_("body"), default=dict)
    template_name = models.CharField(_("template name"), max_length=512, blank=True)
    context_message_id = models.CharField(_("in reply to"), max_length=100, blank=True)
    custom_field = models.CharField(_("custom field"), max_length=1000, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.ACCEPTED)
    error_code = models.CharField(_("error code"), max_length=10, blank=True)
    error_title = models.CharField(_("error title"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("sandbox message")
        verbose_name_plural = _("sandbox messages")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "to_number", "created_at"], name="sandbox_msg_to_idx")]

    def __str__(self) -> str:
        return f"{self.type} {self.from_number}→{self.to_number} {self.status}"


class ConversationType(models.TextChoices):
    UNKNOWN = "UNKNOWN", "UNKNOWN"
    FREE_ENTRY_POINT = "FREE_ENTRY_POINT", "FREE_ENTRY_POINT"
    FREE_TIER = "FREE_TIER", "FREE_TIER"
    REGULAR = "REGULAR", "REGULAR"


class ConversationDirection(models.TextChoices):
    UNKNOWN = "UNKNOWN", "UNKNOWN"
    USER_INITIATED = "USER_INITIATED", "USER_INITIATED"
    BUSINESS_INITIATED = "BUSINESS_INITIATED", "BUSINESS_INITIATED"


class SandboxAnalyticsPoint(models.Model):
    """Conversations started in one half hour, for one phone/country/type/direction.

    The finest grain getAnalytics offers; DAILY and MONTHLY are sums of these.
    ``start`` is UTC, and so are the dates getAnalytics receives and answers.
    """

    waba = models.ForeignKey(SandboxWaba, on_delete=models.CASCADE, related_name="analytics_points",
                             verbose_name=_("sandbox WABA"))
    phone_number = models.CharField(_("phone number"), max_length=20)
    start = models.DateTimeField(_("start"))
    country = models.CharField(_("country"), max_length=2)
    conversation_type = models.CharField(_("conversation type"), max_length=20, choices=ConversationType.choices)
    conversation_direction = models.CharField(_("conversation direction"), max_length=20,
                                              choices=ConversationDirection.choices)
    conversations = models.PositiveIntegerField(_("conversations"))

    class Meta:
        verbose_name = _("sandbox analytics point")
        verbose_name_plural = _("sandbox analytics points")
        indexes = [models.Index(fields=["waba", "start"], name="sandbox_point_waba_start_idx")]

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M} {self.phone_number} {self.country} {self.conversations}"


class CallbackKind(models.TextChoices):
    STATUS = "status", _("Aldeamo status")
    INBOUND = "inbound", _("Aldeamo inbound message")
    TEMPLATE_STATUS = "template_status", _("Template status update")
    TEMPLATE_CATEGORY = "template_category", _("Template category update")
    TEMPLATE_PERFORMANCE = "template_performance", _("Template performance metrics")
    CV_EVENT = "cv_event", _("Contacto Virtual message event")
    CV_REPLY = "cv_reply", _("Contacto Virtual customer reply")


class CallbackState(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERING = "delivering", _("Delivering")
    DELIVERED = "delivered", _("Delivered")
    SKIPPED = "skipped", _("Skipped (no webhook URL)")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class SandboxCallback(models.Model):
    """One webhook call the sandbox owes the portal, due at ``due_at``.

    An outbox rather than fire-and-forget: delays, retries with backoff,
    duplicates and reordering are all just rows with due times, delivery can be
    driven by the task worker (demo) or by a plain function call (tests), and
    the admin shows what was sent and what the portal answered. ``effect`` is
    the state change the event stands for (a message status, a template
    decision, a refund), applied once when the event falls due.
    """

    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="callbacks",
                                verbose_name=_("sandbox account"))
    provider = models.CharField(_("provider"), max_length=20, choices=Provider.choices)
    kind = models.CharField(_("kind"), max_length=24, choices=CallbackKind.choices)
    payload = models.JSONField(_("payload"))
    effect = models.JSONField(_("effect"), default=dict, blank=True)
    effect_applied = models.BooleanField(_("effect applied"), default=False)
    message = models.ForeignKey(
        SandboxMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="callbacks",
        verbose_name=_("sandbox message"),
    )
    template = models.ForeignKey(
        SandboxTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="callbacks",
        verbose_name=_("sandbox template"),
    )
    due_at = models.DateTimeField(_("due at"))
    state = models.CharField(_("state"), max_length=12, choices=CallbackState.choices, default=CallbackState.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    delivered_to = models.URLField(_("delivered to"), max_length=500, blank=True)
    last_status_code = models.PositiveIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("sandbox callback")
        verbose_name_plural = _("sandbox callbacks")
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["state", "due_at"], name="sandbox_cb_state_due_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.due_at:%Y-%m-%d %H:%M:%S} ({self.state})"
