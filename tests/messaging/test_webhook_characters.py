"""A callback whose text holds NUL or an unpaired surrogate keeps the customer's message, processable."""

from __future__ import annotations

import json

import pytest

from messaging.models import Message, WebhookEvent
from messaging.webhooks.process import webhook_events_process
from messaging.webhooks.receive import account_cache_clear
from messaging.webhooks.record import body_text_sanitize
from tests.fixtures import load_fixture
from tests.messaging.factories_inbound import aldeamo_line

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    account_cache_clear()
    yield
    account_cache_clear()


def test_nul_and_lone_surrogates_are_replaced_recorded_and_processed(client):
    account = aldeamo_line(digits="57323XXXXXXX").client.provider_account
    payload = load_fixture("aldeamo", "webhook_inbound_text")
    payload["messages"][0]["text"]["body"] = "SIN\x00sel\ud800 ok \U0001f600"
    raw = json.dumps(payload).encode("ascii")  # escapes: \u0000, \ud800, and a pair for the emoji

    response = client.post(account.webhook_path, data=raw, content_type="application/json")

    assert response.status_code == 200
    while webhook_events_process(limit=100):
        pass
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEvent.State.PROCESSED, event.reason
    assert event.headers["x-waportal-replaced-characters"] == "2"
    assert Message.objects.get(direction="in").content == {"body": "SIN\ufffdsel\ufffd ok \U0001f600"}


def test_escaped_backslashes_are_not_escapes():
    text, count = body_text_sanitize(r'{"a": "\\u0000 and \\\u0000"}')
    assert count == 1 and text == r'{"a": "\\u0000 and \\\ufffd"}'


def test_a_nul_in_a_form_body_is_replaced_too():
    text, count = body_text_sanitize("mobile=573002222222&message=Hola%00mundo")
    assert count == 1 and text == "mobile=573002222222&message=Hola%EF%BF%BDmundo"
    assert body_text_sanitize('{"url": "http://x/?a=%00"}') == ('{"url": "http://x/?a=%00"}', 0)


def test_a_body_nested_too_deep_is_kept_unprocessed_not_a_crash(client):
    account = aldeamo_line(digits="57323XXXXXXX").client.provider_account
    raw = b'{"messages": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    client.post(account.webhook_path, data=raw, content_type="application/json")
    ok = load_fixture("aldeamo", "webhook_inbound_text")
    client.post(account.webhook_path, data=json.dumps(ok), content_type="application/json")

    while webhook_events_process(limit=100):
        pass

    states = dict(WebhookEvent.objects.values_list("body_sha256", "state"))
    assert sorted(states.values()) == [WebhookEvent.State.PROCESSED, WebhookEvent.State.UNPROCESSED]
    assert Message.objects.filter(direction="in").count() == 1
