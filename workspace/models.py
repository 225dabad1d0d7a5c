"""What the staff add around a conversation: its history, private notes, and the client's saved replies.

The conversation's own workflow fields (status, assignee, snooze, labels) live on
``messaging.Conversation`` so every list can filter on them; this app owns who may change them and
the record of each change (``ConversationActivity``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Client
from messaging.models import Conversation


class ActivityKind(models.TextChoices):
    ASSIGNED = "assigned", _("Assignee changed")
    STATUS = "status", _("Status changed")
    LABELS = "labels", _("Labels changed")
    NOTE = "note", _("Note added")
    REOPENED = "reopened", _("Reopened by the customer")
    WOKEN = "woken", _("Snooze ended")


class ConversationActivity(models.Model):
    """One change to a conversation's workflow: who (None: the customer or the system), what, when."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="activities",
                                     verbose_name=_("conversation"), db_index=False)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("by"))
    kind = models.CharField(_("kind"), max_length=10, choices=ActivityKind.choices)
    # What changed, in words a template can show: {"from": …, "to": …} (status, assignee names, labels).
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("conversation activity")
        verbose_name_plural = _("conversation activities")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["conversation", "created_at"], name="activity_conversation_time")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.created_at:%Y-%m-%d %H:%M})"


class Note(models.Model):
    """A private note in a thread: staff only, never sent to the customer or the provider."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes",
                                     verbose_name=_("conversation"), db_index=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                               verbose_name=_("author"))
    text = models.TextField(_("text"), max_length=4000)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("private note")
        verbose_name_plural = _("private notes")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["conversation", "created_at"], name="note_conversation_time")]

    def __str__(self) -> str:
        return self.text[:60]


class CannedResponse(models.Model):
    """A saved reply an agent inserts by typing ``/shortcut``."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="canned_responses",
                               verbose_name=_("client"), db_index=False)
    shortcut = models.SlugField(_("shortcut"), max_length=40, allow_unicode=True)
    text = models.TextField(_("text"), max_length=4096)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")
        ordering = ["shortcut"]
        constraints = [models.UniqueConstraint(fields=["client", "shortcut"], name="canned_unique_shortcut")]

    def __str__(self) -> str:
        return f"/{self.shortcut}"
