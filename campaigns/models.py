"""Campaigns: one template sent to many recipients, paced, resumable, never doubled.

Invariants the models own:
- a campaign's status moves only along :data:`Campaign.TRANSITIONS`, and every
  move is one conditional ``UPDATE … WHERE status IN (…)`` (:meth:`Campaign.transition`),
  so a worker completing a campaign can never overwrite a person's "cancel";
- a recipient is sent at most once: its sendable row is unique per (campaign,
  phone), a worker sends only a row it claimed atomically, and the send carries
  an idempotency key derived from (campaign, recipient) that the message table
  holds unique per client (:meth:`CampaignRecipient.idempotency_key`).

Worker-side columns (``generation``, ``heartbeat_at``, ``pace_next_slot``,
``counts``) are written only with queryset ``update()`` or ``save(update_fields=…)``
so a stale in-memory campaign never overwrites them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Client, PhoneNumber, TimeStamped


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("campaign status", "Draft")
    VALIDATED = "validated", pgettext_lazy("campaign status", "Checked")
    SCHEDULED = "scheduled", pgettext_lazy("campaign status", "Scheduled")
    RUNNING = "running", pgettext_lazy("campaign status", "Sending")
    PAUSED = "paused", pgettext_lazy("campaign status", "Paused")
    COMPLETED = "completed", pgettext_lazy("campaign status", "Completed")
    CANCELLED = "cancelled", pgettext_lazy("campaign status", "Cancelled")


ACTIVE_STATUSES = (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.PAUSED)
FINISHED_STATUSES = (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED)


class PauseKind(models.TextChoices):
    """Why a campaign is paused: a person, or one of the automatic stops."""

    NONE = "", _("Not paused")
    USER = "user", _("Paused by a person")
    TEMPLATE = "template", _("Template no longer usable")
    AUTH = "auth", _("Provider refused the credentials")
    FAILURES = "failures", _("Too many failures")


class Campaign(TimeStamped):
    """A bulk template send from one business number.

    ``counts`` caches recipients per state (refreshed in SQL by
    :mod:`campaigns.tracking`) so list pages draw progress bars without a
    query per campaign. ``pace_next_slot`` is the shared token bucket: the
    epoch second of the next free send slot, advanced atomically by every
    worker (see :func:`campaigns.runner.reserve_slots`).
    """

    TRANSITIONS: dict[str, frozenset[str]] = {
        CampaignStatus.DRAFT: frozenset({CampaignStatus.VALIDATED, CampaignStatus.CANCELLED}),
        # Checked → checked again (a new column mapping) goes through draft.
        CampaignStatus.VALIDATED: frozenset(
            {CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.CANCELLED}
        ),
        CampaignStatus.SCHEDULED: frozenset({CampaignStatus.RUNNING, CampaignStatus.PAUSED, CampaignStatus.CANCELLED}),
        CampaignStatus.RUNNING: frozenset({CampaignStatus.PAUSED, CampaignStatus.COMPLETED, CampaignStatus.CANCELLED}),
        CampaignStatus.PAUSED: frozenset({CampaignStatus.RUNNING, CampaignStatus.SCHEDULED, CampaignStatus.CANCELLED}),
        CampaignStatus.COMPLETED: frozenset(),
        CampaignStatus.CANCELLED: frozenset(),
    }

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="campaigns", verbose_name=_("client"))
    phone_number = models.ForeignKey(
        PhoneNumber, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("sender number")
    )
    template = models.ForeignKey(
        "templates_mgr.Template", on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("template")
    )
    name = models.CharField(_("name"), max_length=200)
    status = models.CharField(
        _("status"), max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT, db_index=True
    )
    pace = models.PositiveIntegerField(
        _("pace (messages per second)"), default=20, help_text=_("Never above the sender number's limit.")
    )
    start_at = models.DateTimeField(_("start at"), null=True, blank=True, help_text=_("Empty: start when asked."))
    default_country = models.CharField(
        _("default country"),
        max_length=2,
        default="CO",
        help_text=_("Numbers written without a country code are read as numbers of this country."),
    )
    variables = models.JSONField(
        _("fixed variables"), default=dict, blank=True, help_text=_("Values shared by every recipient, by slot.")
    )
    segment = models.ForeignKey("contacts.Segment", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="campaigns", verbose_name=_("segment"),
                                help_text=_("The contact segment the recipients were taken from, if any."))
    pause_kind = models.CharField(_("pause kind"), max_length=16, choices=PauseKind.choices, blank=True)
    pause_reason = models.TextField(_("pause reason"), blank=True)
    paused_at = models.DateTimeField(_("paused"), null=True, blank=True)
    source_campaign = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups",
        verbose_name=_("retry of"),
    )
    # The dry run: written once by validation, read by the report.
    report = models.JSONField(_("check report"), default=dict, blank=True)
    report_at = models.DateTimeField(_("checked"), null=True, blank=True)
    report_seen_at = models.DateTimeField(_("report seen"), null=True, blank=True)
    recipient_count = models.PositiveIntegerField(_("recipients to send"), default=0)
    # Progress cache and worker coordination.
    counts = models.JSONField(_("counts by state"), default=dict, blank=True)
    counts_at = models.DateTimeField(null=True, blank=True)
    generation = models.PositiveIntegerField(default=0, help_text="Bumped on start/resume; older tasks stop.")
    heartbeat_at = models.DateTimeField(_("last worker activity"), null=True, blank=True)
    pace_next_slot = models.FloatField(default=0.0)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("created by"),
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("started by"),
    )

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["client", "-created_at"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    def can_become(self, status: str) -> bool:
        return status in self.TRANSITIONS[CampaignStatus(self.status)]

    @classmethod
    def sources_of(cls, status: str) -> list[str]:
        """The statuses a campaign may move to ``status`` from."""
        return [source for source, targets in cls.TRANSITIONS.items() if status in targets]

    def transition(self, status: str, *, only_from: tuple[str, ...] | None = None, **fields) -> bool:
        """Move to ``status`` if the stored status allows it; returns whether it moved.

        One conditional UPDATE, so two writers (a worker completing, a person
        cancelling) cannot both win. ``only_from`` narrows the allowed sources
        further (a worker completes only a *running* campaign). ``fields`` are
        written in the same UPDATE (they may be expressions, e.g. ``F(...) + 1``)
        and mirrored on this instance when they are plain values.
        """
        sources = self.sources_of(status)
        if only_from is not None:
            sources = [source for source in sources if source in only_from]
        now = timezone.now()
        moved = Campaign.objects.filter(pk=self.pk, status__in=sources).update(status=status, updated_at=now, **fields)
        if moved:
            self.status = status
            self.updated_at = now
            for name, value in fields.items():
                if not hasattr(value, "resolve_expression"):
                    setattr(self, name, value)
        return bool(moved)


class SkipReason(models.TextChoices):
    """Why a row of the recipient list will not be sent (the dry-run report)."""

    NONE = "", _("Will be sent")
    BAD_NUMBER = "bad_number", _("Not a valid phone number")
    MISSING_VARIABLE = "missing_variable", _("A variable is missing")
    TOO_LONG = "too_long", _("Over a length limit")
    INVALID_VALUE = "invalid_value", _("A value WhatsApp refuses")
    DUPLICATE = "duplicate", _("Duplicate number")
    OPTED_OUT = "opted_out", _("Opted out")


class RecipientState(models.TextChoices):
    PENDING = "pending", _("Queued")
    CLAIMED = "claimed", _("Sending")
    SENDING = "sending", _("Waiting for the provider")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")
    REPLIED = "replied", _("Replied")
    FAILED = "failed", _("Failed")
    UNKNOWN = "unknown", _("Unknown (no answer)")
    SKIPPED = "skipped", _("Not sent (see report)")
    CANCELLED = "cancelled", _("Not sent (cancelled)")


# States a worker may still act on: the claim query and the "to do" index use them.
OPEN_STATES = (RecipientState.PENDING, RecipientState.CLAIMED)
# A send happened (its outcome may still change with the provider's statuses).
SENT_STATES = (
    RecipientState.SENDING,
    RecipientState.SENT,
    RecipientState.DELIVERED,
    RecipientState.READ,
    RecipientState.REPLIED,
    RecipientState.FAILED,
    RecipientState.UNKNOWN,
)


class CampaignRecipient(models.Model):
    """One row of a campaign's list: a phone, its variables, and what happened.

    A row that will not be sent keeps its ``skip_reason`` (state ``skipped``)
    so the report lists every row. ``claimed_by``/``lease_until`` are the
    worker's claim: a claim past its lease may be taken over by another worker,
    which first looks for a message already stored under the idempotency key.
    """

    # No index of its own: every index of the table below leads with the campaign.
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients", db_index=False)
    row_number = models.PositiveIntegerField(_("row"))
    phone = models.CharField(_("phone"), max_length=32, help_text=_("Digits with country code, or the raw value."))
    variables = models.JSONField(_("variables"), default=dict, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=RecipientState.choices,
                             default=RecipientState.PENDING)
    skip_reason = models.CharField(_("not sent because"), max_length=20, choices=SkipReason.choices, blank=True)
    skip_detail = models.CharField(_("detail"), max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(_("claims"), default=0)
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    message = models.OneToOneField(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="campaign_recipient",
        verbose_name=_("message"),
    )
    error_code = models.CharField(_("error code"), max_length=32, blank=True)
    error = models.TextField(_("error"), blank=True)
    finished_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("campaign recipient")
        verbose_name_plural = _("campaign recipients")
        ordering = ["campaign_id", "row_number"]
        constraints = [
            # The sendable rows: one per number. Skipped rows (a duplicate among
            # them) are kept for the report and are outside the constraint.
            models.UniqueConstraint(
                fields=["campaign", "phone"], condition=Q(skip_reason=""), name="campaign_recipient_phone_once"
            ),
            models.UniqueConstraint(fields=["campaign", "row_number"], name="campaign_recipient_row_once"),
        ]
        indexes = [
            # The claim: the next open rows of a campaign in row order.
            models.Index(fields=["campaign", "id"], condition=Q(state__in=["pending", "claimed"]),
                         name="campaign_recipient_todo"),
            models.Index(fields=["campaign", "state"], name="campaign_recipient_state"),
            models.Index(fields=["campaign", "-finished_at"], name="campaign_recipient_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.row_number} +{self.phone}"

    @staticmethod
    def idempotency_key(campaign_id: int, recipient_id: int) -> str:
        """The send's idempotency key: the same recipient can never make a second message."""
        return f"campaign:{campaign_id}:recipient:{recipient_id}"


def upload_path(instance: CampaignUpload, filename: str) -> str:
    # The original name may carry personal data or odd characters: store under a neutral name.
    return f"campaign_uploads/{timezone.now():%Y/%m}/{instance.campaign_id}-{timezone.now():%H%M%S%f}.csv"


class CampaignUpload(models.Model):
    """The CSV a campaign was built from, and how its columns map to the template's variables.

    The file is deleted when the campaign starts or is cancelled (the
    recipients hold what is needed); the metadata stays for the record.
    """

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="upload")
    file = models.FileField(_("file"), upload_to=upload_path, blank=True)
    original_name = models.CharField(_("file name"), max_length=255, blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    encoding = models.CharField(max_length=32, default="utf-8-sig")
    delimiter = models.CharField(max_length=1, default=",")
    columns = models.JSONField(_("columns"), default=list, blank=True)
    phone_column = models.CharField(_("phone column"), max_length=200, blank=True)
    mapping = models.JSONField(_("column for each variable"), default=dict, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("campaign upload")
        verbose_name_plural = _("campaign uploads")

    def __str__(self) -> str:
        return self.original_name or str(self.campaign)
