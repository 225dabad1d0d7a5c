"""parse_webhook against every webhook the manual shows, and against what it does not."""

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode

import pytest
from django.http import QueryDict

from providers.contacto_virtual import PROVIDER_TIME_ZONE, parse_timestamp, parse_webhook, reply_message_id
from providers.types import InboundMessage, StatusUpdate, UnknownEvent
from tests.fixtures import load_fixture


@pytest.fixture(autouse=True)
def _english():
    """The 1002-1011 descriptions are gettext'd (issue 18); these tests read the English source."""
    from django.utils import translation

    with translation.override("en"):
        yield




def fixture(name: str) -> dict:
    return load_fixture("contacto_virtual", name)


def only(events: list) -> object:
    assert len(events) == 1
    return events[0]


# --- the manual's examples --------------------------------------------------------


def test_failed_example():
    event = only(parse_webhook(fixture("webhook_failed")))

    assert event == StatusUpdate(message_id="xxxx", status="failed", error_code="xxxx", error_title="xxxxx")


@pytest.mark.parametrize(("name", "status"), [("webhook_sent", "sent"), ("webhook_delivered", "delivered")])
def test_sent_and_delivered_examples_with_leading_space_and_ampersand_key(name, status):
    payload = fixture(name)
    assert payload["type2"] == f" {status}"
    assert "&messageId" in payload

    event = only(parse_webhook(payload))

    assert event == StatusUpdate(message_id="xxxx", status=status, whatsapp_id="xxxx", timestamp=None)


def test_read_example():
    event = only(parse_webhook(fixture("webhook_read")))

    assert event == StatusUpdate(message_id="xxxx", status="read", whatsapp_id="xxxx", timestamp=None)


def test_reply_example():
    payload = fixture("webhook_reply")

    event = only(parse_webhook(payload))

    assert isinstance(event, InboundMessage)
    assert event.from_number == "57300222222"
    assert event.type == "text"
    assert event.content == {"body": "Hola, respondiendo mensaje desde el whatsapp"}
    assert event.custom_field == "1020-3040-5060-7089"
    assert event.timestamp is None
    assert event.message_id == reply_message_id(payload)


# --- status events ----------------------------------------------------------------


def realistic(status: str, **extra: str) -> dict:
    payload = {
        "type": "message-event",
        "type2": f" {status}",
        "messageId_whatsapp": "wamid.HBgMNTczMTAyMzM0NDU1FQIAERgS",
        "fecha_envio_por_whatsapp": "2024-03-05 14:30:00",
        "&messageId": "0e1add43-f91c-4e7c-8805-221ef6b27b98",
    }
    payload.update(extra)
    return payload


def test_sent_event_reads_ids_and_time():
    event = only(parse_webhook(realistic("sent")))

    assert event.message_id == "0e1add43-f91c-4e7c-8805-221ef6b27b98"
    assert event.whatsapp_id == "wamid.HBgMNTczMTAyMzM0NDU1FQIAERgS"
    assert event.timestamp == datetime(2024, 3, 5, 19, 30, tzinfo=UTC)


def test_message_id_key_without_ampersand_is_accepted():
    payload = realistic("delivered")
    payload["messageId"] = payload.pop("&messageId")

    assert only(parse_webhook(payload)).message_id == "0e1add43-f91c-4e7c-8805-221ef6b27b98"


@pytest.mark.parametrize("key", ["&&messageId", " &messageId", "messageid", "&MessageId"])
def test_message_id_key_variants_are_accepted(key):
    payload = realistic("sent")
    payload[key] = payload.pop("&messageId")

    assert only(parse_webhook(payload)).message_id == "0e1add43-f91c-4e7c-8805-221ef6b27b98"


@pytest.mark.parametrize("type2", ["sent", " sent", "sent ", " SENT", "Sent"])
def test_type2_spacing_and_case_do_not_matter(type2):
    payload = realistic("sent")
    payload["type2"] = type2

    assert only(parse_webhook(payload)).status == "sent"


def test_read_event_prefers_the_read_date():
    payload = realistic("read", fecha_lectura_usuario="2024-03-05T15:00:00-05:00")

    assert only(parse_webhook(payload)).timestamp == datetime(2024, 3, 5, 20, 0, tzinfo=UTC)


def test_read_event_with_only_the_read_date():
    payload = realistic("read", fecha_lectura_usuario="1709668800")
    del payload["fecha_envio_por_whatsapp"]

    assert only(parse_webhook(payload)).timestamp == datetime(2024, 3, 5, 20, 0, tzinfo=UTC)


def test_failed_event_with_a_manual_code_and_no_reason_uses_the_code_description():
    payload = {"type": "message-event", "type2": "failed", "code": 1010, "reason": "", "messageId": "m-1"}

    event = only(parse_webhook(payload))

    assert event.status == "failed"
    assert event.error_code == "1010"
    assert event.error_title == "Sending failed: invalid media URL."


def test_failed_event_keeps_the_provider_reason():
    payload = {"type": "message-event", "type2": "failed", "code": "1003", "reason": "sin saldo", "messageId": "m-1"}

    event = only(parse_webhook(payload))

    assert (event.error_code, event.error_title) == ("1003", "sin saldo")


def test_failed_event_without_code_or_reason():
    event = only(parse_webhook({"type": "message-event", "type2": "failed", "messageId": "m-1"}))

    assert (event.error_code, event.error_title) == ("", "")


def test_a_non_failed_event_ignores_error_fields():
    event = only(parse_webhook(realistic("delivered", code="1005", reason="x")))

    assert (event.error_code, event.error_title) == ("", "")


def test_a_mobile_on_a_status_event_becomes_the_recipient():
    assert only(parse_webhook(realistic("sent", mobile="573102334455"))).recipient_id == "573102334455"


# --- customer replies ------------------------------------------------------------


def test_the_reply_id_is_deterministic_and_content_derived():
    payload = fixture("webhook_reply")
    first = only(parse_webhook(payload))
    again = only(parse_webhook(dict(reversed(list(payload.items())))))
    other = only(parse_webhook({**payload, "message": "Otra respuesta"}))

    assert first.message_id == again.message_id
    assert first.message_id != other.message_id
    assert first.message_id.startswith("cv-")
    assert len(first.message_id) == len("cv-") + 64


def test_a_reply_without_custom_field():
    event = only(parse_webhook({"mobile": "573102334455", "message": "Sí"}))

    assert (event.custom_field, event.content) == ("", {"body": "Sí"})


def test_a_reply_keeps_the_message_text_as_sent():
    event = only(parse_webhook({"mobile": " 573102334455 ", "message": "  hola\n", "custom_field": None}))

    assert event.from_number == "573102334455"
    assert event.content == {"body": "  hola\n"}


# --- other payload forms ---------------------------------------------------------


def test_form_payload_decoded_by_django_gives_the_same_events_and_ids():
    for name in ("webhook_failed", "webhook_sent", "webhook_delivered", "webhook_read", "webhook_reply"):
        payload = fixture(name)
        query = QueryDict(urlencode(payload))

        assert parse_webhook(query) == parse_webhook(payload), name


def test_form_payload_decoded_by_parse_qs():
    payload = fixture("webhook_reply")

    assert parse_webhook(parse_qs(urlencode(payload))) == parse_webhook(payload)


def test_raw_json_body_as_bytes_or_text():
    payload = fixture("webhook_sent")
    raw = json.dumps(payload, ensure_ascii=False)

    assert parse_webhook(raw.encode("utf-8")) == parse_webhook(payload)
    assert parse_webhook(raw) == parse_webhook(payload)


def test_raw_form_body_with_a_doubled_ampersand():
    raw = "type=message-event&type2=+sent&messageId_whatsapp=wamid.1&fecha_envio_por_whatsapp=xxxxx&&messageId=m-1"

    assert only(parse_webhook(raw)) == StatusUpdate(message_id="m-1", status="sent", whatsapp_id="wamid.1")


def test_a_list_of_events():
    events = parse_webhook([fixture("webhook_sent"), fixture("webhook_reply"), 3])

    assert [type(event) for event in events] == [StatusUpdate, InboundMessage, UnknownEvent]


# --- what is not a known event ---------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "phrase"),
    [
        ({}, "empty object"),
        ([], "empty list"),
        ("", "empty"),
        (b"\xff\xfe", "not UTF-8"),
        ("not json", "neither JSON nor a form"),
        ('"a json string"', "JSON string"),
        (None, "NoneType"),
        (42, "int"),
        ({"foo": "bar"}, "keys: foo"),
        ({"type": "message-event", "type2": " queued", "&messageId": "m-1"}, "type2"),
        ({"type": "message-event", "type2": " sent"}, "without messageId"),
        ({"type": "message-event", "type2": "failed", "code": "1002", "messageId": ""}, "without messageId"),
        ({"type": "message-event", "messageId": "m-1"}, "type2"),
        ({"mobile": "573102334455", "message": {"body": "x"}}, "not text"),
        ({"mobile": "", "message": "hola"}, "without the customer's mobile"),
        ({"mobile": "573102334455"}, "keys: mobile"),
    ],
)
def test_unknown_payloads_become_unknown_events(payload, phrase):
    event = only(parse_webhook(payload))

    assert isinstance(event, UnknownEvent)
    assert phrase in event.reason


def test_unknown_events_keep_the_payload():
    event = only(parse_webhook({"foo": "bar"}))

    assert event.payload == {"foo": "bar"}


@pytest.mark.parametrize(
    "value",
    [
        [1, 2],
        {"a": {"b": []}},
        {"type2": None},
        {"type2": ["sent", "read"]},
        {"type": 5, "mobile": [], "message": 1},
        {"type": "message-event", "type2": " sent", "&messageId": {"x": 1}},
        {"mobile": True, "message": None},
        {"type": "message-event", "type2": " read", "messageId": "m", "fecha_lectura_usuario": {"d": 1}},
        object(),
    ],
)
def test_odd_payloads_never_raise(value):
    events = parse_webhook(value)

    assert events
    assert all(isinstance(event, StatusUpdate | InboundMessage | UnknownEvent) for event in events)


# --- timestamps -------------------------------------------------------------------


BOGOTA_1430 = datetime(2024, 3, 5, 19, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "2024-03-05T19:30:00Z",
        "2024-03-05T19:30:00+00:00",
        "2024-03-05T14:30:00-05:00",
        "2024-03-05 14:30:00",
        "2024-03-05T14:30:00",
        " 2024-03-05 14:30:00 ",
        "2024/03/05 14:30:00",
        1709667000,
        "1709667000",
        1709667000.0,
        "1709667000000",
    ],
)
def test_parse_timestamp_formats(value):
    assert parse_timestamp(value) == BOGOTA_1430


def test_naive_times_are_bogota_time():
    parsed = parse_timestamp("2024-03-05 14:30:00")

    assert parsed.tzinfo is PROVIDER_TIME_ZONE
    assert parsed.utcoffset().total_seconds() == -5 * 3600


@pytest.mark.parametrize(
    "value",
    ["xxxxx", "", "   ", None, True, "05/03/2024 14:30", "2024-13-45 99:00:00", "-5", "1e400", "9" * 30, {"x": 1}],
)
def test_unparseable_timestamps_are_none(value):
    assert parse_timestamp(value) is None
