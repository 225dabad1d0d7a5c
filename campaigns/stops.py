"""When a campaign's worker must stop: the campaign re-read, the template's status, the automatic pauses.

The runner (:mod:`campaigns.runner`) reads a :class:`Snapshot` before each chunk
and every ``CAMPAIGN_CONTROL_SECONDS`` within one; a template WhatsApp refuses
(:data:`STOPPING_TEMPLATE_STATUSES`), a 401 or too many failures pause the
campaign by itself (:func:`auto_pause`), with the reason shown. Throttling is
not failure: :data:`THROTTLE_CODES` never count towards the ratio.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from campaigns import conf, hooks
from campaigns.models import Campaign, CampaignRecipient, CampaignStatus, PauseKind, RecipientState
from messaging import sending
from templates_mgr.models import TemplateStatus

logger = logging.getLogger(__name__)

# The template statuses that stop a campaign (WhatsApp refuses sends with them).
STOPPING_TEMPLATE_STATUSES = {
    TemplateStatus.PAUSED, TemplateStatus.REJECTED, TemplateStatus.DISABLED, TemplateStatus.PENDING_DELETION,
    TemplateStatus.DELETED,
}
FAILED_STATES = (RecipientState.FAILED, RecipientState.UNKNOWN)
# Failures that say "too fast", not "cannot be sent": never counted towards the automatic pause.
THROTTLE_CODES = frozenset({"429", *sending.NUMBER_THROTTLE_CODES, *sending.RECIPIENT_THROTTLE_CODES})


@dataclass(frozen=True)
class Snapshot:
    status: str
    generation: int
    pace: int
    start_at: datetime | None
    template_status: str
    template_deleted: bool

    @property
    def template_stops(self) -> bool:
        """The template can no longer be sent (deleted, or in a status WhatsApp refuses)."""
        return self.template_deleted or self.template_status in STOPPING_TEMPLATE_STATUSES

    def lets_send(self, generation: int) -> bool:
        """Whether a worker of ``generation`` may go on sending: the run loop's checks, all passed."""
        return self.generation == generation and self.status == CampaignStatus.RUNNING and not self.template_stops


def snapshot(campaign_id: int) -> Snapshot | None:
    row = (
        Campaign.objects.filter(pk=campaign_id)
        .values_list("status", "generation", "pace", "start_at", "template__status", "template__deleted_at")
        .first()
    )
    if row is None:
        return None
    return Snapshot(status=row[0], generation=row[1], pace=row[2], start_at=row[3], template_status=row[4],
                    template_deleted=row[5] is not None)


def auto_pause(*, campaign: Campaign, kind: str, reason: str) -> bool:
    """Pause a running (or scheduled) campaign by itself, with the reason shown; audited."""
    moved = campaign.transition(
        CampaignStatus.PAUSED, only_from=(CampaignStatus.RUNNING, CampaignStatus.SCHEDULED),
        pause_kind=kind, pause_reason=reason, paused_at=timezone.now(),
    )
    if moved:
        hooks.campaign_status_changed.fire(campaign=campaign, previous=CampaignStatus.RUNNING)
        logger.warning("campaign %s paused automatically: %s", campaign.pk, reason)
        audit_record(actor=None, action="campaign.auto_pause", obj=campaign, client=campaign.client,
                     changes={"pause_kind": kind, "pause_reason": reason})
    return moved


def template_stop_reason(*, name: str, status: str, deleted: bool) -> str:
    if deleted:
        return _("The template %(name)s was deleted at the provider.") % {"name": name}
    return _("The template %(name)s is now %(status)s; WhatsApp will not send it.") % {
        "name": name, "status": TemplateStatus(status).label if status in TemplateStatus.values else status,
    }


def too_many_failures(*, campaign: Campaign) -> bool:
    """Pause when more than RATIO of the last WINDOW outcomes failed (or got no answer)."""
    window = int(conf.setting("CAMPAIGN_FAILURE_WINDOW"))
    ratio = float(conf.setting("CAMPAIGN_FAILURE_RATIO"))
    recent = list(
        CampaignRecipient.objects.filter(campaign_id=campaign.pk, finished_at__isnull=False)
        .order_by("-finished_at").values_list("state", "error_code")[:window]
    )
    # Throttling is not failure: a 130429 / 131056 reported by a status webhook after the send stays out.
    failures = sum(1 for state, code in recent if state in FAILED_STATES and code not in THROTTLE_CODES)
    if failures <= ratio * window:
        return False
    return auto_pause(
        campaign=campaign, kind=PauseKind.FAILURES,
        reason=_("%(failures)d of the last %(total)d messages failed or got no answer (the limit is "
                 "%(percent)d%%). Check the failure reasons, then resume.")
        % {"failures": failures, "total": len(recent), "percent": round(ratio * 100)},
    )
