"""Refuse before sending, never after (issue 18): the send API and the composer name what the provider will miss.

Nothing is stored and nothing reaches the provider (a fake client records every call).
"""

from __future__ import annotations

import uuid

import pytest

from contacts.consent import consent_set_by_number
from messaging.models import Contact, Message
from templates_mgr.models import TemplateCategory
from tests.factories import TemplateFactory
from tests.messaging.factories import ContactoVirtualTemplateFactory, contacto_virtual_number, member

pytestmark = pytest.mark.django_db

URL = "/api/v1/messages/"
CUSTOMER = "573131234567"


@pytest.fixture
def api(api):
    api.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return api


def template_body(number, template) -> dict:
    return {"from": number.digits, "to": CUSTOMER, "type": "template", "template": {
        "name": template.name, "language": {"policy": "deterministic", "code": "es"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}]}}


def test_a_template_to_an_opted_out_contact_is_refused_naming_to(api_as, number, agent, fake):
    template = TemplateFactory(waba=number.waba, category=TemplateCategory.MARKETING)
    Contact.objects.create(client=number.client, wa_id=CUSTOMER, opted_out=True)

    response = api_as(agent).post(URL, template_body(number, template), format="json")

    assert response.status_code == 400, response.content
    assert "to" in response.json() and "opt-out" in str(response.json()["to"])
    assert fake.sent == [] and not Message.objects.exists()


def test_the_campaign_opt_out_list_counts_too(api_as, number, agent, fake):
    template = TemplateFactory(waba=number.waba, category=TemplateCategory.MARKETING)
    consent_set_by_number(actor=None, client_id=number.client_id, digits=CUSTOMER, opted_out=True,
                          source="campaign_list")
    response = api_as(agent).post(URL, template_body(number, template), format="json")
    assert response.status_code == 400 and "to" in response.json()
    assert fake.sent == []


def test_a_waba_without_namespace_is_refused_naming_it(api_as, number, agent, fake):
    template = TemplateFactory(waba=number.waba)
    number.waba.namespace = ""
    number.waba.save()
    response = api_as(agent).post(URL, template_body(number, template), format="json")
    assert response.status_code == 400, response.content
    assert "template.namespace" in response.json()
    assert fake.sent == [] and not Message.objects.exists()


def test_a_cv_template_without_id_template_is_refused_naming_it(api_as, fake):
    line = contacto_virtual_number(digits="573001234566")
    ContactoVirtualTemplateFactory(client=line.client, provider_template_id="", name="Cita", text="Hola {1}")
    body = {"from": line.digits, "to": "573102334455", "type": "template", "template": {
        "name": "Cita", "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}]}}
    response = api_as(member(line)).post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert "id_template" in str(response.json())
    assert fake.sent == [] and not Message.objects.exists()


def test_the_composer_shows_the_missing_namespace_and_the_opt_out_on_their_fields(client, number, fake):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(member(number))
    template = TemplateFactory(waba=number.waba, name="aviso", category=TemplateCategory.MARKETING)
    data = {"idempotency_key": uuid.uuid4().hex, "phone_number": number.pk, "to": CUSTOMER, "type": "template",
            "template": template.pk, "tpl_body_1": "Ana", "interactive_type": "button"}

    number.waba.namespace = ""
    number.waba.save()
    response = client.post("/admin/messaging/message/compose/", data)
    assert response.status_code == 200
    assert "namespace" in str(response.context["form"].errors)

    number.waba.namespace = "abc_123"
    number.waba.save()
    Contact.objects.create(client=number.client, wa_id=CUSTOMER, opted_out=True)
    response = client.post("/admin/messaging/message/compose/", {**data, "idempotency_key": uuid.uuid4().hex})
    assert response.status_code == 200
    assert "opt-out" in str(response.context["form"].errors.get("to"))
    assert fake.sent == []
