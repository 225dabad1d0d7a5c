"""POST/GET /api/v1/messages/: sending through the API, reading with filters, tenancy, no 500 for garbage.

The provider is a fake client object (``messaging.sending.delivery.provider_client`` replaced); the wire format is
tested in test_message_send.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from messaging.models import Message, MessageStatus
from providers.base import ProviderAuthError, ProviderRejected, ProviderTimeout, ProviderUnavailable
from providers.contacto_virtual.client import TOKEN_MASK
from providers.types import SendResult
from tests.factories import PhoneNumberFactory
from tests.messaging.factories import (
    ContactoVirtualTemplateFactory,
    MessageFactory,
    StatusEventFactory,
    contacto_virtual_number,
    member,
    open_window,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/messages/"
CUSTOMER = "573131234567"


@pytest.fixture
def api(api):
    """Answers in English whatever the default language, so assertions read the source strings."""
    api.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return api




def text_body(number, **changes) -> dict:
    return {"from": number.digits, "to": CUSTOMER, "type": "text", "text": {"body": "Hola"}, **changes}


def test_post_sends_and_answers_201_with_the_stored_message(api_as, number, agent, fake):
    open_window(number, CUSTOMER)
    fake.script = [SendResult(message_id="prov-1")]

    response = api_as(agent).post(URL, text_body(number, preview_url=True, recipient_type="individual"),
                                  format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    message = Message.objects.get()
    assert data["id"] == str(message.pk)
    assert data["status"] == "sent"
    assert data["from"] == number.digits and data["to"] == CUSTOMER
    assert data["provider_message_id"] == "prov-1"
    assert data["request_body"]["preview_url"] is True
    assert data["status_history"] == []
    assert response["Location"].endswith(f"/api/v1/messages/{message.pk}/")
    assert fake.sent[0].content == {"body": "Hola"}


def test_refused_credentials_are_502_with_the_failed_message_and_its_words(api_as, number, agent, fake):
    # Before issue 18 this answered 201: an integrator checking the code believed it was sent.
    open_window(number, CUSTOMER)
    fake.script = [ProviderAuthError("Authentication Error", status=401)]

    response = api_as(agent).post(URL, text_body(number), format="json")

    assert response.status_code == 502
    data = response.json()
    assert data["id"] == str(Message.objects.get().pk)
    assert data["status"] == "failed"
    assert data["error_code"] == "401"
    assert data["send_outcome"] == "configuration"
    assert "check the account's API key and user id" in data["error_title"]


@pytest.mark.parametrize(
    ("answer", "code", "outcome", "status"),
    [
        (ProviderRejected("Bad Request", status=400), 422, "refused", "failed"),
        (ProviderRejected("Not Found", status=404), 502, "configuration", "failed"),
        (ProviderUnavailable("Could not connect"), 503, "unreachable", "failed"),
        (ProviderTimeout("did not answer in time"), 502, "unknown", "unknown"),
    ],
    ids=["refused-422", "wrong-path-502", "unreachable-503", "timeout-502"],
)
def test_each_provider_outcome_has_its_status_code_and_a_replay_answers_the_same(
    api_as, number, agent, fake, answer, code, outcome, status
):
    open_window(number, CUSTOMER)
    fake.script = [answer] * 3
    client = api_as(agent)

    first = client.post(URL, text_body(number), format="json", headers={"Idempotency-Key": "k-1"})
    again = client.post(URL, text_body(number), format="json", headers={"Idempotency-Key": "k-1"})

    assert first.status_code == again.status_code == code, first.content
    assert first.json()["status"] == again.json()["status"] == status
    assert first.json()["send_outcome"] == outcome
    assert first.json()["error_title"]
    assert again["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == again.json()["id"]


def test_the_schema_documents_each_send_status_code(api_as, superuser):
    schema = api_as(superuser).get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200, schema.content[:300]
    responses = schema.json()["paths"]["/api/v1/messages/"]["post"]["responses"]
    assert {"201", "422", "502", "503"} <= set(responses)


def test_a_refused_request_is_400_naming_the_field_and_stores_nothing(api_as, number, agent, fake):
    open_window(number, CUSTOMER)
    response = api_as(agent).post(URL, text_body(number, text={"body": "a" * 4097}), format="json")

    assert response.status_code == 400
    assert "text.body" in response.json()
    assert "4096" in response.json()["detail"]
    assert Message.objects.count() == 0
    assert fake.sent == []


def test_the_closed_window_is_400_on_type_saying_a_template_is_needed(api_as, number, agent, fake):
    response = api_as(agent).post(URL, text_body(number), format="json")

    assert response.status_code == 400
    body = response.json()
    assert "template is needed" in body["type"][0]
    assert body["code"] == "window_closed"


def test_another_tenants_from_is_400_naming_from(api_as, number, agent, fake):
    other = PhoneNumberFactory()
    open_window(other, CUSTOMER)

    response = api_as(agent).post(URL, text_body(other), format="json")

    assert response.status_code == 400
    assert "from" in response.json()
    assert fake.sent == []


def test_a_viewer_cannot_send(api_as, number, fake):
    open_window(number, CUSTOMER)
    response = api_as(member(number, Role.VIEWER)).post(URL, text_body(number), format="json")
    assert response.status_code == 403
    assert fake.sent == []


def test_from_accepts_a_formatted_number(api_as, number, agent, fake):
    open_window(number, CUSTOMER)
    response = api_as(agent).post(URL, text_body(number, **{"from": "+57 300 111 2233"}), format="json")
    assert response.status_code == 201


def test_an_idempotency_key_twice_sends_once_and_answers_the_first_message(api_as, number, agent, fake):
    open_window(number, CUSTOMER)
    client = api_as(agent)

    first = client.post(URL, text_body(number), format="json", headers={"Idempotency-Key": "abc-123"})
    second = client.post(URL, text_body(number), format="json", headers={"Idempotency-Key": "abc-123"})

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert len(fake.sent) == 1


def test_the_same_key_with_another_body_is_422(api_as, number, agent, fake):
    open_window(number, CUSTOMER)
    client = api_as(agent)
    client.post(URL, text_body(number), format="json", headers={"Idempotency-Key": "abc-123"})

    response = client.post(URL, text_body(number, text={"body": "Otra cosa"}), format="json",
                           headers={"Idempotency-Key": "abc-123"})

    assert response.status_code == 422
    assert "idempotency_key" in response.json()
    assert len(fake.sent) == 1


def test_a_contacto_virtual_line_sends_a_template_through_the_same_shape(api_as, fake):
    line = contacto_virtual_number(digits="573001234567")
    ContactoVirtualTemplateFactory(client=line.client, provider_template_id="990", text="Hola {1}, {2}")
    body = {"from": line.digits, "to": "573102334455", "type": "template", "custom_field": "pedido-7",
            "template": {"id": 990, "components": [{"type": "body", "parameters": [
                {"type": "text", "text": "Carlos"}, {"type": "text", "text": "$100"}]}]}}

    response = api_as(member(line)).post(URL, body, format="json")

    assert response.status_code == 201, response.content
    assert fake.sent[0].variables == ("Carlos", "$100")
    assert fake.sent[0].custom_field == "pedido-7"
    assert response.json()["request_body"]["template_variables"] == "[Carlos] [$100]"
    assert response.json()["request_body"]["token"] == TOKEN_MASK


GARBAGE = [
    [],
    "just a string",
    {},
    {"from": "573001112233"},
    {"from": "573001112233", "to": CUSTOMER, "type": "fax", "fax": {}},
    {"from": "573001112233", "to": CUSTOMER, "type": "text"},
    {"from": "573001112233", "to": CUSTOMER, "type": "text", "text": None},
    {"from": "573001112233", "to": CUSTOMER, "type": "text", "text": ["a"]},
    {"from": "573001112233", "to": CUSTOMER, "type": "text", "text": {"body": 12}},
    {"from": "573001112233", "to": CUSTOMER, "type": "text", "text": {"body": "x"}, "image": {"link": "x"}},
    {"from": "573001112233", "to": {"n": 1}, "type": "text", "text": {"body": "x"}},
    {"from": "573001112233", "to": CUSTOMER, "type": "text", "text": {"body": "x"}, "context": "wamid"},
    {"from": "573001112233", "to": CUSTOMER, "type": "text", "text": {"body": "x"}, "preview_url": "maybe"},
    {"from": "573001112233", "to": CUSTOMER, "type": "location", "location": {"latitude": [], "longitude": {}}},
    {"from": "573001112233", "to": CUSTOMER, "type": "interactive", "interactive": {"type": "list", "action": 3}},
    {"from": "573001112233", "to": CUSTOMER, "type": "contacts", "contacts": [None, 1, "x"]},
    {"from": "573001112233", "to": CUSTOMER, "type": "template", "template": {"components": "nope"}},
    {"from": "573001112233", "to": CUSTOMER, "type": "template",
     "template": {"name": 5, "language": 7, "components": [None]}},
    {"from": "573001112233", "to": CUSTOMER, "type": "image", "image": {"link": "https://x.example/a.png",
                                                                        "caption": {"a": 1}}},
    {"from": "", "to": "", "type": "", "text": ""},
]


@pytest.mark.parametrize("body", GARBAGE)
def test_garbage_is_a_4xx_never_a_500(api_as, number, agent, fake, body):
    open_window(number, CUSTOMER)
    response = api_as(agent).post(URL, body, format="json")
    assert 400 <= response.status_code < 500, response.content
    assert Message.objects.count() == 0


def test_malformed_json_is_400(api_as, agent, fake):
    response = api_as(agent).post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400


# --- reading -------------------------------------------------------------------------------------------------------------


def test_list_and_detail_show_only_the_tenants_messages_with_their_history(api_as, number, agent):
    mine = MessageFactory(phone_number=number, error_code="", status=MessageStatus.DELIVERED)
    StatusEventFactory(message=mine, status="sent", timestamp=timezone.now() - timedelta(seconds=5))
    StatusEventFactory(message=mine, status="delivered")
    theirs = MessageFactory()
    client = api_as(agent)

    listing = client.get(URL)
    detail = client.get(f"{URL}{mine.pk}/")
    hidden = client.get(f"{URL}{theirs.pk}/")

    assert listing.status_code == 200
    assert [row["id"] for row in listing.json()["results"]] == [str(mine.pk)]
    assert listing.json()["count"] == 1
    assert detail.json()["status"] == "delivered"
    assert [event["status"] for event in detail.json()["status_history"]] == ["sent", "delivered"]
    assert hidden.status_code == 404


def test_filters(api_as, number, agent):
    old = MessageFactory(phone_number=number, to_number="573000000001", type="image")
    Message.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    failed = MessageFactory(phone_number=number, to_number="573000000002", status=MessageStatus.FAILED)
    inbound = MessageFactory(phone_number=number, direction="in", from_number="573000000003",
                             to_number=number.digits, status=MessageStatus.RECEIVED)
    client = api_as(agent)

    def ids(**params):
        response = client.get(URL, params)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids(direction="in") == {str(inbound.pk)}
    assert ids(status="failed") == {str(failed.pk)}
    assert ids(type="image") == {str(old.pk)}
    assert ids(to="+57 300 000 0002") == {str(failed.pk)}
    assert ids(**{"from": "573000000003"}) == {str(inbound.pk)}
    assert ids(created_before=(timezone.now() - timedelta(days=1)).isoformat()) == {str(old.pk)}
    assert ids(created_after=(timezone.now() - timedelta(days=1)).isoformat()) == {str(failed.pk), str(inbound.pk)}
    assert client.get(URL, {"status": "nonsense"}).status_code == 400


def test_the_list_query_count_does_not_grow_with_rows(api_as, number, agent):
    client = api_as(agent)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    for _ in range(2):
        StatusEventFactory(message=MessageFactory(phone_number=number))
    count_queries()  # warm-up: the user's memberships are read once and cached on the user
    few = count_queries()
    for _ in range(15):
        StatusEventFactory(message=MessageFactory(phone_number=number))
    many = count_queries()

    assert many == few
    assert few <= 5


def test_the_campaign_filter_lists_the_messages_a_campaign_sent(api_as, number, agent):
    from campaigns.models import Campaign, CampaignRecipient
    from tests.factories import TemplateFactory

    campaign = Campaign.objects.create(client=number.client, phone_number=number, name="Promo",
                                             template=TemplateFactory(waba=number.waba))
    sent = MessageFactory(phone_number=number)
    MessageFactory(phone_number=number)
    CampaignRecipient.objects.create(campaign=campaign, row_number=1, phone=sent.to_number, message=sent)

    response = api_as(agent).get(URL, {"campaign": campaign.pk})

    assert [row["id"] for row in response.json()["results"]] == [str(sent.pk)]
