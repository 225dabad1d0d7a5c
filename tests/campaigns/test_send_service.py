"""Campaigns through the real send service (a fake provider client): the content the runner builds is what
Aldeamo and Contacto Virtual expect, failures come back as outcomes, and a repeated key never re-sends."""

from __future__ import annotations

import uuid

import pytest

from campaigns import services
from campaigns.models import CampaignRecipient, CampaignStatus, PauseKind, RecipientState
from campaigns.variables import ContentBuilder, template_slots
from messaging import sending
from messaging.sending import delivery
from providers.base import ProviderAuthError
from providers.types import OutboundMessage, SendResult, TemplateSend
from tests.campaigns.conftest import work
from tests.factories import MembershipFactory, TemplateFactory
from tests.messaging.factories import ContactoVirtualTemplateFactory, contacto_virtual_number

pytestmark = pytest.mark.django_db


class FakeClient:
    def __init__(self) -> None:
        self.sent: list[OutboundMessage | TemplateSend] = []
        self.answer: Exception | None = None

    def send(self, wire):
        self.sent.append(wire)
        if self.answer is not None:
            raise self.answer
        return SendResult(message_id=str(uuid.uuid4()))


@pytest.fixture
def provider(monkeypatch) -> FakeClient:
    client = FakeClient()
    monkeypatch.setattr(delivery, "provider_client", lambda account: client)
    monkeypatch.setattr(delivery, "sleep", lambda seconds: None)
    return client


def test_aldeamo_template_with_header_body_and_url_button(agent, number, provider):
    template = TemplateFactory(waba=number.waba, name="promo", language="es_MX", components=[
        {"type": "HEADER", "format": "TEXT", "text": "Hola {{1}}"},
        {"type": "BODY", "text": "Tu pedido {{1}} llega el {{2}}."},
        {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Seguir", "url": "https://x.co/p/{{1}}"}]},
    ])
    campaign = services.campaign_create_with_recipients(
        actor=agent, phone_number=number, template=template, name="promo", pace=1000,
        recipients=[{"phone": "3000000001", "variables": {"header_1": "Ana", "body_1": "A-1", "body_2": "lunes",
                                                          "button_0": "A-1"}}])
    services.campaign_report_seen(actor=agent, campaign=campaign)
    services.campaign_start(actor=agent, campaign=campaign)
    assert work(campaign).reason == "completed"
    wire = provider.sent[0]
    assert isinstance(wire, OutboundMessage) and wire.type == "template" and wire.to == "573000000001"
    assert wire.content["name"] == "promo" and wire.content["language"] == {"policy": "deterministic", "code": "es_MX"}
    assert wire.content["namespace"] == number.waba.namespace
    assert wire.content["components"] == [
        {"type": "header", "parameters": [{"type": "text", "text": "Ana"}]},
        {"type": "body", "parameters": [{"type": "text", "text": "A-1"}, {"type": "text", "text": "lunes"}]},
        {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "A-1"}]},
    ]
    recipient = CampaignRecipient.objects.get(campaign=campaign)
    assert recipient.state == RecipientState.SENT and recipient.message.provider_message_id

    # The same recipient handed to the send service again (a re-claimed row) is not re-sent.
    content = ContentBuilder(template, template_slots(template)).content(recipient.variables)
    again = sending.message_send(
        actor=None, phone_number=number, to="573000000001", type="template", content=content, template=template, idempotency_key=CampaignRecipient.idempotency_key(campaign.pk, recipient.pk))
    assert again.pk == recipient.message_id and len(provider.sent) == 1


def test_contacto_virtual_variables(provider):
    line = contacto_virtual_number()
    agent = MembershipFactory(client=line.client, role="agent").user
    template = ContactoVirtualTemplateFactory(client=line.client, text="Hola *{1}*, tu saldo es {2}.")
    campaign = services.campaign_create_with_recipients(
        actor=agent, phone_number=line, template=template, name="cv", pace=1000,
        recipients=[{"phone": "3001112233", "variables": {"body_1": "Ana", "body_2": "$100"}}])
    services.campaign_report_seen(actor=agent, campaign=campaign)
    services.campaign_start(actor=agent, campaign=campaign)
    assert work(campaign).reason == "completed"
    wire = provider.sent[0]
    assert isinstance(wire, TemplateSend)
    assert wire.id_template == template.provider_template_id and wire.mobile == "573001112233"
    assert tuple(wire.variables) == ("Ana", "$100")


def test_a_401_from_the_provider_pauses_the_campaign(agent, number, provider):
    template = TemplateFactory(waba=number.waba, components=[{"type": "BODY", "text": "Hola {{1}}"}])
    campaign = services.campaign_create_with_recipients(
        actor=agent, phone_number=number, template=template, name="auth", pace=1000,
        recipients=[{"phone": f"30000000{i:02d}", "variables": {"body_1": "x"}} for i in range(10)])
    services.campaign_report_seen(actor=agent, campaign=campaign)
    services.campaign_start(actor=agent, campaign=campaign)
    provider.answer = ProviderAuthError("Authentication Error", status=401)
    assert work(campaign).reason == "auth"
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED and campaign.pause_kind == PauseKind.AUTH
    assert len(provider.sent) == 1
