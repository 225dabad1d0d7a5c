"""Every admin page × every role: never a 500, never another tenant's data.

Walks the admin site's registry: each model's changelist, add page, the
change/history/delete pages and custom URLs of one object of each client,
changelist actions on the other client's rows, and autocompletes. Users:
the operator, client A's admin, agent and viewer, a staff user of no client,
a non-staff user and an anonymous visitor. What client B owns must never show
on a page served to A's people or the outsider.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client as HttpClient
from django.urls import URLPattern, reverse

from accounts.models import AuditEntry
from contacts.models import AttributeDefinition, ConsentEvent, ConsentSettings, Segment, Tag
from messaging.models import Contact

STANDARD = ("changelist", "add", "history", "delete", "change")
TENANT_USERS = ("admin_a", "agent_a", "viewer_a", "outsider")
ALL_USERS = ("operator", *TENANT_USERS, "plain", None)


def markers_of_b(world) -> list[str]:
    """Strings only client B's objects (and the events nobody may see yet) carry."""
    b = world.b
    return [b.client.name, b.canned.text, b.number.digits, b.waba.waba_id, b.template.name, b.campaign.name,
            "secret customer of Beta", "private text of Beta", "nobody knows whose yet", world.other_client.name]


def objects_of(world, side: str) -> dict[str, object]:
    """One object per tenant model, of client ``side``."""
    s = getattr(world, side)
    objects = {
        "accounts.client": s.client, "accounts.whatsappbusinessaccount": s.waba, "accounts.phonenumber": s.number,
        "templates_mgr.template": s.template, "messaging.conversation": s.conversation,
        "messaging.message": s.message, "campaigns.campaign": s.campaign, "messaging.webhookevent": s.event,
        "messaging.contact": Contact.objects.filter(client=s.client).first(),
        "contacts.consentevent": ConsentEvent.objects.filter(client=s.client).first(),
        "contacts.attributedefinition": AttributeDefinition.objects.filter(client=s.client).first(),
        "contacts.consentsettings": ConsentSettings.objects.filter(client=s.client).first(),
        "contacts.segment": Segment.objects.filter(client=s.client).first(),
        "contacts.tag": Tag.objects.filter(client=s.client).first(),
        "contacts.contactimport": s.contact_import,
        "accounts.auditentry": AuditEntry.objects.filter(client=s.client).first(),
        "workspace.cannedresponse": s.canned,
    }
    objects.update(_notification_objects(s))
    # The shared account is A's too (read-only for its admin); another account is nobody's here.
    objects["accounts.provideraccount"] = world.other_account if side == "b" else world.account
    return {label: obj for label, obj in objects.items() if obj is not None}


def _notification_objects(side) -> dict[str, object]:
    """A webhook endpoint (with a delivery), an alert in the admin's bell and a subscription of one client."""
    from django.utils import timezone

    from notifications.alerts import alert_raise
    from notifications.models import AlertKind, AlertReceipt, AlertSubscription, Delivery, WebhookEndpoint

    endpoint = WebhookEndpoint.objects.filter(client=side.client).first() or WebhookEndpoint.objects.create(
        client=side.client, url=f"https://hooks.example.com/{side.client.name}")
    if not endpoint.deliveries.exists():
        Delivery.objects.create(endpoint=endpoint, client=side.client, type="message.received",
                                data={"body": f"private text of {side.client.name}"}, created_at=timezone.now(),
                                next_attempt_at=timezone.now())
    alert = alert_raise(client_id=side.client.pk, kind=AlertKind.TEMPLATE_PAUSED, object_key="t",
                        params={"name": side.template.name, "language": "es"})
    subscription, _ = AlertSubscription.objects.get_or_create(user=side.admin, client=side.client)
    return {"notifications.webhookendpoint": endpoint, "notifications.alertsubscription": subscription,
            "notifications.alertreceipt": AlertReceipt.objects.filter(alert=alert).first()}


def browser(world, who: str | None) -> HttpClient:
    client = HttpClient()
    if who is not None:
        client.force_login(world.users[who])
    return client


def assert_no_leak(world, response, where: str) -> None:
    assert response.status_code < 500, f"{where}: {response.status_code}"
    if response.status_code == 200 and not getattr(response, "streaming", False):
        page = response.content.decode(errors="replace")
        leaked = [marker for marker in markers_of_b(world) if marker and marker in page]
        assert not leaked, f"{where} shows client B's {leaked}"


def _custom_urls(model_admin) -> list[tuple[str, URLPattern]]:
    names = []
    for pattern in model_admin.get_urls():
        if pattern.name and not any(pattern.name.endswith(f"_{suffix}") for suffix in STANDARD):
            names.append((pattern.name, pattern))
    return names


def _reverse_custom(name: str, pattern: URLPattern, obj) -> str | None:
    route = str(pattern.pattern)
    kwargs = {}
    for key in pattern.pattern.converters:
        if key in ("pk", "object_id"):
            if obj is None:
                return None
            kwargs[key] = obj.pk
        elif key == "action":
            kwargs[key] = "pause"
        else:
            return None
    if "<" in route and not kwargs:
        return None
    return reverse(f"admin:{name}", kwargs=kwargs)


@pytest.fixture
def optouts(world):
    from contacts.consent import consent_set_by_number

    for side in (world.a, world.b):
        consent_set_by_number(actor=None, client_id=side.client.pk, digits=f"57300000{side.client.client_id}"[:12],
                              opted_out=True, detail=f"list of {side.client.name}", source="campaign_list")
        AttributeDefinition.objects.create(client=side.client, key="plan", label=f"Plan of {side.client.name}")
        ConsentSettings.objects.create(client=side.client, opt_out_confirmation=f"Bye from {side.client.name}")
        Tag.objects.create(client=side.client, name=f"tag of {side.client.name}")


def test_every_admin_page_for_every_role(world, optouts):
    a_objects, b_objects = objects_of(world, "a"), objects_of(world, "b")
    registry = admin.site._registry
    for who in ALL_USERS:
        client = browser(world, who)
        for model, model_admin in registry.items():
            meta = model._meta
            label = meta.label_lower
            base = f"admin:{meta.app_label}_{meta.model_name}"
            tenant_view = who in TENANT_USERS
            for page in ("changelist", "add"):
                response = client.get(reverse(f"{base}_{page}"))
                where = f"{who} {label} {page}"
                assert response.status_code < 500, where
                if tenant_view:
                    assert_no_leak(world, response, where)
            if who not in ("operator", *TENANT_USERS):
                continue
            for side, objects in (("a", a_objects), ("b", b_objects)):
                obj = objects.get(label) or (model.objects.first() if side == "a" else None)
                if obj is None:
                    continue
                for page in ("change", "history", "delete"):
                    response = client.get(reverse(f"{base}_{page}", args=[obj.pk]))
                    where = f"{who} {label} {page} of {side}"
                    assert response.status_code < 500, where
                    if tenant_view and side == "b":
                        assert response.status_code != 200, f"{where} opened"
                    if tenant_view:
                        assert_no_leak(world, response, where)
                for name, pattern in _custom_urls(model_admin):
                    url = _reverse_custom(name, pattern, obj)
                    if url is None:
                        continue
                    for method in ("get", "post"):
                        response = getattr(client, method)(url)
                        where = f"{who} {method.upper()} {name} of {side}"
                        assert response.status_code < 500, where
                        if tenant_view:
                            assert_no_leak(world, response, where)


def test_changelist_actions_never_reach_the_other_client(world):
    b_objects = objects_of(world, "b")
    campaign_status = world.b.campaign.status
    for who in TENANT_USERS:
        client = browser(world, who)
        for model, model_admin in admin.site._registry.items():
            label = model._meta.label_lower
            target = b_objects.get(label)
            if target is None:
                continue
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            for action in model_admin.get_actions(_request_for(world.users[who])) or {}:
                if action == "delete_selected":
                    continue
                response = client.post(url, {"action": action, "_selected_action": [target.pk]}, follow=True)
                assert_no_leak(world, response, f"{who} action {action} on B's {label}")
    # Nothing of B's was touched: its event was not reprocessed, its campaign not paused.
    world.b.event.refresh_from_db()
    world.b.campaign.refresh_from_db()
    assert world.b.event.attempts == 0
    assert world.b.campaign.status == campaign_status


def _request_for(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def test_autocompletes_offer_only_what_the_user_may_see(world):
    fields = []
    for model, model_admin in admin.site._registry.items():
        for inline in model_admin.inlines:
            fields += [(inline.model, name) for name in getattr(inline, "autocomplete_fields", ())]
        fields += [(model, name) for name in model_admin.autocomplete_fields]
    assert fields  # the walk found something to try
    for who in TENANT_USERS:
        client = browser(world, who)
        for model, name in fields:
            response = client.get("/admin/autocomplete/", {
                "app_label": model._meta.app_label, "model_name": model._meta.model_name, "field_name": name,
                "term": ""})
            assert_no_leak(world, response, f"{who} autocomplete {model._meta.label}.{name}")
            if response.status_code == 200:
                assert world.b.admin.username not in response.content.decode()
