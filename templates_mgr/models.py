"""Message templates per WABA (Aldeamo) or per account (Contacto Virtual).

A template is identified by (WABA, name, language). Contacto Virtual lists
templates by name only and sends by a numeric ``id_template`` the admin enters.
Gone upstream means ``deleted_at`` is set; the row stays for history.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Client, TimeStamped, WhatsAppBusinessAccount
from waportal.words import choice_label, word


class TemplateStatus(models.TextChoices):
    APPROVED = "APPROVED", _("Approved")
    PENDING = "PENDING", _("Pending")
    REJECTED = "REJECTED", _("Rejected")
    PAUSED = "PAUSED", _("Paused")
    DISABLED = "DISABLED", pgettext_lazy("template status", "Disabled")
    IN_APPEAL = "IN_APPEAL", _("In appeal")
    FLAGGED = "FLAGGED", _("Flagged")
    PENDING_DELETION = "PENDING_DELETION", _("Pending deletion")
    DELETED = "DELETED", _("Deleted")
    UNKNOWN = "UNKNOWN", _("Unknown")


class TemplateCategory(models.TextChoices):
    MARKETING = "MARKETING", _("Marketing")
    UTILITY = "UTILITY", _("Utility")
    AUTHENTICATION = "AUTHENTICATION", _("Authentication")


PROBLEM_STATUSES = {TemplateStatus.REJECTED, TemplateStatus.PAUSED, TemplateStatus.DISABLED, TemplateStatus.FLAGGED}


class Template(TimeStamped):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="templates", verbose_name=_("client"))
    waba = models.ForeignKey(
        WhatsAppBusinessAccount,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="templates",
        verbose_name=_("WABA"),
        help_text=_("Empty for Contacto Virtual templates."),
    )
    provider_template_id = models.CharField(
        _("provider id"),
        max_length=64,
        blank=True,
        db_index=True,
        help_text=_("Aldeamo's template id; for Contacto Virtual, the numeric id_template used to send."),
    )
    name = models.CharField(_("name"), max_length=512)
    language = models.CharField(_("language"), max_length=16, blank=True)
    category = models.CharField(_("category"), max_length=32, blank=True)
    status = models.CharField(
        _("status"), max_length=32, choices=TemplateStatus.choices, default=TemplateStatus.PENDING, db_index=True
    )
    rejected_reason = models.TextField(_("reason"), blank=True)
    components = models.JSONField(_("components"), default=list, blank=True)
    text = models.TextField(_("text"), blank=True, help_text=_("Contacto Virtual: the approved text with {1} placeholders."))
    quality_score = models.CharField(_("quality"), max_length=32, blank=True)
    messages_sent_7d = models.PositiveIntegerField(_("sent (7 days)"), null=True, blank=True)
    messages_opened_7d = models.PositiveIntegerField(_("opened (7 days)"), null=True, blank=True)
    top_block_reason = models.CharField(_("top block reason"), max_length=64, blank=True)
    synced_at = models.DateTimeField(_("synced"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("deleted by"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("template")
        verbose_name_plural = _("templates")
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["waba", "name", "language"], condition=Q(waba__isnull=False), name="template_unique_per_waba"
            ),
            models.UniqueConstraint(
                fields=["client", "name"], condition=Q(waba__isnull=True), name="template_unique_per_cv_client"
            ),
        ]
        indexes = [models.Index(fields=["client", "status"]), models.Index(fields=["name"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})" if self.language else self.name

    @property
    def capabilities(self):
        """What the template's provider can do with it (select_related ``client__provider_account`` in lists)."""
        return self.client.provider_account.capabilities

    @property
    def needs_provider_template_id(self) -> bool:
        """A template of a provider whose listing has no ids, still without the id a person must enter."""
        return self.capabilities.template_ids_by_hand and not self.provider_template_id and self.deleted_at is None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def has_problem(self) -> bool:
        return self.status in PROBLEM_STATUSES


class TemplateChange(models.Model):
    """One change of a template's status or category, and who or what made it."""

    class Source(models.TextChoices):
        SYNC = "sync", _("Sync")
        WEBHOOK = "webhook", _("Provider event")
        USER = "user", _("Person")

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="changes", verbose_name=_("template"))
    at = models.DateTimeField(_("when"), auto_now_add=True)
    field = models.CharField(_("field"), max_length=32)
    old_value = models.CharField(pgettext_lazy("value change", "from"), max_length=64, blank=True)
    new_value = models.CharField(pgettext_lazy("value change", "to"), max_length=64, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              verbose_name=_("who"))

    class Meta:
        verbose_name = _("template change")
        verbose_name_plural = _("template history")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.template}: {word('field', self.field)} {self.value_words(self.old_value)} → " \
               f"{self.value_words(self.new_value)}"

    def value_words(self, value: str) -> str:
        """A status or category as the reader says it (the provider's SCREAMING_CASE never shown)."""
        if self.field == "status":
            return choice_label(TemplateStatus, value)
        return word("template_category", value) if self.field == "category" else value
