"""The webhook receivers: every seed example stored once and processed; secrets, sizes, duplicates, replay."""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.handlers.asgi import ASGIRequest
from django.db import OperationalError, connection
from django.db import connections as db_connections
from django.tasks import TaskResultStatus
from django.test import Client as HttpClient
from django_tasks_db.models import DBTaskResult

from accounts.models import new_webhook_secret
from messaging import tasks
from messaging.models import Contact, Conversation, Message, MessageStatus, StatusEvent, WebhookEvent
from messaging.webhooks import receive
from messaging.webhooks.process import webhook_event_reprocess, webhook_events_process
from messaging.webhooks.receive import account_cache_clear, webhook_receive
from messaging.webhooks.record import body_sha256
from templates_mgr.models import TemplateChange, TemplateStatus
from tests.fixtures import fixture_path, load_fixture
from tests.messaging.factories_inbound import (
    OutboundMessageFactory,
    TemplateFactory,
    aldeamo_line,
    contacto_virtual_line,
)

ALDEAMO_WEBHOOKS = sorted(p.stem for p in fixture_path("aldeamo", "webhook_status_delivered").parent.glob("webhook_*"))
CV_WEBHOOKS = sorted(p.stem for p in fixture_path("contacto_virtual", "webhook_sent").parent.glob("webhook_*"))
PROCESS_TASK = "messaging.tasks.webhook_events_process_task"


@pytest.fixture(autouse=True)
def _fresh_receiver_state(monkeypatch):
    account_cache_clear()
    from django.core.cache import cache

    cache.clear()
    monkeypatch.setattr(tasks, "_local", threading.local())
    yield
    account_cache_clear()


def url(account, kind: str | None = None) -> str:
    path = account.webhook_path
    if kind:
        path = f"/webhooks/{kind}/{account.webhook_secret}/"
    return path


def post_json(client, account, payload, **kwargs):
    return client.post(url(account, kwargs.pop("kind", None)), data=json.dumps(payload),
                       content_type="application/json", **kwargs)


def process_all() -> None:
    while webhook_events_process(limit=500):
        pass


# --- the receiver ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_post_is_stored_as_received_and_answered_ok(client):
    account = aldeamo_line().client.provider_account
    body = json.dumps(load_fixture("aldeamo", "webhook_status_delivered"), indent=1)

    response = client.post(url(account), data=body, content_type="application/json",
                           HTTP_USER_AGENT="Aldeamo/1.0", HTTP_AUTHORIZATION="Bearer do-not-keep")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    event = WebhookEvent.objects.get()
    assert event.provider_account == account
    assert event.body == body
    assert event.body_sha256 == body_sha256(body.encode())
    assert event.state == WebhookEvent.State.PENDING
    assert event.content_type == "application/json"
    assert event.headers["user-agent"] == "Aldeamo/1.0"
    assert "authorization" not in json.dumps(event.headers).lower()


@pytest.mark.django_db
def test_five_copies_of_a_body_store_one_event(client):
    account = aldeamo_line().client.provider_account
    payload = load_fixture("aldeamo", "webhook_inbound_text")

    answers = [post_json(client, account, payload).status_code for _ in range(5)]

    assert answers == [200] * 5
    assert WebhookEvent.objects.count() == 1


@pytest.mark.django_db
def test_the_request_path_is_one_insert_once_the_secret_is_cached(client, django_assert_num_queries):
    account = aldeamo_line().client.provider_account
    post_json(client, account, {"warm": "up"})

    with django_assert_num_queries(1) as captured:
        assert post_json(client, account, {"statuses": []}).status_code == 200

    assert captured.captured_queries[0]["sql"].startswith("INSERT")


@pytest.mark.django_db
def test_the_same_body_for_two_accounts_is_two_events(client):
    first = aldeamo_line().client.provider_account
    second = aldeamo_line().client.provider_account
    payload = load_fixture("aldeamo", "webhook_inbound_text")

    post_json(client, first, payload)
    post_json(client, second, payload)

    assert WebhookEvent.objects.count() == 2


@pytest.mark.django_db
def test_wrong_secret_is_404_and_stores_nothing(client):
    aldeamo_line()

    response = client.post("/webhooks/aldeamo/not-the-secret/", data="{}", content_type="application/json")

    assert response.status_code == 404
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_wrong_provider_kind_in_the_path_is_404(client):
    aldeamo = aldeamo_line().client.provider_account
    cv = contacto_virtual_line().client.provider_account

    assert post_json(client, aldeamo, {}, kind="contacto-virtual").status_code == 404
    assert post_json(client, cv, {}, kind="aldeamo").status_code == 404
    assert client.post(f"/webhooks/other/{aldeamo.webhook_secret}/", data="{}",
                       content_type="application/json").status_code == 404
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_a_body_over_the_limit_is_413(client, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 100
    account = aldeamo_line().client.provider_account

    response = client.post(url(account), data=json.dumps({"x": "y" * 200}), content_type="application/json")

    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()
    assert post_json(client, account, {"x": "y"}).status_code == 200


@pytest.mark.django_db
def test_a_body_longer_than_its_declared_length_is_413(settings):
    """The bytes read count, not only Content-Length: under ASGI a chunked body declares no length."""
    settings.WEBHOOK_MAX_BODY_BYTES = 100
    account = aldeamo_line().client.provider_account
    body = json.dumps({"x": "y" * 200}).encode()
    scope = {"type": "http", "method": "POST", "path": account.webhook_path, "query_string": b"",
             "headers": [(b"content-type", b"application/json")]}  # no content-length
    request = ASGIRequest(scope, io.BytesIO(body))

    response = webhook_receive(request, provider="aldeamo", secret=account.webhook_secret)

    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_a_declared_length_over_the_limit_is_413_before_reading_the_body(settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 100
    account = aldeamo_line().client.provider_account

    class Unreadable(io.BytesIO):
        def read(self, *args):
            raise AssertionError("the body was read although its declared length is over the limit")

    scope = {"type": "http", "method": "POST", "path": account.webhook_path, "query_string": b"",
             "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000000000")]}
    response = webhook_receive(ASGIRequest(scope, Unreadable()), provider="aldeamo", secret=account.webhook_secret)

    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_a_secret_sharing_only_its_beginning_with_the_real_one_is_404(client):
    account = aldeamo_line().client.provider_account
    secret = account.webhook_secret
    near_misses = [secret[:8] + "x" * (len(secret) - 8), secret[:-1] + ("A" if secret[-1] != "A" else "B"),
                   secret[:8], secret + "x", secret.upper() if secret.upper() != secret else secret.lower()]

    for wrong in near_misses:
        response = client.post(f"/webhooks/aldeamo/{wrong}/", data="{}", content_type="application/json")
        assert response.status_code == 404, wrong

    assert not WebhookEvent.objects.exists()
    assert post_json(client, account, {}).status_code == 200


@pytest.mark.django_db
def test_a_changed_secret_stops_working_within_the_cache_ttl(client, monkeypatch):
    """The docstring's promise: the old secret is forgotten at most 30 s after it changed."""
    clock = [1000.0]
    monkeypatch.setattr(receive, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    account = aldeamo_line().client.provider_account
    old_path = account.webhook_path
    assert client.post(old_path, data="{}", content_type="application/json").status_code == 200  # cached

    account.webhook_secret = new_webhook_secret()
    account.save(update_fields=["webhook_secret"])
    clock[0] += 5
    assert client.post(old_path, data='{"a": 1}', content_type="application/json").status_code == 200  # still cached
    clock[0] += receive._ACCOUNT_CACHE_TTL

    assert client.post(old_path, data='{"a": 2}', content_type="application/json").status_code == 404
    assert client.post(account.webhook_path, data='{"a": 3}', content_type="application/json").status_code == 200
    assert WebhookEvent.objects.count() == 3


@pytest.mark.django_db
def test_only_post_is_accepted(client):
    account = aldeamo_line().client.provider_account

    assert client.get(url(account)).status_code == 405
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_database_down_is_a_5xx_so_the_provider_retries(monkeypatch):
    account = aldeamo_line().client.provider_account

    def down(**kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr("messaging.webhooks.receive.webhook_record", down)
    response = HttpClient(raise_request_exception=False).post(url(account), data="{}",
                                                              content_type="application/json")

    assert response.status_code >= 500


@pytest.mark.django_db
def test_an_unparseable_body_is_answered_200_and_kept_unprocessed(client):
    account = aldeamo_line().client.provider_account

    response = client.post(url(account), data="<xml>not for us</xml>", content_type="text/xml")

    assert response.status_code == 200
    process_all()
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEvent.State.UNPROCESSED
    assert event.reason
    assert event.body == "<xml>not for us</xml>"


@pytest.mark.django_db
def test_a_non_utf8_body_is_kept(client):
    account = contacto_virtual_line().client.provider_account
    raw = "mobile=573002222222&message=Ma\xf1ana&custom_field=".encode("latin-1")

    response = client.post(url(account), data=raw, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.headers["x-waportal-body-encoding"] == "latin-1"
    # A Contacto Virtual reply is its own receipt: the key is the hash of the raw bytes and the receipt.
    assert event.body_sha256 == body_sha256(raw + b"\n" + event.headers["x-waportal-receipt"].encode())
    process_all()
    assert Message.objects.get(direction="in").content == {"body": "Mañana"}


@pytest.mark.django_db
def test_unprocessed_then_fixed_then_reprocessed(client):
    line = aldeamo_line(digits="573235550101")
    account = line.client.provider_account
    payload = load_fixture("aldeamo", "webhook_inbound_text")  # names 57323XXXXXXX, not this account's number
    post_json(client, account, payload)
    process_all()
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEvent.State.UNPROCESSED
    assert "57323XXXXXXX" in event.reason

    aldeamo_line(digits="57323XXXXXXX", account=account)  # a sync brings the number
    webhook_event_reprocess(event=event)

    event.refresh_from_db()
    assert event.state == WebhookEvent.State.PROCESSED
    assert Message.objects.get(direction="in").content == {"body": "Sin seleccionar"}


@pytest.mark.django_db
def test_processing_is_scheduled_on_commit_at_most_once_per_second(client, monkeypatch,
                                                                   django_capture_on_commit_callbacks):
    account = aldeamo_line().client.provider_account
    monkeypatch.setattr(tasks, "_clock", lambda: 1_900_000_000.25)

    with django_capture_on_commit_callbacks(execute=True):
        for index in range(3):
            post_json(client, account, {"n": index})

    queued = DBTaskResult.objects.filter(task_path=PROCESS_TASK)
    assert queued.count() == 1
    job = queued.get()
    assert job.status == TaskResultStatus.READY
    assert job.run_after == datetime.fromtimestamp(1_900_000_001, tz=UTC)  # after the second that asked

    monkeypatch.setattr(tasks, "_clock", lambda: 1_900_000_001.5)
    with django_capture_on_commit_callbacks(execute=True):
        post_json(client, account, {"n": "next second"})
    assert DBTaskResult.objects.filter(task_path=PROCESS_TASK).count() == 2


@pytest.mark.django_db
def test_the_task_processes_everything_pending(client):
    line = aldeamo_line(digits="57323XXXXXXX")
    post_json(client, line.client.provider_account, load_fixture("aldeamo", "webhook_inbound_text"))

    assert tasks.webhook_events_process_task.call() == 1

    assert WebhookEvent.objects.get().state == WebhookEvent.State.PROCESSED


@pytest.mark.django_db(transaction=True)
def test_five_concurrent_copies_store_one_event_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("Concurrent inserts need PostgreSQL (SQLite serialises writers).")
    account = aldeamo_line().client.provider_account
    body = json.dumps(load_fixture("aldeamo", "webhook_status_delivered"))
    barrier = threading.Barrier(5)
    answers: list[int] = []

    def deliver():
        try:
            http = HttpClient()
            barrier.wait(timeout=10)
            answers.append(http.post(url(account), data=body, content_type="application/json").status_code)
        finally:
            db_connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert answers == [200] * 5
    assert WebhookEvent.objects.filter(provider_account=account).count() == 1


# --- every seed example, through the receiver and the processor ---------------------------------


ORIGIN_NUMBERS = sorted({
    (payload.get("origin_number") or payload.get("originNumber"))
    for payload in (load_fixture("aldeamo", name) for name in ALDEAMO_WEBHOOKS)
    if payload.get("origin_number") or payload.get("originNumber")
})


@pytest.fixture
def aldeamo_seed_account():
    """An Aldeamo account holding every business number, message and template the seed's webhooks name."""
    first = aldeamo_line(digits=ORIGIN_NUMBERS[0])
    account = first.client.provider_account
    lines = {first.digits: first}
    for number in ORIGIN_NUMBERS[1:]:
        lines[number] = aldeamo_line(digits=number, account=account)
    # Seed ids of messages we sent: the status example's id (a WhatsApp id),
    # and the Aldeamo uuids replies point at in their context.
    sent = {
        "status": OutboundMessageFactory(phone_number=lines["57323XXXXXXX"], to_number="57313XXXXXXX",
                                         provider_message_id="aldeamo-uuid-1",
                                         whatsapp_id="gBEGVzE3AEU1AgnP3gFWMWGEWDg"),
        "interactive": OutboundMessageFactory(phone_number=lines["57318XXXXXXXX"], type="interactive",
                                              provider_message_id="e052f7d0-acd9-4c9c-b90c-80c2846daa44"),
        "template": OutboundMessageFactory(phone_number=lines["57313XXXXXXXX"], type="template",
                                           provider_message_id="1f684155-a0e6-4854-8c8e-3271a1c2aa64"),
    }
    client = first.client
    templates = {
        "12345678": TemplateFactory(client=client, waba=first.waba, provider_template_id="12345678",
                                    name="my_message_template", language="en_US", category="MARKETING"),
        **{tid: TemplateFactory(client=client, waba=first.waba, provider_template_id=tid, name=f"template_{i}",
                                language="en_US") for i, tid in enumerate(("11111", "22222", "33333"), start=1)},
    }
    return {"account": account, "lines": lines, "sent": sent, "templates": templates}


def test_every_aldeamo_webhook_example_is_covered():
    assert ALDEAMO_WEBHOOKS == [
        "webhook_inbound_button_quick_reply", "webhook_inbound_contacts", "webhook_inbound_interactive_button_reply",
        "webhook_inbound_interactive_list_reply", "webhook_inbound_media", "webhook_inbound_order_product",
        "webhook_inbound_order_product_list", "webhook_inbound_referral", "webhook_inbound_text",
        "webhook_inbound_text_reply", "webhook_status_delivered", "webhook_template_category_update",
        "webhook_template_performance_metrics", "webhook_template_status_update",
    ]
    assert CV_WEBHOOKS == ["webhook_delivered", "webhook_failed", "webhook_read", "webhook_reply", "webhook_sent"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ALDEAMO_WEBHOOKS)
def test_aldeamo_seed_example_is_stored_and_processed(name, client, aldeamo_seed_account):
    payload = load_fixture("aldeamo", name)

    assert post_json(client, aldeamo_seed_account["account"], payload).status_code == 200
    process_all()

    event = WebhookEvent.objects.get()
    assert (event.state, event.reason) == (WebhookEvent.State.PROCESSED, "")
    CHECKS[name](aldeamo_seed_account)


def _inbound(**filters) -> Message:
    return Message.objects.get(direction="in", **filters)


def check_status_delivered(seed):
    message = seed["sent"]["status"]
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert message.delivered_at == datetime.fromtimestamp(1636642666, tz=UTC)
    history = StatusEvent.objects.get()
    assert history.message == message
    assert history.conversation_id == "916e1719bcf72051838b9076864c5c9d"
    assert history.conversation_origin == "business_initiated"
    assert history.conversation_expiration == datetime.fromtimestamp(1645303920, tz=UTC)
    assert history.pricing == {"billable": True, "category": "business_initiated", "pricing_model": "CBP"}


def check_inbound_text(seed):
    message = _inbound()
    assert (message.type, message.content) == ("text", {"body": "Sin seleccionar"})
    assert message.phone_number == seed["lines"]["57323XXXXXXX"]
    assert message.from_number == "57313XXXXXXX"
    assert message.status_at == datetime.fromtimestamp(1636642936, tz=UTC)
    assert Contact.objects.get().profile_name == "William G."
    conversation = Conversation.objects.get()
    assert (conversation.unread_count, conversation.last_message_preview) == (1, "Sin seleccionar")


def check_inbound_text_reply(seed):
    message = _inbound()
    assert message.content == {"body": "Hi"}
    assert message.context_id == "gBEGVzE3AEU1AgnP3gFWMWGEWDg"
    assert message.reply_to == seed["sent"]["status"]  # matched by WhatsApp id
    assert message.phone_number == seed["lines"]["57323XXXXXXX"]  # from "originNumber"
    assert Contact.objects.get().profile_name == "William G."  # the lone contact names the sender


def check_inbound_media(seed):
    message = _inbound()
    assert message.type == "image"
    assert message.content["link"].endswith("whatsappmedia.jpg")
    assert message.content["mime_type"] == "image/jpeg"
    assert message.content["sha256"] == "2dfb4521bf1d06d3eb5379bfed48e820eb96785e7d491409ff358bf38848e70d"
    assert message.content["caption"] is None


def check_inbound_contacts(seed):
    message = _inbound()
    assert message.type == "contacts"  # the seed says "image" but carries only contacts
    assert message.content[0]["name"]["formatted_name"] == "JETHANDLING FBO Jethandling Ecuador SA"
    assert message.content[0]["phones"] == [{"phone": "0 2-230-039", "type": "MAIN"}]


def check_inbound_interactive_list_reply(seed):
    message = _inbound()
    assert message.type == "interactive"
    assert message.content["list_reply"] == {"id": "<ID 1.1>", "title": "<Title 1.1>",
                                             "description": "<Description 1.1>"}
    assert message.reply_to == seed["sent"]["interactive"]


def check_inbound_interactive_button_reply(seed):
    message = _inbound()
    assert message.content == {"type": "button_reply", "button_reply": {"id": "<ID 1.1>", "title": "<Title 1.1>"}}
    assert message.reply_to == seed["sent"]["interactive"]


def check_inbound_button_quick_reply(seed):
    message = _inbound()
    assert message.type == "button"
    assert message.content == {"payload": "3. Confirmar-Button-Payload", "text": "Opción # 3"}
    assert message.reply_to == seed["sent"]["template"]
    assert Contact.objects.get().profile_name == "Nombre del contacto"


def check_inbound_referral(seed):
    message = _inbound()
    assert message.type == "text"
    assert message.content["body"] == "Vi esto en Facebook..."
    assert message.content["referral"]["headline"] == "Cafgo"
    assert message.content["referral"]["source_url"] == "https://fb.me/3CJ2r7kWS"
    assert message.content["referral"]["image"]["link"].startswith("https://scontent.xx.fbcdn.net/")
    assert message.phone_number == seed["lines"]["573*****"]


def check_inbound_order_product(seed):
    message = _inbound()
    assert message.type == "order"
    assert message.content["catalog_id"] == "Catalog id"
    assert len(message.content["product_items"]) == 1


def check_inbound_order_product_list(seed):
    message = _inbound()
    assert message.type == "order"
    assert [item["currency"] for item in message.content["product_items"]] == ["Type currency", "USD"]
    assert message.phone_number == seed["lines"]["5730XXXXXXX"]


def check_template_status_update(seed):
    template = seed["templates"]["12345678"]
    template.refresh_from_db()
    assert template.status == TemplateStatus.APPROVED
    change = TemplateChange.objects.get()
    assert (change.field, change.old_value, change.new_value, change.source) == (
        "status", "PENDING", "APPROVED", TemplateChange.Source.WEBHOOK)


def check_template_category_update(seed):
    template = seed["templates"]["12345678"]
    template.refresh_from_db()
    assert template.category == "UTILITY"
    change = TemplateChange.objects.get()
    assert (change.field, change.old_value, change.new_value) == ("category", "MARKETING", "UTILITY")


def check_template_performance_metrics(seed):
    metrics = {}
    for template_id in ("11111", "22222", "33333"):
        template = seed["templates"][template_id]
        template.refresh_from_db()
        metrics[template_id] = (template.messages_sent_7d, template.messages_opened_7d, template.top_block_reason)
    assert metrics == {"11111": (None, None, "NO_LONGER_NEEDED"), "22222": (2000, None, "SPAM"),
                       "33333": (2000, 1001, "SPAM")}


CHECKS = {
    "webhook_status_delivered": check_status_delivered,
    "webhook_inbound_text": check_inbound_text,
    "webhook_inbound_text_reply": check_inbound_text_reply,
    "webhook_inbound_media": check_inbound_media,
    "webhook_inbound_contacts": check_inbound_contacts,
    "webhook_inbound_interactive_list_reply": check_inbound_interactive_list_reply,
    "webhook_inbound_interactive_button_reply": check_inbound_interactive_button_reply,
    "webhook_inbound_button_quick_reply": check_inbound_button_quick_reply,
    "webhook_inbound_referral": check_inbound_referral,
    "webhook_inbound_order_product": check_inbound_order_product,
    "webhook_inbound_order_product_list": check_inbound_order_product_list,
    "webhook_template_status_update": check_template_status_update,
    "webhook_template_category_update": check_template_category_update,
    "webhook_template_performance_metrics": check_template_performance_metrics,
}


@pytest.mark.django_db
def test_all_aldeamo_examples_in_one_batch(client, aldeamo_seed_account):
    for name in ALDEAMO_WEBHOOKS:
        assert post_json(client, aldeamo_seed_account["account"], load_fixture("aldeamo", name)).status_code == 200

    assert webhook_events_process(limit=500) == len(ALDEAMO_WEBHOOKS)

    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {WebhookEvent.State.PROCESSED}
    # The seed's list and button replies share one id on one number: the second is a redelivery.
    assert Message.objects.filter(direction="in").count() == 9
    types = set(Message.objects.filter(direction="in").values_list("type", flat=True))
    assert types == {"text", "image", "contacts", "interactive", "button", "order"}


@pytest.fixture
def cv_seed_account():
    line = contacto_virtual_line(digits="573001234567")
    sent = OutboundMessageFactory(phone_number=line, type="template", to_number="57300222222",
                                  provider_message_id="xxxx", custom_field="1020-3040-5060-7089")
    return {"account": line.client.provider_account, "line": line, "sent": sent}


@pytest.mark.django_db
@pytest.mark.parametrize("as_form", [False, True], ids=["json", "form"])
def test_contacto_virtual_seed_examples_are_stored_and_processed(as_form, client, cv_seed_account):
    from urllib.parse import urlencode

    account = cv_seed_account["account"]
    for name in ("webhook_sent", "webhook_delivered", "webhook_read", "webhook_failed", "webhook_reply"):
        payload = load_fixture("contacto_virtual", name)
        if as_form:
            response = client.post(url(account), data=urlencode(payload),
                                   content_type="application/x-www-form-urlencoded")
        else:
            response = post_json(client, account, payload)
        assert response.status_code == 200
    process_all()

    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {WebhookEvent.State.PROCESSED}
    sent = cv_seed_account["sent"]
    sent.refresh_from_db()
    # read outranks failed: the customer saw it; the failure stays in the history with its code.
    assert sent.status == MessageStatus.READ
    failed = sent.status_events.get(status="failed")
    assert (failed.error_code, failed.error_title) == ("xxxx", "xxxxx")
    assert set(sent.status_events.values_list("status", flat=True)) == {"sent", "delivered", "read", "failed"}
    assert sent.whatsapp_id == "xxxx"

    reply = Message.objects.get(direction="in")
    assert reply.content == {"body": "Hola, respondiendo mensaje desde el whatsapp"}
    assert reply.from_number == "57300222222"
    assert reply.custom_field == "1020-3040-5060-7089"
    assert reply.reply_to == sent
    assert reply.phone_number == cv_seed_account["line"]
    conversation = Conversation.objects.get()
    assert conversation.unread_count == 1
    assert conversation.contact.wa_id == "57300222222"


@pytest.mark.django_db
def test_contacto_virtual_failed_example_keeps_its_code_on_the_message(client, cv_seed_account):
    post_json(client, cv_seed_account["account"], load_fixture("contacto_virtual", "webhook_failed"))
    process_all()

    sent = cv_seed_account["sent"]
    sent.refresh_from_db()
    assert sent.status == MessageStatus.FAILED
    assert (sent.error_code, sent.error_title) == ("xxxx", "xxxxx")


def test_order_totals_of_the_sandbox_shape():
    from messaging.presenters import order_totals

    _, totals = order_totals({"product_items": [{"currency": "COP", "quantity": 2, "item_price": 45000}]})
    assert totals == {"COP": Decimal(90000)}
