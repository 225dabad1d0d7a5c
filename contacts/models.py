"""Contacts per client: tags, typed attributes, consent history, opt-in/out keywords, saved segments.

The contact row itself is :class:`messaging.models.Contact` (messaging creates it from conversations and reads
its consent state on every send); this app adds what a client organises around it. Invariants the models own:
a tag or an attribute key is unique per client; a consent event is never edited (the history is append-only).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Client
from messaging.models import Contact


class Tag(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contact_tags",
                               verbose_name=_("client"), db_index=False)
    name = models.CharField(_("name"), max_length=64)
    contacts = models.ManyToManyField(Contact, related_name="tags", blank=True, verbose_name=_("contacts"))

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["client", "name"], name="contact_tag_once_per_client")]

    def __str__(self) -> str:
        return self.name


class AttributeKind(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice")


class AttributeDefinition(models.Model):
    """A typed field a client's admin defines for its contacts (``Contact.attributes[key]``)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contact_attributes",
                               verbose_name=_("client"), db_index=False)
    key = models.SlugField(_("key"), max_length=50, help_text=_("Letters, digits, - and _: used in the API and "
                                                                  "in imports."))
    label = models.CharField(_("label"), max_length=100)
    kind = models.CharField(_("type"), max_length=8, choices=AttributeKind.choices, default=AttributeKind.TEXT)
    choices = models.JSONField(_("choices"), default=list, blank=True,
                               help_text=_("For a choice: the allowed values, as a JSON list."))

    class Meta:
        verbose_name = _("contact attribute")
        verbose_name_plural = _("contact attributes")
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["client", "key"], name="contact_attribute_once_per_client")]

    def __str__(self) -> str:
        return self.label or self.key


class ConsentSource(models.TextChoices):
    KEYWORD = "keyword", _("Keyword from the customer")
    API = "api", _("API")
    ADMIN = "admin", _("Admin")
    IMPORT = "import", _("Import")
    CAMPAIGN_LIST = "campaign_list", _("Campaign opt-out list")


class ConsentEvent(models.Model):
    """One change of a contact's consent: opted in or out, how, when and by whom. Never edited."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="consent_events",
                               verbose_name=_("client"), db_index=False)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consent_events",
                                verbose_name=_("contact"))
    opted_out = models.BooleanField(_("opted out"))
    source = models.CharField(_("how"), max_length=16, choices=ConsentSource.choices)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("by"))
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("consent event")
        verbose_name_plural = _("consent history")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["client", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.contact} {'out' if self.opted_out else 'in'} ({self.source})"


DEFAULT_OPT_OUT_KEYWORDS = ["STOP", "BAJA", "NO MÁS", "CANCELAR", "UNSUBSCRIBE"]
DEFAULT_OPT_IN_KEYWORDS = ["START", "ALTA", "SUSCRIBIR"]


def _opt_out_keywords() -> list[str]:
    return list(DEFAULT_OPT_OUT_KEYWORDS)


def _opt_in_keywords() -> list[str]:
    return list(DEFAULT_OPT_IN_KEYWORDS)


class ConsentSettings(models.Model):
    """A client's consent rules: its keywords, the confirmations, what opted-out contacts may still receive."""

    client = models.OneToOneField(Client, on_delete=models.CASCADE, related_name="consent_settings",
                                  verbose_name=_("client"))
    opt_out_keywords = models.JSONField(_("opt-out keywords"), default=_opt_out_keywords, blank=True)
    opt_in_keywords = models.JSONField(_("opt-in keywords"), default=_opt_in_keywords, blank=True)
    opt_out_confirmation = models.TextField(_("opt-out confirmation"), blank=True, help_text=_(
        "Sent back when a customer opts out with a keyword; empty sends nothing."))
    opt_in_confirmation = models.TextField(_("opt-in confirmation"), blank=True, help_text=_(
        "Sent back when a customer opts in with a keyword; empty sends nothing."))
    opted_out_get_utility = models.BooleanField(_("opted-out contacts still get utility and authentication "
                                                  "templates"), default=True, help_text=_(
        "WhatsApp's policy allows them (order updates, codes); marketing is never sent to an opted-out contact."))

    class Meta:
        verbose_name = _("consent settings")
        verbose_name_plural = _("consent settings")

    def __str__(self) -> str:
        return str(self.client)


class Segment(models.Model):
    """A saved contact filter (see :mod:`contacts.segments` for what ``filters`` holds)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="segments",
                               verbose_name=_("client"), db_index=False)
    name = models.CharField(_("name"), max_length=120)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["client", "name"], name="segment_name_once_per_client")]

    def __str__(self) -> str:
        return self.name


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ContactImport(models.Model):
    """A CSV import run by the task workers, with its progress (for files too large to wait for)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contact_imports",
                               verbose_name=_("client"))
    file = models.FileField(_("file"), upload_to="contact_imports/", blank=True)
    original_name = models.CharField(_("file name"), max_length=200, blank=True)
    mapping = models.JSONField(_("column mapping"), default=dict)
    options = models.JSONField(_("options"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    rows_done = models.PositiveIntegerField(_("rows read"), default=0)
    percent = models.PositiveSmallIntegerField(_("percent"), default=0)
    report = models.JSONField(_("report"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact import")
        verbose_name_plural = _("contact imports")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.original_name or f"#{self.pk}"
