"""The webhook endpoints API: the secret shown once, SSRF refusals, operator-only private addresses, the
delivery log and redelivery; the alerts API (the bell's data)."""

from __future__ import annotations

import pytest

from notifications import ssrf
from notifications.models import AlertKind, Delivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _public_dns(monkeypatch):
    names = {"hooks.example.com": ["93.184.215.14"], "internal.example.com": ["10.0.0.8"],
             "mixed.example.com": ["93.184.215.14", "169.254.169.254"]}
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: names[host])


def test_create_shows_the_secret_once_and_reads_never(api_as, client_admin, line):
    api = api_as(client_admin)
    response = api.post("/api/v1/webhook-endpoints/", {"client": line.client.pk, "url": "https://hooks.example.com/x",
                                                       "events": ["message.received", "campaign.paused"]})
    assert response.status_code == 201, response.json()
    secret = response.json()["secret"]
    assert secret.startswith("whsec_")
    endpoint_id = response.json()["id"]
    assert "secret" not in api.get(f"/api/v1/webhook-endpoints/{endpoint_id}/").json()
    listed = api.get("/api/v1/webhook-endpoints/").json()
    assert secret not in str(listed)
    rotated = api.post(f"/api/v1/webhook-endpoints/{endpoint_id}/rotate-secret/").json()["secret"]
    assert rotated != secret and WebhookEndpoint.objects.get().secret == rotated


@pytest.mark.parametrize(("url", "field"), [
    ("http://hooks.example.com/x", "url"),  # https only in production
    ("https://10.1.2.3/x", "url"),
    ("https://127.0.0.1/x", "url"),
    ("https://[::1]/x", "url"),
    ("https://169.254.169.254/latest/meta-data", "url"),
    ("https://internal.example.com/x", "url"),
    ("https://mixed.example.com/x", "url"),  # every resolved address is checked
])
def test_private_and_plain_http_urls_are_refused(api_as, client_admin, line, url, field):
    response = api_as(client_admin).post("/api/v1/webhook-endpoints/", {"client": line.client.pk, "url": url})
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not WebhookEndpoint.objects.exists()


def test_only_an_operator_allows_private_addresses(api_as, client_admin, superuser, line):
    body = {"client": line.client.pk, "url": "https://internal.example.com/x", "allow_private_network": True}
    assert api_as(client_admin).post("/api/v1/webhook-endpoints/", body).status_code == 403
    response = api_as(superuser).post("/api/v1/webhook-endpoints/", body)
    assert response.status_code == 201, response.json()


def test_patch_events_and_unknown_event_type(api_as, client_admin, line):
    api = api_as(client_admin)
    endpoint_id = api.post("/api/v1/webhook-endpoints/", {"client": line.client.pk,
                                                          "url": "https://hooks.example.com/x"}).json()["id"]
    response = api.patch(f"/api/v1/webhook-endpoints/{endpoint_id}/", {"events": ["message.status"]})
    assert response.status_code == 200 and response.json()["events"] == ["message.status"]
    assert api.patch(f"/api/v1/webhook-endpoints/{endpoint_id}/", {"events": ["nope"]}).status_code == 400
    paused = api.patch(f"/api/v1/webhook-endpoints/{endpoint_id}/", {"active": False}).json()
    assert paused["active"] is False and not WebhookEndpoint.objects.get().is_active
    assert api.delete(f"/api/v1/webhook-endpoints/{endpoint_id}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_delivery_log_and_redelivery(api_as, client_admin, receiver, endpoint, line, fake_clock,
                                     django_assert_max_num_queries):
    from tests.notifications.test_delivery import deliver, inbound

    inbound(line, 3)
    deliver(endpoint)
    api = api_as(client_admin)
    with django_assert_max_num_queries(8):
        page = api.get(f"/api/v1/webhook-endpoints/{endpoint.pk}/deliveries/").json()
    assert page["count"] == 3 and {row["state"] for row in page["results"]} == {"delivered"}
    delivery_id = page["results"][0]["id"]
    answer = api.post(f"/api/v1/webhook-endpoints/{endpoint.pk}/deliveries/{delivery_id}/redeliver/").json()
    assert [attempt["manual"] for attempt in answer["attempt_log"]] == [True, False]
    assert answer["attempt_log"][0]["status_code"] == 200
    assert len(receiver.ok()) == 4
    assert Delivery.objects.get(pk=delivery_id).state == Delivery.State.DELIVERED


def test_alerts_list_and_mark_read(api_as, client_admin, line):
    from notifications.alerts import alert_raise

    alert_raise(client_id=line.client.pk, kind=AlertKind.TEMPLATE_PAUSED, object_key="t1",
                params={"name": "aviso", "language": "es"})
    api = api_as(client_admin)
    rows = api.get("/api/v1/alerts/?unread=1").json()["results"]
    assert len(rows) == 1 and "aviso" in rows[0]["title"]
    assert api.post("/api/v1/alerts/read/", {}).json() == {"marked": 1}
    assert api.get("/api/v1/alerts/?unread=1").json()["count"] == 0
