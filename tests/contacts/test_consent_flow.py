"""Issue 23's "Done when": a customer's keyword opts them out, and every path that sends a marketing template
honours it with the reason (a segment campaign's dry run, the composer, the API); an opt-in reverses it."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from campaigns.models import CampaignRecipient, SkipReason
from contacts import consent
from contacts.hooks import contact_opted_out
from contacts.models import ConsentEvent, ConsentSettings, ConsentSource, Segment, Tag
from contacts.tasks import consent_confirmation_send
from messaging.models import Contact, Message
from templates_mgr.models import TemplateCategory
from tests.factories import TemplateFactory
from tests.messaging.test_ingest import T0, inbound_payload, process, store, text_message

pytestmark = pytest.mark.django_db

LAURA = "573115550000"
PEDRO = "573115550001"


def button_message(payload: str, *, message_id: str, wa_id: str = LAURA) -> dict:
    return {"from": wa_id, "id": message_id, "timestamp": str(int(T0.timestamp())), "type": "button",
            "button": {"text": "Dejar de recibir", "payload": payload}}


def customer_writes(line, message: dict, *, wa_id: str = LAURA) -> None:
    store(line.client.provider_account, inbound_payload(message, origin=line.digits, wa_id=wa_id))
    process()


def contact(line, wa_id: str = LAURA) -> Contact:
    return Contact.objects.get(client=line.client, wa_id=wa_id)


@pytest.fixture
def marketing(line):
    return TemplateFactory(waba=line.waba, name="promo_navidad", category=TemplateCategory.MARKETING,
                           components=[{"type": "BODY", "text": "Hola {{1}}, 20% para ti"}])


@pytest.fixture
def vip_segment(line):
    """Laura and Pedro, both tagged vip; Pedro has never written (imported)."""
    customer_writes(line, text_message("Hola", message_id="wamid.hi", wa_id=LAURA), wa_id=LAURA)
    pedro = Contact.objects.create(client=line.client, wa_id=PEDRO, profile_name="Pedro")
    tag = Tag.objects.create(client=line.client, name="vip")
    tag.contacts.add(contact(line), pedro)
    return Segment.objects.create(client=line.client, name="VIP", filters={"tags": ["vip"]})


def template_body(line, template, to=LAURA) -> dict:
    return {"from": line.digits, "to": to, "type": "template", "template": {
        "name": template.name, "language": {"policy": "deterministic", "code": "es"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}]}}


def assert_refused_everywhere(line, agent, marketing, api_as, client, fake, campaign_api):
    # The segment campaign's dry run skips Laura, naming the reason; Pedro is kept.
    response = campaign_api.post("/api/v1/campaigns/", {
        "name": "Navidad", "phone_number": line.pk, "template": marketing.pk,
        "segment": Segment.objects.get(client=line.client).pk, "attribute_mapping": {"body_1": "name"}},
        format="json")
    assert response.status_code == 201, response.content
    campaign_id = response.json()["id"]
    report = campaign_api.get(f"/api/v1/campaigns/{campaign_id}/report/").json()
    skipped = {row["phone"]: row for row in report["results"]}
    assert skipped[LAURA]["reason"] == SkipReason.OPTED_OUT and "asked not to receive" in skipped[LAURA]["detail"]
    assert PEDRO not in skipped
    assert CampaignRecipient.objects.get(campaign_id=campaign_id, phone=PEDRO).variables == {"body_1": "Pedro"}

    # The composer refuses the marketing template on the "to" field.
    client.force_login(agent)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.post("/admin/messaging/message/compose/", {
        "idempotency_key": uuid.uuid4().hex, "phone_number": line.pk, "to": LAURA, "type": "template",
        "template": marketing.pk, "tpl_body_1": "Ana", "interactive_type": "button"})
    assert response.status_code == 200
    assert "opt-out" in str(response.context["form"].errors.get("to"))

    # The API answers 400 naming "to" and the reason.
    response = api_as(agent).post("/api/v1/messages/", template_body(line, marketing), format="json")
    assert response.status_code == 400, response.content
    assert "opt-out" in str(response.json()["to"]) and response.json()["code"] == "opted_out"
    assert fake.sent == [] and not Message.objects.filter(to_number=LAURA).exists()


@pytest.mark.parametrize("how", ["text baja", "quick-reply STOP"])
def test_a_keyword_opts_out_and_every_marketing_send_refuses_with_the_reason(
        how, line, agent, marketing, vip_segment, api, api_as, client, fake):
    campaign_api = type(api)()
    campaign_api.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    campaign_api.force_authenticate(agent)
    heard = []
    contact_opted_out.register(receiver := (lambda **kw: heard.append(kw["contact"].wa_id)))
    try:
        if how == "text baja":
            customer_writes(line, text_message("  Baja ", message_id="wamid.baja"))
        else:
            customer_writes(line, button_message("STOP", message_id="wamid.stop"))
    finally:
        contact_opted_out.unregister(receiver)

    laura = contact(line)
    assert laura.opted_out and heard == [LAURA]
    event = ConsentEvent.objects.get(contact=laura)
    assert event.opted_out and event.source == ConsentSource.KEYWORD and event.actor is None
    assert_refused_everywhere(line, agent, marketing, api_as, client, fake, campaign_api)


def test_an_opt_in_keyword_reverses_it(line, agent, marketing, api_as, fake):
    customer_writes(line, text_message("NO MÁS", message_id="wamid.1"))
    assert contact(line).opted_out
    customer_writes(line, text_message("alta", message_id="wamid.2"))
    assert not contact(line).opted_out
    assert list(ConsentEvent.objects.order_by("pk").values_list("opted_out", "source")) == [
        (True, "keyword"), (False, "keyword")]
    response = api_as(agent).post("/api/v1/messages/", template_body(line, marketing), format="json")
    assert response.status_code == 201, response.content


def test_utility_templates_follow_the_clients_rule(line, agent, api_as, fake):
    utility = TemplateFactory(waba=line.waba, category=TemplateCategory.UTILITY)
    customer_writes(line, text_message("stop", message_id="wamid.1"))
    assert api_as(agent).post("/api/v1/messages/", template_body(line, utility), format="json").status_code == 201
    ConsentSettings.objects.create(client=line.client, opted_out_get_utility=False)
    response = api_as(agent).post("/api/v1/messages/", template_body(line, utility), format="json")
    assert response.status_code == 400 and "to" in response.json()


def test_a_sentence_or_another_clients_keywords_change_nothing(line):
    ConsentSettings.objects.create(client=line.client, opt_out_keywords=["PARAR"])
    customer_writes(line, text_message("Quiero que me digan cuándo es STOP de precios", message_id="wamid.1"))
    customer_writes(line, text_message("stop", message_id="wamid.2"))  # not this client's keyword any more
    assert not contact(line).opted_out
    customer_writes(line, text_message("¡Parar!", message_id="wamid.3"))
    assert contact(line).opted_out


def test_the_confirmation_is_sent_after_commit_as_free_form_text(line, fake, django_capture_on_commit_callbacks):
    ConsentSettings.objects.create(client=line.client, opt_out_confirmation="Listo, no te escribiremos más.")
    with django_capture_on_commit_callbacks(execute=True):
        customer_writes(line, text_message("CANCELAR", message_id="wamid.1", when=timezone.now()))
    queued = DBTaskResult.objects.get(task_path="contacts.tasks.consent_confirmation_send")
    consent_confirmation_send.call(**queued.args_kwargs["kwargs"])
    reply = Message.objects.get(to_number=LAURA)
    assert reply.type == "text" and reply.content == {"body": "Listo, no te escribiremos más."}
    assert len(fake.sent) == 1
    # A second "cancelar" changes nothing: no event, no second confirmation.
    with django_capture_on_commit_callbacks(execute=True):
        customer_writes(line, text_message("cancelar", message_id="wamid.2", when=timezone.now()))
    assert ConsentEvent.objects.count() == 1
    assert DBTaskResult.objects.filter(task_path="contacts.tasks.consent_confirmation_send").count() == 1


def test_keyword_normalisation():
    assert consent.keyword_normal("  ¡No   más! ") == "NO MAS"
    assert consent.keyword_normal("Unsubscribe.") == "UNSUBSCRIBE"
