"""The workspace's contacts pages: the list and its filters, a contact's page, tagging and consent by role."""

from __future__ import annotations

import pytest

from campaigns.models import Campaign, CampaignRecipient, RecipientState
from contacts.models import ConsentEvent, Tag
from messaging.models import Contact
from tests.factories import PhoneNumberFactory, TemplateFactory
from tests.messaging.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


@pytest.fixture
def ana(number, conversation):
    contact = conversation.contact
    contact.profile_name, contact.attributes = "Ana Pérez", {"city": "Cali"}
    contact.save()
    Tag.objects.create(client=number.client, name="vip").contacts.add(contact)
    template = TemplateFactory(waba=number.waba, client=number.client)
    campaign = Campaign.objects.create(client=number.client, phone_number=number, template=template,
                                       name="Promo marzo")
    CampaignRecipient.objects.create(campaign=campaign, row_number=1, phone=contact.wa_id,
                                     state=RecipientState.DELIVERED)
    return contact


def test_every_role_reads_the_list_and_the_page(browser, number, ana, viewer, agent, admin_user):
    for user in (viewer, agent, admin_user):
        page = browser(user).get("/contacts/")
        assert page.status_code == 200 and b"Ana P" in page.content
        assert b'data-nav="contacts"' in page.content and b'href="/contacts/"' in page.content
        detail = browser(user).get(f"/contacts/{ana.pk}/")
        assert detail.status_code == 200
        assert f"/c/{ana.conversations.get().pk}/".encode() in detail.content  # the thread link
        assert b"Promo marzo" in detail.content and b"Cali" in detail.content and b"vip" in detail.content
        assert (b'id="contact-tag-form"' in detail.content) == (user != viewer)


def test_filters_and_search(browser, number, ana, agent):
    ContactFactory(client=number.client, wa_id="573115559999", profile_name="Beto", opted_out=True)
    get = browser(agent).get
    assert b"Beto" not in get("/contacts/?tag=vip").content
    assert b"Ana P" not in get("/contacts/?consent=opted_out").content
    assert b"Beto" in get("/contacts/?consent=opted_out").content
    assert b"Beto" in get("/contacts/?q=9999").content and b"Ana P" not in get("/contacts/?q=Beto").content


def test_the_list_reads_in_a_fixed_number_of_queries(browser, number, agent, django_assert_max_num_queries):
    tag = Tag.objects.create(client=number.client, name="vip")
    for _i in range(30):
        tag.contacts.add(ContactFactory(client=number.client))
    client = browser(agent)
    with django_assert_max_num_queries(15):
        page = client.get("/contacts/")
    assert page.status_code == 200 and page.content.count(b"data-contact=") == 30


def test_another_clients_contact_is_a_404(browser, agent):
    theirs = ContactFactory(client=PhoneNumberFactory().client)
    assert browser(agent).get(f"/contacts/{theirs.pk}/").status_code == 404
    assert browser(agent).post(f"/contacts/{theirs.pk}/tag/", {"tag": "x"}).status_code == 404
    assert b"data-contact" not in browser(agent).get("/contacts/").content


def test_an_agent_tags_untags_and_opts_out_and_in(browser, ana, agent):
    client = browser(agent)
    assert client.post(f"/contacts/{ana.pk}/tag/", {"tag": "nuevo"}).status_code == 302
    assert set(ana.tags.values_list("name", flat=True)) == {"vip", "nuevo"}
    assert client.post(f"/contacts/{ana.pk}/tag/", {"tag": "vip", "remove": "1"}).status_code == 302
    assert set(ana.tags.values_list("name", flat=True)) == {"nuevo"}
    assert client.post(f"/contacts/{ana.pk}/tag/", {"tag": " "}).status_code == 400
    assert client.post(f"/contacts/{ana.pk}/consent/", {"opted_out": "1"}).status_code == 302
    assert Contact.objects.get(pk=ana.pk).opted_out
    assert client.post(f"/contacts/{ana.pk}/consent/", {"opted_out": "0"}).status_code == 302
    assert not Contact.objects.get(pk=ana.pk).opted_out
    assert ConsentEvent.objects.filter(contact=ana).count() == 2
    assert b'id="consent-history"' in client.get(f"/contacts/{ana.pk}/").content


def test_a_viewer_may_not_change_a_contact(browser, ana, viewer):
    client = browser(viewer)
    assert client.post(f"/contacts/{ana.pk}/tag/", {"tag": "nuevo"}).status_code == 403
    assert client.post(f"/contacts/{ana.pk}/consent/", {"opted_out": "1"}).status_code == 403
    assert not Contact.objects.get(pk=ana.pk).opted_out and ana.tags.count() == 1


def test_the_thread_links_to_the_contact(browser, ana, agent):
    page = browser(agent).get(f"/c/{ana.conversations.get().pk}/")
    assert f'href="/contacts/{ana.pk}/" id="thread-contact-link"'.encode() in page.content
