"""What the staff add around a conversation: its history, private notes, and the client's saved replies.

The conversation's own workflow fields (status, assignee, snooze, labels) live on
``messaging.Conversation`` so every list can filter on them; this app owns who may change them and
the record of each change (``ConversationActivity``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Client, PhoneNumber
from messaging.models import Conversation


class ActivityKind(models.TextChoices):
    ASSIGNED = "assigned", _("Assignee changed")
    STATUS = "status", _("Status changed")
    LABELS = "labels", _("Labels changed")
    NOTE = "note", _("Note added")
    REOPENED = "reopened", _("Reopened by the customer")
    WOKEN = "woken", _("Snooze ended")
    TEAM = "team", _("Team changed")


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


class Team(models.Model):
    """A group of the client's agents (Chatwoot's teams): conversations go to a team and/or one of its members.

    ``phone_numbers``: the business numbers the team serves; a new customer's conversation on one of them goes to
    the team and, with ``round_robin``, to its next member in turn (``rotation`` counts the turns, under a row
    lock, so two workers never hand out the same turn).
    """

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="teams", verbose_name=_("client"),
                               db_index=False)
    name = models.CharField(_("name"), max_length=60)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="workspace_teams",
                                     verbose_name=_("members"))
    phone_numbers = models.ManyToManyField(PhoneNumber, blank=True, related_name="workspace_teams",
                                           verbose_name=_("business numbers served"))
    round_robin = models.BooleanField(_("round-robin assignment"), default=False, help_text=_(
        "A new customer's conversation on a number the team serves goes to its members in turn."))
    rotation = models.PositiveBigIntegerField(_("turns handed out"), default=0, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["client", "name"], name="team_unique_name")]

    def __str__(self) -> str:
        return self.name


class ConversationTeam(models.Model):
    """The team a conversation is assigned to (at most one).

    A one-to-one kept here rather than a foreign key on ``messaging.Conversation``: messaging sits below the
    workspace and must not point at it; the row exists only while the conversation has a team.
    """

    conversation = models.OneToOneField(Conversation, on_delete=models.CASCADE, primary_key=True,
                                        related_name="team_link", verbose_name=_("conversation"))
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="conversation_links",
                             verbose_name=_("team"))

    class Meta:
        verbose_name = _("conversation's team")
        verbose_name_plural = _("conversations' teams")

    def __str__(self) -> str:
        return str(self.team)
