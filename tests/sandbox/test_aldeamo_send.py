"""Aldeamo sends: every seed example, both answer shapes, and each refusal."""

from __future__ import annotations

import copy
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from sandbox.delivery import sandbox_deliver_due
from sandbox.models import SandboxMessage, SandboxTemplate

from . import seed_examples as seeds
from .conftest import BUSINESS, CUSTOMER, post_json

SEND = "/sandbox/aldeamo/v1/apikey/{service}/bsp/send"


@pytest.mark.parametrize(
    ("service", "body", "answer"), seeds.SENDS, ids=[f"{s}-{i}" for i, (s, _, _) in enumerate(seeds.SENDS)]
)
def test_every_seed_send_example_is_accepted_with_the_seed_answer_shape(client, aldeamo_headers, service, body, answer):
    response = post_json(client, SEND.format(service=service), body, aldeamo_headers)

    assert response.status_code == 200, response.headers.get("X-Sandbox-Reason")
    data = response.json()
    if answer == "messageId":
        assert list(data) == ["messageId"]
        message_id = data["messageId"]
        uuid.UUID(message_id)
    else:
        assert list(data) == ["messages"] and len(data["messages"]) == 1 and list(data["messages"][0]) == ["id"]
        message_id = data["messages"][0]["id"]
        assert message_id.startswith("gBEG")
    message = SandboxMessage.objects.get(message_id=message_id)
    assert (message.from_number, message.to_number, message.type) == (BUSINESS, CUSTOMER, body["type"])
    assert message.body == body


def test_seed_template_examples_are_delivered_not_failed(client, aldeamo_headers, account):
    for _, body, _ in [s for s in seeds.SENDS if s[0] == "template"]:
        assert post_json(client, SEND.format(service="template"), body, aldeamo_headers).status_code == 200
    sandbox_deliver_due(now=account.created_at.replace(year=2100))
    statuses = set(SandboxMessage.objects.filter(type="template").values_list("status", flat=True))
    assert statuses == {"read"}


@pytest.mark.parametrize(
    "headers",
    [{}, {"ApiKey": "wrong", "UserId": "3777"}, {"ApiKey": "KEY", "UserId": "0"}, {"ApiKey": "KEY"}],
    ids=["none", "bad-key", "bad-user", "no-user"],
)
def test_wrong_credentials_answer_401_authentication_error(client, aldeamo_headers, headers):
    headers = {k: (aldeamo_headers["ApiKey"] if v == "KEY" else v) for k, v in headers.items()}
    response = post_json(client, SEND.format(service="text"), seeds.TEXT, headers)

    assert response.status_code == 401
    assert response.json() == {"errors": ["Authentication Error"]}
    assert not SandboxMessage.objects.exists()


def _without(body: dict, *path: str) -> dict:
    body = copy.deepcopy(body)
    target = body
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return body


@pytest.mark.parametrize(
    ("service", "body"),
    [
        ("text", _without(seeds.TEXT, "to")),
        ("text", _without(seeds.TEXT, "from")),
        ("text", _without(seeds.TEXT, "type")),
        ("text", _without(seeds.TEXT, "text")),
        ("text", {**seeds.TEXT, "from": "573000000000"}),
        ("text", {**seeds.TEXT, "to": "57313XXXXXXX"}),
        ("text", {**seeds.TEXT, "text": {"body": "x" * 4097}}),
        ("text", {**seeds.TEXT, "recipient_type": "group"}),
        ("text", {**seeds.TEXT, "preview_url": "yes"}),
        ("text", {**seeds.TEXT, "context": {}}),
        ("imagebyurl", seeds.TEXT),
        ("imagebyurl", _without(seeds.IMAGE, "image")),
        ("imagebyurl", {**seeds.IMAGE, "image": {"link": "<Link to Image, https>"}}),
        ("location", {**seeds.LOCATION, "location": {"name": "sin coordenadas"}}),
        ("contacts", {**seeds.CONTACTS, "contacts": []}),
        ("interactive", _without(seeds.BUTTONS, "interactive", "action")),
        ("interactive", {**seeds.LIST, "interactive": {**seeds.LIST["interactive"], "type": "carousel"}}),
        ("template", _without(seeds.TEMPLATE_QUICK_REPLY, "template", "namespace")),
        ("template", _without(seeds.TEMPLATE_QUICK_REPLY, "template", "language")),
    ],
)
def test_missing_or_invalid_fields_answer_400_bad_request(client, aldeamo_headers, service, body):
    response = post_json(client, SEND.format(service=service), body, aldeamo_headers)

    assert response.status_code == 400
    assert response.json() == {"errors": ["Bad Request"]}
    assert response.headers["X-Sandbox-Reason"]
    assert not SandboxMessage.objects.exists()


def test_text_of_exactly_4096_characters_is_accepted(client, aldeamo_headers):
    body = {**seeds.TEXT, "text": {"body": "x" * 4096}}
    assert post_json(client, SEND.format(service="text"), body, aldeamo_headers).status_code == 200


def test_body_that_is_not_json_answers_400(client, aldeamo_headers):
    response = client.post(
        SEND.format(service="text"), data="{nope", content_type="application/json", headers=aldeamo_headers
    )
    assert response.status_code == 400 and response.json() == {"errors": ["Bad Request"]}


def test_unknown_service_is_404_and_get_is_405(client, aldeamo_headers):
    assert post_json(client, SEND.format(service="carousel"), seeds.TEXT, aldeamo_headers).status_code == 404
    assert client.get(SEND.format(service="text"), headers=aldeamo_headers).status_code == 405


def _statuses(message_id: str) -> list[tuple[str, object]]:
    return [
        (c.payload["statuses"][0]["status"], c.payload["statuses"][0]["errors"])
        for c in SandboxMessage.objects.get(message_id=message_id).callbacks.order_by("due_at", "id")
    ]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"name": "no_such_template"}, 132001),
        ({"namespace": "another_namespace"}, 132001),
        ({"name": "promo_imagen"}, 132001),  # PENDING
        ({"components": []}, 132000),  # the template's body has one variable
    ],
)
def test_template_problems_are_accepted_then_fail_like_whatsapp(client, aldeamo_headers, change, code):
    body = copy.deepcopy(seeds.TEMPLATE_QUICK_REPLY)
    body["template"].update(change)
    response = post_json(client, SEND.format(service="template"), body, aldeamo_headers)

    assert response.status_code == 200
    [(status, errors)] = _statuses(response.json()["messageId"])
    assert status == "failed" and errors[0]["code"] == code and errors[0]["title"]


def test_paused_template_fails_with_132015(client, aldeamo_headers):
    template = SandboxTemplate.objects.get(name="recordatorio_pago")
    body = {
        "from": "573185550103",
        "to": CUSTOMER,
        "type": "template",
        "template": {
            "namespace": template.waba.namespace,
            "name": "recordatorio_pago",
            "language": {"policy": "deterministic", "code": "es"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": v} for v in ("a", "b", "c")]}],
        },
    }
    response = post_json(client, SEND.format(service="template"), body, aldeamo_headers)

    [(status, errors)] = _statuses(response.json()["messageId"])
    assert status == "failed" and errors == [{"code": 132015, "title": "Template is Paused"}]


def test_a_pending_template_past_its_review_time_is_decided_when_sent(client, aldeamo_headers):
    """No worker applied the review yet: the send applies it first (approved, so delivered, not 132001)."""
    body = copy.deepcopy(seeds.TEMPLATE_QUICK_REPLY)
    template = SandboxTemplate.objects.get(waba__namespace=body["template"]["namespace"],
                                           name=body["template"]["name"])
    SandboxTemplate.objects.filter(pk=template.pk).update(
        status="PENDING", review_due_at=timezone.now() - timedelta(seconds=1))
    response = post_json(client, SEND.format(service="template"), body, aldeamo_headers)

    template.refresh_from_db()
    assert template.status == "APPROVED" and response.status_code == 200
    assert [status for status, _errors in _statuses(response.json()["messageId"])][0] == "sent"
