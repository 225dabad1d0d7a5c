"""The pure payload builders, fed the seeds' own values, give back the seeds' examples."""

from __future__ import annotations

from datetime import UTC, datetime

from sandbox import payloads

from . import seed_examples as seeds


def at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def test_status_event_is_the_seed_example():
    built = payloads.aldeamo_status(
        message_id="gBEGVzE3AEU1AgnP3gFWMWGEWDg",
        status="delivered",
        timestamp=at(1636642666),
        recipient_id="57313XXXXXXX",
        origin_number="57323XXXXXXX",
        conversation_id="916e1719bcf72051838b9076864c5c9d",
        conversation_expiration=at(1645303920),
        origin_type="business_initiated",
    )
    assert built == seeds.STATUS_EVENT


def test_template_events_are_the_seed_examples():
    assert (
        payloads.template_status_update(
            event="APPROVED", template_id=12345678, name="my_message_template", language="pt-BR", reason=None
        )
        == seeds.TEMPLATE_STATUS_EVENT
    )
    assert (
        payloads.template_category_update(
            template_id=12345678,
            name="my_message_template",
            language="en-US",
            previous_category="SHIPPING_UPDATE",
            new_category="UTILITY",
        )
        == seeds.TEMPLATE_CATEGORY_EVENT
    )
    entries = [
        payloads.template_performance_entry(
            template_id="11111", name="template_1", language="en_US", top_block_reason="NO_LONGER_NEEDED"
        ),
        payloads.template_performance_entry(
            template_id="33333",
            name="template_3",
            language="en_US",
            messages_sent_7d=2000,
            messages_opened_7d=1001,
            top_block_reason="SPAM",
        ),
    ]
    assert payloads.template_performance_metrics(entries) == seeds.TEMPLATE_PERFORMANCE_EVENT


def test_inbound_text_with_context_is_the_seed_example_plus_null_keys():
    seed_message = seeds.INBOUND_TEXT_WITH_CONTEXT["messages"][0]
    built = payloads.aldeamo_inbound(
        message=payloads.inbound_message(
            message_id=seed_message["id"],
            from_number=seed_message["from"],
            timestamp=at(1636642802),
            wire_type="text",
            content={"text": {"body": "Hi"}},
            context=payloads.inbound_context(business_number="57323XXXXXXX", context_id="gBEGVzE3AEU1AgnP3gFWMWGEWDg"),
        ),
        contact_name="William G.",
        wa_id="57313XXXXXXX",
        origin_number="57323XXXXXXX",
        origin_key="originNumber",
    )
    message = built["messages"][0]
    assert {k: message[k] for k in seed_message} == seed_message
    assert all(message[k] is None for k in set(message) - set(seed_message))
    assert {k: v for k, v in built.items() if k != "messages"} == {
        k: v for k, v in seeds.INBOUND_TEXT_WITH_CONTEXT.items() if k != "messages"
    }


def test_media_object_is_the_seed_shape():
    seed = seeds.INBOUND_MEDIA_OBJECT
    assert (
        payloads.media_object(media_id=seed["id"], link=seed["link"], sha256=seed["sha256"], mime_type="image/jpeg")
        == seed
    )


def test_contacto_virtual_events_are_the_seed_examples():
    moment = datetime(2024, 5, 1, 15, 30, 5, tzinfo=UTC)  # 10:30:05 in Bogotá, the clock CV writes
    sent = payloads.cv_status_event(status="sent", message_id="xxxx", whatsapp_id="xxxx", moment=moment)
    assert sent == {**seeds.CV_SENT_EVENT, "fecha_envio_por_whatsapp": "2024-05-01 10:30:05"}
    delivered = payloads.cv_status_event(status="delivered", message_id="xxxx", whatsapp_id="xxxx", moment=moment)
    assert delivered == {**seeds.CV_DELIVERED_EVENT, "fecha_envio_por_whatsapp": "2024-05-01 10:30:05"}
    read = payloads.cv_status_event(status="read", message_id="xxxx", whatsapp_id="xxxx", moment=moment)
    assert read == {**seeds.CV_READ_EVENT, "fecha_lectura_usuario": "2024-05-01 10:30:05"}
    assert payloads.cv_failed_event(code="xxxx", reason="xxxxx", message_id="xxxx") == seeds.CV_FAILED_EVENT
    assert payloads.cv_reply(**{k: seeds.CV_REPLY[k] for k in ("mobile", "message", "custom_field")}) == seeds.CV_REPLY


def test_media_links_use_the_port_the_demo_serves(settings):
    # Issue 18: the links pointed at port 8000 even when the demo served another port.
    from sandbox.replies import inbound_content

    settings.PUBLIC_BASE_URL = ""
    settings.SANDBOX_MEDIA_BASE_URL = ""
    _kind, content = inbound_content("image", webhook_url="http://127.0.0.1:8123/webhooks/aldeamo/s3cr3t/")
    assert content["image"]["link"].startswith("http://127.0.0.1:8123/sandbox/aldeamo/getFiles/")
    settings.PUBLIC_BASE_URL = "https://portal.example.com"
    _kind, content = inbound_content("image", webhook_url="http://127.0.0.1:8123/webhooks/aldeamo/s3cr3t/")
    assert content["image"]["link"].startswith("https://portal.example.com/sandbox/")


def test_the_sample_photo_is_a_picture_a_person_can_see():
    """An inbound image in the demo shows as a picture (the sample used to be one pixel)."""
    from sandbox.media import SAMPLES

    data = SAMPLES["jpg"][1]
    assert data[:2] == b"\xff\xd8"  # a JPEG
    frame = data.index(b"\xff\xc0")  # baseline frame header: length, precision, height, width
    height, width = int.from_bytes(data[frame + 5:frame + 7]), int.from_bytes(data[frame + 7:frame + 9])
    assert (width, height) == (480, 320)
