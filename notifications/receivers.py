"""What notifications hears through the lower apps' hooks, turned into outgoing events (the outbox) and alerts.

Every receiver runs in the caller's transaction and only writes rows: one SELECT of the subscribed endpoints
and one INSERT into the outbox per batch (:func:`notifications.events.events_record`), an alert row now and
then. ``contact.opted_out`` comes from the contacts app's hook;
``conversation.assigned``/``resolved`` are recorded by the workspace's services themselves (it sits above this
app and calls :func:`~notifications.events.events_record`).
"""

from __future__ import annotations

from datetime import datetime

from accounts.models import Client
from campaigns import hooks as campaign_hooks
from campaigns.models import CampaignStatus, PauseKind
from messaging import hooks as messaging_hooks
from messaging.models import MessageStatus
from notifications.alerts import alert_raise
from notifications.events import OutEvent, events_record
from notifications.models import AlertKind, EventType
from templates_mgr.models import TemplateStatus


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _conversation_key(message) -> str:
    return f"conversation:{message.conversation_id}" if message.conversation_id else ""


def on_inbound_stored(*, messages) -> None:
    events_record(events=[
        OutEvent(client_id=m.client_id, type=EventType.MESSAGE_RECEIVED, ordering_key=_conversation_key(m), data={
            "message": str(m.pk), "conversation": m.conversation_id, "phone_number": m.phone_number_id,
            "from": m.from_number, "to": m.to_number, "type": m.type, "content": m.content,
            "reply_to": str(m.reply_to_id) if m.reply_to_id else None, "provider_message_id": m.provider_message_id,
            "created_at": _iso(m.created_at),
        }) for m in messages])


def on_statuses_changed(*, messages) -> None:
    events_record(events=[
        OutEvent(client_id=m.client_id, type=EventType.MESSAGE_STATUS, ordering_key=_conversation_key(m), data={
            "message": str(m.pk), "conversation": m.conversation_id, "to": m.to_number, "status": m.status,
            "status_at": _iso(m.status_at), "error_code": m.error_code, "error_title": m.error_title,
            "campaign_custom_field": m.custom_field,
        }) for m in messages])
    refused = {m.client_id for m in messages if m.error_kind == "auth" and m.status == MessageStatus.FAILED}
    if refused:
        for client in Client.objects.filter(pk__in=refused).select_related("provider_account"):
            _credentials_alert(client_id=client.pk, account=client.provider_account)


def _credentials_alert(*, client_id: int, account) -> None:
    """One grouped alert per client and account, whether a send, a sync or a connection test found it."""
    alert_raise(client_id=client_id, kind=AlertKind.CREDENTIALS_REFUSED, object_key=f"account:{account.pk}",
                params={"provider": account.get_provider_display(), "account": account.name})


def on_credentials_refused(*, account, error) -> None:
    for client_id in Client.objects.filter(provider_account=account, is_active=True).values_list("pk", flat=True):
        _credentials_alert(client_id=client_id, account=account)


TEMPLATE_ALERTS = {
    TemplateStatus.PAUSED: AlertKind.TEMPLATE_PAUSED,
    TemplateStatus.REJECTED: AlertKind.TEMPLATE_REJECTED,
    TemplateStatus.DISABLED: AlertKind.TEMPLATE_DISABLED,
}


def on_templates_changed(*, changes) -> None:
    events = []
    for change in changes:
        template = change.template
        events.append(OutEvent(client_id=template.client_id, type=EventType.TEMPLATE_STATUS,
                               ordering_key=f"template:{template.pk}", data={
                                   "template": template.pk, "name": template.name, "language": template.language,
                                   "field": change.field, "old": change.old_value, "new": change.new_value,
                                   "reason": change.reason}))
        kind = (TEMPLATE_ALERTS.get(change.new_value) if change.field == "status"
                else AlertKind.TEMPLATE_CATEGORY if change.field == "category" else None)
        if kind:
            alert_raise(client_id=template.client_id, kind=kind, object_key=f"template:{template.pk}", params={
                "name": template.name, "language": template.language, "reason": change.reason,
                "old": change.old_value, "new": change.new_value})
    events_record(events=events)


CAMPAIGN_EVENTS = {
    CampaignStatus.RUNNING: EventType.CAMPAIGN_STARTED,
    CampaignStatus.PAUSED: EventType.CAMPAIGN_PAUSED,
    CampaignStatus.COMPLETED: EventType.CAMPAIGN_FINISHED,
    CampaignStatus.CANCELLED: EventType.CAMPAIGN_FINISHED,
}


def on_campaign_status_changed(*, campaign, previous: str) -> None:
    event_type = CAMPAIGN_EVENTS.get(campaign.status)
    if event_type is not None:
        events_record(events=[OutEvent(
            client_id=campaign.client_id, type=event_type, ordering_key=f"campaign:{campaign.pk}", data={
                "campaign": campaign.pk, "name": campaign.name, "status": campaign.status, "previous": previous,
                "pause_kind": campaign.pause_kind or None,
                "resumed": campaign.status == CampaignStatus.RUNNING and previous == CampaignStatus.PAUSED})])
    if campaign.status == CampaignStatus.PAUSED and campaign.pause_kind not in (PauseKind.NONE, PauseKind.USER):
        alert_raise(client_id=campaign.client_id, kind=AlertKind.CAMPAIGN_PAUSED, object_key=f"campaign:{campaign.pk}",
                    params={"name": campaign.name, "reason": str(PauseKind(campaign.pause_kind).label),
                            "pause_kind": campaign.pause_kind})


def on_events_unprocessed(*, events) -> None:
    by_client: dict[int, list] = {}
    for event in events:
        if event.client_id:  # a raw event is a client's only once processing attributed it
            by_client.setdefault(event.client_id, []).append(event)
    for client_id, client_events in by_client.items():
        alert_raise(client_id=client_id, kind=AlertKind.WEBHOOK_UNPROCESSED, params={
            "reason": (client_events[0].reason or "").splitlines()[0][:200] if client_events[0].reason else "",
            "events": [event.pk for event in client_events[:20]]})


def on_contact_opted_out(*, contact, event) -> None:
    events_record(events=[OutEvent(
        client_id=contact.client_id, type=EventType.CONTACT_OPTED_OUT, ordering_key=f"contact:{contact.pk}", data={
            "contact": contact.pk, "wa_id": contact.wa_id, "source": event.source, "detail": event.detail,
            "at": _iso(event.created_at)})])


def register() -> None:
    """Hear the apps below (called once from ``NotificationsConfig.ready``)."""
    from accounts import hooks as account_hooks
    from contacts import hooks as contact_hooks
    from notifications.inventory import on_numbers_changed
    from templates_mgr import hooks as template_hooks

    account_hooks.numbers_changed.register(on_numbers_changed)
    account_hooks.credentials_refused.register(on_credentials_refused)
    messaging_hooks.inbound_stored.register(on_inbound_stored)
    messaging_hooks.statuses_changed.register(on_statuses_changed)
    template_hooks.templates_changed.register(on_templates_changed)
    messaging_hooks.events_unprocessed.register(on_events_unprocessed)
    campaign_hooks.campaign_status_changed.register(on_campaign_status_changed)
    contact_hooks.contact_opted_out.register(on_contact_opted_out)
    _endpoint_changes_clear_cache()


def _endpoint_changes_clear_cache() -> None:
    """An endpoint saved or deleted in this process: the receivers' copy of the endpoints is reloaded."""
    from django.db.models.signals import post_delete, post_save

    from notifications.events import endpoints_cache
    from notifications.models import WebhookEndpoint

    post_save.connect(endpoints_cache.clear, sender=WebhookEndpoint, dispatch_uid="notifications.endpoints_cache")
    post_delete.connect(endpoints_cache.clear, sender=WebhookEndpoint, dispatch_uid="notifications.endpoints_cache_d")
