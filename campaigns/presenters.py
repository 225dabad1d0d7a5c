"""What a campaign's pages show and do, shared by the admin and the workspace (one idea in one place).

Status tones, which control buttons show in which status ("retry failed" only when some recipient failed), the
progress payload the pages poll (counts, bar, reasons, time to finish), the bar as SVG, and the page controls
(start, pause, resume, cancel, retry) with what each says when done. Writes go through :mod:`campaigns.services`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import StreamingHttpResponse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext

from campaigns import selectors, services, tracking
from campaigns.models import ACTIVE_STATUSES, Campaign, CampaignStatus
from waportal.errors import ApplicationError

STATUS_TONES = {
    CampaignStatus.DRAFT: "grey",
    CampaignStatus.VALIDATED: "blue",
    CampaignStatus.SCHEDULED: "blue",
    CampaignStatus.RUNNING: "green",
    CampaignStatus.PAUSED: "yellow",
    CampaignStatus.COMPLETED: "green",
    CampaignStatus.CANCELLED: "grey",
}
# Which control buttons show in which status (the page's script hides the others as the status moves).
BUTTON_STATUSES = {
    "pause": (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING),
    "resume": (CampaignStatus.PAUSED,),
    "cancel": (CampaignStatus.DRAFT, CampaignStatus.VALIDATED, *ACTIVE_STATUSES),
    "retry": (CampaignStatus.PAUSED, CampaignStatus.COMPLETED, CampaignStatus.CANCELLED),
}
ACTIONS = {
    "start": services.campaign_start,
    "pause": services.campaign_pause,
    "resume": services.campaign_resume,
    "cancel": services.campaign_cancel,
    "retry": services.campaign_retry_failed,
}


def campaign_buttons(campaign: Campaign, progress: dict[str, Any]) -> dict[str, bool]:
    """Which control buttons the page shows now; "retry failed" only when some recipient failed."""
    buttons = {name: campaign.status in statuses for name, statuses in BUTTON_STATUSES.items()}
    buttons["retry"] = buttons["retry"] and progress["counts"].get("failed", 0) > 0
    return buttons


def button_statuses() -> dict[str, str]:
    """The statuses each button shows in, for the page's ``data-show-when`` attributes."""
    return {name: " ".join(statuses) for name, statuses in BUTTON_STATUSES.items()}


def format_duration(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    if seconds <= 0:
        return gettext("done")
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return gettext("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    if minutes:
        return gettext("%(m)d min %(s)d s") % {"m": minutes, "s": secs}
    return gettext("%(s)d s") % {"s": secs}


def progress_svg(segments: list[dict[str, Any]], *, label: str, css_class: str = "wa-camp-bar") -> str:
    """A stacked bar as SVG rects (attributes, not inline styles: the CSP allows no inline style)."""
    rects = format_html_join(
        "", '<rect class="wa-seg wa-seg-{}" data-seg="{}" x="{}" width="{}" y="0" height="10"><title>{}: {}</title></rect>',
        ((s["key"], s["key"], s["x"], s["width"], s["label"], s["count"]) for s in segments),
    )
    return format_html(
        '<svg class="{}" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label="{}">'
        '<rect class="wa-seg-bg" x="0" y="0" width="100" height="10"></rect>{}</svg>',
        css_class, label, rects,
    )


def list_bar(campaign: Campaign) -> str:
    """A list row's small bar with its percent."""
    percent = selectors.percent_done(campaign)
    label = gettext("%(percent)d%% done") % {"percent": percent}
    return format_html('{} <span class="wa-camp-percent">{}%</span>',
                       progress_svg(selectors.bar_segments(campaign), label=label), percent)


def campaign_fresh(campaign: Campaign, *, always: bool = False) -> Campaign:
    """The campaign with its workers' lost leases taken back and its cached counts brought up to date."""
    services.campaigns_recover(campaign_ids=[campaign.pk])
    if tracking.campaigns_refresh(campaign_ids=[campaign.pk]) or always:
        campaign.refresh_from_db()
    return campaign


def counts_refreshed(campaigns: list[Campaign]) -> list[Campaign]:
    """A list page's campaigns with stale cached counts brought up to date (a fixed number of queries)."""
    refreshed = set(tracking.campaigns_refresh(campaign_ids=[c.pk for c in campaigns]))
    if refreshed:
        counts = dict(Campaign.objects.filter(pk__in=refreshed).values_list("pk", "counts"))
        for campaign in campaigns:
            campaign.counts = counts.get(campaign.pk, campaign.counts)
    return campaigns


def progress_payload(campaign: Campaign) -> dict[str, Any]:
    """What a campaign page shows and polls (JSON): the selector's progress plus words for the time and rate."""
    progress = selectors.campaign_progress(campaign=campaign)
    progress["eta_text"] = format_duration(progress["eta_seconds"])
    progress["status_tone"] = STATUS_TONES.get(campaign.status, "grey")
    progress["rate_text"] = (gettext("%(rate)s messages/s") % {"rate": progress["rate_per_second"]}
                             if progress["rate_per_second"] is not None else "—")
    return progress


def campaign_control(*, actor, campaign: Campaign, action: str, data) -> tuple[Campaign, str]:
    """Run a page control (``data``: the posted form) and say what happened: (the campaign to show, words).

    "retry" answers the follow-up campaign (checked, waiting for its report to be read). Raises
    :class:`ApplicationError` naming the field, like the services.
    """
    if action not in ACTIONS:
        raise ApplicationError(gettext("Unknown action."), field="action")
    kwargs: dict[str, Any] = {}
    if action == "start" and data.get("start_at"):
        try:
            kwargs["start_at"] = forms.DateTimeField().clean(data["start_at"])
        except forms.ValidationError:
            raise ApplicationError(gettext("The start time is not a valid date and time."), field="start_at")
    if action == "retry":
        kwargs["include_unknown"] = data.get("include_unknown") == "1"
    result = ACTIONS[action](actor=actor, campaign=campaign, **kwargs)
    if action == "retry":
        return result, ngettext(
            "A follow-up campaign with %(n)d recipient was created: read its report, then start it.",
            "A follow-up campaign with %(n)d recipients was created: read its report, then start it.",
            result.recipient_count) % {"n": result.recipient_count}
    if action == "start" and result.status == CampaignStatus.SCHEDULED:
        return result, gettext("The campaign is scheduled.")
    return result, {
        "start": gettext("The campaign started."),
        "pause": gettext("The campaign is paused; sending stops within a second or two."),
        "resume": gettext("The campaign resumed."),
        "cancel": gettext("The campaign was cancelled."),
    }[action]


def export_response(campaign: Campaign, *, localized: bool = False) -> StreamingHttpResponse:
    """The per-recipient results as a streamed CSV download (states refreshed first), times in the requesting
    user's zone; ``localized``: headers and words in their language too (the pages' download, for a person)."""
    tracking.campaigns_refresh(campaign_ids=[campaign.pk], force=True)
    response = StreamingHttpResponse(selectors.export_lines(campaign=campaign, localized=localized),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}-results.csv"'
    return response
