"""Outgoing webhooks (endpoints, the outbox of deliveries and their attempts) and alerts (with read state)."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.crypto import EncryptedTextField
from accounts.models import Client
from waportal.words import word


def new_signing_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class EventType(models.TextChoices):
    MESSAGE_RECEIVED = "message.received", _("Message received")
    MESSAGE_STATUS = "message.status", _("Message status changed")
    TEMPLATE_STATUS = "template.status", _("Template status or category changed")
    CAMPAIGN_STARTED = "campaign.started", _("Campaign started")
    CAMPAIGN_PAUSED = "campaign.paused", _("Campaign paused")
    CAMPAIGN_FINISHED = "campaign.finished", _("Campaign finished")
    # Declared for the apps that will fire them (workspace, inventory refresh, contacts): not fired yet.
    CONVERSATION_ASSIGNED = "conversation.assigned", _("Conversation assigned")
    CONVERSATION_RESOLVED = "conversation.resolved", _("Conversation resolved")
    NUMBER_QUALITY = "number.quality", _("Number quality changed")
    CONTACT_OPTED_OUT = "contact.opted_out", _("Contact opted out")


class WebhookEndpoint(models.Model):
    """A URL of a client's own system that receives the client's events, signed with its secret."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="webhook_endpoints",
                               verbose_name=_("client"))
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list, blank=True,
                              help_text=_("Event types sent to this URL; empty: every type."))
    is_active = models.BooleanField(_("active"), default=True)
    # Shown once (creation, rotation); the database holds it encrypted.
    secret = EncryptedTextField(_("signing secret"), default=new_signing_secret)
    # After a rotation the old secret still signs (a second v1 signature) until this time.
    previous_secret = EncryptedTextField(_("previous signing secret"), blank=True, default="")
    previous_secret_until = models.DateTimeField(_("previous secret valid until"), null=True, blank=True)
    allow_private_network = models.BooleanField(
        _("allow private addresses"), default=False,
        help_text=_("Operators only: let this URL point at private or loopback addresses."))
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    # Consecutive failed attempts, and when the endpoint may be tried again (every delivery waits for it).
    failures = models.PositiveIntegerField(_("consecutive failures"), default=0)
    retry_at = models.DateTimeField(_("retry at"), null=True, blank=True)
    # Worker coordination: one delivery run per endpoint at a time; the next wake-up already enqueued.
    lease_until = models.DateTimeField(null=True, blank=True)
    wake_at = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(_("disabled"), null=True, blank=True)
    disabled_reason = models.TextField(_("why disabled"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("created by"))

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return self.is_active and (not self.events or event_type in self.events)


class OutboxEvent(models.Model):
    """An event waiting to be fanned out into its endpoints' deliveries: the outbox, written in the transaction
    of its cause (one row per event whatever the number of endpoints; the primary key its only index). The
    delivery runs turn these rows into ``Delivery`` rows, in id order, and delete them."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+", db_index=False)
    event_id = models.UUIDField(default=uuid.uuid4)
    type = models.CharField(max_length=32, choices=EventType.choices)
    ordering_key = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"


class Delivery(models.Model):
    """One event for one endpoint: the outbox row, written in the transaction of its cause.

    ``event_id`` is the envelope's id, the same for every endpoint receiving the event (receivers deduplicate
    on it). ``ordering_key`` groups the events that must arrive in order (one conversation, one campaign).
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        GIVEN_UP = "given_up", _("Given up")

    # Two indexes only (the primary key and notif_delivery_due): every row is written on the ingest path.
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries",
                                 verbose_name=_("endpoint"), db_index=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+", verbose_name=_("client"),
                               db_index=False)
    event_id = models.UUIDField(_("event id"), default=uuid.uuid4)
    type = models.CharField(_("event"), max_length=32, choices=EventType.choices)
    ordering_key = models.CharField(_("ordering key"), max_length=64, blank=True)
    data = models.JSONField(_("data"), default=dict)
    created_at = models.DateTimeField(_("created"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    last_status_code = models.PositiveIntegerField(_("last answer"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        indexes = [models.Index(fields=["endpoint", "state", "id"], name="notif_delivery_due")]

    def __str__(self) -> str:
        return f"{self.type} → {self.endpoint_id}"


class DeliveryAttempt(models.Model):
    """One POST of a delivery: the delivery log (status, latency, the start of the answer)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log",
                                 verbose_name=_("delivery"))
    at = models.DateTimeField(_("when"))
    status_code = models.PositiveIntegerField(_("answer"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), default=0)
    response_excerpt = models.TextField(_("answer excerpt"), blank=True)
    error = models.TextField(_("error"), blank=True)
    success = models.BooleanField(_("success"), default=False)
    manual = models.BooleanField(_("manual redelivery"), default=False)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} @ {self.at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error[:40]}"


class AlertKind(models.TextChoices):
    TEMPLATE_PAUSED = "template.paused", _("Template paused")
    TEMPLATE_REJECTED = "template.rejected", _("Template rejected")
    TEMPLATE_DISABLED = "template.disabled", _("Template disabled")
    TEMPLATE_CATEGORY = "template.category", _("Template category changed")
    CAMPAIGN_PAUSED = "campaign.auto_paused", _("Campaign paused by the portal")
    WEBHOOK_UNPROCESSED = "webhook.unprocessed", _("Provider events not processed")
    ENDPOINT_DISABLED = "endpoint.disabled", _("Webhook endpoint disabled")
    NUMBER_QUALITY = "number.quality", _("Number quality changed")
    CREDENTIALS_REFUSED = "account.credentials", _("Provider refused the credentials")
    EVENTS_BACKLOG = "ops.events_backlog", _("Provider events waiting too long")
    WORKERS_STALLED = "ops.workers_stalled", _("Background work stalled")


class Alert(models.Model):
    """Something a client's people must know; repeats of one kind for one object are grouped (``count``)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="alerts", verbose_name=_("client"))
    kind = models.CharField(_("kind"), max_length=32, choices=AlertKind.choices)
    object_key = models.CharField(_("object"), max_length=64, blank=True)
    # Stored as msgid + parameters so each reader sees it in their own language.
    params = models.JSONField(_("details"), default=dict, blank=True)
    count = models.PositiveIntegerField(_("times"), default=1)
    first_at = models.DateTimeField(_("first"))
    last_at = models.DateTimeField(_("last"), db_index=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-last_at", "-id"]
        indexes = [models.Index(fields=["client", "kind", "object_key", "-last_at"], name="notif_alert_group")]

    def __str__(self) -> str:
        from notifications.alert_texts import alert_title

        return str(alert_title(self))


class AlertReceipt(models.Model):
    """An alert in one person's bell: read or not, emailed or not."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="receipts", verbose_name=_("alert"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_receipts",
                             verbose_name=_("user"))
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert receipt")
        verbose_name_plural = _("alert receipts")
        constraints = [models.UniqueConstraint(fields=["alert", "user"], name="notif_receipt_once")]
        indexes = [models.Index(fields=["user", "read_at"], name="notif_receipt_unread")]

    def __str__(self) -> str:
        return f"{self.alert_id} → {self.user_id}"


class AlertSubscription(models.Model):
    """What one person hears of one client. A client's admins without a row get every alert by email."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_subscriptions",
                             verbose_name=_("user"))
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+", verbose_name=_("client"))
    is_active = models.BooleanField(_("subscribed"), default=True)
    kinds = models.JSONField(_("kinds"), default=list, blank=True, help_text=_("Empty: every kind."))
    email = models.BooleanField(_("by email"), default=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, blank=True,
                                help_text=_("Empty: the portal's language."))

    class Meta:
        verbose_name = _("alert subscription")
        verbose_name_plural = _("alert subscriptions")
        constraints = [models.UniqueConstraint(fields=["user", "client"], name="notif_subscription_once")]

    def __str__(self) -> str:
        return f"{self.user} · {self.client}"


class InventoryChange(models.Model):
    """One change a scheduled refresh found on a business number (quality rating, verification): its history.

    Templates keep theirs in ``templates_mgr.TemplateChange``.
    """

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+", verbose_name=_("client"))
    phone_number = models.ForeignKey("accounts.PhoneNumber", on_delete=models.CASCADE, related_name="+",
                                     verbose_name=_("number"))
    field = models.CharField(_("field"), max_length=32)
    old_value = models.CharField(pgettext_lazy("value change", "from"), max_length=64, blank=True)
    new_value = models.CharField(pgettext_lazy("value change", "to"), max_length=64, blank=True)
    at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("number change")
        verbose_name_plural = _("number history")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.phone_number_id}: {word('field', self.field)} {self.value_words(self.old_value)} → " \
               f"{self.value_words(self.new_value)}"

    def value_words(self, value: str) -> str:
        """A quality rating or verification as the reader says it (never the provider's SCREAMING_CASE)."""
        mapping = {"quality_rating": "quality", "code_verification_status": "code_verification"}.get(self.field)
        return word(mapping, value) if mapping else value


class ScheduledJob(models.Model):
    """A job the task workers run on a schedule (no cron): when it is next due, claimed by one UPDATE."""

    name = models.CharField(max_length=64, primary_key=True)
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name
