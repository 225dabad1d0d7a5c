"""Issue 17's findings, each as a test: a shared provider account is no door between its clients."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import responses
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry, ProviderAccount
from messaging.models import WebhookEvent
from messaging.webhooks.process import webhook_events_process
from messaging.webhooks.receive import account_cache_clear
from tests.messaging.factories_inbound import WebhookEventFactory

NON_OPERATORS = ("admin_a", "agent_a", "viewer_a", "admin_b", "outsider")
EVIL = "https://evil.example"


def _status(message, status="delivered") -> dict:
    return {"id": message.provider_message_id, "timestamp": str(int(time.time())), "errors": None,
            "recipient_id": message.to_number, "status": status}


def _payload(*messages) -> dict:
    return {"contacts": None, "messages": None, "statuses": [_status(m) for m in messages],
            "origin_number": messages[0].from_number}


# --- who may change the account -------------------------------------------------------------------------


@pytest.mark.parametrize("who", NON_OPERATORS)
def test_no_non_operator_api_sequence_sends_a_stored_secret_anywhere_new(world, who, _no_provider_network):
    """Try every write on the account, then make the portal call the provider: every call goes where it went."""
    api = world.api(who)
    account_url = f"/api/v1/provider-accounts/{world.account.pk}/"
    attempts = [
        ("patch", account_url, {"base_url": EVIL}),
        ("patch", account_url, {"base_url": EVIL, "api_key": "new", "analytics_token": "new", "user_id": "1"}),
        ("put", account_url, {"name": "x", "provider": "aldeamo", "base_url": EVIL}),
        ("patch", account_url, {"environment": "production"}),
        ("patch", account_url, {"templates_list_path": "evil"}),
        ("post", "/api/v1/provider-accounts/", {"name": "x", "provider": "aldeamo", "base_url": EVIL,
                                                 "user_id": world.account.user_id, "api_key": "k"}),
        ("post", f"{account_url}rotate-webhook-secret/", {}),
        ("delete", account_url, None),
    ]
    for method, url, body in attempts:
        assert getattr(api, method)(url, body, format="json").status_code in (403, 404), (method, url, body)

    # Then what makes the portal call the provider with the stored secrets (the mock records every call).
    api.post(f"{account_url}sync/", {}, format="json")
    api.post("/api/v1/messages/", {"from": world.a.number.digits, "to": "573001112233", "type": "text",
                                   "text": {"body": "hola"}}, format="json")
    hosts = {urlsplit(call.request.url).netloc for call in _no_provider_network.calls}
    assert hosts <= {"apitellitwatest.aldeamo.com"}, hosts
    if who in ("admin_a", "admin_b"):
        assert hosts, "a client admin's sync reached the provider"
    account = ProviderAccount.objects.get(pk=world.account.pk)
    assert (account.base_url, account.environment, account.templates_list_path) == (
        world.account.base_url, world.account.environment, world.account.templates_list_path)
    assert account.api_key == world.account.api_key and account.webhook_secret == world.account.webhook_secret


def test_the_services_refuse_a_non_operator_too(world):
    from accounts import services
    from waportal.errors import PermissionDenied

    for who in NON_OPERATORS:
        with pytest.raises(PermissionDenied):
            services.provider_account_update(account=world.account, actor=world.users[who], base_url=EVIL)
        with pytest.raises(PermissionDenied):
            services.provider_account_webhook_secret_rotate(account=world.account, actor=world.users[who])
        with pytest.raises(PermissionDenied):
            services.provider_account_delete(account=world.account, actor=world.users[who])


def test_an_operator_may_redirect_the_account_and_every_client_sees_it_in_its_audit_trail(world):
    response = world.api("operator").patch(f"/api/v1/provider-accounts/{world.account.pk}/",
                                           {"base_url": "https://apitellitwa.aldeamo.com"}, format="json")
    assert response.status_code == 200
    entries = AuditEntry.objects.filter(action="provider_account.update", target_id=str(world.account.pk))
    assert {entry.client_id for entry in entries} == {None, world.a.client.pk, world.b.client.pk}
    for side in (world.a, world.b):
        browser = HttpClient()
        browser.force_login(side.admin)
        page = browser.get(reverse("admin:accounts_auditentry_changelist")).content.decode()
        assert "provider_account.update" in page


# --- the webhook URL is an operator's secret ------------------------------------------------------------


@pytest.mark.parametrize("who", NON_OPERATORS)
def test_only_operators_read_the_webhook_url(world, who):
    api = world.api(who)
    detail = api.get(f"/api/v1/provider-accounts/{world.account.pk}/")
    listing = api.get("/api/v1/provider-accounts/")
    text = detail.content.decode() + listing.content.decode()
    assert world.account.webhook_secret not in text
    if detail.status_code == 200:
        assert detail.json()["webhook_url"] is None


def test_the_operator_reads_the_webhook_url_in_the_api_and_the_admin(world):
    detail = world.api("operator").get(f"/api/v1/provider-accounts/{world.account.pk}/").json()
    assert detail["webhook_url"].endswith(f"/webhooks/aldeamo/{world.account.webhook_secret}/")
    browser = HttpClient()
    browser.force_login(world.operator)
    page = browser.get(reverse("admin:accounts_provideraccount_change", args=[world.account.pk])).content.decode()
    assert world.account.webhook_secret in page


def test_a_client_admin_sees_the_shared_account_read_only_without_its_webhook_url(world):
    browser = HttpClient()
    browser.force_login(world.a.admin)
    response = browser.get(reverse("admin:accounts_provideraccount_change", args=[world.account.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert world.account.webhook_secret not in page
    assert 'name="base_url"' not in page  # no editable field
    assert "wa-sync-now" in page and "wa-rotate-secret" not in page


def test_the_webhook_url_of_one_request_never_reaches_another(world, settings):
    """The admin used to keep the request on its shared instance: concurrent requests could swap hosts."""
    from accounts.admin.provider_accounts import ProviderAccountAdmin

    settings.PUBLIC_BASE_URL = ""
    settings.ALLOWED_HOSTS = ["one.example", "two.example"]
    browser = HttpClient()
    browser.force_login(world.operator)
    url = reverse("admin:accounts_provideraccount_change", args=[world.account.pk])
    first = browser.get(url, HTTP_HOST="one.example").content.decode()
    second = browser.get(url, HTTP_HOST="two.example").content.decode()
    assert "http://one.example/webhooks/" in first and "http://two.example/webhooks/" in second
    assert not [name for name in vars(ProviderAccountAdmin) if name == "_request"]
    from django.contrib import admin

    assert not hasattr(admin.site._registry[ProviderAccount], "_request")


def test_rotating_the_webhook_secret_keeps_the_old_one_for_the_grace_period_then_refuses_it(world):
    account_cache_clear()
    old = world.account.webhook_secret
    response = world.api("operator").post(f"/api/v1/provider-accounts/{world.account.pk}/rotate-webhook-secret/")
    assert response.status_code == 200
    new = ProviderAccount.objects.get(pk=world.account.pk).webhook_secret
    assert new != old and response.json()["webhook_url"].endswith(f"/{new}/")
    post = HttpClient().post
    assert post(f"/webhooks/aldeamo/{new}/", "{}", content_type="application/json").status_code == 200
    assert post(f"/webhooks/aldeamo/{old}/", "{}", content_type="application/json").status_code == 200

    ProviderAccount.objects.filter(pk=world.account.pk).update(
        previous_webhook_secret_until=timezone.now() - timedelta(seconds=1))
    account_cache_clear()  # the receiver's 30-second cache of secrets
    assert post(f"/webhooks/aldeamo/{old}/", "{}", content_type="application/json").status_code == 404
    assert post(f"/webhooks/aldeamo/{new}/", "{}", content_type="application/json").status_code == 200
    entries = AuditEntry.objects.filter(action="provider_account.webhook_secret_rotate")
    assert {entry.client_id for entry in entries} == {None, world.a.client.pk, world.b.client.pk}
    assert all(old not in json.dumps(entry.changes) and new not in json.dumps(entry.changes) for entry in entries)


def test_the_admin_rotates_the_webhook_secret_for_operators_only(world):
    url = reverse("admin:accounts_provideraccount_rotate", args=[world.account.pk])
    browser = HttpClient()
    browser.force_login(world.a.admin)
    assert browser.post(url).status_code == 403
    assert ProviderAccount.objects.get(pk=world.account.pk).webhook_secret == world.account.webhook_secret
    browser.force_login(world.operator)
    assert browser.post(url).status_code == 302
    assert ProviderAccount.objects.get(pk=world.account.pk).webhook_secret != world.account.webhook_secret


def test_forbidden_admin_pages_answer_in_the_portals_look(world):
    browser = HttpClient()
    browser.force_login(world.a.agent)
    response = browser.post(reverse("admin:accounts_provideraccount_rotate", args=[world.account.pk]))
    assert response.status_code in (403, 404)
    browser.force_login(world.a.admin)
    response = browser.post(reverse("admin:accounts_provideraccount_rotate", args=[world.account.pk]))
    assert response.status_code == 403
    assert 'id="wa-forbidden"' in response.content.decode() and "waportal" in response.content.decode()


# --- raw events per tenant -------------------------------------------------------------------------------


def test_processing_attributes_an_event_to_the_one_client_it_concerns(world):
    only_b = WebhookEventFactory(provider_account=world.account, payload=_payload(world.b.message))
    both = WebhookEventFactory(provider_account=world.account, payload=_payload(world.a.message, world.b.message))
    unknown = WebhookEventFactory(provider_account=world.account, payload={"nothing": "we know"})
    webhook_events_process(limit=100)
    for event in (only_b, both, unknown):
        event.refresh_from_db()
    assert only_b.state == WebhookEvent.State.PROCESSED and only_b.client_id == world.b.client.pk
    assert both.client_id is None  # carries A's and B's customers: operators only
    assert unknown.client_id is None

    for who, visible in (("admin_a", set()), ("admin_b", {only_b.pk}), ("operator", {only_b.pk, both.pk,
                                                                                     unknown.pk})):
        browser = HttpClient()
        browser.force_login(world.users[who])
        for event in (only_b, both, unknown):
            response = browser.get(reverse("admin:messaging_webhookevent_change", args=[event.pk]))
            assert (response.status_code == 200) == (event.pk in visible), (who, event.pk)


def test_an_event_of_a_single_client_account_is_that_clients(db):
    from tests.factories import MembershipFactory
    from tests.messaging.factories import MessageFactory

    message = MessageFactory()
    event = WebhookEventFactory(provider_account=message.client.provider_account, payload={"unknown": "shape"})
    webhook_events_process(limit=10)
    event.refresh_from_db()
    assert event.client_id == message.client_id
    admin = MembershipFactory(client=message.client, role="admin").user
    browser = HttpClient()
    browser.force_login(admin)
    assert browser.get(reverse("admin:messaging_webhookevent_change", args=[event.pk])).status_code == 200


def test_a_client_admin_cannot_reprocess_another_clients_events(world):
    browser = HttpClient()
    browser.force_login(world.a.admin)
    for event in (world.b.event, world.unattributed_event):
        browser.post(reverse("admin:messaging_webhookevent_reprocess", args=[event.pk]))
        browser.post(reverse("admin:messaging_webhookevent_changelist"),
                     {"action": "action_reprocess", "_selected_action": [event.pk]})
        event.refresh_from_db()
        assert event.attempts == 0


def test_list_filters_name_only_the_users_clients(world):
    browser = HttpClient()
    browser.force_login(world.a.admin)
    for name in ("accounts_whatsappbusinessaccount", "accounts_phonenumber", "messaging_message",
                 "templates_mgr_template", "campaigns_campaign", "accounts_auditentry"):
        page = browser.get(reverse(f"admin:{name}_changelist")).content.decode()
        assert world.b.client.name not in page and world.other_client.name not in page, name


@responses.activate
def test_nothing_here_reaches_the_network():
    """The security suite's own guard: a provider call with no mock fails instead of leaving the machine."""
    import requests

    with pytest.raises(requests.ConnectionError):
        requests.get("https://apitellitwatest.aldeamo.com/", timeout=1)


def test_a_client_admins_sync_reports_only_their_clients_share(world):
    from accounts.services import SyncResult, sync_result_visible

    result = SyncResult(clients=2, wabas=2, phone_numbers=2, templates=2, warnings=[
        f"WABA {world.b.waba.waba_id}: the provider said no", f"WABA {world.a.waba.waba_id}: timeout"])
    seen = sync_result_visible(result=result, account=world.account, user=world.a.admin)
    assert (seen.clients, seen.wabas, seen.phone_numbers, seen.templates) == (1, 1, 1, 1)
    assert world.b.waba.waba_id not in " ".join(seen.warnings)
    assert f"WABA {world.a.waba.waba_id}: timeout" in seen.warnings and len(seen.warnings) == 2
    assert sync_result_visible(result=result, account=world.account, user=world.operator) is result


def test_the_setup_box_names_only_the_client_admins_own_wabas(world):
    """Issue 18's setup notes name WABAs without a namespace: on a shared account, only the viewer's own."""
    from accounts.models import WhatsAppBusinessAccount

    WhatsAppBusinessAccount.objects.filter(pk__in=[world.a.waba.pk, world.b.waba.pk]).update(namespace="")
    url = reverse("admin:accounts_provideraccount_change", args=[world.account.pk])
    browser = HttpClient()
    browser.force_login(world.a.admin)
    page = browser.get(url).content.decode()
    assert world.a.waba.waba_id in page and world.b.waba.waba_id not in page
    browser.force_login(world.operator)
    page = browser.get(url).content.decode()
    assert world.a.waba.waba_id in page and world.b.waba.waba_id in page
