"""The admin composer, the message pages and "send again", with a fake provider client."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from messaging.models import Message, MessageStatus
from providers.base import ProviderTimeout
from tests.factories import PhoneNumberFactory, TemplateFactory
from tests.messaging.factories import (
    ContactoVirtualTemplateFactory,
    MessageFactory,
    StatusEventFactory,
    contacto_virtual_number,
    member,
    open_window,
)

pytestmark = pytest.mark.django_db

COMPOSE = "/admin/messaging/message/compose/"
CUSTOMER = "573131234567"


@pytest.fixture
def client(client):
    """Pages in English whatever the default language, so assertions read the source strings."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def agent(number, client):
    user = member(number)
    client.force_login(user)
    return user


def form_data(number, **changes) -> dict:
    data = {"idempotency_key": uuid.uuid4().hex, "phone_number": number.pk, "to": CUSTOMER, "type": "text",
            "body": "Hola, ¿cómo vas?", "interactive_type": "button"}
    data.update(changes)
    return data


def test_the_composer_renders_for_an_agent_with_static_scripts_only(client, number, agent):
    assert reverse("admin:messaging_message_compose") == COMPOSE
    response = client.get(COMPOSE)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="idempotency_key"' in html
    assert "messaging/composer.js" in html
    assert 'id="wa-composer-data" type="application/json"' in html
    assert "<script>" not in html  # every executable script is a nonce'd static file
    nonce_header = response["Content-Security-Policy"]
    assert "nonce-" in nonce_header
    assert str(number.pk) in html


def test_each_render_has_its_own_idempotency_key(client, number, agent):
    first = client.get(COMPOSE).context["form"].initial["idempotency_key"]
    second = client.get(COMPOSE).context["form"].initial["idempotency_key"]
    assert first and second and first != second


def test_a_viewer_is_refused(client, number):
    client.force_login(member(number, Role.VIEWER))
    assert client.get(COMPOSE).status_code == 403
    assert client.post(COMPOSE, form_data(number)).status_code == 403


def test_the_sender_list_has_only_the_users_active_numbers(client, number, agent):
    PhoneNumberFactory()  # another client's
    PhoneNumberFactory(client=number.client, waba=number.waba, is_active=False)
    choices = list(client.get(COMPOSE).context["form"].fields["phone_number"].queryset)
    assert choices == [number]


def test_sending_a_text_redirects_to_the_message_page(client, number, agent, fake):
    open_window(number, CUSTOMER)

    response = client.post(COMPOSE, form_data(number, preview_url="on"))

    message = Message.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:messaging_message_change", args=[message.pk])
    assert message.status == MessageStatus.SENT
    assert message.created_by == agent
    assert fake.sent[0].content == {"body": "Hola, ¿cómo vas?"}
    assert fake.sent[0].preview_url is True


def test_a_double_submit_sends_once(client, number, agent, fake):
    open_window(number, CUSTOMER)
    data = form_data(number)

    first = client.post(COMPOSE, data)
    second = client.post(COMPOSE, data)

    assert first["Location"] == second["Location"]
    assert len(fake.sent) == 1
    assert Message.objects.count() == 1


def test_a_refusal_shows_on_the_field_and_keeps_the_input(client, number, agent, fake):
    open_window(number, CUSTOMER)
    long_text = "x" * 4097

    response = client.post(COMPOSE, form_data(number, body=long_text, context_message_id="wamid.ABC"))

    assert response.status_code == 200
    form = response.context["form"]
    assert "4096" in form.errors["body"][0]
    html = response.content.decode()
    assert long_text in html
    assert 'value="wamid.ABC"' in html
    assert Message.objects.count() == 0
    assert fake.sent == []


def test_a_closed_window_asks_for_a_template(client, number, agent, fake):
    response = client.post(COMPOSE, form_data(number))

    assert "template is needed" in response.context["form"].errors["type"][0]
    assert 'id="wa-use-template"' in response.content.decode()
    assert fake.sent == []


def test_a_template_is_preselected_and_sent_with_its_variables(client, number, agent, fake):
    template = TemplateFactory(waba=number.waba, name="pedido", components=[
        {"type": "HEADER", "format": "TEXT", "text": "Pedido {{1}}"},
        {"type": "BODY", "text": "Hola {{1}}, llega el {{2}}."},
        {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Ver", "url": "https://t.example/{{1}}"}]},
    ])

    page = client.get(COMPOSE, {"template": template.pk, "to": CUSTOMER})
    assert page.context["form"].initial["type"] == "template"
    assert page.context["form"].initial["phone_number"] == number.pk
    assert [i["name"] for i in page.context["template_inputs"]] == ["tpl_header_1", "tpl_body_1", "tpl_body_2",
                                                                     "tpl_button_0"]

    response = client.post(COMPOSE, form_data(number, type="template", template=template.pk, tpl_header_1="A-7",
                                              tpl_body_1="Ana", tpl_body_2="martes", tpl_button_0="A-7"))

    assert response.status_code == 302, response.context["form"].errors
    sent = fake.sent[0].content
    assert sent["name"] == "pedido"
    assert sent["components"] == [
        {"type": "header", "parameters": [{"type": "text", "text": "A-7"}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "martes"}]},
        {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "A-7"}]},
    ]


def test_a_template_mismatch_keeps_the_variables(client, number, agent, fake):
    template = TemplateFactory(waba=number.waba, name="aviso")  # body with one variable

    response = client.post(COMPOSE, form_data(number, type="template", template=template.pk, tpl_body_1="  "))

    assert response.status_code == 200
    assert "template" in response.context["form"].errors
    assert [i["name"] for i in response.context["template_inputs"]] == ["tpl_body_1"]


def test_an_interactive_list_is_built_from_the_form(client, number, agent, fake):
    open_window(number, CUSTOMER)
    response = client.post(COMPOSE, form_data(
        number, type="interactive", interactive_type="list", interactive_body="Elige un horario",
        list_button="Horarios", list_rows="# Mañana\n8:00 | Temprano\n9:00\n# Tarde\n15:00 | Después de almorzar"))

    assert response.status_code == 302, response.context["form"].errors
    assert fake.sent[0].content == {
        "type": "list",
        "body": {"text": "Elige un horario"},
        "action": {"button": "Horarios", "sections": [
            {"title": "Mañana", "rows": [{"id": "row1", "title": "8:00", "description": "Temprano"},
                                         {"id": "row2", "title": "9:00"}]},
            {"title": "Tarde", "rows": [{"id": "row3", "title": "15:00", "description": "Después de almorzar"}]},
        ]},
    }


def test_an_image_and_a_location_are_built_from_the_form(client, number, agent, fake):
    open_window(number, CUSTOMER)
    client.post(COMPOSE, form_data(number, type="image", media_link="https://cdn.example/a.png",
                                   media_caption="Mira"))
    client.post(COMPOSE, form_data(number, type="location", latitude="4.69212", longitude="-74.052984",
                                   location_name="Oficina", location_address="Calle 1"))

    assert fake.sent[0].type == "image"
    assert fake.sent[0].content == {"link": "https://cdn.example/a.png", "caption": "Mira"}
    assert fake.sent[1].content == {"latitude": 4.69212, "longitude": -74.052984, "name": "Oficina",
                                    "address": "Calle 1"}


def test_a_contacto_virtual_template_from_the_composer(client, fake):
    line = contacto_virtual_number()
    client.force_login(member(line))
    template = ContactoVirtualTemplateFactory(client=line.client, provider_template_id="990")

    response = client.post(COMPOSE, form_data(line, to="573102334455", type="template", template=template.pk,
                                              tpl_body_1="Ana", tpl_body_2="$100", custom_field="pedido-7"))

    assert response.status_code == 302, response.context["form"].errors
    assert fake.sent[0].id_template == "990"
    assert fake.sent[0].variables == ("Ana", "$100")
    assert fake.sent[0].custom_field == "pedido-7"


# --- the message pages --------------------------------------------------------------------------------------------------------


def test_the_message_page_shows_the_history_and_polls_a_json_status(client, number, agent):
    message = MessageFactory(phone_number=number, status=MessageStatus.DELIVERED)
    StatusEventFactory(message=message, status="delivered")

    page = client.get(reverse("admin:messaging_message_change", args=[message.pk]))
    status = client.get(reverse("admin:messaging_message_status", args=[message.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert "messaging/message_status.js" in html
    assert 'data-status-url="' + reverse("admin:messaging_message_status", args=[message.pk]) in html
    assert "wa-send-again" not in html
    assert status.json()["status"] == "delivered"
    assert [event["status"] for event in status.json()["history"]] == ["delivered"]


def test_another_tenants_message_is_not_found(client, number, agent):
    theirs = MessageFactory()
    assert client.get(reverse("admin:messaging_message_status", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("admin:messaging_message_change", args=[theirs.pk])).status_code in (302, 404)


def test_the_changelist_is_read_only_and_its_queries_do_not_grow(client, number, agent):
    url = reverse("admin:messaging_message_changelist")

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
            assert response.status_code == 200
        return len(queries)

    for _ in range(2):
        MessageFactory(phone_number=number, status=MessageStatus.FAILED, error_title="Bad Request")
    few = count_queries()
    for _ in range(20):
        MessageFactory(phone_number=number)
    many = count_queries()

    assert many == few
    html = client.get(url).content.decode()
    assert "wa-badge" in html
    assert 'id="wa-compose"' in html
    assert "/admin/messaging/message/add/" not in html


def test_send_again_confirms_then_sends_a_new_message(client, number, agent, fake):
    open_window(number, CUSTOMER)
    fake.script = [ProviderTimeout("slow")]
    client.post(COMPOSE, form_data(number))
    first = Message.objects.get()
    assert first.status == MessageStatus.UNKNOWN
    url = reverse("admin:messaging_message_resend", args=[first.pk])

    assert "wa-send-again" in client.get(reverse("admin:messaging_message_change", args=[first.pk])).content.decode()
    confirmation = client.get(url)
    assert "may get it twice" in confirmation.content.decode() or "gets it twice" in confirmation.content.decode()
    assert len(fake.sent) == 1

    response = client.post(url)

    again = Message.objects.exclude(pk=first.pk).get()
    assert response["Location"] == reverse("admin:messaging_message_change", args=[again.pk])
    assert again.status == MessageStatus.SENT
    first.refresh_from_db()
    assert first.status == MessageStatus.UNKNOWN


def test_the_send_again_action_asks_first(client, number, agent, fake):
    open_window(number, CUSTOMER)
    failed = MessageFactory(phone_number=number, to_number=CUSTOMER, status=MessageStatus.FAILED)
    sent = MessageFactory(phone_number=number, status=MessageStatus.SENT)
    url = reverse("admin:messaging_message_changelist")
    selection = {"action": "action_send_again", "_selected_action": [str(failed.pk), str(sent.pk)]}

    confirmation = client.post(url, selection)
    assert confirmation.status_code == 200
    assert "gets it twice" in confirmation.content.decode()
    assert fake.sent == []

    done = client.post(url, {**selection, "post": "yes"})
    assert done.status_code == 302
    assert len(fake.sent) == 1
    assert Message.objects.count() == 3


def test_a_viewer_sees_no_send_again(client, number, fake):
    client.force_login(member(number, Role.VIEWER))
    message = MessageFactory(phone_number=number, status=MessageStatus.FAILED)
    assert client.get(reverse("admin:messaging_message_resend", args=[message.pk])).status_code == 403
