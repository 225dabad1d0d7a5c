"""Adding a provider is writing its package: Relay (tests/support/relay), registered only in the test settings.

With no change outside its package, an operator adds a Relay account through the API and syncs it; a customer
writes in through Relay's webhook; the portal answers with a text through the API and through the composer, and
runs a template campaign — every request reaches Relay's (mocked) HTTP API in Relay's own shape.
"""

from __future__ import annotations

import json
import uuid

import pytest
import responses

from accounts.models import PhoneNumber, ProviderAccount
from campaigns.models import Campaign, CampaignStatus
from messaging.models import Conversation, Direction, Message, MessageStatus
from templates_mgr.models import Template
from tests.campaigns.conftest import work

pytestmark = pytest.mark.django_db

API = "https://relay.example/api"
LINE = "15550001111"
CUSTOMER = "15550009999"


@pytest.fixture
def relay_http():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        counter = iter(range(1, 1000))
        mock.add_callback(responses.POST, f"{API}/messages",
                          callback=lambda request: (200, {}, json.dumps({"id": f"relay-{next(counter)}"})))
        mock.add(responses.GET, f"{API}/templates",
                 json=[{"id": "t-1", "name": "welcome", "state": "ok", "body": "Hola {{1}}, bienvenido."}])
        mock.add(responses.GET, f"{API}/me", json={"login": "acme"})
        yield mock


def sent_bodies(mock) -> list[dict]:
    return [json.loads(call.request.body) for call in mock.calls if call.request.url == f"{API}/messages"]


@pytest.fixture
def line(api_as, superuser, relay_http, django_capture_on_commit_callbacks):
    api = api_as(superuser)
    created = api.post("/api/v1/provider-accounts/", {
        "name": "Relay Acme", "provider": "relay", "environment": "test", "login": "acme", "token": "relay-token",
        "line_number": LINE}, format="json")
    assert created.status_code == 201, created.content
    account = ProviderAccount.objects.get(pk=created.json()["id"])
    synced = api.post(f"/api/v1/provider-accounts/{account.pk}/sync/", {}, format="json")
    assert synced.status_code == 200, synced.content
    from accounts.services import provider_account_test_connection

    check = provider_account_test_connection(account=account)
    assert check.ok and "acme" in check.message
    number = PhoneNumber.objects.get(client__provider_account=account)
    assert number.digits == LINE
    template = Template.objects.get(client=number.client, name="welcome")
    assert template.status == "APPROVED" and template.provider_template_id == "t-1"
    # A customer writes in through Relay's webhook: the 24-hour window opens.
    with django_capture_on_commit_callbacks(execute=True):
        received = api.post(account.webhook_path, {"event": "message", "id": "in-1", "from": CUSTOMER, "to": LINE,
                                                   "text": "Hola, ¿tienen envíos?"}, format="json")
    assert received.status_code == 200
    from messaging.webhooks.process import webhook_events_process

    assert webhook_events_process() == 1
    assert Conversation.objects.filter(phone_number=number, contact__wa_id=CUSTOMER).exists()
    assert Message.objects.filter(phone_number=number, direction=Direction.INBOUND, from_number=CUSTOMER).exists()
    return number


def test_a_text_through_the_api(api_as, superuser, line, relay_http):
    response = api_as(superuser).post("/api/v1/messages/", {
        "from": LINE, "to": CUSTOMER, "type": "text", "text": {"body": "Sí, a todo el país."}}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == MessageStatus.SENT
    assert sent_bodies(relay_http)[-1] == {"from": LINE, "to": CUSTOMER, "text": "Sí, a todo el país."}


def test_a_text_through_the_composer(client, superuser, line, relay_http):
    client.force_login(superuser)
    response = client.post("/admin/messaging/message/compose/", {
        "idempotency_key": uuid.uuid4().hex, "phone_number": line.pk, "to": CUSTOMER, "type": "text",
        "body": "Le escribo desde el portal.", "interactive_type": "button"})
    assert response.status_code == 302, response.content.decode()[:2000]
    message = Message.objects.get(direction=Direction.OUTBOUND)
    assert message.status == MessageStatus.SENT and message.provider_message_id.startswith("relay-")
    assert sent_bodies(relay_http)[-1]["text"] == "Le escribo desde el portal."


def test_a_template_campaign(api_as, superuser, line, relay_http, django_capture_on_commit_callbacks):
    api = api_as(superuser)
    template = Template.objects.get(name="welcome")
    created = api.post("/api/v1/campaigns/", {
        "name": "Bienvenida", "phone_number": line.pk, "template": template.pk, "pace": 50,
        "recipients": [{"phone": "12025550143", "variables": {"body_1": "Ana"}},
                       {"phone": "12025550177", "variables": {"body_1": "Luis"}}]}, format="json")
    assert created.status_code == 201, created.content
    campaign = Campaign.objects.get(pk=created.json()["id"])
    api.get(f"/api/v1/campaigns/{campaign.pk}/report/")
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(f"/api/v1/campaigns/{campaign.pk}/start/", {}, format="json")
    assert started.status_code == 200, started.content
    work(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED
    templates = [body for body in sent_bodies(relay_http) if "template" in body]
    assert sorted((b["to"], b["template"], tuple(b["params"])) for b in templates) == [
        ("12025550143", "t-1", ("Ana",)), ("12025550177", "t-1", ("Luis",))]
