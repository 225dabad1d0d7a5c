"""parse_webhook: every webhook example of the manual, and payloads it must survive."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from providers.aldeamo import parse_webhook
from providers.types import InboundMessage, StatusUpdate, TemplateEvent, UnknownEvent
from tests.providers.aldeamo.support import fixture


def only(events: list[Any], kind: type) -> Any:
    assert len(events) == 1, events
    assert isinstance(events[0], kind), events[0]
    return events[0]


# --- the manual's examples ----------------------------------------------------


def test_status_delivered() -> None:
    event = only(parse_webhook(fixture("webhook_status_delivered")), StatusUpdate)

    assert event == StatusUpdate(
        message_id="gBEGVzE3AEU1AgnP3gFWMWGEWDg",
        status="delivered",
        timestamp=datetime.fromtimestamp(1636642666, tz=UTC),
        recipient_id="57313XXXXXXX",
        business_number="57323XXXXXXX",
        conversation_id="916e1719bcf72051838b9076864c5c9d",
        conversation_origin="business_initiated",
        conversation_expiration=datetime.fromtimestamp(1645303920, tz=UTC),
        pricing={"billable": True, "category": "business_initiated", "pricing_model": "CBP"},
    )
    assert event.timestamp == datetime(2021, 11, 11, 14, 57, 46, tzinfo=UTC)
    assert event.error_code == "" and event.errors == ()


def test_template_category_update() -> None:
    event = only(parse_webhook(fixture("webhook_template_category_update")), TemplateEvent)

    assert event == TemplateEvent(
        kind="category",
        template_id="12345678",
        name="my_message_template",
        language="en-US",
        previous_category="SHIPPING_UPDATE",
        new_category="UTILITY",
    )


def test_template_status_update() -> None:
    event = only(parse_webhook(fixture("webhook_template_status_update")), TemplateEvent)

    assert event == TemplateEvent(
        kind="status",
        template_id="12345678",
        name="my_message_template",
        language="pt-BR",
        status="APPROVED",
        reason="",
    )


def test_template_performance_metrics_one_event_per_entry() -> None:
    events = parse_webhook(fixture("webhook_template_performance_metrics"))

    assert events == [
        TemplateEvent(
            kind="performance",
            template_id="11111",
            name="template_1",
            language="en_US",
            top_block_reason="NO_LONGER_NEEDED",
        ),
        TemplateEvent(
            kind="performance",
            template_id="22222",
            name="template_2",
            language="en_US",
            messages_sent_7d=2000,
            top_block_reason="SPAM",
        ),
        TemplateEvent(
            kind="performance",
            template_id="33333",
            name="template_3",
            language="en_US",
            messages_sent_7d=2000,
            messages_opened_7d=1001,
            top_block_reason="SPAM",
        ),
    ]


def test_inbound_text_replying_to_our_message_with_origin_number_in_camel_case() -> None:
    event = only(parse_webhook(fixture("webhook_inbound_text_reply")), InboundMessage)

    assert event == InboundMessage(
        message_id="ABEGVzE3AEU1AhB4Lf6k-JIKQ9PcG7VwSeeA",
        from_number="573137004535",
        type="text",
        content={"body": "Hi"},
        timestamp=datetime.fromtimestamp(1636642802, tz=UTC),
        business_number="57323XXXXXXX",  # from "originNumber"
        contact_name="William G.",
        context_id="gBEGVzE3AEU1AgnP3gFWMWGEWDg",  # the id of the status example: our sent message
    )


def test_inbound_text_without_context() -> None:
    event = only(parse_webhook(fixture("webhook_inbound_text")), InboundMessage)

    assert event == InboundMessage(
        message_id="ABEGVzE3AEU1AhCEEYWND0lyDPU4ScTnJ5LM",
        from_number="57313XXXXXXX",
        type="text",
        content={"body": "Sin seleccionar"},
        timestamp=datetime.fromtimestamp(1636642936, tz=UTC),
        business_number="57323XXXXXXX",
        contact_name="William G.",
    )


def test_inbound_media_takes_the_object_under_its_type() -> None:
    # The manual's example fills both "image" and "video"; "type" says image.
    payload = fixture("webhook_inbound_media")
    event = only(parse_webhook(payload), InboundMessage)

    assert event.type == "image"
    assert event.content == payload["messages"][0]["image"]
    assert event.content["mime_type"] == "image/jpeg"
    assert event.content["link"].endswith("whatsappmedia.jpg")
    assert event.message_id == "9f1064df-dc55-44cb-aa3b-81a0fda13f5e"
    assert event.business_number == "57300XXXXXXX"
    assert event.context_id == ""
    assert event.timestamp == datetime.fromtimestamp(1639224685, tz=UTC)


def test_inbound_contacts_trusts_the_content_over_a_wrong_type() -> None:
    # The manual's contacts example says "type": "image" but carries only "contacts".
    payload = fixture("webhook_inbound_contacts")
    event = only(parse_webhook(payload), InboundMessage)

    assert event.type == "contacts"
    assert event.content == payload["messages"][0]["contacts"]
    assert event.content[0]["name"]["formatted_name"] == "JETHANDLING FBO Jethandling Ecuador SA"
    assert event.content[0]["addresses"][0]["zip"] == 170999
    assert event.business_number == "57300XXXXXXXX"


def test_inbound_interactive_list_reply() -> None:
    event = only(parse_webhook(fixture("webhook_inbound_interactive_list_reply")), InboundMessage)

    assert event.type == "interactive"
    assert event.content["type"] == "list_reply"
    assert event.content["list_reply"] == {
        "id": "<ID 1.1>",
        "title": "<Title 1.1>",
        "description": "<Description 1.1>",
    }
    assert event.context_id == "e052f7d0-acd9-4c9c-b90c-80c2846daa44"  # an Aldeamo uuid we got when sending
    assert event.business_number == "57318XXXXXXXX"
    assert event.from_number == "57313XXXXXXXX"
    assert event.contact_name == "William G."


def test_inbound_interactive_button_reply() -> None:
    event = only(parse_webhook(fixture("webhook_inbound_interactive_button_reply")), InboundMessage)

    assert event.type == "interactive"
    assert event.content == {"type": "button_reply", "button_reply": {"id": "<ID 1.1>", "title": "<Title 1.1>"}}
    assert event.message_id == "ABEGVzE3AEU1Ago-sGFyNWirb6O"
    assert event.timestamp == datetime.fromtimestamp(1640019033, tz=UTC)


def test_inbound_template_quick_reply_button() -> None:
    event = only(parse_webhook(fixture("webhook_inbound_button_quick_reply")), InboundMessage)

    assert event == InboundMessage(
        message_id="ABEGVzE3AEU1Ago-sBEA5kQ7CPSi",
        from_number="57313XXXXXXXX",
        type="button",
        content={"payload": "3. Confirmar-Button-Payload", "text": "Opción # 3"},
        timestamp=datetime.fromtimestamp(1647976101, tz=UTC),
        business_number="57313XXXXXXXX",
        contact_name="Nombre del contacto",
        context_id="1f684155-a0e6-4854-8c8e-3271a1c2aa64",
    )


def test_inbound_text_with_a_facebook_referral() -> None:
    payload = fixture("webhook_inbound_referral")
    event = only(parse_webhook(payload), InboundMessage)

    assert event.type == "text"
    assert event.content == {"body": "Vi esto en Facebook..."}
    assert event.message_id == "wamid.HBgMNTczMTM3MDA0NTM1FQIAEhgUM0VCMEMyOEE1RDgyOUIxM0EwMjMA"
    assert event.referral == payload["messages"][0]["referral"]
    assert event.referral["source_type"] == "post"
    assert event.referral["source_url"] == "https://fb.me/3CJ2r7kWS"
    assert event.referral["image"]["link"].startswith("https://scontent.xx.fbcdn.net/")
    # The contact's wa_id is masked differently from "from"; the lone contact still names the message.
    assert event.contact_name == "*****"
    assert event.business_number == "573*****"


@pytest.mark.parametrize(
    ("name", "items", "business_number"),
    [("webhook_inbound_order_product", 1, "57303XXXXXXX"), ("webhook_inbound_order_product_list", 2, "5730XXXXXXX")],
)
def test_inbound_order(name: str, items: int, business_number: str) -> None:
    event = only(parse_webhook(fixture(name)), InboundMessage)

    assert event.type == "order"
    assert event.content["catalog_id"] == "Catalog id"
    assert len(event.content["product_items"]) == items
    assert event.content["product_items"][0]["product_retailer_id"] == "Product id"
    assert event.contact_name == "Name contact"
    assert event.business_number == business_number
    assert event.referral is None


# --- tolerance ----------------------------------------------------------------


def status_payload(**status: Any) -> dict[str, Any]:
    base = {"id": "wamid.1", "status": "sent", "timestamp": "1636642666", "recipient_id": "573001112233"}
    return {"contacts": None, "messages": None, "statuses": [{**base, **status}], "origin_number": "573009998877"}


def test_failed_status_takes_code_and_title_from_the_first_error() -> None:
    errors = [
        {"code": 131047, "title": "Re-engagement message", "details": "More than 24 hours have passed"},
        {"code": 131000, "title": "Something else"},
    ]
    event = only(parse_webhook(status_payload(status="failed", errors=errors)), StatusUpdate)

    assert event.status == "failed"
    assert event.error_code == "131047"
    assert event.error_title == "Re-engagement message"
    assert event.errors == tuple(errors)


def test_status_with_conversation_as_a_plain_id_and_no_pricing() -> None:
    event = only(parse_webhook(status_payload(conversation="conv-1", pricing=None)), StatusUpdate)

    assert event.conversation_id == "conv-1"
    assert event.conversation_origin == ""
    assert event.conversation_expiration is None
    assert event.pricing is None


def test_status_with_numeric_or_unreadable_timestamp() -> None:
    numeric = only(parse_webhook(status_payload(timestamp=1636642666)), StatusUpdate)
    garbage = only(parse_webhook(status_payload(timestamp="yesterday")), StatusUpdate)

    assert numeric.timestamp == datetime.fromtimestamp(1636642666, tz=UTC)
    assert garbage.timestamp is None


def test_status_status_is_normalised_to_lower_case() -> None:
    assert only(parse_webhook(status_payload(status="READ")), StatusUpdate).status == "read"


def test_a_bad_status_entry_does_not_lose_the_others() -> None:
    payload = status_payload()
    payload["statuses"] = ["garbage", {"status": "sent"}, *payload["statuses"]]

    events = parse_webhook(payload)

    assert [type(e) for e in events] == [UnknownEvent, UnknownEvent, StatusUpdate]
    assert events[0].payload == "garbage"
    assert events[1].reason == "A status entry has no id or no status."


def test_status_without_origin_number() -> None:
    payload = status_payload()
    del payload["origin_number"]

    assert only(parse_webhook(payload), StatusUpdate).business_number == ""


def inbound_payload(**message: Any) -> dict[str, Any]:
    base = {"context": None, "from": "573001112233", "id": "wamid.in", "timestamp": "1636642802"}
    return {
        "contacts": [{"profile": {"name": "Ana"}, "wa_id": "573001112233"}],
        "messages": [{**base, **message}],
        "statuses": None,
        "originNumber": "573009998877",
    }


def test_inbound_without_contacts_or_timestamp() -> None:
    payload = inbound_payload(type="text", text={"body": "hola"}, timestamp=None)
    payload["contacts"] = None

    event = only(parse_webhook(payload), InboundMessage)

    assert event.contact_name == ""
    assert event.timestamp is None
    assert event.business_number == "573009998877"


def test_inbound_contact_name_is_matched_by_wa_id() -> None:
    payload = inbound_payload(type="text", text={"body": "hola"})
    payload["contacts"] = [
        {"profile": {"name": "Otro"}, "wa_id": "573000000000"},
        {"profile": {"name": "Ana"}, "wa_id": "573001112233"},
    ]

    assert only(parse_webhook(payload), InboundMessage).contact_name == "Ana"


@pytest.mark.parametrize(
    ("message", "expected_type", "expected_content"),
    [
        (
            {"type": "voice", "voice": {"id": "v1", "link": "https://x/v.ogg"}},
            "voice",
            {"id": "v1", "link": "https://x/v.ogg"},
        ),
        ({"type": "sticker", "sticker": {"id": "s1"}}, "sticker", {"id": "s1"}),
        (
            {"type": "location", "location": {"latitude": 4.69, "longitude": -74.05}},
            "location",
            {"latitude": 4.69, "longitude": -74.05},
        ),
        (
            {"type": "document", "document": {"id": "d1", "filename": "a.pdf"}},
            "document",
            {"id": "d1", "filename": "a.pdf"},
        ),
        ({"type": "audio", "audio": {"id": "a1"}}, "audio", {"id": "a1"}),
        ({"type": "video", "video": {"id": "v2"}}, "video", {"id": "v2"}),
        ({"text": {"body": "no type"}}, "text", {"body": "no type"}),
        ({"type": "reaction", "reaction": {"emoji": "👍"}}, "reaction", {"emoji": "👍"}),
        ({"type": "unsupported", "text": None}, "unsupported", None),
    ],
    ids=["voice", "sticker", "location", "document", "audio", "video", "type-missing", "new-type", "no-content"],
)
def test_inbound_types(message: dict[str, Any], expected_type: str, expected_content: Any) -> None:
    event = only(parse_webhook(inbound_payload(**message)), InboundMessage)

    assert event.type == expected_type
    assert event.content == expected_content
    assert event.contact_name == "Ana"


def test_inbound_context_given_as_a_plain_id() -> None:
    event = only(parse_webhook(inbound_payload(type="text", text={"body": "x"}, context="wamid.ctx")), InboundMessage)

    assert event.context_id == "wamid.ctx"


@pytest.mark.parametrize(
    "message",
    [
        {"id": None, "type": "text", "text": {"body": "x"}},
        {"from": "", "type": "text", "text": {"body": "x"}},
        {"type": None, "text": None, "image": None},
        {"text": {"body": "a"}, "image": {"id": "b"}},
    ],
    ids=["no-id", "no-sender", "no-type-no-content", "no-type-two-contents"],
)
def test_unreadable_inbound_message_is_unknown(message: dict[str, Any]) -> None:
    event = only(parse_webhook(inbound_payload(**message)), UnknownEvent)

    assert event.payload["timestamp"] == "1636642802"


def test_a_message_entry_that_is_not_an_object() -> None:
    payload = inbound_payload(type="text", text={"body": "ok"})
    payload["messages"].append(42)

    events = parse_webhook(payload)

    assert isinstance(events[0], InboundMessage)
    assert events[1] == UnknownEvent(reason="A message entry is not an object.", payload=42)


def test_statuses_and_messages_in_one_payload_keep_their_order() -> None:
    payload = inbound_payload(type="text", text={"body": "ok"})
    payload["statuses"] = status_payload()["statuses"]

    events = parse_webhook(payload)

    assert [type(e) for e in events] == [StatusUpdate, InboundMessage]


@pytest.mark.parametrize("payload", [None, "statuses", 42, [fixture("webhook_status_delivered")], b"{}"])
def test_a_payload_that_is_not_an_object_is_unknown(payload: Any) -> None:
    event = only(parse_webhook(payload), UnknownEvent)

    assert event.payload == payload


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"contacts": None, "messages": None, "statuses": None, "origin_number": "57323XXXXXXX"},
        {"statuses": [], "messages": []},
        {"hello": "world"},
    ],
    ids=["empty", "all-null", "empty-lists", "foreign"],
)
def test_a_payload_with_nothing_readable_is_one_unknown_event(payload: dict[str, Any]) -> None:
    event = only(parse_webhook(payload), UnknownEvent)

    assert event.payload == payload


@pytest.mark.parametrize("key", ["statuses", "messages"])
def test_statuses_or_messages_that_are_not_lists(key: str) -> None:
    event = only(parse_webhook({key: {"id": "x"}}), UnknownEvent)

    assert event.reason == f"'{key}' is not a list."


def test_template_event_ids_as_strings_or_numbers() -> None:
    payload = fixture("webhook_template_status_update")
    payload["value"]["message_template_id"] = "987654321"
    payload["value"]["event"] = "REJECTED"
    payload["value"]["reason"] = "INVALID_FORMAT"

    event = only(parse_webhook(payload), TemplateEvent)

    assert (event.template_id, event.status, event.reason) == ("987654321", "REJECTED", "INVALID_FORMAT")


def test_performance_metrics_with_numeric_ids_and_a_bad_entry() -> None:
    payload = {
        "field": "template_performance_metrics",
        "value": {
            "templates_performance_metrics": [
                {"template_id": 44444, "template_name": "t4", "messages_sent_7d": "15", "top_block_reason": None},
                {"template_name": "no id"},
            ]
        },
    }

    events = parse_webhook(payload)

    assert events[0] == TemplateEvent(kind="performance", template_id="44444", name="t4", messages_sent_7d=15)
    assert isinstance(events[1], UnknownEvent)


@pytest.mark.parametrize(
    "payload",
    [
        {"field": "account_update", "value": {"event": "VERIFIED"}},
        {"field": "message_template_status_update", "value": None},
        {"field": "message_template_status_update", "value": {"event": "APPROVED"}},
        {"field": "template_category_update", "value": {"new_category": "UTILITY"}},
        {"field": "template_performance_metrics", "value": {"templates_performance_metrics": None}},
        {"field": "template_performance_metrics", "value": {"templates_performance_metrics": []}},
    ],
    ids=["unknown-field", "no-value", "status-without-id", "category-without-id", "metrics-not-list", "metrics-empty"],
)
def test_unreadable_template_events_are_unknown(payload: dict[str, Any]) -> None:
    event = only(parse_webhook(payload), UnknownEvent)

    assert event.payload == payload
