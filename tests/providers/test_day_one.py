"""Day one with the real providers (issue 18): creation to delivery through the API alone.

``responses`` serves only the manual's literal paths (a request anywhere else is a connection error, as a wrong
path on a real server would be a 404), fed with bodies in the manual's shapes. Each flow starts from a fresh
provider account created through the API and ends with what the provider reported, read through the API.

Before issue 18 each flow stopped early: the template listing called ``getTemplate`` (no templates), an account
without the ISV token could not sync or get a WABA or number, no namespace could be set through the API, and a CV
template could not be given its ``id_template``.
"""

from __future__ import annotations

import json
import time

import pytest
import responses
from responses import matchers

from messaging.sending import delivery
from messaging.webhooks.process import webhook_events_process
from tests.fixtures import load_fixture

pytestmark = pytest.mark.django_db

ALDEAMO = "https://apitellitwatest.aldeamo.com"  # seed 000: the test environment
CV = "https://contacto-virtual.com/bot/chat_wa/ws/"  # seed 002
WABA_ID = "236928178367012"
NAMESPACE = "f29c496f_9a16_408b_bff7_379e57d1c8d5"
BUSINESS = "573245550101"
CUSTOMER = "573131234567"
TEXT_ID = "a669add1-fb04-4da7-8d53-d76249a487dc"
TEMPLATE_ID = "71b512d7-b6ef-444d-b7b7-de2a042bc825"


@pytest.fixture(autouse=True)
def _no_waits(monkeypatch):
    monkeypatch.setattr(delivery, "sleep", lambda seconds: None)


@pytest.fixture
def provider():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def api(api_as, superuser):
    client = api_as(superuser)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def aldeamo_paths(mock: responses.RequestsMock, *, isv: bool) -> None:
    """The manual's Aldeamo endpoints (seed 000), literally."""
    apikey = matchers.header_matcher({"ApiKey": "api-key-1", "UserId": "3777"})
    mock.get(f"{ALDEAMO}/v1/apikey/template/getTemplates", json=load_fixture("aldeamo", "templates_list_response"),
             match=[apikey, matchers.query_param_matcher({"limit": "6000", "wabaid": WABA_ID}, strict_match=False)])
    mock.post(f"{ALDEAMO}/v1/apikey/text/bsp/send", json={"messageId": TEXT_ID}, match=[apikey])
    mock.post(f"{ALDEAMO}/v1/apikey/template/bsp/send", json={"messageId": TEMPLATE_ID}, match=[apikey])
    if isv:
        token = matchers.header_matcher({"token": "isv-token-1"})
        mock.post(f"{ALDEAMO}/v1/analytics/getWabaIdsByToken", json=[{"wabaIds": [WABA_ID], "clientId": 942}],
                  match=[token])
        # §"API PhoneNumber": headers Token, ClientId, WabaId.
        numbers = matchers.header_matcher({"Token": "isv-token-1", "ClientId": "942", "WabaId": WABA_ID})
        mock.post(f"{ALDEAMO}/v1/analytics/getPhoneNumbers", match=[numbers], json={"data": [{
            "verified_name": "Tienda", "code_verification_status": "VERIFIED",
            "display_phone_number": "+57 324 5550101", "quality_rating": "GREEN", "id": "22548916321987987"}]})


def webhook(client, account_id: int, payload: dict) -> None:
    from accounts.models import ProviderAccount

    account = ProviderAccount.objects.get(pk=account_id)
    response = client.post(account.webhook_path, data=json.dumps(payload), content_type="application/json")
    assert response.status_code == 200
    while webhook_events_process(limit=500):
        pass


def status_payload(message_id: str, status: str) -> dict:
    payload = load_fixture("aldeamo", "webhook_status_delivered")
    payload["statuses"][0].update(id=message_id, status=status, recipient_id=CUSTOMER,
                                  timestamp=str(int(time.time())))
    payload["origin_number"] = BUSINESS
    return payload


def customer_writes(client, account_id: int) -> None:
    payload = load_fixture("aldeamo", "webhook_inbound_text")
    payload["contacts"][0]["wa_id"] = CUSTOMER
    payload["messages"][0].update({"from": CUSTOMER, "timestamp": str(int(time.time())), "text": {"body": "Hola"}})
    payload["origin_number"] = BUSINESS
    webhook(client, account_id, payload)


def send_and_deliver(api, client, account_id: int) -> None:
    """A template and a text, each accepted (201) and then delivered by the provider's status webhook."""
    template = {"from": BUSINESS, "to": CUSTOMER, "type": "template", "template": {
        "name": "actualiza_botones", "language": {"policy": "deterministic", "code": "es"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "José"}]}]}}
    sent = api.post("/api/v1/messages/", template, format="json")
    assert sent.status_code == 201, sent.content
    assert sent.json()["request_body"]["template"]["namespace"] == NAMESPACE
    assert sent.json()["provider_message_id"] == TEMPLATE_ID

    customer_writes(client, account_id)  # opens the 24-hour window a text needs
    text = api.post("/api/v1/messages/", {"from": BUSINESS, "to": CUSTOMER, "type": "text",
                                          "text": {"body": "¿En qué le ayudamos?"}}, format="json")
    assert text.status_code == 201, text.content

    webhook(client, account_id, status_payload(TEMPLATE_ID, "delivered"))
    webhook(client, account_id, status_payload(TEXT_ID, "delivered"))
    for answer in (sent, text):
        assert api.get(f"/api/v1/messages/{answer.json()['id']}/").json()["status"] == "delivered"


def test_a_fresh_isv_account_delivers_a_template_and_a_text_through_the_api(api, client, provider):
    aldeamo_paths(provider, isv=True)
    account = api.post("/api/v1/provider-accounts/", {
        "name": "Tienda", "provider": "aldeamo", "environment": "test", "user_id": "3777",
        "api_key": "api-key-1", "analytics_token": "isv-token-1"}, format="json")
    assert account.status_code == 201, account.content
    account_id = account.json()["id"]

    synced = api.post(f"/api/v1/provider-accounts/{account_id}/sync/")
    assert synced.status_code == 200, synced.content
    assert (synced.json()["wabas"], synced.json()["phone_numbers"], synced.json()["templates"]) == (1, 1, 1), \
        json.dumps(synced.json())
    assert synced.json()["warnings"] == []

    waba = api.get("/api/v1/wabas/", {"waba_id": WABA_ID}).json()["results"][0]
    assert waba["namespace"] == ""  # no listing returns it
    assert api.patch(f"/api/v1/wabas/{waba['id']}/", {"namespace": NAMESPACE}, format="json").status_code == 200

    send_and_deliver(api, client, account_id)


def test_a_fresh_apikey_only_account_delivers_a_template_and_a_text_through_the_api(api, client, provider):
    aldeamo_paths(provider, isv=False)
    account = api.post("/api/v1/provider-accounts/", {
        "name": "Tienda", "provider": "aldeamo", "environment": "test", "user_id": "3777", "api_key": "api-key-1"},
        format="json")
    assert account.status_code == 201, account.content
    account_id = account.json()["id"]

    first = api.post(f"/api/v1/provider-accounts/{account_id}/sync/")
    assert first.status_code == 200, first.content
    client_id = api.get("/api/v1/clients/", {"provider_account": account_id}).json()["results"][0]["id"]
    waba = api.post("/api/v1/wabas/", {"client": client_id, "waba_id": WABA_ID, "namespace": NAMESPACE},
                    format="json")
    assert waba.status_code == 201, waba.content
    number = api.post("/api/v1/phone-numbers/", {"client": client_id, "waba": waba.json()["id"], "digits": BUSINESS},
                      format="json")
    assert number.status_code == 201, number.content
    second = api.post(f"/api/v1/provider-accounts/{account_id}/sync/")
    assert second.json()["templates"] == 1, second.content

    send_and_deliver(api, client, account_id)


def test_a_fresh_contacto_virtual_account_sends_a_template_through_the_api(api, provider):
    credentials = {"login": "demo@gmail.com", "token": "24924910b75a8f07e236ebb5c13b78wwa97e2b575"}
    form = matchers.urlencoded_params_matcher
    provider.post(f"{CV}balance/", json=load_fixture("contacto_virtual", "balance_response"),
                  match=[form(credentials)])
    provider.post(f"{CV}template/", json=load_fixture("contacto_virtual", "template_response"),
                  match=[form(credentials)])
    provider.post(f"{CV}send/", json=load_fixture("contacto_virtual", "send_response"), match=[form({
        **credentials, "id_template": "990", "mobile": "573102334455",
        "template_variables": "[Carlos] [Dra. Ruiz] [martes 10:00]"}, allow_blank=True)])
    account = api.post("/api/v1/provider-accounts/", {
        "name": "Citas", "provider": "contacto_virtual", "line_number": "573001234567", **credentials},
        format="json")
    assert account.status_code == 201, account.content

    synced = api.post(f"/api/v1/provider-accounts/{account.json()['id']}/sync/")
    assert synced.status_code == 200 and synced.json()["templates"] == 2, synced.content
    template = api.get("/api/v1/templates/", {"name": "Asignación de cita"}).json()["results"][0]
    assert template["provider_template_id"] == ""  # CV's listing has no id
    patched = api.patch(f"/api/v1/templates/{template['id']}/", {"provider_template_id": "990"}, format="json")
    assert patched.status_code == 200, patched.content

    sent = api.post("/api/v1/messages/", {
        "from": "573001234567", "to": "573102334455", "type": "template",
        "template": {"name": "Asignación de cita", "components": [{"type": "body", "parameters": [
            {"type": "text", "text": "Carlos"}, {"type": "text", "text": "Dra. Ruiz"},
            {"type": "text", "text": "martes 10:00"}]}]}}, format="json")
    assert sent.status_code == 201, sent.content
    assert sent.json()["status"] == "sent"
    assert sent.json()["provider_message_id"] == "0e1add43-f91c-4e7c-8805-221ef6b27b98"
