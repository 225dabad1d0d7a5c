"""message_send, the one send service: every seed example on the wire, each limit, the 24-hour window,
template checks, Contacto Virtual, failures and retries, idempotency.

The wire tests use ``responses`` with matchers on the exact URL, headers and body, because what they check is
the request the service makes the adapter produce. Everything else uses a fake client object.
"""

from __future__ import annotations

import copy
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
import requests
import responses
from django.utils import timezone, translation
from responses import matchers
from responses.registries import OrderedRegistry

from accounts import rates
from accounts.models import Role
from messaging.models import Message, MessageStatus, StatusEvent
from messaging.sending import delivery, message_resend, message_send, request_fingerprint, send
from providers.base import ProviderTimeout, ProviderUnavailable
from providers.contacto_virtual import RETURN_CODES
from providers.contacto_virtual.client import TOKEN_MASK
from providers.types import SendResult
from templates_mgr.models import TemplateStatus
from tests.factories import PhoneNumberFactory, TemplateFactory
from tests.fixtures import fixture_text, load_fixture
from tests.fixtures.aldeamo_sends import MEDIA_ID, TEXT_ID
from tests.fixtures.aldeamo_sends import SEED_SENDS as ALDEAMO_SEED_SENDS
from tests.messaging.conftest import FakeClient
from tests.messaging.factories import (
    ContactoVirtualTemplateFactory,
    MessageFactory,
    aldeamo_number,
    contacto_virtual_number,
    member,
    open_window,
)
from waportal.errors import ApplicationError

BASE_URL = "https://aldeamo.invalid"
CV_SEND_URL = "https://cv.invalid/ws/send/"
CUSTOMER = "573131234567"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Messages in English whatever the default language, so assertions read the source strings."""
    with translation.override("en"):
        yield


def fixture(name: str) -> Any:
    return load_fixture("aldeamo", name)


def send_url(service: str) -> str:
    return f"{BASE_URL}/v1/apikey/{service}/bsp/send"


@pytest.fixture(autouse=True)
def waits(monkeypatch) -> list[float]:
    """Backoff pauses are recorded, never slept."""
    recorded: list[float] = []
    monkeypatch.setattr(delivery, "sleep", recorded.append)
    return recorded


@pytest.fixture
def number():
    return aldeamo_number(digits="573001112233", waba__client__provider_account__base_url=BASE_URL)


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def apikey_headers(number) -> dict[str, str]:
    account = number.client.provider_account
    return {"ApiKey": account.api_key, "UserId": account.user_id, "Content-Type": "application/json"}


def send_text(agent, number, body: str = "Hola", **kwargs) -> Message:
    return message_send(actor=agent, phone_number=number, to=CUSTOMER, type="text", content={"body": body}, **kwargs)


# --- every send example of the seeds, on the wire --------------------------------------------------------------

# (request fixture, service in the URL, response fixture of that manual section, id, id kind)
SEED_SENDS = [
    *ALDEAMO_SEED_SENDS,
    ("send_sticker_request", "stickerbyurl", "send_media_response", MEDIA_ID, "whatsapp"),
]


def https_links(value: Any) -> Any:
    """The manual's links made sendable: its placeholders and http:// links become https:// (the only change)."""
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if key == "link" and isinstance(item, str) and not item.startswith("https://"):
                item = "https://" + item[len("http://"):] if item.startswith("http://") else (
                    "https://cdn.example.com/media/sample")
            result[key] = https_links(item)
        return result
    if isinstance(value, list):
        return [https_links(item) for item in value]
    return value


def synced_template_for(number, template: dict[str, Any]) -> None:
    """Store the approved template a seed example sends, with the components its parameters imply."""
    components: list[dict[str, Any]] = []
    buttons: dict[int, str] = {}
    for component in template.get("components", []):
        parameters = component.get("parameters") or []
        if component["type"] == "header":
            kind = parameters[0]["type"]
            components.append({"type": "HEADER", "format": "TEXT", "text": "Aviso {{1}}"} if kind == "text"
                              else {"type": "HEADER", "format": kind.upper()})
        elif component["type"] == "body":
            components.append({"type": "BODY", "text": " ".join(f"{{{{{n}}}}}" for n in range(1, len(parameters) + 1))})
        else:
            buttons[int(component["index"])] = component["sub_type"]
    if buttons:
        components.append({"type": "BUTTONS", "buttons": [
            {"type": "QUICK_REPLY", "text": f"Opción {index}"} if buttons.get(index) == "quick_reply"
            else {"type": "URL", "text": "Ver", "url": "https://aldeamo.com/{{1}}"}
            for index in range(max(buttons) + 1)
        ]})
    TemplateFactory(waba=number.waba, name=template["name"], language=template["language"]["code"],
                    components=components)


def seed_send(name: str, number) -> tuple[dict[str, Any], dict[str, Any]]:
    """(message_send arguments, the exact body expected on the wire) for one example of the manual.

    Changes to the example, all forced by what a real send needs: real ``from``/``to`` numbers, https links,
    a real language code where the example has a placeholder too long to be one, the WABA's namespace, and
    ``recipient_type: individual`` (always sent). The sticker goes under ``document``, as the stickerbyurl
    example has it.
    """
    seed = fixture(name)
    kind = seed["type"]
    content_key = "document" if kind == "sticker" and "document" in seed else kind
    content = https_links(seed[content_key])
    if kind == "template":
        content["namespace"] = number.waba.namespace
        if len(content["language"]["code"]) > 16:
            content["language"]["code"] = "es"
        synced_template_for(number, content)
    else:
        open_window(number, CUSTOMER)
    expected = {key: value for key, value in seed.items() if key != content_key}
    wire_key = "document" if kind == "sticker" else kind  # seed 000 l.1200, the stickerbyurl example
    expected.update({"from": number.digits, "to": CUSTOMER, "recipient_type": "individual", wire_key: content})
    arguments = {
        "type": kind,
        "content": copy.deepcopy(content),
        "context_message_id": seed.get("context", {}).get("message_id", ""),
        "preview_url": seed.get("preview_url"),
    }
    return arguments, expected


@pytest.mark.parametrize(("request_name", "service", "response_name", "expected_id", "id_kind"), SEED_SENDS)
def test_every_seed_example_goes_out_exactly_and_both_success_shapes_are_read(
    mocked, number, agent, request_name, service, response_name, expected_id, id_kind
):
    arguments, expected = seed_send(request_name, number)
    mocked.post(
        send_url(service),
        json=fixture(response_name),
        match=[matchers.header_matcher(apikey_headers(number)), matchers.json_params_matcher(expected)],
    )

    message = message_send(actor=agent, phone_number=number, to=CUSTOMER, **arguments)

    assert len(mocked.calls) == 1
    assert mocked.calls[0].request.url == send_url(service)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.sent_at is not None
    assert message.request_body == expected
    assert message.provider_message_id == expected_id
    assert message.whatsapp_id == (expected_id if id_kind == "whatsapp" else "")
    assert message.type == expected["type"]
    assert message.to_number == CUSTOMER and message.from_number == number.digits
    assert message.conversation.contact.wa_id == CUSTOMER
    assert message.created_by == agent


def test_the_message_is_stored_as_sending_before_the_http_call(number, agent, monkeypatch):
    open_window(number, CUSTOMER)
    seen: list[tuple[str, Any]] = []

    class Peeking(FakeClient):
        def send(self, wire):
            stored = Message.objects.get()
            seen.append((stored.status, stored.request_body))
            return super().send(wire)

    monkeypatch.setattr(delivery, "provider_client", lambda account: Peeking())

    message = send_text(agent, number, "Hola")

    assert seen == [(MessageStatus.SENDING, message.request_body)]
    assert isinstance(message.pk, uuid.UUID)


@pytest.mark.parametrize(
    ("body_fixture", "status", "code", "title"),
    [
        ("send_error_401_verbatim.txt", 401, "401",
         "Aldeamo refused the credentials (Authentication Error): check the account's API key and user id."),
        ("send_error_400_verbatim.txt", 400, "400", "Aldeamo rejected the message as invalid (Bad Request)"),
    ],
)
def test_both_error_bodies_fail_the_message_in_words_after_one_call(mocked, number, agent, body_fixture, status,
                                                                     code, title):
    open_window(number, CUSTOMER)
    mocked.post(send_url("text"), body=fixture_text("aldeamo", body_fixture), status=status)

    message = send_text(agent, number)

    assert len(mocked.calls) == 1
    assert message.status == MessageStatus.FAILED
    assert message.failed_at is not None
    assert message.error_code == code
    assert message.error_title.startswith(title)
    assert Message.objects.get().status == MessageStatus.FAILED


# --- failures: retry what is safe, never what may have been delivered ---------------------------------------------


def test_a_read_timeout_makes_exactly_one_call_and_leaves_the_message_unknown(mocked, number, agent, waits):
    open_window(number, CUSTOMER)
    mocked.post(send_url("text"), body=requests.exceptions.ReadTimeout("no answer"))

    message = send_text(agent, number)

    assert len(mocked.calls) == 1
    assert waits == []
    assert message.status == MessageStatus.UNKNOWN
    assert "may or may not have been sent" in message.error_title
    assert "Send again" in message.error_title
    assert message.provider_message_id == ""


@pytest.mark.parametrize("answer", [{"status": "ok"}, {"messages": []}], ids=["no-id", "empty-messages"])
def test_a_200_without_a_message_id_makes_one_call_and_leaves_the_message_unknown(mocked, number, agent, waits,
                                                                                   answer):
    """The provider took the request: the message may be on its way, so it is neither failed nor sent again."""
    open_window(number, CUSTOMER)
    mocked.post(send_url("text"), json=answer)

    message = send_text(agent, number)

    assert len(mocked.calls) == 1
    assert waits == []
    assert message.status == MessageStatus.UNKNOWN
    assert "may or may not have been sent" in message.error_title


def test_connection_error_then_503_then_200_makes_three_calls_and_ends_sent(number, agent, waits):
    open_window(number, CUSTOMER)
    with responses.RequestsMock(registry=OrderedRegistry) as mocked:
        mocked.post(send_url("text"), body=requests.exceptions.ConnectionError("refused"))
        mocked.post(send_url("text"), status=503, json={"errors": ["Service Unavailable"]})
        mocked.post(send_url("text"), json=fixture("send_text_response"))

        message = send_text(agent, number)

        assert len(mocked.calls) == 3
    assert message.status == MessageStatus.SENT
    assert message.provider_message_id == TEXT_ID
    assert len(waits) == 2
    assert all(0 < wait <= delivery.BACKOFF_CAP_SECONDS for wait in waits)


def test_every_attempt_of_a_single_send_takes_its_own_slot_of_the_number(number, agent, waits, monkeypatch):
    """A retry is a send WhatsApp may count: it waits for the number's next slot like the first attempt."""
    slots = []
    monkeypatch.setattr(delivery, "number_slot", lambda **kwargs: slots.append(kwargs["phone_number_id"]))
    open_window(number, CUSTOMER)
    with responses.RequestsMock(registry=OrderedRegistry) as mocked:
        mocked.post(send_url("text"), status=429, json={"errors": ["Too Many Requests"]})
        mocked.post(send_url("text"), status=503, json={"errors": ["Service Unavailable"]})
        mocked.post(send_url("text"), json=fixture("send_text_response"))

        message = send_text(agent, number)

        assert len(mocked.calls) == 3
    assert message.status == MessageStatus.SENT
    assert slots == [number.pk] * 3


def _send_with_deadlines(number, agent, monkeypatch, deadline) -> tuple[Message, list[bool]]:
    """One text sent with ``deadline(n, anyway)`` as the n-th slot's leave-by; the message and each slot's
    ``anyway``. The provider is called exactly once."""
    slots: list[bool] = []

    def slot(**kwargs):
        slots.append(kwargs["anyway"])
        return deadline(len(slots), kwargs["anyway"])

    monkeypatch.setattr(delivery, "number_slot", slot)
    open_window(number, CUSTOMER)
    with responses.RequestsMock() as mocked:
        mocked.post(send_url("text"), json=fixture("send_text_response"))
        message = send_text(agent, number)
        assert len(mocked.calls) == 1
    return message, slots


def test_a_single_send_held_up_past_its_slot_is_not_made_and_takes_the_next_slot(number, agent, waits, monkeypatch):
    """Woken on time, then held up before the request left (a busy machine): the deadline the slot set stops
    it before any byte (providers.leave), and the number's next slot is taken -- one call in all."""
    message, slots = _send_with_deadlines(  # the first slot's deadline has passed when the request would leave
        number, agent, monkeypatch, lambda n, anyway: time.time() - 0.001 if n == 1 else time.time() + 5)
    assert message.status == MessageStatus.SENT and slots == [False, False]


def test_a_single_send_late_every_time_leaves_after_giving_up_a_few_slots(number, agent, waits, monkeypatch):
    message, slots = _send_with_deadlines(
        number, agent, monkeypatch, lambda n, anyway: None if anyway else time.time() - 0.001)
    assert message.status == MessageStatus.SENT
    assert slots == [False] * rates.LATE_RETRIES + [True]


def test_a_400_makes_one_call(mocked, number, agent, waits):
    open_window(number, CUSTOMER)
    mocked.post(send_url("text"), status=400, json=fixture("send_error_400"))

    message = send_text(agent, number)

    assert len(mocked.calls) == 1
    assert waits == []
    assert message.status == MessageStatus.FAILED


def test_429_three_times_gives_up_after_three_attempts_with_capped_backoff(number, agent, waits):
    open_window(number, CUSTOMER)
    with responses.RequestsMock() as mocked:
        mocked.post(send_url("text"), status=429, json={"errors": ["Too Many Requests"]},
                    headers={"Retry-After": "120"})

        message = send_text(agent, number)

        assert len(mocked.calls) == delivery.MAX_ATTEMPTS
    assert message.status == MessageStatus.FAILED
    assert message.error_code == "429"
    assert "after 3 attempts" in message.error_title
    assert waits == [delivery.BACKOFF_CAP_SECONDS, delivery.BACKOFF_CAP_SECONDS]


def test_backoff_grows_and_stays_within_its_cap():
    error = ProviderUnavailable("down")
    for attempt in range(1, 10):
        ceiling = min(delivery.BACKOFF_CAP_SECONDS, delivery.BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
        for _ in range(20):
            assert ceiling / 2 <= delivery.backoff(attempt, error) <= ceiling


def test_provider_errors_never_reach_the_caller(number, agent, fake):
    open_window(number, CUSTOMER)
    fake.script = [ProviderTimeout("slow")]

    message = send_text(agent, number)

    assert message.status == MessageStatus.UNKNOWN
    assert len(fake.sent) == 1


# --- each limit: accepted at it, refused past it, naming the field -----------------------------------------------


def _buttons(count: int, title: str = "Sí") -> dict[str, Any]:
    return {"type": "button", "body": {"text": "¿Confirmas?"}, "action": {"buttons": [
        {"type": "reply", "reply": {"id": f"b{n}", "title": title}} for n in range(count)]}}


def _list(rows: int, *, row_title: str = "Fila", description: str = "", button: str = "Ver",
          section_title: str = "Sección") -> dict[str, Any]:
    first = [{"id": f"r{n}", "title": row_title, **({"description": description} if description else {})}
             for n in range(min(rows, 5))]
    second = [{"id": f"s{n}", "title": row_title} for n in range(rows - len(first))]
    sections = [{"title": section_title, "rows": first}]
    if second:
        sections.append({"title": "Otra", "rows": second})
    return {"type": "list", "body": {"text": "Elige"}, "action": {"button": button, "sections": sections}}


def _products(count: int) -> dict[str, Any]:
    return {"type": "product_list", "header": {"type": "text", "text": "Catálogo"}, "body": {"text": "Mira"},
            "action": {"catalog_id": "123", "sections": [
                {"title": "Todo", "product_items": [{"product_retailer_id": f"p{n}"} for n in range(count)]}]}}


# (type, content at the limit, content past it, the field named)
LIMITS = [
    ("text", {"body": "a" * 4096}, {"body": "a" * 4097}, "text.body"),
    ("image", {"link": "https://x.example/a.png", "caption": "c" * 1024},
     {"link": "https://x.example/a.png", "caption": "c" * 1025}, "image.caption"),
    ("document", {"link": "https://x.example/a.pdf", "filename": "f" * 240},
     {"link": "https://x.example/a.pdf", "filename": "f" * 241}, "document.filename"),
    ("location", {"latitude": 90, "longitude": 180}, {"latitude": 90.0001, "longitude": 0}, "location.latitude"),
    ("location", {"latitude": -90, "longitude": -180}, {"latitude": 0, "longitude": -180.5}, "location.longitude"),
    ("interactive", _buttons(3), _buttons(4), "interactive.action.buttons[3]"),
    ("interactive", _buttons(1, "t" * 20), _buttons(1, "t" * 21), "interactive.action.buttons[0].reply.title"),
    ("interactive", _list(10), _list(11), "interactive.action.sections[1].rows[5]"),
    ("interactive", _list(1, row_title="r" * 24), _list(1, row_title="r" * 25),
     "interactive.action.sections[0].rows[0].title"),
    ("interactive", _list(1, description="d" * 72), _list(1, description="d" * 73),
     "interactive.action.sections[0].rows[0].description"),
    ("interactive", _list(1, button="b" * 20), _list(1, button="b" * 21), "interactive.action.button"),
    ("interactive", _list(1, section_title="s" * 24), _list(1, section_title="s" * 25),
     "interactive.action.sections[0].title"),
    ("interactive", {**_buttons(1), "header": {"type": "text", "text": "h" * 60}},
     {**_buttons(1), "header": {"type": "text", "text": "h" * 61}}, "interactive.header.text"),
    ("interactive", {**_buttons(1), "footer": {"text": "f" * 60}}, {**_buttons(1), "footer": {"text": "f" * 61}},
     "interactive.footer.text"),
    ("interactive", {**_buttons(1), "body": {"text": "b" * 1024}}, {**_buttons(1), "body": {"text": "b" * 1025}},
     "interactive.body.text"),
    ("interactive", _products(30), _products(31), "interactive.action.sections[0].product_items[30]"),
]


@pytest.mark.parametrize(("kind", "at_limit", "past_limit", "field"), LIMITS)
def test_each_limit_is_accepted_at_and_refused_past_naming_the_field(number, agent, fake, kind, at_limit,
                                                                     past_limit, field):
    open_window(number, CUSTOMER)

    accepted = message_send(actor=agent, phone_number=number, to=CUSTOMER, type=kind, content=at_limit)
    assert accepted.status == MessageStatus.SENT

    with pytest.raises(ApplicationError) as refused:
        message_send(actor=agent, phone_number=number, to=CUSTOMER, type=kind, content=past_limit)
    assert refused.value.field == field
    assert Message.objects.count() == 1  # only the accepted one
    assert len(fake.sent) == 1


def test_a_limit_refusal_says_the_limit(number, agent, fake):
    open_window(number, CUSTOMER)
    with pytest.raises(ApplicationError) as refused:
        send_text(agent, number, "a" * 4097)
    assert refused.value.message == "text.body is 4097 characters long; WhatsApp allows at most 4096."


def test_context_id_and_custom_field_limits(number, agent, fake):
    open_window(number, CUSTOMER)
    send_text(agent, number, context_message_id="w" * 128, custom_field="c" * 1000)
    with pytest.raises(ApplicationError) as long_context:
        send_text(agent, number, context_message_id="w" * 129)
    with pytest.raises(ApplicationError) as long_custom:
        send_text(agent, number, custom_field="c" * 1001)
    assert long_context.value.field == "context.message_id"
    assert long_custom.value.field == "custom_field"
    assert len(fake.sent) == 1


@pytest.mark.parametrize(
    ("kind", "content", "field"),
    [
        ("text", {"body": "   "}, "text.body"),
        ("text", {"body": "hi", "preview": True}, "text.preview"),
        ("text", "hi", "text"),
        ("image", {"link": "http://x.example/a.png"}, "image.link"),
        ("image", {"link": "not a url"}, "image.link"),
        ("image", {"id": "12345"}, "image.id"),
        ("location", {"latitude": "4.6", "longitude": -74}, "location.latitude"),
        ("location", {"latitude": 4.6, "longitude": -74, "address": "Calle 1"}, "location.address"),
        ("contacts", [], "contacts"),
        ("contacts", [{"name": {"formatted_name": "Ana"}, "phones": []}], "contacts[0].phones"),
        ("contacts", [{"name": {"first_name": "Ana"}, "phones": [{"phone": "573001234567"}]}],
         "contacts[0].name.formatted_name"),
        ("interactive", {**_buttons(2), "action": {"buttons": [
            {"type": "reply", "reply": {"id": "same", "title": "A"}},
            {"type": "reply", "reply": {"id": "same", "title": "B"}}]}}, "interactive.action.buttons[1].reply.id"),
        ("interactive", {"type": "carousel", "body": {"text": "x"}, "action": {}}, "interactive.type"),
        ("interactive", {"type": "product", "action": {"catalog_id": "1"}},
         "interactive.action.product_retailer_id"),
        ("interactive", {"type": "product_list", "body": {"text": "x"}, "action": {"catalog_id": "1", "sections": [
            {"title": "t", "product_items": [{"product_retailer_id": "p"}]}]}}, "interactive.header"),
        ("reaction", {"emoji": "👍"}, "type"),
    ],
)
def test_malformed_content_is_refused_naming_the_field(number, agent, fake, kind, content, field):
    open_window(number, CUSTOMER)
    with pytest.raises(ApplicationError) as refused:
        message_send(actor=agent, phone_number=number, to=CUSTOMER, type=kind, content=content)
    assert refused.value.field == field
    assert Message.objects.count() == 0
    assert fake.sent == []


def test_contacts_with_several_cards_and_a_product_message_are_accepted(number, agent, fake):
    open_window(number, CUSTOMER)
    cards = [{"name": {"formatted_name": f"Persona {n}"}, "phones": [{"phone": "+57 300 000 000" + str(n)}]}
             for n in range(3)]
    product = {"type": "product", "action": {"catalog_id": "2773436916296956", "product_retailer_id": "q15qn1bxkd"}}

    assert message_send(actor=agent, phone_number=number, to=CUSTOMER, type="contacts", content=cards).status == "sent"
    assert message_send(actor=agent, phone_number=number, to=CUSTOMER, type="interactive",
                        content=product).status == "sent"


# --- recipient, sender, tenancy ------------------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["+57 313 123 4567", "57 (313) 123-4567", "0057 313 1234567", "573131234567"])
def test_the_recipient_is_normalised_to_digits(number, agent, fake, written):
    open_window(number, CUSTOMER)
    message = message_send(actor=agent, phone_number=number, to=written, type="text", content={"body": "hola"})
    assert message.to_number == CUSTOMER
    assert fake.sent[0].to == CUSTOMER


@pytest.mark.parametrize("written", ["", "abc", "57313XXXXXXX", "12", "+999 1234 5678", "3102334455",
                                     "+31 0233 4455"])
def test_a_recipient_that_is_not_a_number_is_refused_naming_to(number, agent, fake, written):
    with pytest.raises(ApplicationError) as refused:
        message_send(actor=agent, phone_number=number, to=written, type="text", content={"body": "hola"})
    assert refused.value.field == "to"
    assert Message.objects.count() == 0


def test_a_viewer_or_another_clients_agent_cannot_send(number, fake):
    open_window(number, CUSTOMER)
    viewer = member(number, Role.VIEWER)
    stranger = member(PhoneNumberFactory())
    for actor in (viewer, stranger):
        with pytest.raises(ApplicationError) as refused:
            send_text(actor, number)
        assert refused.value.http_status == 403
    assert fake.sent == []


def test_system_sends_need_no_actor_and_an_inactive_number_is_refused(number, fake):
    open_window(number, CUSTOMER)
    assert send_text(None, number).created_by is None
    number.is_active = False
    number.save()
    with pytest.raises(ApplicationError) as refused:
        send_text(None, number)
    assert refused.value.field == "from"


# --- the 24-hour window ---------------------------------------------------------------------------------------------


def test_a_customer_who_never_wrote_needs_a_template(number, agent, fake):
    with pytest.raises(ApplicationError) as refused:
        send_text(agent, number)
    assert refused.value.field == "type"
    assert refused.value.extra == {"code": "window_closed"}
    assert "template is needed" in refused.value.message
    assert Message.objects.count() == 0
    assert fake.sent == []


def test_the_window_closes_24_hours_after_the_last_inbound_message(number, agent, fake):
    open_window(number, CUSTOMER, hours_ago=24.1)
    with pytest.raises(ApplicationError) as refused:
        send_text(agent, number)
    assert refused.value.field == "type"
    assert "more than 24 hours ago" in refused.value.message

    open_window(number, CUSTOMER, hours_ago=23.9)
    assert send_text(agent, number).status == MessageStatus.SENT


def test_the_window_falls_back_to_stored_inbound_messages(number, agent, fake):
    conversation = open_window(number, CUSTOMER)
    conversation.last_inbound_at = None
    conversation.save()
    MessageFactory(phone_number=number, direction="in", from_number=CUSTOMER, to_number=number.digits,
                   status=MessageStatus.RECEIVED)
    assert send_text(agent, number).status == MessageStatus.SENT


def test_a_template_needs_no_open_window(number, agent, fake):
    template = TemplateFactory(waba=number.waba, name="aviso")
    message = message_send(actor=agent, phone_number=number, to=CUSTOMER, type="template", content={
        "name": "aviso", "language": {"code": "es"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}]})
    assert message.status == MessageStatus.SENT
    assert message.template == template


# --- templates against the synced template ---------------------------------------------------------------------------


def full_template(number, **kwargs):
    return TemplateFactory(waba=number.waba, name="pedido", components=[
        {"type": "HEADER", "format": "IMAGE"},
        {"type": "BODY", "text": "Hola {{1}}, tu pedido {{2}} va en camino."},
        {"type": "FOOTER", "text": "Tienda"},
        {"type": "BUTTONS", "buttons": [
            {"type": "QUICK_REPLY", "text": "Gracias"},
            {"type": "URL", "text": "Ver", "url": "https://tienda.example/p/{{1}}"},
            {"type": "PHONE_NUMBER", "text": "Llamar", "phone_number": "+573001234567"},
        ]},
    ], **kwargs)


def order_components(**changes) -> list[dict[str, Any]]:
    components = [
        {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://cdn.example/p.jpg"}}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "A-1"}]},
        {"type": "button", "sub_type": "quick_reply", "index": "0",
         "parameters": [{"type": "payload", "payload": "gracias"}]},
        {"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "A-1"}]},
    ]
    for index, value in changes.items():
        position = int(index.lstrip("c"))
        if value is None:
            components.pop(position)
        else:
            components[position] = value
    return components


def send_order(agent, number, components, **content):
    return message_send(actor=agent, phone_number=number, to=CUSTOMER, type="template", content={
        "name": "pedido", "language": {"code": "es"}, "components": components, **content})


def test_a_template_matching_its_synced_components_is_sent_with_the_wabas_namespace(number, agent, fake):
    full_template(number)
    message = send_order(agent, number, order_components(), namespace="copied-from-an-example")

    sent = fake.sent[0].content
    assert sent["namespace"] == number.waba.namespace
    assert sent["language"] == {"policy": "deterministic", "code": "es"}
    assert message.request_body["template"] == sent
    assert message.status == MessageStatus.SENT


@pytest.mark.parametrize(
    ("components", "field", "words"),
    [
        (order_components(c1={"type": "body", "parameters": [{"type": "text", "text": t} for t in "abc"]}),
         "template.components[1].parameters",
         "The template 'pedido' body has 2 variables; 3 parameters were given."),
        (order_components(c1=None), "template.components", "body has 2 variables"),
        (order_components(c0={"type": "header", "parameters": [
            {"type": "video", "video": {"link": "https://cdn.example/v.mp4"}}]}),
         "template.components[0].parameters[0].type", "header is a image"),
        (order_components(c0=None), "template.components", "has a IMAGE header"),
        (order_components(c3=None), "template.components", "dynamic URL"),
        (order_components(c2={"type": "button", "sub_type": "quick_reply", "index": "5",
                              "parameters": [{"type": "payload", "payload": "x"}]}),
         "template.components[2].index", "has 3 buttons"),
        (order_components(c2={"type": "button", "sub_type": "url", "index": "0",
                              "parameters": [{"type": "text", "text": "x"}]}),
         "template.components[2].sub_type", "QUICK_REPLY button"),
        (order_components(c1={"type": "body", "parameters": [
            {"type": "text", "text": "Ana"}, {"type": "currency", "currency": {
                "fallback_value": "$1", "code": "US", "amount_1000": 1000}}]}),
         "template.components[1].parameters[1].currency.code", "3-letter"),
        (order_components(c0={"type": "header", "parameters": [{"type": "image", "image": {}}]}),
         "template.components[0].parameters[0].image", "either a link"),
    ],
)
def test_a_template_parameter_mismatch_is_refused_naming_the_parameter(number, agent, fake, components, field, words):
    full_template(number)
    with pytest.raises(ApplicationError) as refused:
        send_order(agent, number, components)
    assert refused.value.field == field
    assert words in refused.value.message
    assert Message.objects.count() == 0


def test_template_documents_must_be_pdf(number, agent, fake):
    TemplateFactory(waba=number.waba, name="factura", components=[{"type": "HEADER", "format": "DOCUMENT"},
                                                                  {"type": "BODY", "text": "Tu factura"}])

    def send(document):
        return message_send(actor=agent, phone_number=number, to=CUSTOMER, type="template", content={
            "name": "factura", "language": {"code": "es"},
            "components": [{"type": "header", "parameters": [{"type": "document", "document": document}]}]})

    assert send({"link": "https://cdn.example/f.pdf", "filename": "factura.pdf"}).status == MessageStatus.SENT
    with pytest.raises(ApplicationError) as refused:
        send({"link": "https://cdn.example/f.docx"})
    assert refused.value.field == "template.components[0].parameters[0].document.link"
    assert "only PDF" in refused.value.message


@pytest.mark.parametrize(
    ("setup", "content", "field", "words"),
    [
        ({}, {"name": "otro", "language": {"code": "es"}}, "template.name", "No template 'otro'"),
        ({}, {"name": "pedido", "language": {"code": "en"}}, "template.name", "in language 'en'"),
        ({"status": TemplateStatus.REJECTED}, {"name": "pedido", "language": {"code": "es"}}, "template.name",
         "only approved templates"),
        ({"deleted_at": timezone.now()}, {"name": "pedido", "language": {"code": "es"}}, "template.name",
         "was deleted"),
        ({}, {"language": {"code": "es"}}, "template.name", "required"),
        ({}, {"name": "pedido", "language": {"code": "es"}, "lang": "es"}, "template.lang", "not a field"),
    ],
)
def test_only_an_approved_synced_template_of_the_waba_is_sent(number, agent, fake, setup, content, field, words):
    full_template(number, **setup)
    with pytest.raises(ApplicationError) as refused:
        message_send(actor=agent, phone_number=number, to=CUSTOMER, type="template",
                     content={**content, "components": order_components()})
    assert refused.value.field == field
    assert words in refused.value.message
    assert fake.sent == []


def test_a_template_of_another_waba_is_refused(number, agent, fake):
    elsewhere = TemplateFactory(name="pedido")
    with pytest.raises(ApplicationError) as refused:
        message_send(actor=agent, phone_number=number, to=CUSTOMER, type="template", template=elsewhere,
                     content={"components": []})
    assert refused.value.field == "template"


# --- replies -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("id_field", ["provider_message_id", "whatsapp_id"])
def test_a_reply_links_the_stored_message_it_answers(number, agent, fake, id_field):
    open_window(number, CUSTOMER)
    original = MessageFactory(phone_number=number, **{id_field: "wamid.HBgMNTczMTQyMDU4MzA0FQIAEhgUM"})

    reply = send_text(agent, number, "Claro", context_message_id="wamid.HBgMNTczMTQyMDU4MzA0FQIAEhgUM")

    assert reply.reply_to == original
    assert reply.context_id == "wamid.HBgMNTczMTQyMDU4MzA0FQIAEhgUM"
    assert reply.request_body["context"] == {"message_id": "wamid.HBgMNTczMTQyMDU4MzA0FQIAEhgUM"}


def test_a_reply_to_an_unknown_id_is_still_sent(number, agent, fake):
    open_window(number, CUSTOMER)
    reply = send_text(agent, number, context_message_id="wamid.UNKNOWN")
    assert reply.reply_to is None
    assert fake.sent[0].context_message_id == "wamid.UNKNOWN"


# --- Contacto Virtual -----------------------------------------------------------------------------------------------------


@pytest.fixture
def cv_number():
    number = contacto_virtual_number(digits="573001234567")
    account = number.client.provider_account
    account.login = "demo@gmail.com"
    account.token = "b6fd61ec974d1652082a802a4d8e443712138ed"
    account.save()
    return number


@pytest.fixture
def cv_template(cv_number):
    return ContactoVirtualTemplateFactory(client=cv_number.client, provider_template_id="990", name="Pago",
                                          text="Hola {1}, pagaste {2} el {3} a {4} desde {5}.")


def cv_body(*values: str) -> dict[str, Any]:
    return {"type": "body", "parameters": [{"type": "text", "text": value} for value in values]}


SEED_VARIABLES = ("Carlos", "$100", "miércoles", "Davivienda", "bancolombia")


def test_the_contacto_virtual_seed_send_goes_out_as_the_manuals_form(mocked, cv_number, cv_template):
    form = load_fixture("contacto_virtual", "send_request")
    agent = member(cv_number)
    mocked.post(CV_SEND_URL, json=load_fixture("contacto_virtual", "send_response"),
                match=[matchers.urlencoded_params_matcher(form)])

    message = message_send(actor=agent, phone_number=cv_number, to=form["mobile"], type="template",
                           content={"id": "990", "components": [cv_body(*SEED_VARIABLES)]},
                           custom_field=form["custom_field"])

    assert len(mocked.calls) == 1
    assert message.status == MessageStatus.SENT
    assert message.provider_message_id == "0e1add43-f91c-4e7c-8805-221ef6b27b98"
    assert message.request_body == {**form, "token": TOKEN_MASK}
    assert "b6fd61ec974d1652082a802a4d8e443712138ed" not in str(message.request_body)
    assert message.template == cv_template
    assert message.custom_field == form["custom_field"]


def test_contacto_virtual_finds_the_template_by_name_and_sends_its_media(mocked, cv_number, cv_template):
    agent = member(cv_number)
    mocked.post(CV_SEND_URL, json=load_fixture("contacto_virtual", "send_response"),
                match=[matchers.urlencoded_params_matcher({
                    "login": "demo@gmail.com", "token": "b6fd61ec974d1652082a802a4d8e443712138ed",
                    "id_template": "990", "mobile": "573102334455",
                    "template_variables": "[a] [b] [c] [d] [e]", "media": "https://cdn.example/recibo.pdf"})])

    message = message_send(actor=agent, phone_number=cv_number, to="+57 310 233 4455", type="template", content={
        "name": "Pago", "components": [
            {"type": "header", "parameters": [{"type": "document", "document": {
                "link": "https://cdn.example/recibo.pdf"}}]},
            cv_body("a", "b", "c", "d", "e")]})

    assert message.status == MessageStatus.SENT


@pytest.mark.parametrize("code", [2, 3, 4, 5, 6, 7, 8])
def test_contacto_virtual_codes_2_to_8_fail_the_message_in_plain_words(mocked, cv_number, cv_template, code):
    agent = member(cv_number)
    mocked.post(CV_SEND_URL, json={"code": code, "status": RETURN_CODES[code].status})

    message = message_send(actor=agent, phone_number=cv_number, to="573102334455", type="template",
                           content={"id": "990", "components": [cv_body(*SEED_VARIABLES)]})

    assert len(mocked.calls) == 1
    assert message.status == MessageStatus.FAILED
    assert message.error_code == str(code)
    assert message.error_title.startswith(RETURN_CODES[code].message)


@pytest.mark.parametrize(
    ("to", "content", "kwargs", "field"),
    [
        ("573102334455", {"id": "990", "components": [cv_body("a", "b[1]", "c", "d", "e")]}, {},
         "template.components[0].parameters[1].text"),
        ("573102334455", {"id": "990", "components": [cv_body("a", "b")]}, {}, "template.components[0].parameters"),
        ("13105550123", {"id": "990", "components": [cv_body(*SEED_VARIABLES)]}, {}, "to"),
        ("573102334455", {"id": "990", "components": [cv_body(*SEED_VARIABLES)]}, {"custom_field": "x" * 1001},
         "custom_field"),
        ("573102334455", {"id": "991", "components": []}, {}, "template.id"),
        ("573102334455", {"id": "abc", "components": []}, {}, "template.id"),
        ("573102334455", {"components": []}, {}, "template"),
        ("573102334455", {"id": "990", "components": [
            {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://cdn.example/a.gif"}}]},
            cv_body(*SEED_VARIABLES)]}, {}, "template.components[0].parameters[0].image.link"),
        ("573102334455", {"id": "990", "components": [cv_body(*SEED_VARIABLES)]},
         {"context_message_id": "wamid.X"}, "context.message_id"),
    ],
)
def test_contacto_virtual_refusals_name_the_field(mocked, cv_number, cv_template, to, content, kwargs, field):
    agent = member(cv_number)
    with pytest.raises(ApplicationError) as refused:
        message_send(actor=agent, phone_number=cv_number, to=to, type="template", content=content, **kwargs)
    assert refused.value.field == field
    assert Message.objects.count() == 0


def test_contacto_virtual_sends_only_templates_and_needs_the_template_id(cv_number):
    agent = member(cv_number)
    ContactoVirtualTemplateFactory(client=cv_number.client, name="Sin id", provider_template_id="")
    with pytest.raises(ApplicationError) as text:
        message_send(actor=agent, phone_number=cv_number, to="573102334455", type="text", content={"body": "hola"})
    with pytest.raises(ApplicationError) as no_id:
        message_send(actor=agent, phone_number=cv_number, to="573102334455", type="template",
                     content={"name": "Sin id", "components": []})
    assert text.value.field == "type"
    assert no_id.value.field == "template.name"
    assert "id_template" in no_id.value.message


def test_a_colombian_number_without_57_gets_contacto_virtuals_words(cv_number, cv_template):
    with pytest.raises(ApplicationError) as refused:
        message_send(actor=member(cv_number), phone_number=cv_number, to="310 233 4455", type="template",
                     content={"id": "990", "components": [cv_body(*SEED_VARIABLES)]})
    assert refused.value.field == "to"
    assert "put 57 in front of it" in refused.value.message


def test_a_cv_custom_field_of_1000_characters_is_accepted(mocked, cv_number, cv_template):
    mocked.post(CV_SEND_URL, json=load_fixture("contacto_virtual", "send_response"))
    message = message_send(actor=member(cv_number), phone_number=cv_number, to="573102334455", type="template",
                           content={"id": "990", "components": [cv_body(*SEED_VARIABLES)]},
                           custom_field="x" * 1000)
    assert message.status == MessageStatus.SENT


# --- idempotency -------------------------------------------------------------------------------------------------------


def test_one_idempotency_key_sent_twice_makes_one_provider_call(mocked, number, agent):
    open_window(number, CUSTOMER)
    mocked.post(send_url("text"), json=fixture("send_text_response"))
    fingerprint = request_fingerprint({"to": CUSTOMER, "text": {"body": "Hola"}})

    first = send_text(agent, number, idempotency_key="key-1", request_fingerprint=fingerprint)
    second = send_text(agent, number, idempotency_key="key-1", request_fingerprint=fingerprint)

    assert len(mocked.calls) == 1
    assert second.pk == first.pk
    assert first.replayed is False and second.replayed is True
    assert Message.objects.count() == 1


def test_the_same_key_with_a_different_request_is_422(number, agent, fake):
    open_window(number, CUSTOMER)
    send_text(agent, number, "Hola", idempotency_key="key-1")
    with pytest.raises(ApplicationError) as conflict:
        send_text(agent, number, "Adiós", idempotency_key="key-1")
    assert conflict.value.http_status == 422
    assert conflict.value.field == "idempotency_key"
    assert len(fake.sent) == 1


def test_keys_are_per_client(number, agent, fake):
    other = aldeamo_number()
    open_window(number, CUSTOMER)
    open_window(other, CUSTOMER)
    send_text(agent, number, idempotency_key="shared")
    send_text(member(other), other, idempotency_key="shared")
    assert len(fake.sent) == 2


def test_a_concurrent_duplicate_loses_on_the_constraint_and_gets_the_winner(number, agent, fake, monkeypatch):
    open_window(number, CUSTOMER)
    winner = send_text(agent, number, idempotency_key="race")
    # The loser looked before the winner committed: its first look-up found nothing.
    lookups = {"count": 0}

    def racing_lookup(*, client_id, key):
        lookups["count"] += 1
        if lookups["count"] == 1:
            return None
        return Message.objects.filter(client_id=client_id, idempotency_key=key).first()

    monkeypatch.setattr(send, "message_for_key", racing_lookup)

    loser = send_text(agent, number, idempotency_key="race")

    assert loser.pk == winner.pk
    assert loser.replayed is True
    assert len(fake.sent) == 1
    assert Message.objects.count() == 1


def test_request_fingerprint_ignores_key_order():
    assert request_fingerprint({"a": 1, "b": {"c": 2, "d": 3}}) == request_fingerprint({"b": {"d": 3, "c": 2}, "a": 1})
    assert request_fingerprint({"a": 1}) != request_fingerprint({"a": 2})
    assert len(request_fingerprint({})) == 64


# --- send again, and statuses that beat the answer ----------------------------------------------------------------------------


def test_send_again_creates_a_new_message_and_keeps_the_old_one(number, agent, fake):
    open_window(number, CUSTOMER)
    fake.script = [ProviderTimeout("slow")]
    first = send_text(agent, number, "Hola", preview_url=True)
    assert first.status == MessageStatus.UNKNOWN

    again = message_resend(actor=agent, message=first)

    first.refresh_from_db()
    assert again.pk != first.pk
    assert again.status == MessageStatus.SENT
    assert again.content == first.content
    assert again.request_body["preview_url"] is True
    assert first.status == MessageStatus.UNKNOWN
    with pytest.raises(ApplicationError):
        message_resend(actor=agent, message=again)


def test_a_status_that_arrived_before_the_answer_is_linked(number, agent, fake):
    open_window(number, CUSTOMER)
    fake.script = [SendResult(message_id="early-id")]
    StatusEvent.objects.create(provider_account=number.client.provider_account, provider_message_id="early-id",
                               status="delivered", timestamp=timezone.now() + timedelta(seconds=1))

    message = send_text(agent, number)

    assert message.status == MessageStatus.DELIVERED
    assert message.delivered_at is not None
    assert list(message.status_events.values_list("status", flat=True)) == ["delivered"]
