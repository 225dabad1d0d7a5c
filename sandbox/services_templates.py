"""Writes of the sandbox's WhatsApp templates (Aldeamo): creation, review, decisions, events.

The views call these after checking the wire format; the admin calls them for
its actions. Callbacks are only *scheduled* (``callbacks.py``).

Template review rule (documented for demos and tests): a template created
through ``createTemplate`` is ``PENDING`` for the account's
``template_review_seconds``; then it becomes ``REJECTED`` with reason
``INVALID_FORMAT`` if its name contains ``reject``, otherwise ``APPROVED``.
The decision is applied lazily when templates are read and by the
``message_template_status_update`` callback, whichever comes first. An
approved template created with a legacy category (``ACCOUNT_UPDATE``,
``ISSUE_RESOLUTION``, …) is then moved to the matching current one with a
``template_category_update`` event, as WhatsApp did in 2023.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from . import callbacks, payloads
from .ids import new_template_id
from .models import (
    CallbackKind,
    MessageStatus,
    Provider,
    SandboxAccount,
    SandboxCallback,
    SandboxMessage,
    SandboxTemplate,
    SandboxWaba,
    TemplateStatus,
)
from .outbox import schedule

REJECT_MARKER = "reject"
REJECT_REASON = "INVALID_FORMAT"

# Categories WhatsApp retired in 2023, and what each became.
LEGACY_CATEGORIES: dict[str, str] = {
    "ACCOUNT_UPDATE": "UTILITY",
    "ALERT_UPDATE": "UTILITY",
    "APPOINTMENT_UPDATE": "UTILITY",
    "AUTO_REPLY": "UTILITY",
    "ISSUE_RESOLUTION": "UTILITY",
    "PAYMENT_UPDATE": "UTILITY",
    "PERSONAL_FINANCE_UPDATE": "UTILITY",
    "RESERVATION_UPDATE": "UTILITY",
    "SHIPPING_UPDATE": "UTILITY",
    "TICKET_UPDATE": "UTILITY",
    "TRANSPORTATION_UPDATE": "UTILITY",
    "TRANSACTIONAL": "UTILITY",
    "OTP": "AUTHENTICATION",
}
CURRENT_CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")


def template_review_decision(*, name: str) -> tuple[str, str]:
    """The automatic review's (status, reason) for a template named ``name`` (see the module doc)."""
    if REJECT_MARKER in name.lower():
        return TemplateStatus.REJECTED, REJECT_REASON
    return TemplateStatus.APPROVED, ""


def _recategorized(category: str) -> str | None:
    return LEGACY_CATEGORIES.get(category.upper())


@transaction.atomic
def sandbox_template_create(
    *,
    waba: SandboxWaba,
    name: str,
    language: str,
    category: str,
    components: list[dict[str, Any]],
    now: datetime | None = None,
) -> SandboxTemplate:
    """Store a PENDING template and schedule its automatic review (status and maybe category events)."""
    now = now or timezone.now()
    account = waba.client.account
    due = now + timedelta(seconds=max(0.0, account.template_review_seconds))
    template = SandboxTemplate.objects.create(
        waba=waba,
        template_id=new_template_id(),
        name=name,
        language=language,
        category=category.upper(),
        components=components,
        status=TemplateStatus.PENDING,
        review_due_at=due,
    )
    status, reason = template_review_decision(name=name)
    callbacks.schedule_template_status(template=template, status=status, reason=reason or None, due_at=due)
    new_category = _recategorized(template.category)
    if status == TemplateStatus.APPROVED and new_category:
        callbacks.schedule_template_category(
            template=template,
            previous_category=template.category,
            new_category=new_category,
            due_at=due + timedelta(seconds=1),
        )
    return template


def sandbox_templates_review_due(*, wabas: Any = None, now: datetime | None = None) -> int:
    """Apply the automatic decision to PENDING templates whose review time has passed (lazy path).

    Called before templates are listed or used, so a reader never sees a
    template still pending after its review time even if no worker delivered
    the event yet. Returns how many templates were decided.
    """
    now = now or timezone.now()
    due = SandboxTemplate.objects.filter(status=TemplateStatus.PENDING, review_due_at__lte=now)
    if wabas is not None:
        due = due.filter(waba__in=wabas)
    decided = 0
    for template in due:
        status, reason = template_review_decision(name=template.name)
        fields = {"status": status, "rejected_reason": reason, "updated_at": now}
        new_category = _recategorized(template.category)
        if status == TemplateStatus.APPROVED and new_category:
            fields["category"] = new_category
        decided += SandboxTemplate.objects.filter(pk=template.pk, status=TemplateStatus.PENDING).update(**fields)
    return decided


@transaction.atomic
def sandbox_template_set_status(
    *, template: SandboxTemplate, status: str, reason: str = "", now: datetime | None = None
) -> SandboxTemplate:
    """A person's decision (admin): set the status now and post the matching status event.

    Any automatic review still pending for the template is cancelled, so the
    portal hears exactly one decision.
    """
    if status not in TemplateStatus.values:
        raise ValueError(f"Unknown template status {status!r}.")
    now = now or timezone.now()
    callbacks.cancel_template_events(template)
    template.status = status
    template.rejected_reason = reason if status == TemplateStatus.REJECTED else ""
    template.review_due_at = None
    template.save(update_fields=["status", "rejected_reason", "review_due_at", "updated_at"])
    callbacks.schedule_template_status(template=template, status=status, reason=reason or None, due_at=now, apply=False)
    return template


def sandbox_template_recategorize(
    *, template: SandboxTemplate, new_category: str, now: datetime | None = None
) -> SandboxCallback:
    """Move a template to another category, the way WhatsApp does: through a category-update event."""
    now = now or timezone.now()
    return callbacks.schedule_template_category(
        template=template, previous_category=template.category, new_category=new_category.upper(), due_at=now
    )


@transaction.atomic
def sandbox_template_delete(*, waba: SandboxWaba, name: str) -> int:
    """Delete every language of the named template; returns how many were deleted."""
    deleted, _ = SandboxTemplate.objects.filter(waba=waba, name=name).delete()
    return deleted


def sandbox_template_performance(*, account: SandboxAccount, now: datetime | None = None) -> SandboxCallback | None:
    """Post ``template_performance_metrics`` for the account's templates, from the last 7 days of sends."""
    now = now or timezone.now()
    since = now - timedelta(days=7)
    templates = list(SandboxTemplate.objects.filter(waba__client__account=account).exclude(status="PENDING"))
    if not templates:
        return None
    counts = {
        row["template_name"]: row
        for row in SandboxMessage.objects.filter(
            account=account, provider=Provider.ALDEAMO, type="template", created_at__gte=since
        )
        .values("template_name")
        .annotate(sent=Count("id"), opened=Count("id", filter=Q(status=MessageStatus.READ)))
    }
    entries = []
    for template in templates:
        row = counts.get(template.name, {})
        block = {"PAUSED": "SPAM", "DISABLED": "NO_LONGER_NEEDED"}.get(template.status)
        entries.append(
            payloads.template_performance_entry(
                template_id=template.template_id,
                name=template.name,
                language=template.language,
                messages_sent_7d=row.get("sent", 0),
                messages_opened_7d=row.get("opened", 0),
                top_block_reason=block,
            )
        )
    return schedule(
        account=account,
        provider=Provider.ALDEAMO,
        kind=CallbackKind.TEMPLATE_PERFORMANCE,
        payload=payloads.template_performance_metrics(entries),
        due_at=now,
    )
