"""Every API route × (tenant isolation, role refusal), generated from the URL conf.

``COVERAGE`` names, for each (route name, HTTP method) the URL conf serves
under ``/api/v1/``, one isolation check (client A's user against client B's
object, or another account's) and one role check (a role below what the route
needs). ``test_every_api_route_is_covered`` walks the URL conf: a route added
without both checks fails the suite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts.models import ProviderAccount
from campaigns.models import Campaign
from contacts.models import Segment
from messaging.models import Contact, Conversation, Message
from templates_mgr.models import Template
from workspace.models import CannedResponse


@dataclass(frozen=True)
class Check:
    who: str | None  # a key of World.users; None is anonymous
    method: str
    path: Callable[[Any], str]
    expect: frozenset[int]
    body: Callable[[Any], Any] | None = None
    then: Callable[[Any, Any], None] | None = None  # more assertions: (world, response)


@dataclass(frozen=True)
class Exempt:
    reason: str


def check(who, method, path, expect, body=None, then=None) -> Check:
    return Check(who, method, path, frozenset(expect), body, then)


NOT_FOUND = {404}
REFUSED = {403}
ANONYMOUS = {401, 403}


def _ids(response) -> set[str]:
    return {str(row["id"]) for row in response.json()["results"]}


def lists_a_not_b(kind: str):
    def then(world, response):
        ids = _ids(response)
        assert str(getattr(world.b, kind).pk) not in ids, f"client B's {kind} listed to client A"
        assert str(getattr(world.a, kind).pk) in ids  # the list is not simply empty

    return then


def lists_nothing(world, response):
    assert response.json()["count"] == 0


def unchanged_account(world, response):
    account = ProviderAccount.objects.get(pk=world.account.pk)
    assert account.base_url == world.account.base_url
    assert account.webhook_secret == world.account.webhook_secret


def no_webhook_url(world, response):
    assert response.json()["webhook_url"] is None


def nothing_created_for_b(model, kind):
    def then(world, response):
        assert list(model.objects.filter(client=world.b.client).values_list("pk", flat=True)) == [
            getattr(world.b, kind).pk]

    return then


def account_url(suffix=""):
    return lambda w: f"/api/v1/provider-accounts/{w.account.pk}/{suffix}"


def other_account_url(suffix=""):
    return lambda w: f"/api/v1/provider-accounts/{w.other_account.pk}/{suffix}"


def obj_url(prefix: str, kind: str, side: str, suffix=""):
    return lambda w: f"/api/v1/{prefix}/{getattr(getattr(w, side), kind).pk}/{suffix}"


def template_body(side):
    return lambda w: {"waba": getattr(w, side).waba.pk, "name": "stolen_name", "language": "es",
                      "category": "UTILITY", "components": [{"type": "BODY", "text": "Hola"}]}


def message_body(side):
    return lambda w: {"from": getattr(w, side).number.digits, "to": "573001112233", "type": "text",
                      "text": {"body": "hola"}}


def campaign_body(side):
    return lambda w: {"name": "x", "phone_number": getattr(w, side).number.pk,
                      "template": getattr(w, side).template.pk,
                      "recipients": [{"phone": "573001112233", "variables": {"body_1": "x"}}]}


def sync_body(side):
    return lambda w: {"waba": getattr(w, side).waba.pk, "start": "2026-11-01", "end": "2026-11-02"}


def _conversation_unchanged(side):
    def then(world, response):
        conversation = Conversation.objects.get(pk=getattr(world, side).conversation.pk)
        assert conversation.status == "open"

    return then


ANALYTICS_QUERY = "/api/v1/analytics/conversations/?waba={}&start=2026-11-01&end=2026-11-02"

COVERAGE: dict[tuple[str, str], dict[str, Check | Exempt]] = {
    ("api-root", "GET"): {
        "isolation": Exempt("an index of links: no tenant data"),
        "role": Exempt("an index of links, the same for everyone signed in"),
    },
    ("api-token", "POST"): {
        "isolation": check(None, "POST", lambda w: "/api/v1/auth/token/", {200},
                           body=lambda w: {"username": w.a.admin.username, "password": "pass-word-123"},
                           then=lambda w, r: _token_sees_only_a(w, r)),
        "role": check(None, "POST", lambda w: "/api/v1/auth/token/", {400},
                      body=lambda w: {"username": w.a.admin.username, "password": "wrong"}),
    },
    # Provider accounts: shared by clients; only operators change them.
    ("provider-account-list", "GET"): {
        "isolation": check("admin_a", "GET", lambda w: "/api/v1/provider-accounts/", {200},
                           then=lambda w, r: _lists_account_not_other(w, r)),
        "role": check(None, "GET", lambda w: "/api/v1/provider-accounts/", ANONYMOUS),
    },
    ("provider-account-list", "POST"): {
        "isolation": check("outsider", "POST", lambda w: "/api/v1/provider-accounts/", REFUSED,
                           body=lambda w: {"name": "x", "provider": "aldeamo", "user_id": "1", "api_key": "k"}),
        "role": check("admin_a", "POST", lambda w: "/api/v1/provider-accounts/", REFUSED,
                      body=lambda w: {"name": "x", "provider": "aldeamo", "user_id": "1", "api_key": "k"}),
    },
    ("provider-account-detail", "GET"): {
        "isolation": check("admin_a", "GET", other_account_url(), NOT_FOUND),
        "role": check("admin_a", "GET", account_url(), {200}, then=no_webhook_url),
    },
    ("provider-account-detail", "PUT"): {
        "isolation": check("admin_a", "PUT", other_account_url(), NOT_FOUND,
                           body=lambda w: {"name": "x", "provider": "aldeamo", "base_url": "https://evil.example"}),
        "role": check("admin_a", "PUT", account_url(), REFUSED, then=unchanged_account,
                      body=lambda w: {"name": "x", "provider": "aldeamo", "base_url": "https://evil.example"}),
    },
    ("provider-account-detail", "PATCH"): {
        "isolation": check("admin_b", "PATCH", other_account_url(), NOT_FOUND,
                           body=lambda w: {"base_url": "https://evil.example"}),
        "role": check("admin_a", "PATCH", account_url(), REFUSED, then=unchanged_account,
                      body=lambda w: {"base_url": "https://evil.example"}),
    },
    ("provider-account-detail", "DELETE"): {
        "isolation": check("admin_a", "DELETE", other_account_url(), NOT_FOUND),
        "role": check("admin_a", "DELETE", account_url(), REFUSED, then=unchanged_account),
    },
    ("provider-account-rotate-webhook-secret", "POST"): {
        "isolation": check("admin_a", "POST", other_account_url("rotate-webhook-secret/"), NOT_FOUND),
        "role": check("admin_a", "POST", account_url("rotate-webhook-secret/"), REFUSED, then=unchanged_account),
    },
    ("provider-account-sync", "POST"): {
        "isolation": check("admin_a", "POST", other_account_url("sync/"), NOT_FOUND),
        "role": check("agent_a", "POST", account_url("sync/"), REFUSED),
    },
    # Inventory.
    ("client-list", "GET"): {
        "isolation": check("admin_a", "GET", lambda w: "/api/v1/clients/", {200}, then=lists_a_not_b("client")),
        "role": check("outsider", "GET", lambda w: "/api/v1/clients/", {200}, then=lists_nothing),
    },
    ("client-detail", "GET"): {
        "isolation": check("admin_a", "GET", obj_url("clients", "client", "b"), NOT_FOUND),
        "role": check("outsider", "GET", obj_url("clients", "client", "a"), NOT_FOUND),
    },
    ("waba-list", "GET"): {
        "isolation": check("admin_a", "GET", lambda w: "/api/v1/wabas/", {200}, then=lists_a_not_b("waba")),
        "role": check(None, "GET", lambda w: "/api/v1/wabas/", ANONYMOUS),
    },
    ("waba-detail", "GET"): {
        "isolation": check("viewer_a", "GET", obj_url("wabas", "waba", "b"), NOT_FOUND),
        "role": check("outsider", "GET", obj_url("wabas", "waba", "a"), NOT_FOUND),
    },
    ("waba-list", "POST"): {
        "isolation": check("admin_a", "POST", lambda w: "/api/v1/wabas/", {400, 404},
                           body=lambda w: {"client": w.b.client.pk, "waba_id": "1234567890", "namespace": "x"},
                           then=lambda w, r: _only_b_waba(w)),
        "role": check("agent_a", "POST", lambda w: "/api/v1/wabas/", REFUSED,
                      body=lambda w: {"client": w.a.client.pk, "waba_id": "1234567890", "namespace": "x"}),
    },
    ("waba-detail", "PATCH"): {
        "isolation": check("admin_a", "PATCH", obj_url("wabas", "waba", "b"), NOT_FOUND,
                           body=lambda w: {"namespace": "stolen"}),
        "role": check("agent_a", "PATCH", obj_url("wabas", "waba", "a"), REFUSED, body=lambda w: {"namespace": "x"},
                      then=lambda w, r: _namespace_kept(w)),
    },
    ("phone-number-list", "POST"): {
        "isolation": check("admin_a", "POST", lambda w: "/api/v1/phone-numbers/", {400, 404},
                           body=lambda w: {"client": w.b.client.pk, "waba": w.b.waba.pk, "digits": "573009998877"},
                           then=lambda w, r: _only_b_number(w)),
        "role": check("agent_a", "POST", lambda w: "/api/v1/phone-numbers/", REFUSED,
                      body=lambda w: {"client": w.a.client.pk, "waba": w.a.waba.pk, "digits": "573009998877"}),
    },
    ("phone-number-detail", "PATCH"): {
        "isolation": check("admin_a", "PATCH", obj_url("phone-numbers", "number", "b"), NOT_FOUND,
                           body=lambda w: {"verified_name": "stolen"}),
        "role": check("viewer_a", "PATCH", obj_url("phone-numbers", "number", "a"), REFUSED,
                      body=lambda w: {"verified_name": "x"}),
    },
    ("template-detail", "PATCH"): {
        "isolation": check("admin_a", "PATCH", obj_url("templates", "template", "b"), NOT_FOUND,
                           body=lambda w: {"provider_template_id": "123"}),
        "role": check("agent_a", "PATCH", obj_url("templates", "template", "a"), REFUSED,
                      body=lambda w: {"provider_template_id": "123"}),
    },
    ("phone-number-list", "GET"): {
        "isolation": check("agent_a", "GET", lambda w: "/api/v1/phone-numbers/", {200},
                           then=lists_a_not_b("number")),
        "role": check(None, "GET", lambda w: "/api/v1/phone-numbers/", ANONYMOUS),
    },
    ("phone-number-detail", "GET"): {
        "isolation": check("admin_a", "GET", obj_url("phone-numbers", "number", "b"), NOT_FOUND),
        "role": check("outsider", "GET", obj_url("phone-numbers", "number", "a"), NOT_FOUND),
    },
    # Templates.
    ("template-list", "GET"): {
        "isolation": check("viewer_a", "GET", lambda w: "/api/v1/templates/", {200},
                           then=lists_a_not_b("template")),
        "role": check(None, "GET", lambda w: "/api/v1/templates/", ANONYMOUS),
    },
    ("template-list", "POST"): {
        "isolation": check("admin_a", "POST", lambda w: "/api/v1/templates/", {400, 404}, body=template_body("b"),
                           then=nothing_created_for_b(Template, "template")),
        "role": check("agent_a", "POST", lambda w: "/api/v1/templates/", REFUSED, body=template_body("a")),
    },
    ("template-detail", "GET"): {
        "isolation": check("admin_a", "GET", obj_url("templates", "template", "b"), NOT_FOUND),
        "role": check("outsider", "GET", obj_url("templates", "template", "a"), NOT_FOUND),
    },
    ("template-detail", "DELETE"): {
        "isolation": check("admin_a", "DELETE", obj_url("templates", "template", "b"), NOT_FOUND),
        "role": check("agent_a", "DELETE", obj_url("templates", "template", "a"), REFUSED),
    },
    # Messages.
    ("message-list", "GET"): {
        "isolation": check("viewer_a", "GET", lambda w: "/api/v1/messages/", {200}, then=lists_a_not_b("message")),
        "role": check(None, "GET", lambda w: "/api/v1/messages/", ANONYMOUS),
    },
    ("message-list", "POST"): {
        "isolation": check("agent_a", "POST", lambda w: "/api/v1/messages/", {400, 404}, body=message_body("b"),
                           then=nothing_created_for_b(Message, "message")),
        "role": check("viewer_a", "POST", lambda w: "/api/v1/messages/", REFUSED, body=message_body("a")),
    },
    ("message-detail", "GET"): {
        "isolation": check("admin_a", "GET", obj_url("messages", "message", "b"), NOT_FOUND),
        "role": check("outsider", "GET", obj_url("messages", "message", "a"), NOT_FOUND),
    },
    # Campaigns.
    ("campaign-list", "GET"): {
        "isolation": check("viewer_a", "GET", lambda w: "/api/v1/campaigns/", {200},
                           then=lists_a_not_b("campaign")),
        "role": check(None, "GET", lambda w: "/api/v1/campaigns/", ANONYMOUS),
    },
    ("campaign-list", "POST"): {
        "isolation": check("agent_a", "POST", lambda w: "/api/v1/campaigns/", {400, 404}, body=campaign_body("b"),
                           then=nothing_created_for_b(Campaign, "campaign")),
        "role": check("viewer_a", "POST", lambda w: "/api/v1/campaigns/", REFUSED, body=campaign_body("a")),
    },
    ("campaign-detail", "GET"): {
        "isolation": check("admin_a", "GET", obj_url("campaigns", "campaign", "b"), NOT_FOUND),
        "role": check("outsider", "GET", obj_url("campaigns", "campaign", "a"), NOT_FOUND),
    },
    **{
        (f"campaign-{action}", "POST"): {
            "isolation": check("admin_a", "POST", obj_url("campaigns", "campaign", "b", f"{action}/"), NOT_FOUND,
                               body=lambda w: {}),
            "role": check("viewer_a", "POST", obj_url("campaigns", "campaign", "a", f"{action}/"), REFUSED,
                          body=lambda w: {}),
        }
        for action in ("start", "pause", "resume", "cancel", "retry-failed")
    },
    **{
        (f"campaign-{action}", "GET"): {
            "isolation": check("admin_a", "GET", obj_url("campaigns", "campaign", "b", f"{action}/"), NOT_FOUND),
            "role": check("outsider", "GET", obj_url("campaigns", "campaign", "a", f"{action}/"), NOT_FOUND),
        }
        for action in ("export", "recipients", "report")
    },
    # The workspace: conversations' workflow, private notes, canned responses.
    ("conversation-list", "GET"): {
        "isolation": check("viewer_a", "GET", lambda w: "/api/v1/conversations/", {200},
                           then=lists_a_not_b("conversation")),
        "role": check(None, "GET", lambda w: "/api/v1/conversations/", ANONYMOUS),
    },
    ("conversation-detail", "GET"): {
        "isolation": check("admin_a", "GET", obj_url("conversations", "conversation", "b"), NOT_FOUND),
        "role": check("outsider", "GET", obj_url("conversations", "conversation", "a"), NOT_FOUND),
    },
    ("conversation-detail", "PATCH"): {
        "isolation": check("admin_a", "PATCH", obj_url("conversations", "conversation", "b"), NOT_FOUND,
                           body=lambda w: {"status": "resolved"}, then=_conversation_unchanged("b")),
        "role": check("viewer_a", "PATCH", obj_url("conversations", "conversation", "a"), REFUSED,
                      body=lambda w: {"status": "resolved"}, then=_conversation_unchanged("a")),
    },
    ("conversation-notes", "GET"): {
        "isolation": check("admin_a", "GET", obj_url("conversations", "conversation", "b", "notes/"), NOT_FOUND),
        "role": check("outsider", "GET", obj_url("conversations", "conversation", "a", "notes/"), NOT_FOUND),
    },
    ("conversation-notes", "POST"): {
        "isolation": check("admin_a", "POST", obj_url("conversations", "conversation", "b", "notes/"), NOT_FOUND,
                           body=lambda w: {"text": "x"}),
        "role": check("viewer_a", "POST", obj_url("conversations", "conversation", "a", "notes/"), REFUSED,
                      body=lambda w: {"text": "x"}),
    },
    ("canned-response-list", "GET"): {
        "isolation": check("viewer_a", "GET", lambda w: "/api/v1/canned-responses/", {200},
                           then=lists_a_not_b("canned")),
        "role": check(None, "GET", lambda w: "/api/v1/canned-responses/", ANONYMOUS),
    },
    ("canned-response-list", "POST"): {
        "isolation": check("admin_a", "POST", lambda w: "/api/v1/canned-responses/", {400, 404},
                           body=lambda w: {"client": w.b.client.pk, "shortcut": "stolen", "text": "x"},
                           then=nothing_created_for_b(CannedResponse, "canned")),
        "role": check("agent_a", "POST", lambda w: "/api/v1/canned-responses/", REFUSED,
                      body=lambda w: {"client": w.a.client.pk, "shortcut": "mine", "text": "x"}),
    },
    ("canned-response-detail", "GET"): {
        "isolation": check("admin_a", "GET", obj_url("canned-responses", "canned", "b"), NOT_FOUND),
        "role": check("outsider", "GET", obj_url("canned-responses", "canned", "a"), NOT_FOUND),
    },
    ("canned-response-detail", "PATCH"): {
        "isolation": check("admin_a", "PATCH", obj_url("canned-responses", "canned", "b"), NOT_FOUND,
                           body=lambda w: {"text": "changed"}),
        "role": check("agent_a", "PATCH", obj_url("canned-responses", "canned", "a"), REFUSED,
                      body=lambda w: {"text": "changed"}),
    },
    ("canned-response-detail", "DELETE"): {
        "isolation": check("admin_a", "DELETE", obj_url("canned-responses", "canned", "b"), NOT_FOUND),
        "role": check("agent_a", "DELETE", obj_url("canned-responses", "canned", "a"), REFUSED),
    },
    # Analytics.
    ("analytics-conversations", "GET"): {
        "isolation": check("admin_a", "GET", lambda w: ANALYTICS_QUERY.format(w.b.waba.pk), NOT_FOUND),
        "role": check("outsider", "GET", lambda w: ANALYTICS_QUERY.format(w.a.waba.pk), NOT_FOUND),
    },
    ("analytics-sync", "POST"): {
        "isolation": check("admin_a", "POST", lambda w: "/api/v1/analytics/sync/", NOT_FOUND, body=sync_body("b")),
        "role": check("agent_a", "POST", lambda w: "/api/v1/analytics/sync/", REFUSED, body=sync_body("a")),
    },
}


def _only_b_waba(world):
    from accounts.models import WhatsAppBusinessAccount

    assert list(WhatsAppBusinessAccount.objects.filter(client=world.b.client)) == [world.b.waba]


def _only_b_number(world):
    from accounts.models import PhoneNumber

    assert list(PhoneNumber.objects.filter(client=world.b.client)) == [world.b.number]


def _namespace_kept(world):
    world.a.waba.refresh_from_db()
    assert world.a.waba.namespace == "ns_942"


def _lists_account_not_other(world, response):
    ids = _ids(response)
    assert str(world.other_account.pk) not in ids and str(world.account.pk) in ids


def _token_sees_only_a(world, response):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    ids = _ids(client.get("/api/v1/phone-numbers/"))
    assert ids == {str(world.a.number.pk)}


# --- outgoing webhooks and alerts (notifications) ------------------------------------------------------------
# Each side's endpoint (with one delivery and one alert) is made on first use, so the shared world stays as is.


def _endpoint(world, side: str):
    from notifications.alerts import alert_raise
    from notifications.models import AlertKind, Delivery, WebhookEndpoint

    made = world.__dict__.setdefault("_endpoints", {})
    if side not in made:
        s = getattr(world, side)
        endpoint = WebhookEndpoint.objects.create(client=s.client, url=f"https://hooks.example.com/{side}")
        Delivery.objects.create(endpoint=endpoint, client=s.client, type="message.received", data={"x": side},
                                created_at=timezone.now(), next_attempt_at=timezone.now() + timedelta(days=1))
        alert_raise(client_id=s.client.pk, kind=AlertKind.TEMPLATE_PAUSED, object_key=side,
                    params={"name": f"secret template of {side}"})
        made[side] = endpoint
    return made[side]


def endpoint_url(side: str, suffix: str = ""):
    return lambda w: f"/api/v1/webhook-endpoints/{_endpoint(w, side).pk}/{suffix}"


def delivery_url(side: str, suffix: str = ""):
    def path(w):
        endpoint = _endpoint(w, side)
        return f"/api/v1/webhook-endpoints/{endpoint.pk}/deliveries/{endpoint.deliveries.get().pk}/{suffix}"

    return path


def endpoint_unchanged(side: str):
    def then(world, response):
        from notifications.models import WebhookEndpoint

        endpoint = WebhookEndpoint.objects.get(pk=_endpoint(world, side).pk)
        assert endpoint.url == f"https://hooks.example.com/{side}" and endpoint.secret == _endpoint(world,
                                                                                                  side).secret

    return then


def endpoints_listed_only_a(world, response):
    _endpoint(world, "b")
    ids = _ids(response)
    assert str(_endpoint(world, "b").pk) not in ids and str(_endpoint(world, "a").pk) in ids


def _list_endpoints(who):
    def path(w):
        _endpoint(w, "a"), _endpoint(w, "b")
        return "/api/v1/webhook-endpoints/"

    return check(who, "GET", path, {200}, then=endpoints_listed_only_a if who == "admin_a" else lists_nothing)


def _alerts_of(who):
    def path(w):
        _endpoint(w, "a"), _endpoint(w, "b")
        return "/api/v1/alerts/"

    def then(world, response):
        titles = " ".join(row["title"] for row in response.json()["results"])
        assert "secret template of b" not in titles
        if who == "admin_a":
            assert "secret template of a" in titles

    return check(who, "GET", path, {200}, then=then)


def _no_endpoint_for_b(world, response):
    from notifications.models import WebhookEndpoint

    assert not WebhookEndpoint.objects.filter(client=world.b.client).exists()


def _b_alerts_unread(world, response):
    from notifications.models import AlertReceipt

    _endpoint(world, "b")
    assert AlertReceipt.objects.filter(alert__client=world.b.client, read_at__isnull=True).exists()


# Contacts and segments (issue 23).
COVERAGE.update({
    ("contact-list", "GET"): {
        "isolation": check("viewer_a", "GET", lambda w: "/api/v1/contacts/", {200}, then=lists_a_not_b("contact")),
        "role": check(None, "GET", lambda w: "/api/v1/contacts/", ANONYMOUS),
    },
    ("contact-list", "POST"): {
        "isolation": check("agent_a", "POST", lambda w: "/api/v1/contacts/", {400, 404},
                           body=lambda w: {"client": w.b.client.pk, "number": "573001119999"},
                           then=nothing_created_for_b(Contact, "contact")),
        "role": check("viewer_a", "POST", lambda w: "/api/v1/contacts/", REFUSED,
                      body=lambda w: {"client": w.a.client.pk, "number": "573001119999"}),
    },
    ("contact-detail", "GET"): {
        "isolation": check("admin_a", "GET", obj_url("contacts", "contact", "b"), NOT_FOUND),
        "role": check("outsider", "GET", obj_url("contacts", "contact", "a"), NOT_FOUND),
    },
    ("contact-detail", "PATCH"): {
        "isolation": check("admin_a", "PATCH", obj_url("contacts", "contact", "b"), NOT_FOUND,
                           body=lambda w: {"opted_out": True}),
        "role": check("viewer_a", "PATCH", obj_url("contacts", "contact", "a"), REFUSED,
                      body=lambda w: {"opted_out": True}, then=lambda w, r: _not_opted_out(w.a.contact)),
    },
    ("contact-detail", "DELETE"): {
        "isolation": check("admin_a", "DELETE", obj_url("contacts", "contact", "b"), NOT_FOUND),
        "role": check("agent_a", "DELETE", obj_url("contacts", "contact", "a"), REFUSED),
    },
    **{
        (f"contact-{action}", "POST"): {
            "isolation": check("admin_a", "POST", lambda w, a=action: f"/api/v1/contacts/{a}/", {200},
                               body=lambda w: {"contacts": [w.b.contact.pk], "tags": ["vip"]},
                               then=lambda w, r: _untagged(w.b.contact)),
            "role": check("viewer_a", "POST", lambda w, a=action: f"/api/v1/contacts/{a}/", REFUSED,
                          body=lambda w: {"contacts": [w.a.contact.pk], "tags": ["vip"]}),
        }
        for action in ("tag", "untag")
    },
    ("contact-import-csv", "POST"): {
        "isolation": check("agent_a", "POST", lambda w: "/api/v1/contacts/import/", {400, 404},
                           body=lambda w: {"client": w.b.client.pk, "mapping": {"phone": "number"}},
                           then=nothing_created_for_b(Contact, "contact")),
        "role": check("viewer_a", "POST", lambda w: "/api/v1/contacts/import/", REFUSED,
                      body=lambda w: {"client": w.a.client.pk, "mapping": {"phone": "number"}}),
    },
    ("contact-import-list", "GET"): {
        "isolation": check("viewer_a", "GET", lambda w: "/api/v1/contact-imports/", {200},
                           then=lists_a_not_b("contact_import")),
        "role": check(None, "GET", lambda w: "/api/v1/contact-imports/", ANONYMOUS),
    },
    ("contact-import-detail", "GET"): {
        "isolation": check("admin_a", "GET", obj_url("contact-imports", "contact_import", "b"), NOT_FOUND),
        "role": check("outsider", "GET", obj_url("contact-imports", "contact_import", "a"), NOT_FOUND),
    },
    ("segment-list", "GET"): {
        "isolation": check("viewer_a", "GET", lambda w: "/api/v1/segments/", {200}, then=lists_a_not_b("segment")),
        "role": check(None, "GET", lambda w: "/api/v1/segments/", ANONYMOUS),
    },
    ("segment-list", "POST"): {
        "isolation": check("agent_a", "POST", lambda w: "/api/v1/segments/", {400, 404},
                           body=lambda w: {"client": w.b.client.pk, "name": "stolen", "filters": {}},
                           then=nothing_created_for_b(Segment, "segment")),
        "role": check("viewer_a", "POST", lambda w: "/api/v1/segments/", REFUSED,
                      body=lambda w: {"client": w.a.client.pk, "name": "mine", "filters": {}}),
    },
    ("segment-detail", "GET"): {
        "isolation": check("admin_a", "GET", obj_url("segments", "segment", "b"), NOT_FOUND),
        "role": check("outsider", "GET", obj_url("segments", "segment", "a"), NOT_FOUND),
    },
    ("segment-detail", "PATCH"): {
        "isolation": check("admin_a", "PATCH", obj_url("segments", "segment", "b"), NOT_FOUND,
                           body=lambda w: {"name": "renamed"}),
        "role": check("viewer_a", "PATCH", obj_url("segments", "segment", "a"), REFUSED,
                      body=lambda w: {"name": "renamed"}),
    },
    ("segment-detail", "DELETE"): {
        "isolation": check("admin_a", "DELETE", obj_url("segments", "segment", "b"), NOT_FOUND),
        "role": check("viewer_a", "DELETE", obj_url("segments", "segment", "a"), REFUSED),
    },
    ("segment-count", "GET"): {
        "isolation": check("admin_a", "GET", obj_url("segments", "segment", "b", "count/"), NOT_FOUND),
        "role": check("outsider", "GET", obj_url("segments", "segment", "a", "count/"), NOT_FOUND),
    },
    ("segment-preview-count", "POST"): {
        "isolation": check("admin_a", "POST", lambda w: "/api/v1/segments/count/", NOT_FOUND,
                           body=lambda w: {"client": w.b.client.pk, "filters": {}}),
        "role": check("outsider", "POST", lambda w: "/api/v1/segments/count/", NOT_FOUND,
                      body=lambda w: {"client": w.a.client.pk, "filters": {}}),
    },
    # Analytics.
    ("analytics-conversations", "GET"): {
        "isolation": check("admin_a", "GET", lambda w: ANALYTICS_QUERY.format(w.b.waba.pk), NOT_FOUND),
        "role": check("outsider", "GET", lambda w: ANALYTICS_QUERY.format(w.a.waba.pk), NOT_FOUND),
    },
    ("analytics-sync", "POST"): {
        "isolation": check("admin_a", "POST", lambda w: "/api/v1/analytics/sync/", NOT_FOUND, body=sync_body("b")),
        "role": check("agent_a", "POST", lambda w: "/api/v1/analytics/sync/", REFUSED, body=sync_body("a")),
    },
})


COVERAGE.update({
    ("webhook-endpoint-list", "GET"): {"isolation": _list_endpoints("admin_a"), "role": _list_endpoints("agent_a")},
    ("webhook-endpoint-list", "POST"): {
        "isolation": check("admin_a", "POST", lambda w: "/api/v1/webhook-endpoints/", {400},
                           body=lambda w: {"client": w.b.client.pk, "url": "https://hooks.example.com/x"},
                           then=_no_endpoint_for_b),
        "role": check("agent_a", "POST", lambda w: "/api/v1/webhook-endpoints/", {400, 403},
                      body=lambda w: {"client": w.a.client.pk, "url": "https://hooks.example.com/x"}),
    },
    ("webhook-endpoint-detail", "GET"): {
        "isolation": check("admin_a", "GET", endpoint_url("b"), NOT_FOUND),
        "role": check("agent_a", "GET", endpoint_url("a"), NOT_FOUND),
    },
    ("webhook-endpoint-detail", "PATCH"): {
        "isolation": check("admin_a", "PATCH", endpoint_url("b"), NOT_FOUND,
                           body=lambda w: {"url": "https://evil.example.com/"}, then=endpoint_unchanged("b")),
        "role": check("viewer_a", "PATCH", endpoint_url("a"), NOT_FOUND,
                      body=lambda w: {"url": "https://evil.example.com/"}, then=endpoint_unchanged("a")),
    },
    ("webhook-endpoint-detail", "DELETE"): {
        "isolation": check("admin_a", "DELETE", endpoint_url("b"), NOT_FOUND, then=endpoint_unchanged("b")),
        "role": check("agent_a", "DELETE", endpoint_url("a"), NOT_FOUND, then=endpoint_unchanged("a")),
    },
    ("webhook-endpoint-rotate-secret", "POST"): {
        "isolation": check("admin_a", "POST", endpoint_url("b", "rotate-secret/"), NOT_FOUND,
                           then=endpoint_unchanged("b")),
        "role": check("agent_a", "POST", endpoint_url("a", "rotate-secret/"), NOT_FOUND,
                      then=endpoint_unchanged("a")),
    },
    ("webhook-endpoint-deliveries", "GET"): {
        "isolation": check("admin_a", "GET", endpoint_url("b", "deliveries/"), NOT_FOUND),
        "role": check("viewer_a", "GET", endpoint_url("a", "deliveries/"), NOT_FOUND),
    },
    ("webhook-endpoint-delivery", "GET"): {
        "isolation": check("admin_a", "GET", delivery_url("b"), NOT_FOUND),
        "role": check("agent_a", "GET", delivery_url("a"), NOT_FOUND),
    },
    ("webhook-endpoint-redeliver", "POST"): {
        "isolation": check("admin_a", "POST", delivery_url("b", "redeliver/"), NOT_FOUND),
        "role": check("agent_a", "POST", delivery_url("a", "redeliver/"), NOT_FOUND),
    },
    ("alert-list", "GET"): {"isolation": _alerts_of("admin_a"), "role": _alerts_of("outsider")},
    ("alert-read", "POST"): {
        "isolation": check("admin_a", "POST", lambda w: "/api/v1/alerts/read/", {200},
                           body=lambda w: {"ids": [a.pk for a in _alerts_ids(w, "b")]}, then=_b_alerts_unread),
        "role": check(None, "POST", lambda w: "/api/v1/alerts/read/", ANONYMOUS, body=lambda w: {}),
    },
})


def _alerts_ids(world, side: str):
    from notifications.models import Alert

    _endpoint(world, side)
    return list(Alert.objects.filter(client=getattr(world, side).client))


# --- the URL conf -------------------------------------------------------------------------------------------

_IGNORED_METHODS = {"head", "options", "trace"}


def _api_routes() -> set[tuple[str, str]]:
    """(route name, METHOD) for every view under /api/v1/, format-suffix variants folded in."""
    found: set[tuple[str, str]] = set()

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
                continue
            assert isinstance(pattern, URLPattern)
            if not prefix.startswith("api/v1/"):
                continue
            callback = pattern.callback
            view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
            allowed = set(getattr(view_class, "http_method_names", ()))
            actions = getattr(callback, "actions", None)
            if actions:
                methods = set(actions) & allowed
            else:
                methods = {name for name in ("get", "post", "put", "patch", "delete")
                           if view_class is not None and hasattr(view_class, name)} & allowed
            found.update((pattern.name, method.upper()) for method in methods - _IGNORED_METHODS)

    walk(get_resolver().url_patterns, "")
    return found


def test_every_api_route_is_covered():
    routes = _api_routes()
    missing = sorted(routes - set(COVERAGE))
    assert not missing, f"API routes without an isolation and a role test in COVERAGE: {missing}"
    stale = sorted(set(COVERAGE) - routes)
    assert not stale, f"COVERAGE names routes the URL conf no longer has: {stale}"
    for key, checks in COVERAGE.items():
        assert set(checks) == {"isolation", "role"}, key
        for kind, spec in checks.items():
            assert isinstance(spec, Check) or (isinstance(spec, Exempt) and len(spec.reason) > 10), (key, kind)


def _cases():
    for (name, method), checks in sorted(COVERAGE.items()):
        for kind, spec in checks.items():
            if isinstance(spec, Check):
                yield pytest.param(spec, id=f"{name}-{method}-{kind}")


@pytest.mark.parametrize("spec", list(_cases()))
def test_api_route(world, spec: Check):
    client = world.api(spec.who)
    body = spec.body(world) if spec.body else None
    response = getattr(client, spec.method.lower())(spec.path(world), body, format="json")
    assert response.status_code in spec.expect, (response.status_code, getattr(response, "data", None))
    assert response.status_code < 500
    if spec.then:
        spec.then(world, response)


def _not_opted_out(contact):
    contact.refresh_from_db()
    assert not contact.opted_out


def _untagged(contact):
    assert not contact.tags.exists()


# Teams (issue 22): each side's team is made on first use, so the shared world stays as is.
def _team(world, side: str):
    from workspace.models import Team

    made = world.__dict__.setdefault("_teams", {})
    if side not in made:
        made[side] = Team.objects.create(client=getattr(world, side).client, name=f"Team of {side}")
    return made[side]


def team_url(side: str):
    return lambda w: f"/api/v1/teams/{_team(w, side).pk}/"


def _teams_listed_only_a(world, response):
    ids = _ids(response)
    assert str(_team(world, "b").pk) not in ids and str(_team(world, "a").pk) in ids


def _list_teams(who):
    def path(w):
        _team(w, "a"), _team(w, "b")
        return "/api/v1/teams/"

    return check(who, "GET", path, {200}, then=_teams_listed_only_a)


def _team_name_kept(side: str):
    def then(world, response):
        from workspace.models import Team

        assert Team.objects.get(pk=_team(world, side).pk).name == f"Team of {side}"

    return then


def _no_team_for_b(world, response):
    from workspace.models import Team

    assert not Team.objects.filter(client=world.b.client, name="stolen").exists()


COVERAGE.update({
    ("team-list", "GET"): {"isolation": _list_teams("viewer_a"),
                           "role": check(None, "GET", lambda w: "/api/v1/teams/", ANONYMOUS)},
    ("team-list", "POST"): {
        "isolation": check("admin_a", "POST", lambda w: "/api/v1/teams/", {400, 404},
                           body=lambda w: {"client": w.b.client.pk, "name": "stolen"}, then=_no_team_for_b),
        "role": check("agent_a", "POST", lambda w: "/api/v1/teams/", REFUSED,
                      body=lambda w: {"client": w.a.client.pk, "name": "mine"}),
    },
    ("team-detail", "GET"): {
        "isolation": check("admin_a", "GET", team_url("b"), NOT_FOUND),
        "role": check("outsider", "GET", team_url("a"), NOT_FOUND),
    },
    ("team-detail", "PATCH"): {
        "isolation": check("admin_a", "PATCH", team_url("b"), NOT_FOUND, body=lambda w: {"name": "renamed"},
                           then=_team_name_kept("b")),
        "role": check("agent_a", "PATCH", team_url("a"), REFUSED, body=lambda w: {"name": "renamed"},
                      then=_team_name_kept("a")),
    },
    ("team-detail", "DELETE"): {
        "isolation": check("admin_a", "DELETE", team_url("b"), NOT_FOUND, then=_team_name_kept("b")),
        "role": check("agent_a", "DELETE", team_url("a"), REFUSED, then=_team_name_kept("a")),
    },
})
