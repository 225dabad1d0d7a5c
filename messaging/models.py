"""Messages, contacts, conversations, and the raw webhook events they come from.

Invariants the models own:
- a message's status only moves forward (``Message.advance``): queued < sending
  < sent < delivered < read; ``failed`` and ``unknown`` are terminal-ish states a
  later, stronger status can still resolve (a ``read`` proves delivery);
- a webhook body is stored once per account (unique hash), before anything else.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Client, PhoneNumber, ProviderAccount


class Direction(models.TextChoices):
    OUTBOUND = "out", _("Sent")
    INBOUND = "in", _("Received")


class MessageType(models.TextChoices):
    TEXT = "text", _("Text")
    TEMPLATE = "template", _("Template")
    IMAGE = "image", _("Image")
    AUDIO = "audio", _("Audio")
    VIDEO = "video", _("Video")
    DOCUMENT = "document", _("Document")
    STICKER = "sticker", _("Sticker")
    LOCATION = "location", _("Location")
    CONTACTS = "contacts", _("Contacts")
    INTERACTIVE = "interactive", _("Interactive")
    # Inbound only.
    VOICE = "voice", _("Voice note")
    BUTTON = "button", _("Quick reply")
    ORDER = "order", _("Order")
    REFERRAL = "referral", _("Ad referral")
    UNSUPPORTED = "unsupported", _("Unsupported")


# A message in a few words, whole phrases so each language agrees them ("Plantilla enviada", "Texto enviado").
SENT_TITLES = {
    MessageType.TEXT: _("Text sent"), MessageType.TEMPLATE: _("Template sent"), MessageType.IMAGE: _("Image sent"),
    MessageType.AUDIO: _("Audio sent"), MessageType.VIDEO: _("Video sent"), MessageType.DOCUMENT: _("Document sent"),
    MessageType.STICKER: _("Sticker sent"), MessageType.LOCATION: _("Location sent"),
    MessageType.CONTACTS: _("Contacts sent"), MessageType.INTERACTIVE: _("Interactive message sent"),
}
RECEIVED_TITLES = {
    MessageType.TEXT: _("Text received"), MessageType.IMAGE: _("Image received"),
    MessageType.AUDIO: _("Audio received"), MessageType.VIDEO: _("Video received"),
    MessageType.DOCUMENT: _("Document received"), MessageType.STICKER: _("Sticker received"),
    MessageType.LOCATION: _("Location received"), MessageType.CONTACTS: _("Contacts received"),
    MessageType.INTERACTIVE: _("Choice received"), MessageType.VOICE: _("Voice note received"),
    MessageType.BUTTON: _("Quick reply received"), MessageType.ORDER: _("Order received"),
    MessageType.REFERRAL: _("Message from an ad received"), MessageType.TEMPLATE: _("Template received"),
}


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    UNKNOWN = "unknown", _("Unknown (no answer)")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")
    FAILED = "failed", _("Failed")
    RECEIVED = "received", _("Received")


# How far along a message is. A status only replaces one of lower rank.
# ``failed`` outranks sent/delivered (a failure after acceptance is final), but
# a ``read`` still beats it: the customer saw the message, whatever failed.
STATUS_RANK = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.UNKNOWN: 2,
    MessageStatus.SENT: 3,
    MessageStatus.DELIVERED: 4,
    MessageStatus.FAILED: 5,
    MessageStatus.READ: 6,
    MessageStatus.RECEIVED: 6,
}


class SendOutcome(models.TextChoices):
    """What the provider did with our send request (what ``POST /api/v1/messages/`` answers on, also on replay)."""

    ACCEPTED = "accepted", _("Accepted by the provider")
    REFUSED = "refused", _("Refused by the provider")
    CONFIGURATION = "configuration", _("Provider account misconfigured")
    UNREACHABLE = "unreachable", _("Provider unreachable")
    UNKNOWN = "unknown", _("Outcome unknown")


class Contact(models.Model):
    """A customer's WhatsApp number, per client, with the profile name they show."""

    # Foreign keys below with db_index=False are served by a composite index or unique constraint leading
    # with the same column (named in each model's Meta): one index write less per row on the hot paths.
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("client"),
                               db_index=False)
    wa_id = models.CharField(_("WhatsApp number"), max_length=20)
    profile_name = models.CharField(_("name"), max_length=200, blank=True)
    # The consent state every send reads (messaging.sending.checks); its history and the services that change
    # it live in the contacts app (ConsentEvent, contact_opt_out / contact_opt_in).
    opted_out = models.BooleanField(_("opted out"), default=False)
    language = models.CharField(_("language"), max_length=16, blank=True)
    # Values of the client's attribute definitions (contacts.AttributeDefinition), checked by contacts' services.
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [models.UniqueConstraint(fields=["client", "wa_id"], name="contact_unique_per_client")]

    def __str__(self) -> str:
        return f"{self.profile_name} (+{self.wa_id})" if self.profile_name else f"+{self.wa_id}"


class ConversationStatus(models.TextChoices):
    """Where a conversation is in the staff's work (Chatwoot's four states)."""

    OPEN = "open", pgettext_lazy("conversation status", "Open")
    PENDING = "pending", _("Pending")
    RESOLVED = "resolved", _("Resolved")
    SNOOZED = "snoozed", _("Snoozed")


class Label(models.Model):
    """A word the client's staff tag conversations with (``billing``, ``vip``)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="labels", verbose_name=_("client"),
                               db_index=False)
    name = models.CharField(_("name"), max_length=40)
    color = models.CharField(_("color"), max_length=7, default="#64748b")

    class Meta:
        verbose_name = _("label")
        verbose_name_plural = _("labels")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["client", "name"], name="label_unique_per_client")]

    def __str__(self) -> str:
        return self.name


class Conversation(models.Model):
    """One business number talking with one contact: the inbox's unit.

    ``updated_at`` moves on every change an inbox shows (a message in or out, a workflow change): the
    workspace's list polls "changed since" on it. ``snoozed_until`` is set exactly when the status is snoozed.
    """

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="conversations", verbose_name=_("client"),
                               db_index=False)
    phone_number = models.ForeignKey(
        PhoneNumber, on_delete=models.CASCADE, related_name="conversations", verbose_name=_("business number"),
        db_index=False,
    )
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="conversations",
                                verbose_name=_("contact"))
    last_message_at = models.DateTimeField(_("last activity"), null=True, blank=True, db_index=True)
    last_inbound_at = models.DateTimeField(_("last customer message"), null=True, blank=True)
    last_message_preview = models.CharField(_("last message"), max_length=200, blank=True)
    unread_count = models.PositiveIntegerField(_("unread"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=ConversationStatus.choices,
                              default=ConversationStatus.OPEN)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="assigned_conversations", verbose_name=_("assignee"))
    snoozed_until = models.DateTimeField(_("snoozed until"), null=True, blank=True)
    labels = models.ManyToManyField(Label, blank=True, related_name="conversations", verbose_name=_("labels"))
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ["-last_message_at"]
        constraints = [
            models.UniqueConstraint(fields=["phone_number", "contact"], name="conversation_unique_pair"),
            models.CheckConstraint(
                condition=(models.Q(status="snoozed", snoozed_until__isnull=False)
                           | (~models.Q(status="snoozed") & models.Q(snoozed_until__isnull=True))),
                name="conversation_snoozed_until_iff_snoozed",
            ),
        ]
        indexes = [
            models.Index(fields=["client", "-last_message_at"]),
            models.Index(fields=["client", "updated_at"], name="conversation_client_changed"),
            # The workspace's unread badge counts these (few rows: a partial index stays small).
            models.Index(fields=["client"], condition=models.Q(unread_count__gt=0), name="conversation_unread"),
            # Snoozes that ended are found here to be reopened (few rows: only snoozed conversations).
            models.Index(fields=["snoozed_until"], condition=models.Q(status="snoozed"), name="conversation_snoozed"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} ↔ {self.phone_number.display_phone_number}"


class Message(models.Model):
    """One WhatsApp message, sent or received.

    Outbound messages are stored before the provider is called, with the exact
    request body, so a crash or timeout never leaves a send unaccounted for.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="messages", verbose_name=_("client"),
                               db_index=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages",
                                     null=True, blank=True, verbose_name=_("conversation"), db_index=False)
    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.PROTECT, related_name="messages",
                                     verbose_name=_("business number"))
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    type = models.CharField(_("type"), max_length=16, choices=MessageType.choices)
    from_number = models.CharField(_("from"), max_length=20, db_index=True)
    to_number = models.CharField(_("to"), max_length=20, db_index=True)
    content = models.JSONField(_("content"), default=dict, blank=True)
    request_body = models.JSONField(_("request as sent"), null=True, blank=True)
    context_id = models.CharField(_("reply to (provider id)"), max_length=128, blank=True)
    reply_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies",
                                 verbose_name=_("reply to"))
    template = models.ForeignKey("templates_mgr.Template", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="messages", verbose_name=_("template"))
    provider_message_id = models.CharField(_("provider id"), max_length=128, blank=True, db_index=True)
    whatsapp_id = models.CharField(_("WhatsApp id"), max_length=128, blank=True, db_index=True)
    custom_field = models.CharField(_("custom field"), max_length=1000, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=MessageStatus.choices, db_index=True)
    status_at = models.DateTimeField(_("status time"), null=True, blank=True)
    error_code = models.CharField(_("error code"), max_length=32, blank=True)
    error_title = models.TextField(_("error"), blank=True)
    #: The kind of provider failure (``providers.base.ERROR_KINDS``: auth, rejected, timeout…) when a send failed
    #: or its outcome is unknown; empty otherwise.
    error_kind = models.CharField(_("error kind"), max_length=16, blank=True, default="")
    send_outcome = models.CharField(_("send outcome"), max_length=16, choices=SendOutcome.choices, blank=True,
                                    default="")
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, blank=True)
    request_fingerprint = models.CharField(_("request fingerprint"), max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed"), null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="message_idempotency_key",
            ),
            models.UniqueConstraint(
                fields=["phone_number", "provider_message_id"],
                condition=models.Q(direction="in"),
                name="inbound_message_once",
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "-created_at"]),
            models.Index(fields=["client", "-created_at"]),
        ]

    def __str__(self) -> str:
        """"Template sent to +57…" / "Text received from +57…" in the reader's language (an admin title, a picker)."""
        if self.direction == Direction.OUTBOUND:
            what = SENT_TITLES.get(self.type) or _("Message sent")
            return _("%(what)s to +%(number)s") % {"what": what, "number": self.to_number}
        what = RECEIVED_TITLES.get(self.type) or _("Message received")
        return _("%(what)s from +%(number)s") % {"what": what, "number": self.from_number}

    def can_become(self, status: str) -> bool:
        """Whether ``status`` moves this message forward (never backwards, never sideways)."""
        return STATUS_RANK[MessageStatus(status)] > STATUS_RANK[MessageStatus(self.status)]

    def advance(self, status: str, at=None) -> bool:
        """Move to ``status`` if that is forward; fill its timestamp. Returns whether it moved.

        A late event that does not move the status still fills its own timestamp
        when missing (``delivered`` arriving after ``read``). Does not save: the
        caller decides how (one save, or bulk_update for a batch).
        """
        stamp = STATUS_TIMESTAMP.get(MessageStatus(status))
        if stamp and at is not None and getattr(self, stamp) is None:
            setattr(self, stamp, at)
        if not self.can_become(status):
            return False
        self.status = status
        self.status_at = at
        return True


#: The fields of a message a status change writes (``messaging.webhooks.statuses.status_apply``).
STATUS_FIELDS = ["status", "status_at", "sent_at", "delivered_at", "read_at", "failed_at", "error_code",
                 "error_title", "error_kind", "whatsapp_id"]

STATUS_TIMESTAMP = {
    MessageStatus.SENT: "sent_at",
    MessageStatus.DELIVERED: "delivered_at",
    MessageStatus.READ: "read_at",
    MessageStatus.FAILED: "failed_at",
}


class StatusEvent(models.Model):
    """One status the provider reported, kept in the message's history.

    Stored even when the message is not known yet (the webhook can beat the
    send's commit); ``message`` is linked when it appears.
    """

    provider_account = models.ForeignKey(ProviderAccount, on_delete=models.CASCADE, related_name="+", db_index=False)
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="status_events")
    provider_message_id = models.CharField(max_length=128, db_index=True)
    status = models.CharField(_("status"), max_length=16)
    timestamp = models.DateTimeField(_("when"), null=True, blank=True)
    recipient_id = models.CharField(max_length=20, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    error_title = models.TextField(blank=True)
    errors = models.JSONField(default=list, blank=True)
    conversation_id = models.CharField(max_length=128, blank=True)
    conversation_origin = models.CharField(max_length=64, blank=True)
    conversation_expiration = models.DateTimeField(null=True, blank=True)
    pricing = models.JSONField(null=True, blank=True)
    webhook_event = models.ForeignKey("WebhookEvent", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("status event")
        verbose_name_plural = _("status history")
        ordering = ["timestamp", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider_account", "provider_message_id", "status"], name="status_event_once"
            ),
        ]
        indexes = [models.Index(fields=["provider_account", "provider_message_id"], condition=models.Q(message=None),
                                name="status_event_unlinked")]

    def __str__(self) -> str:
        return f"{self.provider_message_id} {self.status}"

    @property
    def status_display(self) -> str:
        """The status in the user's language (a value the portal does not know is shown as given)."""
        try:
            return str(MessageStatus(self.status).label)
        except ValueError:
            return self.status


class WebhookEvent(models.Model):
    """A provider's callback exactly as received: stored first, processed later, replayable."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSED = "processed", _("Processed")
        UNPROCESSED = "unprocessed", _("Not understood")
        ERROR = "error", _("Error")

    # No index of its own: the unique (provider_account, body_sha256) constraint leads with it and serves every
    # lookup by account, and each index is one more write on the receiver's single INSERT.
    provider_account = models.ForeignKey(ProviderAccount, on_delete=models.CASCADE, related_name="webhook_events",
                                         verbose_name=_("provider account"), db_index=False)
    received_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)
    body_sha256 = models.CharField(_("body SHA-256"), max_length=64)
    body = models.TextField(_("body"))
    content_type = models.CharField(_("content type"), max_length=120, blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    reason = models.TextField(_("reason"), blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    # Set when processing finds that everything in the body belongs to one client; until then (or when a body
    # carries several clients' data) only operators may read the event. No index of its own: written after
    # the receiver's INSERT, and the partial index below serves a client's list.
    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               verbose_name=_("client"), db_index=False)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider_account", "body_sha256"], name="webhook_event_once"),
        ]
        indexes = [
            models.Index(fields=["state", "id"], condition=models.Q(state="pending"), name="webhook_pending"),
            models.Index(fields=["client", "received_at"], condition=models.Q(client__isnull=False),
                         name="webhook_event_client"),
        ]

    def __str__(self) -> str:
        return f"{self.provider_account} {self.received_at:%Y-%m-%d %H:%M:%S} {self.get_state_display()}"
