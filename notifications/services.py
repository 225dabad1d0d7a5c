"""Writes of outgoing webhooks: endpoints (create, change, rotate the secret, delete), redelivery, disabling.

Client admins manage their client's endpoints; only operators may let one point at private addresses.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import Client, Role
from accounts.tenancy import is_operator, require_role
from notifications import clock, delivery, ssrf
from notifications.alerts import alert_raise
from notifications.models import AlertKind, Delivery, EventType, WebhookEndpoint, new_signing_secret
from waportal.errors import ApplicationError, PermissionDenied

ROTATION_GRACE = timedelta(hours=24)  # the old secret still signs (second v1) this long after a rotation


def _events_clean(events: list[str] | None) -> list[str]:
    events = list(dict.fromkeys(events or []))
    unknown = [name for name in events if name not in EventType.values]
    if unknown:
        raise ApplicationError(_("Unknown event type: %(name)s.") % {"name": unknown[0]}, field="events")
    return events


def _allow_private_check(actor, allow: bool) -> None:
    if allow and actor is not None and not is_operator(actor):
        raise PermissionDenied(_("Only the portal's operators may allow private addresses."))


@transaction.atomic
def webhook_endpoint_create(*, actor, client: Client, url: str, events: list[str] | None = None,
                            description: str = "", is_active: bool = True,
                            allow_private_network: bool = False) -> WebhookEndpoint:
    """Create an endpoint; its ``secret`` is readable on the returned object this once."""
    if actor is not None:
        require_role(actor, client, Role.ADMIN)
    _allow_private_check(actor, allow_private_network)
    ssrf.url_check(url, allow_private_network=allow_private_network)
    endpoint = WebhookEndpoint.objects.create(
        client=client, url=url, events=_events_clean(events), description=description, is_active=is_active,
        allow_private_network=allow_private_network,
        created_by=actor if getattr(actor, "is_authenticated", False) else None)
    audit_record(actor=actor, action="webhook_endpoint.create", obj=endpoint, client=client,
                 changes={"url": url, "events": endpoint.events})
    return endpoint


@transaction.atomic
def webhook_endpoint_update(*, actor, endpoint: WebhookEndpoint, **fields) -> WebhookEndpoint:
    """Change url, events, description, is_active (re-enabling clears the failure state) or the private flag."""
    if actor is not None:
        require_role(actor, endpoint.client_id, Role.ADMIN)
    allowed = {"url", "events", "description", "is_active", "allow_private_network"}
    unknown = set(fields) - allowed
    if unknown:
        raise ApplicationError(_("This field cannot be changed."), field=sorted(unknown)[0])
    if "allow_private_network" in fields and fields["allow_private_network"] != endpoint.allow_private_network:
        if actor is not None and not is_operator(actor):
            raise PermissionDenied(_("Only the portal's operators may allow private addresses."))
    if "events" in fields:
        fields["events"] = _events_clean(fields["events"])
    allow = fields.get("allow_private_network", endpoint.allow_private_network)
    if "url" in fields or "allow_private_network" in fields:
        ssrf.url_check(fields.get("url", endpoint.url), allow_private_network=allow)
    before = {name: getattr(endpoint, name) for name in fields}
    for name, value in fields.items():
        setattr(endpoint, name, value)
    update = list(fields)
    if fields.get("is_active") and not before.get("is_active", True):
        endpoint.disabled_at, endpoint.disabled_reason = None, ""
        endpoint.failures, endpoint.failing_since, endpoint.retry_at = 0, None, None
        update += ["disabled_at", "disabled_reason", "failures", "failing_since", "retry_at"]
    endpoint.save(update_fields=[*update, "updated_at"])
    audit_record(actor=actor, action="webhook_endpoint.update", obj=endpoint, client=endpoint.client,
                 changes={name: [before[name], fields[name]] for name in fields if before[name] != fields[name]})
    if fields.get("is_active"):
        transaction.on_commit(lambda: _kick(endpoint.pk))
    return endpoint


def _kick(endpoint_id: int) -> None:
    from notifications.tasks import endpoint_delivery_schedule

    endpoint_delivery_schedule(endpoint_id=endpoint_id)


@transaction.atomic
def webhook_endpoint_rotate_secret(*, actor, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new signing secret (returned this once); the old one still signs for 24 h (a second ``v1``)."""
    if actor is not None:
        require_role(actor, endpoint.client_id, Role.ADMIN)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = clock.now() + ROTATION_GRACE
    endpoint.secret = new_signing_secret()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until", "updated_at"])
    audit_record(actor=actor, action="webhook_endpoint.rotate_secret", obj=endpoint, client=endpoint.client)
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, actor, endpoint: WebhookEndpoint) -> None:
    if actor is not None:
        require_role(actor, endpoint.client_id, Role.ADMIN)
    audit_record(actor=actor, action="webhook_endpoint.delete", obj=endpoint, client=endpoint.client,
                 changes={"url": endpoint.url})
    endpoint.delete()


def webhook_delivery_redeliver(*, actor, delivery_row: Delivery) -> Delivery:
    """Send a delivery again now (whatever its state) and log the attempt; the answer is on the returned row."""
    if actor is not None:
        require_role(actor, delivery_row.client_id, Role.ADMIN)
    if not delivery_row.endpoint.is_active:
        raise ApplicationError(_("The endpoint is disabled; enable it first."), field="endpoint")
    delivery.delivery_redeliver(delivery=delivery_row)
    delivery_row.refresh_from_db()
    return delivery_row


@transaction.atomic
def webhook_endpoint_disable_failing(*, endpoint: WebhookEndpoint, at: datetime) -> None:
    """Disable an endpoint that kept failing, and tell its client's people."""
    if not WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
            is_active=False, disabled_at=at,
            disabled_reason=f"No successful delivery since {endpoint.failing_since.isoformat()}"):
        return
    endpoint.is_active = False
    from notifications.events import endpoints_cache

    endpoints_cache.clear()
    audit_record(actor=None, action="webhook_endpoint.auto_disable", obj=endpoint, client=endpoint.client)
    alert_raise(client_id=endpoint.client_id, kind=AlertKind.ENDPOINT_DISABLED, object_key=f"endpoint:{endpoint.pk}",
                params={"url": endpoint.url, "since": endpoint.failing_since.isoformat()})
