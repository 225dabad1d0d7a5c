"""Reads for campaigns: progress, failure reasons in words, the report, the export.

Progress comes from the counts cached on the campaign (see
:mod:`campaigns.tracking`), so list pages cost no query per campaign; the
campaign page adds two small grouped queries (failure reasons, recent rate).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import timedelta, tzinfo
from functools import lru_cache
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone, translation
from django.utils.formats import get_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from accounts import rates
from accounts.models import Role
from accounts.tenancy import scope
from campaigns.models import Campaign, CampaignRecipient, CampaignStatus, RecipientState, SkipReason
from campaigns.variables import template_slots
from messaging.models import Direction, Message, MessageStatus
from providers import registry, whatsapp

# The progress groups the campaign page shows, in bar order.
GROUPS: list[tuple[str, Any, tuple[str, ...]]] = [
    ("replied", pgettext_lazy("recipient count", "Replied"), (RecipientState.REPLIED,)),
    ("read", pgettext_lazy("recipient count", "Read"), (RecipientState.READ,)),
    ("delivered", pgettext_lazy("recipient count", "Delivered"), (RecipientState.DELIVERED,)),
    ("sent", pgettext_lazy("recipient count", "Sent"), (RecipientState.SENT,)),
    ("unknown", pgettext_lazy("recipient count", "Unknown"), (RecipientState.UNKNOWN,)),
    ("failed", pgettext_lazy("recipient count", "Failed"), (RecipientState.FAILED,)),
    ("sending", pgettext_lazy("recipient count", "Sending"), (RecipientState.CLAIMED, RecipientState.SENDING)),
    ("queued", pgettext_lazy("recipient count", "Queued"), (RecipientState.PENDING,)),
    ("cancelled", pgettext_lazy("recipient count", "Cancelled"), (RecipientState.CANCELLED,)),
]
NOT_DONE = ("queued", "sending")

PORTAL_ERRORS = {
    "401": gettext_lazy("The provider refused the account's credentials."),
    "403": gettext_lazy("The provider refused the account's credentials."),
    "attempts": gettext_lazy("Could not be sent after several attempts."),
    "ProviderTimeout": gettext_lazy("The provider did not answer in time (it may have sent the message)."),
    "ProviderBadResponse": gettext_lazy("The provider answered something unreadable (it may have sent the message)."),
}


def campaigns_visible(user, min_role: str = Role.VIEWER) -> QuerySet[Campaign]:
    return scope(Campaign.objects.all(), user, "client", min_role)


def failure_words(*, code: str, error: str, provider: str = "") -> str:
    """A failure as a person would say it: a known code's meaning (the provider's table, else WhatsApp's), else
    the provider's own words."""
    code = (code or "").strip()
    words = PORTAL_ERRORS.get(code)
    if words:
        return str(words)
    words = registry.spec(provider).code_words(code) if provider and code else whatsapp.error_words(code)
    if words:
        return words
    if error:
        return error
    return _("Error %(code)s") % {"code": code} if code else _("No reason given")


def group_counts(counts: dict[str, int]) -> dict[str, int]:
    return {key: sum(counts.get(state, 0) for state in states) for key, _label, states in GROUPS}


def bar_segments(campaign: Campaign) -> list[dict[str, Any]]:
    """The progress bar's segments from the cached counts (percent of the sendable recipients)."""
    grouped = group_counts(campaign.counts or {})
    total = sum(grouped.values()) or 0
    left = 0.0
    segments = []
    for key, label, _states in GROUPS:
        value = grouped[key]
        width = (100.0 * value / total) if total else 0.0
        segments.append({"key": key, "label": str(label), "count": value, "x": round(left, 3),
                         "width": round(width, 3)})
        left += width
    return segments


def percent_done(campaign: Campaign) -> int:
    grouped = group_counts(campaign.counts or {})
    total = sum(grouped.values())
    if not total:
        return 0
    done = total - sum(grouped[key] for key in NOT_DONE)
    return int(100 * done / total)


def top_failures(*, campaign: Campaign, limit: int = 5) -> list[dict[str, Any]]:
    provider = campaign.phone_number.client.provider_account.provider
    rows = (
        CampaignRecipient.objects.filter(campaign=campaign, state__in=[RecipientState.FAILED, RecipientState.UNKNOWN])
        .values("state", "error_code", "error")
        .annotate(n=Count("id"))
        .order_by("-n", "error_code")[: limit * 3]
    )
    merged: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["state"] == RecipientState.UNKNOWN and not row["error_code"] and not row["error"]:
            words = str(PORTAL_ERRORS["ProviderTimeout"])
        else:
            words = failure_words(code=row["error_code"], error=row["error"], provider=provider)
        entry = merged.setdefault(words, {"reason": words, "code": row["error_code"], "count": 0})
        entry["count"] += row["n"]
    return sorted(merged.values(), key=lambda entry: -entry["count"])[:limit]


def eta_seconds(*, campaign: Campaign, remaining: int) -> tuple[int | None, float | None]:
    """Seconds to finish and the recent rate (messages/s), from the last 30 s of sends or the pace."""
    if remaining == 0 or campaign.status not in (CampaignStatus.RUNNING, CampaignStatus.SCHEDULED):
        return (0 if remaining == 0 else None), None
    now = timezone.now()
    window = 30
    recent = CampaignRecipient.objects.filter(campaign=campaign, finished_at__gte=now - timedelta(seconds=window)
                                              ).count()
    measured = recent / window if recent else None
    rate = min(measured, float(campaign.pace)) if measured else float(campaign.pace)
    wait = 0.0
    if campaign.status == CampaignStatus.SCHEDULED and campaign.start_at and campaign.start_at > now:
        wait = (campaign.start_at - now).total_seconds()
    return int(wait + remaining / rate), measured


def campaign_progress(*, campaign: Campaign) -> dict[str, Any]:
    """What the campaign page shows and polls: counts by group, bar, reasons, ETA."""
    grouped = group_counts(campaign.counts or {})
    total = sum(grouped.values())
    remaining = sum(grouped[key] for key in NOT_DONE)
    eta, rate = eta_seconds(campaign=campaign, remaining=remaining)
    return {
        "id": campaign.pk,
        "status": campaign.status,
        "status_label": campaign.get_status_display(),
        "pause_kind": campaign.pause_kind,
        "pause_reason": campaign.pause_reason,
        # The provider answered "too fast" (429, 130429) recently: sends are slowed down and retried, not failed.
        "throttled": campaign.status == CampaignStatus.RUNNING and bool(
            rates.throttled_numbers([campaign.phone_number_id])),
        "total": total,
        "done": total - remaining,
        "percent": percent_done(campaign),
        "counts": grouped,
        "labels": {key: str(label) for key, label, _states in GROUPS},
        "segments": bar_segments(campaign),
        "top_failures": top_failures(campaign=campaign),
        "eta_seconds": eta,
        "rate_per_second": round(rate, 2) if rate is not None else None,
        "finished": campaign.is_finished,
        "counts_at": campaign.counts_at.isoformat() if campaign.counts_at else None,
    }


def report_issues(*, campaign: Campaign) -> QuerySet[CampaignRecipient]:
    """Every row that will not be sent, in file order."""
    return CampaignRecipient.objects.filter(campaign=campaign, state=RecipientState.SKIPPED).order_by("row_number")


def report_summary(*, campaign: Campaign) -> dict[str, Any]:
    """The dry-run counts, and what blocks every row (checked now, so fixing it unblocks at once).

    With a blocker (a WABA without namespace, a CV template without id, a
    template no longer approved) no row can be sent: ``sendable`` is 0, the
    rows that would be sent once it is fixed are ``sendable_when_fixed``, and
    starting is refused naming the field.
    """
    from messaging.sending import template_send_blockers

    report = campaign.report or {}
    reasons = report.get("reasons", {})
    blockers = template_send_blockers(phone_number=campaign.phone_number, template=campaign.template)
    return {
        "rows": report.get("rows", 0),
        "sendable": 0 if blockers else report.get("sendable", 0),
        "sendable_when_fixed": report.get("sendable", 0),
        "blockers": [{"field": blocker.field, "reason": blocker.reason} for blocker in blockers],
        "skipped": report.get("skipped", 0),
        "reasons": [
            {"reason": value, "label": str(label), "count": reasons.get(value, 0)}
            for value, label in SkipReason.choices if value and reasons.get(value)
        ],
        "checked_at": campaign.report_at.isoformat() if campaign.report_at else None,
        "seen_at": campaign.report_seen_at.isoformat() if campaign.report_seen_at else None,
    }


# --- export -----------------------------------------------------------------------------------


class _Echo:
    """A file-like object whose write returns the line: csv.writer feeding a streaming response."""

    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> str:
    """A value safe to open in a spreadsheet (no formula injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_lines(*, campaign: Campaign, localized: bool = False, zone: tzinfo | None = None) -> Iterator[str]:
    """The per-recipient results as CSV lines (UTF-8 BOM first, so Excel reads the accents), read in batches.

    Times are in ``zone`` (default: the active one, the user's). ``localized=False`` keeps the API's contract:
    column keys and codes (``state``, ``not_sent_because``), ISO 8601 times with their offset.
    ``localized=True`` is for a person opening it in a spreadsheet: headers, states and reasons in the active
    language, failures in words, times as ``YYYY-MM-DD HH:MM:SS`` with the zone named in the header, and the
    separator the language's spreadsheets expect (``;`` where the decimal mark is a comma, as in Spanish: Excel
    there splits columns on semicolons).
    Words and zone are taken now, not while the response streams (the request's language and zone are gone by
    then).
    """
    zone = zone or timezone.get_current_timezone()
    slots = template_slots(campaign.template)
    keys = [slot.key for slot in slots]
    if not localized:
        header = ["row", "phone", "state", *keys, "message_id", "provider_message_id", "message_status",
                  "error_code", "error", "sent_at", "not_sent_because", "detail"]
        return _export_rows(campaign=campaign, header=header, keys=keys, zone=zone, words=None, failure=None,
                            delimiter=",")
    header = [_("Row"), _("Phone"), _("State"), *[str(slot.label) for slot in slots], _("Message id"),
              _("Provider message id"), _("Message status"), _("Error code"), _("Error"),
              _("Sent at (%(zone)s)") % {"zone": str(zone)}, _("Not sent because"), _("Detail")]
    words = {name: {value: str(label) for value, label in choices.choices}
             for name, choices in (("state", RecipientState), ("skip", SkipReason), ("status", MessageStatus))}
    provider = campaign.phone_number.client.provider_account.provider
    language = translation.get_language()

    def failure(code: str, error: str) -> str:
        return _failure_in(language, code, error, provider)

    delimiter = ";" if get_format("DECIMAL_SEPARATOR") == "," else ","
    return _export_rows(campaign=campaign, header=header, keys=keys, zone=zone, words=words, failure=failure,
                        delimiter=delimiter)


@lru_cache(maxsize=512)
def _failure_in(language: str, code: str, error: str, provider: str) -> str:
    with translation.override(language):
        return failure_words(code=code, error=error, provider=provider) if (code or error) else ""


def _export_rows(*, campaign, header, keys, zone, words, failure, delimiter) -> Iterator[str]:
    writer = csv.writer(_Echo(), delimiter=delimiter)
    yield "\ufeff" + writer.writerow(header)
    rows = (
        CampaignRecipient.objects.filter(campaign=campaign).order_by("row_number")
        .values_list("row_number", "phone", "state", "variables", "message_id", "message__provider_message_id",
                     "message__status", "error_code", "error", "finished_at", "skip_reason", "skip_detail")
        .iterator(chunk_size=2000)
    )
    fixed = campaign.variables or {}
    for (row, phone, state, variables, message_id, provider_id, message_status, code, error, finished, skip,
         detail) in rows:
        values = {**fixed, **(variables or {})}
        when = finished.astimezone(zone) if finished else None
        if words is None:
            state_text, status_text, skip_text = state, message_status or "", skip
            error_text, when_text = error, when.isoformat() if when else ""
        else:
            state_text = words["state"].get(state, state)
            status_text = words["status"].get(message_status, message_status or "")
            skip_text = words["skip"].get(skip, skip) if skip else ""
            error_text = failure(code or "", error or "") if state in (RecipientState.FAILED,
                                                                       RecipientState.UNKNOWN) else error
            when_text = when.strftime("%Y-%m-%d %H:%M:%S") if when else ""
        yield writer.writerow([
            row, _cell(phone), state_text, *[_cell(values.get(key, "")) for key in keys],
            message_id or "", provider_id or "", status_text, code, _cell(error_text),
            when_text, skip_text, _cell(detail),
        ])


# A recipient who got the message (or read or answered it): what the segment filter "received" means.
RECEIVED_STATES = (RecipientState.SENT, RecipientState.DELIVERED, RecipientState.READ, RecipientState.REPLIED)


def contacts_campaign_condition(*, kind: str, campaign_id: int | None, since=None):
    """``contacts.hooks.campaign_condition``: contacts who received (``kind="received"``) or replied to
    (``"replied"``: wrote to the campaign's number after it reached them) the client's campaign ``campaign_id``,
    or any of its campaigns sent since ``since``."""
    recipients = CampaignRecipient.objects.filter(
        campaign__client_id=OuterRef("client_id"), phone=OuterRef("wa_id"), state__in=RECEIVED_STATES,
        finished_at__isnull=False)
    if campaign_id is not None:
        recipients = recipients.filter(campaign_id=campaign_id)
    if since is not None:
        recipients = recipients.filter(finished_at__gte=since)
    if kind == "replied":
        replies = Message.objects.filter(
            direction=Direction.INBOUND, phone_number_id=OuterRef("campaign__phone_number_id"),
            from_number=OuterRef("phone"), created_at__gte=OuterRef("finished_at"))
        recipients = recipients.filter(Q(state=RecipientState.REPLIED) | Exists(replies))
    return Exists(recipients)
