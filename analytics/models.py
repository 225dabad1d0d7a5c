"""Conversation analytics synced from the provider, and the log of each sync.

Times. Aldeamo's getAnalytics takes and returns wall-clock times with no zone
("yyyy-mm-dd hh:mm:ss"). They are read in the account's clock, which is
``settings.ANALYTICS_PROVIDER_TIME_ZONE`` when set and ``America/Bogota``
otherwise (Aldeamo is a Colombian BSP and its manual's examples follow
Colombian business hours), then stored as aware UTC datetimes like every
other time in the portal. Charts truncate them to days and months in the
viewer's own zone, in the database.

One row per provider data point, keyed on everything that identifies it
(WABA, granularity, start, phone number, country, type, direction): syncing
the same range again updates the rows in place, so counts are never doubled.
Points of different granularities are different rows -- a DAILY point is not
the sum of stored HALF_HOUR points, it is what the provider said about that
day -- and readers take each WABA's series from one granularity only
(see ``analytics.selectors``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Client, WhatsAppBusinessAccount


class Granularity(models.TextChoices):
    """getAnalytics' ``granularity``; the order is finest first."""

    HALF_HOUR = "HALF_HOUR", _("Half hour")
    DAILY = "DAILY", _("Daily")
    MONTHLY = "MONTHLY", _("Monthly")


GRANULARITY_ORDER: tuple[str, ...] = (Granularity.HALF_HOUR, Granularity.DAILY, Granularity.MONTHLY)


class ConversationType(models.TextChoices):
    """The seed's ``conversationTypes`` filter values."""

    REGULAR = "REGULAR", _("Regular")
    FREE_TIER = "FREE_TIER", _("Free tier")
    FREE_ENTRY_POINT = "FREE_ENTRY_POINT", _("Free entry point")
    UNKNOWN = "UNKNOWN", _("Unknown")


class ConversationDirection(models.TextChoices):
    """The seed's ``conversationDirections`` filter values.

    The manual's parameter table writes ``USER_BUSINESS`` where its example
    (and every answer) says ``BUSINESS_INITIATED``; the portal speaks the
    latter and accepts the former as an alias.
    """

    BUSINESS_INITIATED = "BUSINESS_INITIATED", _("Business initiated")
    USER_INITIATED = "USER_INITIATED", _("User initiated")
    UNKNOWN = "UNKNOWN", _("Unknown")


DIRECTION_ALIASES = {"USER_BUSINESS": ConversationDirection.BUSINESS_INITIATED.value}

# The dimensions points are grouped by: API/selector name -> model field.
DIMENSIONS: dict[str, str] = {
    "conversation_type": "conversation_type",
    "conversation_direction": "conversation_direction",
    "phone_number": "phone_number",
    "country": "country",
}

POINT_KEY_FIELDS: tuple[str, ...] = (
    "waba",
    "granularity",
    "start",
    "phone_number",
    "country",
    "conversation_type",
    "conversation_direction",
)


class ConversationDataPoint(models.Model):
    """Conversations the provider counted for one WABA, period and combination of dimensions.

    ``start``/``end`` are aware (stored UTC) datetimes converted from the
    provider's wall clock (see the module docstring). ``phone_number`` is
    kept as the provider wrote it (digits, possibly masked in its examples);
    ``client`` repeats the WABA's client so tenancy filters need no join.
    """

    # The unique constraint below starts with (waba, granularity, start): it is
    # the index every chart query ranges over, so the foreign key needs no own index.
    waba = models.ForeignKey(
        WhatsAppBusinessAccount,
        on_delete=models.CASCADE,
        related_name="conversation_points",
        verbose_name=_("WABA"),
        db_index=False,
    )
    # Likewise the client's lookups use analytics_point_client_idx (client, granularity, start).
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="conversation_points", verbose_name=_("client"),
        db_index=False,
    )
    granularity = models.CharField(_("granularity"), max_length=16, choices=Granularity.choices)
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    phone_number = models.CharField(_("phone number"), max_length=32, blank=True)
    country = models.CharField(_("country"), max_length=8, blank=True)
    conversation_type = models.CharField(_("conversation type"), max_length=32, blank=True)
    conversation_direction = models.CharField(_("conversation direction"), max_length=32, blank=True)
    conversations = models.PositiveIntegerField(_("conversations"))
    synced_at = models.DateTimeField(_("synced"))

    class Meta:
        verbose_name = _("conversation analytics")
        verbose_name_plural = _("conversation analytics")
        ordering = ["-start", "waba_id", "phone_number", "country", "conversation_type", "conversation_direction"]
        constraints = [
            # On PostgreSQL its index also carries ``conversations`` (INCLUDE, migration 0003): the
            # charts' sums read the index alone. Not declared here: Django would then skip the whole
            # constraint on SQLite, which has no covering indexes.
            models.UniqueConstraint(fields=list(POINT_KEY_FIELDS), name="analytics_point_full_key"),
        ]
        indexes = [
            # Tenancy-wide charts (all of a client's WABAs) range over time per client.
            models.Index(fields=["client", "granularity", "start"], name="analytics_point_client_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M} {self.phone_number} {self.country} {self.conversations}"


class AnalyticsSync(models.Model):
    """One run of ``analytics_sync``: who asked, for what, and how it ended (shown on the charts page)."""

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        OK = "ok", _("Synced")
        EMPTY = "empty", _("No data")
        ERROR = "error", pgettext_lazy("analytics sync", "Failed")

    waba = models.ForeignKey(
        WhatsAppBusinessAccount, on_delete=models.CASCADE, related_name="analytics_syncs", verbose_name=_("WABA")
    )
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="analytics_syncs", verbose_name=_("client"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("who"),
        help_text=_("Empty for the daily background sync."),
    )
    started_at = models.DateTimeField(_("started"), auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    granularity = models.CharField(_("granularity"), max_length=16, choices=Granularity.choices)
    range_start = models.DateTimeField(_("from"))
    range_end = models.DateTimeField(_("until"))
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.RUNNING)
    requests = models.PositiveIntegerField(_("requests"), default=0)
    points = models.PositiveIntegerField(_("points stored"), default=0)
    removed = models.PositiveIntegerField(_("points removed"), default=0)
    conversations = models.PositiveIntegerField(_("conversations"), default=0)
    message = models.TextField(_("result"), blank=True)

    class Meta:
        verbose_name = _("analytics sync")
        verbose_name_plural = _("analytics syncs")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["waba", "-started_at"], name="analytics_sync_waba_idx")]

    def __str__(self) -> str:
        return f"{self.waba} {self.granularity} {self.range_start:%Y-%m-%d}…{self.range_end:%Y-%m-%d} {self.state}"
