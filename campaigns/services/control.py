"""Campaign writes that run it: start (or schedule), reschedule, pause, resume, cancel, retry, delete, recover.

Every service takes keyword-only arguments, checks the actor's role in the
campaign's client (agents run campaigns), owns its transaction, records an
audit entry, and raises :class:`ApplicationError` naming the field at fault.
Background tasks are enqueued with ``transaction.on_commit`` so a worker never
sees a campaign its creator's transaction has not committed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.audit import audit_record
from campaigns import conf, hooks, ingest, tracking
from campaigns.models import (
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    CampaignUpload,
    PauseKind,
    RecipientState,
)
from campaigns.services.setup import (
    _audit,
    _check_pace,
    _check_start_at,
    _forget_upload_file,
    _require_agent,
    _status_conflict,
    _store_rows,
    _template_problem,
    campaign_create,
)
from messaging.sending import template_send_blockers
from waportal.errors import ApplicationError
from waportal.queueing import task_enqueue

logger = logging.getLogger(__name__)


def _enqueue(campaign: Campaign, *, run_after: datetime | None = None) -> None:
    """Start ``CAMPAIGN_WORKERS`` tasks for the campaign's current generation, after commit."""
    from campaigns.tasks import campaign_run  # the task module imports the runner: import late

    generation, campaign_id = campaign.generation, campaign.pk
    workers = max(1, int(conf.setting("CAMPAIGN_WORKERS")))

    def enqueue() -> None:
        for _worker in range(workers):
            task_enqueue(campaign_run, run_after=run_after, campaign_id=campaign_id, generation=generation)

    transaction.on_commit(enqueue)


def _bump_generation(campaign: Campaign) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(generation=F("generation") + 1, pace_next_slot=0.0,
                                                   heartbeat_at=timezone.now())
    campaign.refresh_from_db(fields=["generation", "heartbeat_at"])

# --- run control -----------------------------------------------------------------------


@transaction.atomic
def campaign_start(*, actor, campaign: Campaign, start_at: datetime | None = None) -> Campaign:
    """Start now, or schedule for ``start_at`` (or the campaign's own start time).

    A campaign already scheduled is rescheduled to ``start_at``, or started now without one. A scheduled
    campaign needs no one watching: its tasks wait in the queue until ``start_at`` (``run_after``) and the task
    worker runs them then; ``campaign_cancel`` before that time cancels it.
    """
    _require_agent(actor, campaign)
    campaign = Campaign.objects.select_for_update().select_related("template", "phone_number", "client").get(
        pk=campaign.pk)
    if campaign.status == CampaignStatus.SCHEDULED:
        return _reschedule(actor, campaign, start_at)
    if campaign.status != CampaignStatus.VALIDATED:
        if campaign.status == CampaignStatus.DRAFT:
            raise ApplicationError(_("Check the recipient list first (the dry run)."), field="report")
        raise _status_conflict(campaign, pgettext("campaign action", "started"))
    if campaign.report_seen_at is None:
        raise ApplicationError(_("Read the dry-run report before starting the campaign."), field="report")
    if campaign.recipient_count == 0:
        raise ApplicationError(_("No recipient in the list can be sent to; see the report."), field="recipients")
    problem = _template_problem(campaign.template)
    if problem:
        raise ApplicationError(problem, field="template")
    if not campaign.phone_number.is_active:
        raise ApplicationError(_("The sender number is not active."), field="phone_number")
    blockers = template_send_blockers(phone_number=campaign.phone_number, template=campaign.template)
    if blockers:
        # Refuse before sending, never after: without these every send would fail and the campaign pause itself.
        raise ApplicationError(blockers[0].reason, field=blockers[0].field,
                               extra={blocker.field: [blocker.reason] for blocker in blockers})
    _check_pace(campaign.pace, campaign.phone_number)
    when = _check_start_at(start_at) if start_at is not None else campaign.start_at
    now = timezone.now()
    scheduled = when is not None and when > now
    status = CampaignStatus.SCHEDULED if scheduled else CampaignStatus.RUNNING
    fields: dict[str, Any] = {"start_at": when, "started_by": actor if getattr(actor, "is_authenticated", False)
                              else None}
    if not scheduled:
        fields["started_at"] = now
    previous = campaign.status
    if campaign.transition(status, **fields):
        hooks.campaign_status_changed.fire(campaign=campaign, previous=previous)
    _bump_generation(campaign)
    _enqueue(campaign, run_after=when if scheduled else None)
    _forget_upload_file(campaign)
    _audit(actor, "campaign.schedule" if scheduled else "campaign.start", campaign,
           {"start_at": when.isoformat() if when else None, "recipients": campaign.recipient_count})
    return campaign


def _reschedule(actor, campaign: Campaign, start_at: datetime | None) -> Campaign:
    """A scheduled campaign started again: at its new time (the old tasks are superseded), or now."""
    now = timezone.now()
    when = _check_start_at(start_at)
    scheduled = when is not None and when > now
    was = campaign.start_at
    fields: dict[str, Any] = {"start_at": when if scheduled else now}
    if not scheduled:
        fields["started_at"] = now
    if scheduled:
        Campaign.objects.filter(pk=campaign.pk).update(start_at=when)
        campaign.start_at = when
    else:
        campaign.transition(CampaignStatus.RUNNING, only_from=(CampaignStatus.SCHEDULED,), **fields)
    _bump_generation(campaign)
    _enqueue(campaign, run_after=when if scheduled else None)
    _audit(actor, "campaign.reschedule" if scheduled else "campaign.start", campaign,
           {"from": was.isoformat() if was else None, "to": fields["start_at"].isoformat()})
    return campaign


@transaction.atomic
def campaign_pause(*, actor, campaign: Campaign) -> Campaign:
    """Pause: workers stop at their next chunk (within a second or two)."""
    _require_agent(actor, campaign)
    reason = _("Paused by %(user)s.") % {"user": getattr(actor, "get_username", lambda: _("a person"))()}
    previous = campaign.status
    if not campaign.transition(CampaignStatus.PAUSED, pause_kind=PauseKind.USER, pause_reason=reason,
                               paused_at=timezone.now()):
        campaign.refresh_from_db(fields=["status"])
        raise _status_conflict(campaign, pgettext("campaign action", "paused"))
    hooks.campaign_status_changed.fire(campaign=campaign, previous=previous)
    _audit(actor, "campaign.pause", campaign)
    return campaign


@transaction.atomic
def campaign_resume(*, actor, campaign: Campaign) -> Campaign:
    """Resume a paused campaign with fresh tasks; refused while the template is still unusable."""
    _require_agent(actor, campaign)
    campaign = Campaign.objects.select_for_update().select_related("template", "client").get(pk=campaign.pk)
    if campaign.status != CampaignStatus.PAUSED:
        raise _status_conflict(campaign, pgettext("campaign action", "resumed"))
    problem = _template_problem(campaign.template)
    if problem:
        raise ApplicationError(problem, field="template")
    was = {"pause_kind": campaign.pause_kind, "pause_reason": campaign.pause_reason}
    now = timezone.now()
    waiting = campaign.started_at is None and campaign.start_at is not None and campaign.start_at > now
    fields: dict[str, Any] = {"pause_kind": PauseKind.NONE, "pause_reason": "", "paused_at": None}
    if not waiting and campaign.started_at is None:
        fields["started_at"] = now
    if campaign.transition(CampaignStatus.SCHEDULED if waiting else CampaignStatus.RUNNING, **fields):
        hooks.campaign_status_changed.fire(campaign=campaign, previous=CampaignStatus.PAUSED)
    _bump_generation(campaign)
    _enqueue(campaign, run_after=campaign.start_at if waiting else None)
    _audit(actor, "campaign.resume", campaign, was)
    return campaign


@transaction.atomic
def campaign_cancel(*, actor, campaign: Campaign) -> Campaign:
    """Cancel: nothing more is sent; recipients not yet sent are marked cancelled."""
    _require_agent(actor, campaign)
    previous = campaign.status
    if not campaign.transition(CampaignStatus.CANCELLED, finished_at=timezone.now()):
        campaign.refresh_from_db(fields=["status"])
        raise _status_conflict(campaign, pgettext("campaign action", "cancelled"))
    hooks.campaign_status_changed.fire(campaign=campaign, previous=previous)
    _bump_generation(campaign)
    CampaignRecipient.objects.filter(campaign=campaign, state=RecipientState.PENDING).update(
        state=RecipientState.CANCELLED)
    tracking.campaign_counts_cache(campaign=campaign)
    _forget_upload_file(campaign)
    _audit(actor, "campaign.cancel", campaign)
    return campaign


@transaction.atomic
def campaign_retry_failed(*, actor, campaign: Campaign, include_unknown: bool = False) -> Campaign:
    """A follow-up campaign with only the recipients that failed (checked again, ready to start).

    Recipients with an ``unknown`` outcome are left out unless asked: the
    provider may have delivered them.
    """
    _require_agent(actor, campaign)
    if campaign.status not in (CampaignStatus.PAUSED, CampaignStatus.COMPLETED, CampaignStatus.CANCELLED):
        raise ApplicationError(_("Retry failed recipients once the campaign is paused or finished."), field="status")
    tracking.campaigns_refresh(campaign_ids=[campaign.pk], force=True)
    states = [RecipientState.FAILED] + ([RecipientState.UNKNOWN] if include_unknown else [])
    failed = CampaignRecipient.objects.filter(campaign=campaign, state__in=states)
    if not failed.exists():
        raise ApplicationError(_("No recipient of this campaign failed."), field="recipients")
    follow_up = campaign_create(
        actor=actor, phone_number=campaign.phone_number, template=campaign.template,
        name=_("%(name)s (retry)") % {"name": campaign.name}, pace=campaign.pace,
        default_country=campaign.default_country, variables=campaign.variables,
    )
    Campaign.objects.filter(pk=follow_up.pk).update(source_campaign=campaign)
    follow_up.source_campaign = campaign

    def rows() -> Iterator[ingest.RawRow]:
        source = failed.order_by("row_number").values_list("phone", "variables").iterator(chunk_size=2000)
        for index, (phone, variables) in enumerate(source, start=1):
            yield ingest.RawRow(row_number=index, phone="+" + phone, values=dict(variables or {}))

    _store_rows(actor=actor, campaign=follow_up, rows=rows(), source="retry")
    _audit(actor, "campaign.retry_failed", campaign, {"follow_up": follow_up.pk})
    return follow_up


@transaction.atomic
def campaign_delete(*, actor, campaign: Campaign) -> None:
    """Delete a campaign that is not running (its messages stay in the message history)."""
    _require_agent(actor, campaign)
    if campaign.status in (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.PAUSED):
        raise _status_conflict(campaign, pgettext("campaign action", "deleted (cancel it first)"))
    _audit(actor, "campaign.delete", campaign, {"name": campaign.name})
    upload = CampaignUpload.objects.filter(campaign=campaign).exclude(file="").first()
    if upload is not None:
        transaction.on_commit(lambda: upload.file.delete(save=False))
    campaign.delete()


def campaigns_recover(*, campaign_ids: Iterable[int] | None = None) -> list[int]:
    """Restart tasks for campaigns whose workers went silent (a killed ``db_worker``).

    A running campaign with no heartbeat for ``CAMPAIGN_STALL_SECONDS``, or a
    scheduled one that many seconds past its start, gets a new generation and
    fresh tasks; any old task still alive stops at its next chunk. Safe to call
    often: the progress endpoint calls it for the campaign on screen, and the
    ``campaigns_recover`` command for all.
    """
    stale = timezone.now() - timedelta(seconds=float(conf.setting("CAMPAIGN_STALL_SECONDS")))
    queryset = Campaign.objects.filter(
        Q(status=CampaignStatus.RUNNING, heartbeat_at__lt=stale)
        | Q(status=CampaignStatus.RUNNING, heartbeat_at__isnull=True, updated_at__lt=stale)
        | Q(status=CampaignStatus.SCHEDULED, start_at__lt=stale, heartbeat_at__lt=stale)
    )
    if campaign_ids is not None:
        queryset = queryset.filter(pk__in=list(campaign_ids))
    recovered: list[int] = []
    for campaign in queryset.select_related("client"):
        with transaction.atomic():
            # Conditional on the generation seen: two callers recover a campaign once.
            moved = Campaign.objects.filter(pk=campaign.pk, generation=campaign.generation).update(
                generation=F("generation") + 1, heartbeat_at=timezone.now())
            if not moved:
                continue
            campaign.refresh_from_db(fields=["generation", "heartbeat_at"])
            _enqueue(campaign)
            audit_record(actor=None, action="campaign.recover", obj=campaign, client=campaign.client,
                         changes={"generation": campaign.generation})
        logger.warning("campaign %s: no worker activity since %s; started new tasks", campaign.pk, stale)
        recovered.append(campaign.pk)
    return recovered
