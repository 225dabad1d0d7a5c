"""The input policy at the edges: size, depth and characters refused as JSON naming the limit or field."""

from __future__ import annotations

import json
from io import BytesIO

import pytest
from django.test import RequestFactory, override_settings

from tests.factories import MembershipFactory, PhoneNumberFactory
from waportal.input_policy import InputPolicyMiddleware, json_depth_exceeds

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_api(api_as):
    number = PhoneNumberFactory()
    member = MembershipFactory(client=number.client)
    client = api_as(member.user)
    client.number = number
    return client


def _post_json(client, url, raw: bytes | str, **extra):
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    return client.generic("POST", url, raw, content_type="application/json", **extra)


def test_deeply_nested_body_is_400_naming_the_limit(member_api):
    body = '{"to": "573001234567", "type": "text", "text": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}"
    response = _post_json(member_api, "/api/v1/messages/", body)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["limit"] == 32 and "32" in response.json()["detail"]


def test_deep_arrays_are_counted_without_recursion():
    assert json_depth_exceeds(b"[" * 1_000_000 + b"]" * 1_000_000, 32)
    assert not json_depth_exceeds(b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "b": [1, [2]]}', 3)


def test_body_larger_than_the_limit_is_413_json(member_api):
    response = _post_json(member_api, "/api/v1/messages/", b'{"x": "' + b"a" * 3_000_000 + b'"}')
    assert response.status_code == 413
    assert response.json()["limit"] == 2_500_000


@override_settings(API_MAX_BODY_BYTES=1000)
def test_bytes_actually_read_count_not_the_declared_length():
    """A Content-Length that lies (a chunked or proxied body) does not let more than the limit in."""
    request = RequestFactory().post("/api/v1/messages/", data=b"{}", content_type="application/json")
    request._stream = BytesIO(b'{"x": "' + b"a" * 5000 + b'"}')
    request.META["CONTENT_LENGTH"] = "10"
    response = InputPolicyMiddleware(lambda r: pytest.fail("the view must not run"))(request)
    assert response.status_code == 413 and json.loads(response.content)["limit"] == 1000


@pytest.mark.parametrize("bad", ["\\u0000", "\\ud800", "\\udfff x"])
def test_nul_and_lone_surrogates_are_400_naming_the_field(member_api, bad):
    body = ('{"from": "' + member_api.number.digits + '", "to": "573001234567", "type": "text", '
            '"text": {"body": "hola ' + bad + '"}}')
    response = _post_json(member_api, "/api/v1/messages/", body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert response.status_code == 400, response.content
    assert "text.body" in response.json()


def test_a_paired_surrogate_is_text(member_api):
    from accounts.models import ProviderAccount  # noqa: F401 (the app is loaded)

    body = '{"to": "573001234567", "type": "text", "text": {"body": "\\ud83d\\ude00"}}'
    response = _post_json(member_api, "/api/v1/messages/", body)
    assert "text.body" not in response.json()


def test_nul_in_a_query_parameter_is_400_naming_it(member_api):
    response = member_api.get("/api/v1/messages/?to=57%00300")
    assert response.status_code == 400 and "to" in response.json()


def test_nul_in_a_form_body_is_400(member_api):
    response = member_api.post("/api/v1/messages/", "to=57%00300&type=text",
                               content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and "to" in response.json()


def test_unknown_api_url_is_json_404(member_api):
    response = member_api.get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response.json()["detail"]


def test_a_production_500_under_api_is_json(member_api, monkeypatch, settings):
    settings.DEBUG = False
    from messaging.api import views

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.MessageViewSet, "list", boom)
    member_api.raise_request_exception = False
    response = member_api.get("/api/v1/messages/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json") and "boom" not in response.content.decode()


def test_a_debug_500_under_api_is_json_too(member_api, monkeypatch, settings):
    settings.DEBUG = True
    from messaging.api import views

    monkeypatch.setattr(views.MessageViewSet, "list", lambda *a, **k: 1 / 0)
    member_api.raise_request_exception = False
    response = member_api.get("/api/v1/messages/")
    assert response.status_code == 500 and response.json()["detail"]


def test_pages_outside_the_api_keep_their_html(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and "json" not in response["Content-Type"]


def test_fingerprint_of_a_lone_surrogate_is_a_hash():
    from messaging.sending import request_fingerprint

    assert len(request_fingerprint({"text": {"body": "a\ud800b"}})) == 64
