"""One date and number format per language (waportal/formats): the same known moment reads the same on every
workspace page, in the user's time zone; numbers of 1,000 and more get the language's separator; machine
values (``datetime-local``, ``datetime=`` attributes) stay ISO."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import translation

from campaigns.models import Campaign, CampaignStatus
from messaging.models import Message
from tests.factories import TemplateFactory
from tests.messaging.factories import MessageFactory

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 12, 7, 4, 53, tzinfo=UTC)  # 23:53 on Dec 6 in Bogotá (the default user zone)
EXPECTED = {"es": "06/12/2026 23:53", "en": "Dec 6, 2026, 23:53"}
THOUSANDS = {"es": "1.234", "en": "1,234"}


@pytest.fixture(autouse=True)
def _reset_language():
    yield
    translation.activate("en")


@pytest.fixture
def browser(client):
    def as_user(user, language):
        client.force_login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
        return client

    return as_user


@pytest.fixture
def thread(number, conversation):
    message = MessageFactory(phone_number=number, conversation=conversation, to_number=conversation.contact.wa_id,
                             content={"body": "Hola"})
    Message.objects.filter(pk=message.pk).update(created_at=MOMENT)
    conversation.last_message_at = MOMENT
    conversation.save(update_fields=["last_message_at"])
    return conversation


@pytest.fixture
def scheduled(number):
    template = TemplateFactory(waba=number.waba, client=number.client)
    return Campaign.objects.create(
        client=number.client, phone_number=number, template=template, name="Grande", status=CampaignStatus.SCHEDULED,
        start_at=MOMENT, counts={"sent": 1234, "delivered": 2345, "read": 999, "failed": 1000},
        counts_at=datetime.now(UTC))


@pytest.mark.parametrize("language", ["es", "en"])
def test_a_known_moment_reads_in_the_languages_format_on_every_page(browser, thread, scheduled, agent, language):
    client = browser(agent, language)
    inbox = client.get("/").content.decode()
    assert EXPECTED[language] in inbox
    page = client.get(f"/c/{thread.pk}/").content.decode()
    assert EXPECTED[language] in page
    campaigns = client.get("/campaigns/?status=scheduled").content.decode()
    assert EXPECTED[language] in campaigns
    for text in (inbox, page, campaigns):
        assert "p.m." not in text and "a.m." not in text  # a 24-hour clock in both languages
        assert language == "es" or "12/06/2026" not in text  # no month-first numeric dates in English


@pytest.mark.parametrize("language", ["es", "en"])
def test_numbers_of_a_thousand_and_more_get_the_languages_separator(browser, scheduled, agent, language):
    campaigns = browser(agent, language).get("/campaigns/").content.decode()
    assert f'class="ws-num">{THOUSANDS[language]}</td>' in campaigns
    assert 'class="ws-num">999</td>' in campaigns


@pytest.mark.parametrize("language", ["es", "en"])
def test_machine_values_stay_iso(browser, thread, scheduled, agent, language):
    client = browser(agent, language)
    detail = client.get(f"/campaigns/{scheduled.pk}/").content.decode()
    assert EXPECTED[language] in detail
    assert 'value="2026-12-06T23:53"' in detail  # the datetime-local input
    page = client.get(f"/c/{thread.pk}/").content.decode()
    assert "<time datetime=\"2026-12-07T04:53:00+00:00\">" + EXPECTED[language] in page  # ISO for machines


@pytest.mark.parametrize("language", ["es", "en"])
def test_a_long_lists_total_gets_the_languages_separator(browser, number, agent, language):
    from messaging.models import Contact

    Contact.objects.bulk_create([Contact(client=number.client, wa_id=f"5731{i:08d}") for i in range(1234)])
    page = browser(agent, language).get("/contacts/").content.decode()
    words = {"es": "Página 1 de 25 (1.234 contactos)", "en": "Page 1 of 25 (1,234 contacts)"}
    assert words[language] in page
