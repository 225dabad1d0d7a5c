"""Callbacks: statuses, failures, duplicates, reordering, retries, replies and events, in the seeds' shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from sandbox import payloads
from sandbox.delivery import deliver_callback, sandbox_deliver_due
from sandbox.media import media_sha256
from sandbox.models import CallbackState, SandboxAccount, SandboxCallback, SandboxMessage
from sandbox.replies import sandbox_customer_reply, sandbox_cv_customer_reply
from sandbox.services_templates import sandbox_template_performance

from . import seed_examples as seeds
from .conftest import ALDEAMO_WEBHOOK, BUSINESS, CUSTOMER, CV_WEBHOOK, RecordingAdapter, post_json

SEND = "/sandbox/aldeamo/v1/apikey/{service}/bsp/send"
CV_SEND = "/sandbox/contacto-virtual/send/"


def later(minutes: int = 60):
    return timezone.now() + timedelta(minutes=minutes)


def same_shape(actual: Any, expected: Any) -> bool:
    """Same keys at every level (lists compared by their first element); values free."""
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and set(actual) == set(expected)
            and all(
                same_shape(actual[k], expected[k])
                for k in expected
                if expected[k] is not None and actual[k] is not None
            )
        )
    if isinstance(expected, list) and expected:
        return isinstance(actual, list) and bool(actual) and all(same_shape(a, expected[0]) for a in actual)
    return True


def configure(account: SandboxAccount, **fields) -> None:
    for name, value in fields.items():
        setattr(account, name, value)
    account.save()


def send(client, headers, service="text", body=None) -> str:
    response = post_json(client, SEND.format(service=service), body or seeds.TEXT, headers)
    data = response.json()
    return data.get("messageId") or data["messages"][0]["id"]


def cv_send(client, creds, **change) -> str:
    form = {"login": creds.cv_login, "token": creds.cv_token, **seeds.CV_SEND, **change}
    return client.post(CV_SEND, form).json()["messageId"]


# --- Aldeamo statuses -------------------------------------------------------------------------------


def test_sent_delivered_read_in_the_seed_status_shape(client, aldeamo_headers, webhook):
    session, recorder = webhook
    message_id = send(client, aldeamo_headers)

    assert sandbox_deliver_due(now=later(), session=session) == 3

    events = recorder.posted_to(ALDEAMO_WEBHOOK)
    assert [e["statuses"][0]["status"] for e in events] == ["sent", "delivered", "read"]
    for event in events:
        assert same_shape(event, seeds.STATUS_EVENT)
        status = event["statuses"][0]
        assert (status["id"], status["recipient_id"], event["origin_number"]) == (message_id, CUSTOMER, BUSINESS)
        assert status["timestamp"].isdigit() and status["errors"] is None
    delivered = events[1]["statuses"][0]
    assert delivered["conversation"]["origin"] == {"type": "user_initiated"}
    assert delivered["pricing"] == {"billable": True, "category": "user_initiated", "pricing_model": "CBP"}
    assert len(delivered["conversation"]["id"]) == 32
    assert events[2]["statuses"][0]["conversation"] is None  # read carries no billing
    assert SandboxMessage.objects.get(message_id=message_id).status == "read"


def test_template_sends_open_business_initiated_conversations(client, aldeamo_headers, webhook):
    session, recorder = webhook
    send(client, aldeamo_headers, "template", seeds.TEMPLATE_CALL_TO_ACTION)
    sandbox_deliver_due(now=later(), session=session)
    assert recorder.payloads[0]["statuses"][0]["conversation"]["origin"]["type"] == "business_initiated"


def test_statuses_wait_for_their_delays(client, aldeamo_headers, account, webhook):
    session, recorder = webhook
    configure(account, status_delay_seconds=2)
    send(client, aldeamo_headers)

    assert sandbox_deliver_due(session=session) == 0
    due = list(SandboxCallback.objects.order_by("due_at").values_list("due_at", flat=True))
    assert due[0] > timezone.now() and due == sorted(due) and due[-1] - due[0] >= timedelta(seconds=4)
    assert sandbox_deliver_due(now=later(), session=session) == 3


def test_a_share_of_messages_fail_with_a_realistic_error(client, aldeamo_headers, account, webhook):
    session, recorder = webhook
    configure(account, failed_share=1.0)
    message_id = send(client, aldeamo_headers)
    sandbox_deliver_due(now=later(), session=session)

    [event] = recorder.payloads
    status = event["statuses"][0]
    assert status["status"] == "failed" and status["conversation"] is None and status["pricing"] is None
    [error] = status["errors"]
    assert set(error) == {"code", "title"} and (error["code"], error["title"]) in payloads.FAILURE_ERRORS
    message = SandboxMessage.objects.get(message_id=message_id)
    assert (message.status, message.error_code) == ("failed", str(error["code"]))


def test_duplicates_are_posted_but_change_nothing(client, aldeamo_headers, account, webhook):
    session, recorder = webhook
    configure(account, duplicate_share=1.0)
    message_id = send(client, aldeamo_headers)
    sandbox_deliver_due(now=later(), session=session)

    statuses = sorted(e["statuses"][0]["status"] for e in recorder.payloads)
    assert statuses == ["delivered", "delivered", "read", "read", "sent", "sent"]
    assert SandboxMessage.objects.get(message_id=message_id).status == "read"


def test_reordered_read_arrives_before_delivered_and_status_never_goes_back(client, aldeamo_headers, account, webhook):
    session, recorder = webhook
    configure(account, reorder_share=1.0, status_delay_seconds=1)
    message_id = send(client, aldeamo_headers)
    sandbox_deliver_due(now=later(), session=session)

    events = [e["statuses"][0] for e in recorder.payloads]
    assert [e["status"] for e in events] == ["sent", "read", "delivered"]
    assert int(events[1]["timestamp"]) >= int(events[2]["timestamp"])  # timestamps stay truthful
    assert SandboxMessage.objects.get(message_id=message_id).status == "read"


def test_seeded_callbacks_repeat_exactly(client, aldeamo_headers, account):
    def plan() -> list[tuple[str, str]]:
        SandboxCallback.objects.all().delete()
        configure(
            account,
            random_draws=0,
            failed_share=0.3,
            duplicate_share=0.3,
            reorder_share=0.3,
            read_share=0.7,
            status_delay_seconds=1,
        )
        for _ in range(5):
            send(client, aldeamo_headers)
        return [
            (c.payload["statuses"][0]["status"], (c.due_at - c.message.created_at).total_seconds())
            for c in SandboxCallback.objects.order_by("id")
        ]

    first, second = plan(), plan()
    assert [status for status, _delay in first] == [status for status, _delay in second]
    # The drawn delays repeat too; the time the test itself takes between storing a
    # message and scheduling its callbacks (milliseconds) is the only difference allowed.
    for (_s1, delay1), (_s2, delay2) in zip(first, second, strict=True):
        assert abs(delay1 - delay2) < 0.25


def test_failed_posts_are_retried_with_backoff_then_given_up(client, aldeamo_headers, settings):
    settings.SANDBOX_CALLBACK_MAX_ATTEMPTS = 3
    settings.SANDBOX_CALLBACK_RETRY_SECONDS = 10
    broken = RecordingAdapter(status=500)
    import requests

    session = requests.Session()
    session.mount("http://portal.test/", broken)
    send(client, aldeamo_headers)
    callback = SandboxCallback.objects.order_by("due_at", "id").first()
    now = timezone.now()

    assert deliver_callback(callback.pk, now=now, session=session) == CallbackState.PENDING
    callback.refresh_from_db()
    assert callback.attempts == 1 and callback.due_at == now + timedelta(seconds=10)
    assert "HTTP 500" in callback.last_error and callback.last_status_code == 500
    assert deliver_callback(callback.pk, now=now, session=session) == "not_due"
    assert deliver_callback(callback.pk, now=now + timedelta(seconds=10), session=session) == CallbackState.PENDING
    callback.refresh_from_db()
    assert callback.due_at == now + timedelta(seconds=30)  # 10 s, then 20 s
    assert deliver_callback(callback.pk, now=now + timedelta(seconds=30), session=session) == CallbackState.FAILED
    assert len(broken.requests) == 3
    assert SandboxMessage.objects.get().status == "sent"  # the event happened even if the portal never heard


def test_connection_errors_are_retried(client, aldeamo_headers, account):
    import requests

    configure(account, webhook_url="http://127.0.0.1:9/never/")
    send(client, aldeamo_headers)
    callback = SandboxCallback.objects.order_by("due_at", "id").first()
    assert deliver_callback(callback.pk, session=requests.Session()) == CallbackState.PENDING
    callback.refresh_from_db()
    assert "ConnectionError" in callback.last_error


def test_without_a_webhook_events_still_happen(client, aldeamo_headers, account):
    configure(account, webhook_url="")
    message_id = send(client, aldeamo_headers)
    assert sandbox_deliver_due(now=later()) == 3
    assert set(SandboxCallback.objects.values_list("state", flat=True)) == {CallbackState.SKIPPED}
    assert SandboxMessage.objects.get(message_id=message_id).status == "read"


def test_the_worker_is_asked_once_per_due_second_not_once_per_callback(client, aldeamo_headers, account,
                                                                        django_capture_on_commit_callbacks):
    import math

    from django.core.cache import cache
    from django_tasks_db.models import DBTaskResult

    cache.clear()
    configure(account, status_delay_seconds=5)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            send(client, aldeamo_headers)
    due = list(SandboxCallback.objects.values_list("due_at", flat=True))
    assert len(due) == 15  # sent, delivered and read for each of five messages
    tasks = DBTaskResult.objects.filter(task_path="sandbox.tasks.sandbox_deliver_due_callbacks")
    # One task at the end of each second in which something falls due: every callback is covered, none twice.
    assert sorted(task.run_after for task in tasks) == sorted(
        {datetime.fromtimestamp(math.ceil(d.timestamp()), tz=UTC) for d in due})
    assert tasks.count() < len(due)
    assert not DBTaskResult.objects.filter(task_path="sandbox.tasks.sandbox_deliver_callback").exists()


def test_a_due_task_delivers_a_batch_and_asks_for_another_when_more_is_due(client, aldeamo_headers, webhook,
                                                                           monkeypatch):
    from django_tasks_db.models import DBTaskResult

    from sandbox import delivery, tasks

    session, recorder = webhook
    monkeypatch.setattr(delivery, "delivery_session", lambda: session)
    monkeypatch.setattr(tasks, "BATCH", 4)
    for _ in range(3):
        send(client, aldeamo_headers)
    SandboxCallback.objects.update(due_at=timezone.now())
    follow_ups = DBTaskResult.objects.filter(task_path="sandbox.tasks.sandbox_deliver_due_callbacks")
    follow_ups.delete()  # only what the task itself asks for
    assert tasks.sandbox_deliver_due_callbacks.call() == 4
    assert follow_ups.count() == 1  # a full batch: the rest waits its turn behind the tasks already queued
    assert tasks.sandbox_deliver_due_callbacks.call() == 4
    assert tasks.sandbox_deliver_due_callbacks.call() == 1
    assert follow_ups.count() == 2  # the short batch asked for nothing more
    assert len(recorder.requests) == 9
    assert tasks.sandbox_deliver_due_callbacks.call() == 0  # nothing twice


def test_a_send_stores_its_whole_lifecycle_in_one_insert(client, aldeamo_headers, account):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    configure(account, duplicate_share=1.0)  # sent, delivered, read and a copy of each
    with CaptureQueriesContext(connection) as queries:
        send(client, aldeamo_headers)
    table = SandboxCallback._meta.db_table
    inserts = [q["sql"] for q in queries if q["sql"].startswith(f'INSERT INTO "{table}"')]
    assert len(inserts) == 1
    assert SandboxCallback.objects.count() == 6


def test_the_task_delivers_one_callback(client, aldeamo_headers, webhook, monkeypatch):
    from sandbox import delivery
    from sandbox.tasks import sandbox_deliver_callback

    session, recorder = webhook
    monkeypatch.setattr(delivery, "delivery_session", lambda: session)
    send(client, aldeamo_headers)
    first = SandboxCallback.objects.order_by("due_at", "id").first()
    assert sandbox_deliver_callback.call(first.pk) == CallbackState.DELIVERED
    assert sandbox_deliver_callback.call(first.pk) == "not_due"  # never twice
    assert len(recorder.requests) == 1


# --- Contacto Virtual events ---------------------------------------------------------------------


def test_cv_events_keep_the_seed_quirks(client, creds, webhook):
    session, recorder = webhook
    message_id = cv_send(client, creds)
    sandbox_deliver_due(now=later(), session=session)

    sent, delivered, read = recorder.posted_to(CV_WEBHOOK)
    assert set(sent) == set(seeds.CV_SENT_EVENT) and sent["type2"] == " sent"
    assert set(delivered) == set(seeds.CV_DELIVERED_EVENT) and delivered["type2"] == " delivered"
    assert set(read) == set(seeds.CV_READ_EVENT) and read["type2"] == " read"
    assert {sent["&messageId"], delivered["&messageId"], read["&messageId"]} == {message_id}
    whatsapp_id = SandboxMessage.objects.get(message_id=message_id).whatsapp_id
    assert sent["messageId_whatsapp"] == whatsapp_id
    assert len(sent["fecha_envio_por_whatsapp"]) == len("2024-01-01 10:00:00")
    assert SandboxMessage.objects.get(message_id=message_id).status == "read"


def test_cv_bad_media_fails_with_1010_and_refunds(client, creds, account, webhook):
    session, recorder = webhook
    message_id = cv_send(client, creds, media="https://example.com/archivo.exe")
    account.refresh_from_db()
    assert account.cv_balance == 162
    sandbox_deliver_due(now=later(), session=session)

    [event] = recorder.payloads
    assert event == {
        "type": "message-event",
        "type2": "failed",
        "code": "1010",
        "reason": "URL de medios no válida",
        "messageId": message_id,
    }
    assert set(event) == set(seeds.CV_FAILED_EVENT)
    account.refresh_from_db()
    assert account.cv_balance == 163


def test_cv_valid_media_is_delivered(client, creds, webhook):
    session, recorder = webhook
    cv_send(client, creds, media="https://servercliente.com/jemplo-de-Archivo-PDF-508.pdf")
    sandbox_deliver_due(now=later(), session=session)
    assert [e["type2"] for e in recorder.payloads] == [" sent", " delivered", " read"]


def test_cv_failed_share(client, creds, account, webhook):
    session, recorder = webhook
    configure(account, failed_share=1.0)
    cv_send(client, creds)
    sandbox_deliver_due(now=later(), session=session)
    [event] = recorder.payloads
    assert event["type2"] == "failed" and event["code"] in payloads.CV_FAILURE_CODES


# --- customer replies --------------------------------------------------------------------------------


def test_automatic_text_reply_answers_the_message_with_context(client, aldeamo_headers, account, webhook):
    session, recorder = webhook
    configure(account, reply_share=1.0)
    message_id = send(client, aldeamo_headers)
    sandbox_deliver_due(now=later(), session=session)

    reply = recorder.payloads[-1]
    seed = seeds.INBOUND_TEXT_WITH_CONTEXT
    assert set(reply) == set(seed)  # including the seed's "originNumber" spelling for this example
    assert same_shape(reply["contacts"], seed["contacts"])
    message = reply["messages"][0]
    # Every key of this (shorter) seed example, plus the null keys of the later, fuller ones.
    assert set(message) == seeds.INBOUND_MESSAGE_KEYS >= set(seed["messages"][0])
    assert same_shape(message["context"], seed["messages"][0]["context"])
    assert message["context"]["id"] == message_id and message["type"] == "text"
    assert SandboxMessage.objects.filter(direction="inbound", context_message_id=message_id).exists()


def test_automatic_quick_reply_uses_the_sent_payload_and_the_button_label(client, aldeamo_headers, account, webhook):
    session, recorder = webhook
    configure(account, reply_share=1.0)
    send(client, aldeamo_headers, "template", seeds.TEMPLATE_QUICK_REPLY)
    sandbox_deliver_due(now=later(), session=session)

    message = recorder.payloads[-1]["messages"][0]
    assert message["type"] == "button"
    index = int(message["button"]["payload"][0]) - 1
    assert message["button"] == {"payload": f"{index + 1}. Confirmar-Button-Payload", "text": f"Opción # {index + 1}"}


@pytest.mark.parametrize(("body", "kind"), [(seeds.BUTTONS, "button_reply"), (seeds.LIST, "list_reply")])
def test_automatic_interactive_replies_pick_a_sent_choice(client, aldeamo_headers, account, webhook, body, kind):
    session, recorder = webhook
    configure(account, reply_share=1.0)
    send(client, aldeamo_headers, "interactive", body)
    sandbox_deliver_due(now=later(), session=session)

    interactive = recorder.payloads[-1]["messages"][0]["interactive"]
    assert interactive["type"] == kind
    sent_ids = {b["reply"]["id"] for b in body["interactive"]["action"].get("buttons", [])} | {
        r["id"] for s in body["interactive"]["action"].get("sections", []) for r in s["rows"]
    }
    assert interactive[kind]["id"] in sent_ids


def test_automatic_cv_reply_echoes_the_custom_field(client, creds, account, webhook):
    session, recorder = webhook
    configure(account, reply_share=1.0)
    cv_send(client, creds)
    sandbox_deliver_due(now=later(), session=session)

    reply = recorder.payloads[-1]
    assert set(reply) == set(seeds.CV_REPLY)
    assert (reply["mobile"], reply["custom_field"]) == ("573102334455", "1234-5678-912554")


def test_manual_cv_reply(client, creds, account, webhook):
    session, recorder = webhook
    cv_send(client, creds)
    callback = sandbox_cv_customer_reply(account=account, mobile="573102334455", message="Hola", session=session)
    assert callback.state == CallbackState.DELIVERED
    assert recorder.payloads == [{"mobile": "573102334455", "message": "Hola", "custom_field": "1234-5678-912554"}]


MEDIA_KEYS = set(seeds.INBOUND_MEDIA_OBJECT)


@pytest.mark.parametrize("kind", payloads.INBOUND_TYPES)
def test_customer_reply_of_every_inbound_type(client, aldeamo_headers, webhook, kind):
    session, recorder = webhook
    send(client, aldeamo_headers)  # something to reply to
    callback = sandbox_customer_reply(phone_number=BUSINESS, from_number=CUSTOMER, type=kind, session=session)

    assert callback.state == CallbackState.DELIVERED
    [payload] = recorder.payloads
    assert set(payload) == {"contacts", "messages", "statuses", "originNumber" if kind == "reply" else "origin_number"}
    assert same_shape(payload["contacts"], seeds.INBOUND_TEXT_WITH_CONTEXT["contacts"])
    assert payload["statuses"] is None
    message = payload["messages"][0]
    assert set(message) == seeds.INBOUND_MESSAGE_KEYS and message["from"] == CUSTOMER
    content_keys = {
        k for k in seeds.INBOUND_MESSAGE_KEYS - {"context", "from", "id", "timestamp", "type"} if message[k]
    }
    if kind in payloads.MEDIA_TYPES:
        assert message["type"] == kind and content_keys == {kind}
        media = message[kind]
        assert set(media) == MEDIA_KEYS and media["mime_type"] == payloads.MEDIA_TYPES[kind][1]
        served = client.get("/sandbox/" + media["link"].split("/sandbox/", 1)[1])
        assert served.status_code == 200
        import hashlib

        assert (
            hashlib.sha256(served.content).hexdigest() == media["sha256"] == media_sha256(payloads.MEDIA_TYPES[kind][0])
        )
    elif kind in ("text", "reply"):
        assert message["type"] == "text" and content_keys == {"text"}
    elif kind == "referral":
        assert message["type"] == "text" and content_keys == {"text", "referral"}
        assert set(message["referral"]) == seeds.INBOUND_REFERRAL_KEYS
    elif kind == "order":
        assert content_keys == {"order"} and set(message["order"]) == {"catalog_id", "product_items"}
        assert all(set(item) == seeds.INBOUND_ORDER_ITEM_KEYS for item in message["order"]["product_items"])
    elif kind == "contacts":
        assert content_keys == {"contacts"} and set(message["contacts"][0]) == seeds.INBOUND_CONTACT_KEYS
    elif kind in ("list_reply", "button_reply"):
        assert message["type"] == "interactive" and message["interactive"]["type"] == kind
        expected = {"id", "title", "description"} if kind == "list_reply" else {"id", "title"}
        assert set(message["interactive"][kind]) == expected
    elif kind == "button":
        assert set(message["button"]) == {"payload", "text"}
    elif kind == "location":
        assert set(message["location"]) == {"latitude", "longitude", "name", "address"}
    if kind == "reply":
        assert set(message["context"]) == set(seeds.INBOUND_TEXT_WITH_CONTEXT["messages"][0]["context"])
    assert SandboxMessage.objects.filter(direction="inbound", type=message["type"]).exists()


def test_reply_needs_something_to_answer(db, account):
    with pytest.raises(ValueError, match="reply needs"):
        sandbox_customer_reply(phone_number=BUSINESS, from_number="573009999999", type="reply", deliver=False)
    with pytest.raises(ValueError, match="Unknown inbound type"):
        sandbox_customer_reply(phone_number=BUSINESS, from_number=CUSTOMER, type="carrier_pigeon", deliver=False)


def test_reply_with_explicit_context_and_no_delivery(account, webhook):
    session, recorder = webhook
    callback = sandbox_customer_reply(
        phone_number=BUSINESS, from_number=CUSTOMER, type="image", context_id="wamid.X", deliver=False
    )
    assert callback.state == CallbackState.PENDING and not recorder.requests
    assert callback.payload["messages"][0]["context"]["id"] == "wamid.X"
    assert sandbox_deliver_due(session=session) == 1


# --- template performance ---------------------------------------------------------------------------


def test_template_performance_event(client, aldeamo_headers, account, webhook):
    session, recorder = webhook
    send(client, aldeamo_headers, "template", seeds.TEMPLATE_CALL_TO_ACTION)
    sandbox_deliver_due(now=later(), session=session)
    sandbox_template_performance(account=account)
    sandbox_deliver_due(now=later(), session=session)

    event = recorder.payloads[-1]
    assert set(event) == {"field", "value"} and event["field"] == "template_performance_metrics"
    entries = {e["template_name"]: e for e in event["value"]["templates_performance_metrics"]}
    allowed = set(seeds.TEMPLATE_PERFORMANCE_EVENT["value"]["templates_performance_metrics"][1])
    assert all(
        set(e) <= allowed and {"template_id", "template_name", "template_language", "top_block_reason"} <= set(e)
        for e in entries.values()
    )
    assert entries["botones_accion_urldinamica"]["messages_sent_7d"] == 1
    assert entries["botones_accion_urldinamica"]["messages_opened_7d"] == 1
    assert entries["recordatorio_pago"]["top_block_reason"] == "SPAM"
    assert "messages_sent_7d" not in entries["factura_pdf"]  # zero counters are left out, as in the seed
