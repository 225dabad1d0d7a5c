"""The thread's contact panel: tags (agents tag and untag with htmx through the contacts service), typed
attributes in the reader's formats, the language, the campaigns received; constant queries; no other client's
data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from campaigns.models import Campaign, CampaignRecipient, RecipientState
from contacts.models import AttributeDefinition, AttributeKind, Tag
from tests.factories import PhoneNumberFactory, TemplateFactory
from tests.messaging.factories import ContactFactory, ConversationFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def browser(client):
    def as_user(user, language="es"):
        client.force_login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
        return client

    return as_user


def _campaign(number, contact, name, state=RecipientState.DELIVERED, finished_at=None):
    template = TemplateFactory(waba=number.waba, client=number.client)
    campaign = Campaign.objects.create(client=number.client, phone_number=number, template=template, name=name)
    CampaignRecipient.objects.create(campaign=campaign, row_number=1, phone=contact.wa_id, state=state,
                                     finished_at=finished_at)
    return campaign


@pytest.fixture
def ana(number, conversation):
    contact = conversation.contact
    client = number.client
    AttributeDefinition.objects.create(client=client, key="birthday", label="Cumpleaños", kind=AttributeKind.DATE)
    AttributeDefinition.objects.create(client=client, key="spent", label="Gastado", kind=AttributeKind.NUMBER)
    AttributeDefinition.objects.create(client=client, key="plan", label="Plan", kind=AttributeKind.CHOICE,
                                       choices=["Oro", "Plata"])
    contact.profile_name, contact.language = "Ana Pérez", "pt_BR"
    contact.attributes = {"birthday": "1990-03-07", "spent": 1234567.5, "plan": "Oro"}
    contact.save()
    Tag.objects.create(client=client, name="vip").contacts.add(contact)
    _campaign(number, contact, "Promo marzo", finished_at=datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    return contact


def _panel(html: str) -> str:
    start = html.index('id="ws-contact"')
    return html[start:html.index("</aside>", start)]


def test_the_panel_shows_tags_typed_attributes_language_and_campaigns(browser, ana, conversation, agent):
    panel = _panel(browser(agent, "es").get(f"/c/{conversation.pk}/").content.decode())
    assert 'data-tag="vip"' in panel and 'id="ws-contact-tag-form"' in panel
    assert '<dd data-attribute="birthday" data-kind="date">07/03/1990</dd>' in panel
    assert '<dd data-attribute="spent" data-kind="number">1.234.567,5</dd>' in panel
    assert '<dd data-attribute="plan" data-kind="choice">Oro</dd>' in panel
    assert 'data-contact-language="pt_BR"' in panel
    campaign = Campaign.objects.get(name="Promo marzo")
    assert f'<a href="/campaigns/{campaign.pk}/">Promo marzo</a>' in panel
    assert "02/03/2026 10:00" in panel  # 15:00 UTC in Bogotá
    with translation.override("es"):
        assert f"· {RecipientState.DELIVERED.label}</span>" in panel  # the outcome, in words
    english = _panel(browser(agent, "en").get(f"/c/{conversation.pk}/").content.decode())
    assert '<dd data-attribute="birthday" data-kind="date">Mar 7, 1990</dd>' in english
    assert '<dd data-attribute="spent" data-kind="number">1,234,567.5</dd>' in english
    assert "Mar 2, 2026, 10:00" in english and "Delivered" in english


def test_a_viewer_reads_the_panel_without_tag_forms(browser, ana, conversation, viewer):
    client = browser(viewer)
    panel = _panel(client.get(f"/c/{conversation.pk}/").content.decode())
    assert 'data-tag="vip"' in panel and "Promo marzo" in panel
    assert "ws-contact-tag-form" not in panel and "ws-contact-untag" not in panel
    assert client.post(f"/c/{conversation.pk}/contact/tag/", {"tag": "x"}, **HX).status_code == 403
    assert set(ana.tags.values_list("name", flat=True)) == {"vip"}


def test_an_agent_tags_and_untags_from_the_thread(browser, ana, conversation, agent):
    client = browser(agent, "en")
    added = client.post(f"/c/{conversation.pk}/contact/tag/", {"tag": " nuevo "}, **HX)
    assert added.status_code == 200 and added.content.decode().startswith('<div class="ws-card ws-contact"')
    assert 'data-tag="nuevo"' in added.content.decode()
    assert set(ana.tags.values_list("name", flat=True)) == {"vip", "nuevo"}
    removed = client.post(f"/c/{conversation.pk}/contact/tag/", {"tag": "vip", "remove": "1"}, **HX)
    assert removed.status_code == 200 and 'data-tag="vip"' not in removed.content.decode()
    assert set(ana.tags.values_list("name", flat=True)) == {"nuevo"}
    empty = client.post(f"/c/{conversation.pk}/contact/tag/", {"tag": "  "}, **HX)
    assert empty.status_code == 400 and "Name at least one tag." in empty.content.decode()
    assert client.get(f"/c/{conversation.pk}/contact/tag/").status_code == 405
    plain = client.post(f"/c/{conversation.pk}/contact/tag/", {"tag": "sin-js"})  # no htmx: back to the thread
    assert plain.status_code == 302 and plain["Location"] == f"/c/{conversation.pk}/"
    assert "sin-js" in set(ana.tags.values_list("name", flat=True))


def test_another_clients_contact_data_never_shows(browser, ana, number, conversation, agent):
    theirs = PhoneNumberFactory()
    twin = ContactFactory(client=theirs.client, wa_id=ana.wa_id, profile_name="Gemela")
    Tag.objects.create(client=theirs.client, name="ajeno").contacts.add(twin)
    _campaign(theirs, twin, "Campaña ajena")
    AttributeDefinition.objects.create(client=theirs.client, key="spent", label="Ajeno", kind=AttributeKind.TEXT)
    client = browser(agent)
    panel = _panel(client.get(f"/c/{conversation.pk}/").content.decode())
    assert "ajeno" not in panel and "Campaña ajena" not in panel and "Ajeno" not in panel and "Gemela" not in panel
    their_conversation = ConversationFactory(phone_number=theirs, contact=twin)
    assert client.get(f"/c/{their_conversation.pk}/").status_code == 404
    assert client.post(f"/c/{their_conversation.pk}/contact/tag/", {"tag": "x"}, **HX).status_code == 404
    assert set(twin.tags.values_list("name", flat=True)) == {"ajeno"}


def test_the_thread_reads_in_the_same_queries_with_many_tags_attributes_and_campaigns(
        browser, ana, number, conversation, agent, django_assert_max_num_queries):
    client = browser(agent)
    client.get(f"/c/{conversation.pk}/")  # warm the session and caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"/c/{conversation.pk}/").status_code == 200
    assert len(few.captured_queries) <= 25  # the panel adds three: definitions, tags, campaigns
    for i in range(12):
        Tag.objects.create(client=number.client, name=f"tag{i}").contacts.add(ana)
        AttributeDefinition.objects.create(client=number.client, key=f"k{i}", label=f"K{i}", kind=AttributeKind.NUMBER)
        _campaign(number, ana, f"Campaign {i}", state=RecipientState.FAILED)
        ConversationFactory(contact=ana, phone_number=PhoneNumberFactory(client=number.client, waba=number.waba))
    ana.attributes = {**ana.attributes, **{f"k{i}": i * 1000 for i in range(12)}}
    ana.save()
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(f"/c/{conversation.pk}/")
    panel = _panel(page.content.decode())
    assert panel.count("data-tag=") == 13 and panel.count("data-campaign=") == 5
    assert '<dd data-attribute="k11" data-kind="number">11.000</dd>' in panel
