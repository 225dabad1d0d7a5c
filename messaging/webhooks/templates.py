"""Template events of a batch: status, category and quality changes applied to the stored templates."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Q
from django.utils import timezone

from messaging.webhooks.batch import BatchContext, Item, attribute, bulk_update_rows, language_key
from providers.types import TemplateEvent
from templates_mgr import hooks as template_hooks
from templates_mgr.models import Template, TemplateChange, TemplateStatus

# Template webhook "event" values that are not statuses of our list.
_TEMPLATE_EVENT_STATUS = {"REINSTATED": TemplateStatus.APPROVED, "UNPAUSED": TemplateStatus.APPROVED}

def template_events_apply(items: list[Item], context: BatchContext, problems: dict[int, list[str]]) -> None:
    if not items:
        return
    client_ids = set().union(*(context.clients_by_account.get(item.account_id, set()) for item in items))
    ids = {item.event.template_id for item in items if item.event.template_id}
    names = {item.event.name for item in items if item.event.name}
    candidates = list(
        Template.objects.filter(client_id__in=client_ids)
        .filter(Q(provider_template_id__in=ids) | Q(name__in=names))
    )
    candidates.sort(key=lambda template: (template.deleted_at is not None, template.pk))  # live ones first
    changed: dict[int, Template] = {}
    changes: list[TemplateChange] = []
    for item in items:
        event: TemplateEvent = item.event  # type: ignore[assignment]
        template = _match_template(candidates, context, item.account_id, event)
        if template is None:
            problems[item.webhook.pk].append(
                f"Template {event.template_id or event.name!r} ({event.language or '-'}) is not known for this "
                "account (sync templates, then reprocess).")
            continue
        attribute(item.webhook, template.client_id)
        if _apply_template_event(template, event, changes):
            changed[template.pk] = template
    if changed:
        bulk_update_rows(
            Template, list(changed.values()),
            ["status", "category", "rejected_reason", "messages_sent_7d", "messages_opened_7d", "top_block_reason",
             "updated_at"],
        )
    if changes:
        TemplateChange.objects.bulk_create(changes)
        template_hooks.templates_changed.fire(changes=changes)


def _match_template(candidates: Sequence[Template], context: BatchContext, account_id: int,
                    event: TemplateEvent) -> Template | None:
    own = [template for template in candidates if context.client_account.get(template.client_id) == account_id]
    if event.template_id:
        for template in own:
            if template.provider_template_id == event.template_id:
                return template
    if event.name:
        language = language_key(event.language)
        for template in own:
            if template.name == event.name and (not language or language_key(template.language) == language):
                return template
    return None


def _apply_template_event(template: Template, event: TemplateEvent, changes: list[TemplateChange]) -> bool:
    """Apply one template event in memory, recording status/category changes; return whether anything changed."""
    before = (template.status, template.category, template.rejected_reason, template.messages_sent_7d,
              template.messages_opened_7d, template.top_block_reason)
    if event.kind == "status" and event.status:
        raw = event.status.upper()
        status = _TEMPLATE_EVENT_STATUS.get(raw) or (raw if raw in TemplateStatus.values else TemplateStatus.UNKNOWN)
        reason = event.reason if event.reason and event.reason.upper() != "NONE" else ""
        if status != template.status:
            changes.append(TemplateChange(template=template, field="status", old_value=template.status[:64],
                                          new_value=status[:64], reason=reason or (raw if status != raw else ""),
                                          source=TemplateChange.Source.WEBHOOK))
            template.status = status
        if status == TemplateStatus.REJECTED:
            template.rejected_reason = reason
        elif status == TemplateStatus.APPROVED:
            template.rejected_reason = ""
    elif event.kind == "category" and event.new_category:
        category = event.new_category.upper()[:32]
        if category != template.category:
            changes.append(TemplateChange(template=template, field="category", old_value=template.category[:64],
                                          new_value=category[:64], source=TemplateChange.Source.WEBHOOK))
            template.category = category
    elif event.kind == "performance":
        if event.messages_sent_7d is not None:
            template.messages_sent_7d = event.messages_sent_7d
        if event.messages_opened_7d is not None:
            template.messages_opened_7d = event.messages_opened_7d
        template.top_block_reason = event.top_block_reason[:64]
    after = (template.status, template.category, template.rejected_reason, template.messages_sent_7d,
             template.messages_opened_7d, template.top_block_reason)
    if after != before:
        template.updated_at = timezone.now()
        return True
    return False
