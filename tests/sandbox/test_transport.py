"""InProcessTransport: requests served by the sandbox views with no server."""

from __future__ import annotations

import pytest
import requests

from providers.base import BaseClient, ProviderAuthError, ProviderRejected, session_for
from sandbox.models import SandboxMessage, SandboxTemplate
from sandbox.transport import InProcessTransport

from . import seed_examples as seeds

BASE = "http://sandbox.internal/sandbox/aldeamo"


@pytest.fixture
def session() -> requests.Session:
    session = requests.Session()
    session.mount("http://sandbox.internal/", InProcessTransport())
    return session


def test_plain_session_json_post(session, aldeamo_headers):
    response = session.post(f"{BASE}/v1/apikey/text/bsp/send", json=seeds.TEXT, headers=aldeamo_headers, timeout=5)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.url == f"{BASE}/v1/apikey/text/bsp/send"
    assert SandboxMessage.objects.filter(message_id=response.json()["messageId"]).exists()


def test_query_strings_delete_and_unicode(session, aldeamo_headers):
    templates = session.get(
        f"{BASE}/v1/apikey/template/getTemplates",
        params={"limit": 1, "wabaid": "236928178367012"},
        headers=aldeamo_headers,
    )
    assert templates.json()["data"]["templates"][0]["name"] == "actualiza_botones"
    assert "acción" in templates.text

    deleted = session.delete(
        f"{BASE}/v1/apikey/template/deleteTemplate",
        params={"nameTemplate": "factura_pdf", "wabaid": "236928178367012"},
        headers=aldeamo_headers,
    )
    assert deleted.json() == {"success": True}
    assert not SandboxTemplate.objects.filter(name="factura_pdf").exists()


def test_form_posts_reach_contacto_virtual(session, creds):
    response = session.post(
        "http://sandbox.internal/sandbox/contacto-virtual/send/",
        data={"login": creds.cv_login, "token": creds.cv_token, **seeds.CV_SEND},
    )
    assert response.json()["code"] == 1


def test_errors_keep_their_status_and_body(session, db):
    response = session.post(f"{BASE}/v1/apikey/text/bsp/send", json=seeds.TEXT, headers={"ApiKey": "x", "UserId": "y"})
    assert response.status_code == 401 and response.json() == {"errors": ["Authentication Error"]}
    assert session.get("http://sandbox.internal/nowhere").status_code == 404


def test_a_provider_client_through_session_for(aldeamo_headers):
    """The way the portal's adapters use it: a pooled session with the transport mounted."""
    session = session_for("sandbox-test", mounts={"http://sandbox.internal/": InProcessTransport()})
    client = BaseClient(base_url=BASE, session=session)

    ok = client.request("POST", "v1/apikey/imagebyurl/bsp/send", headers=aldeamo_headers, json_body=seeds.IMAGE)
    assert ok.json()["messages"][0]["id"]
    with pytest.raises(ProviderRejected) as rejected:
        client.request("POST", "v1/apikey/text/bsp/send", headers=aldeamo_headers, json_body={"to": "1"})
    assert rejected.value.status == 400 and rejected.value.message == "Bad Request"
    with pytest.raises(ProviderAuthError):
        client.request("POST", "v1/apikey/text/bsp/send", headers={}, json_body=seeds.TEXT)


def test_a_slow_answer_raises_read_timeout_but_its_effects_stand(session, aldeamo_headers, account):
    account.latency_ms = 60
    account.save()

    with pytest.raises(requests.exceptions.ReadTimeout):
        session.post(f"{BASE}/v1/apikey/text/bsp/send", json=seeds.TEXT, headers=aldeamo_headers, timeout=(1, 0.01))
    assert SandboxMessage.objects.count() == 1  # the message went out: the outcome of a timeout is unknown
    assert session.post(f"{BASE}/v1/apikey/text/bsp/send", json=seeds.TEXT, headers=aldeamo_headers, timeout=5).ok


def test_the_database_connection_survives_in_process_requests(session, aldeamo_headers):
    """The request runs inside the test's transaction; closing the connection would lose it."""
    for _ in range(3):
        session.post(f"{BASE}/v1/apikey/text/bsp/send", json=seeds.TEXT, headers=aldeamo_headers)
    assert SandboxMessage.objects.count() == 3


def test_transport_by_dotted_path_needs_no_arguments():
    from django.utils.module_loading import import_string

    transport = import_string("sandbox.transport.InProcessTransport")()
    assert isinstance(transport, requests.adapters.BaseAdapter)
