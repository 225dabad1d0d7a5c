"""The segment filters over campaigns: who received a campaign (or any in the last days), who replied to it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import Campaign, CampaignRecipient, RecipientState
from contacts import segments
from contacts.admin import SegmentForm
from messaging.models import Contact, Direction
from tests.factories import PhoneNumberFactory, TemplateFactory
from tests.messaging.factories import MessageFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/segments/count/"


def _campaign(line, name: str, *, days_ago: float = 0) -> Campaign:
    template = TemplateFactory(waba=line.waba, client=line.client)
    campaign = Campaign.objects.create(client=line.client, phone_number=line, template=template, name=name)
    campaign.when = timezone.now() - timedelta(days=days_ago)
    return campaign


def _row(campaign: Campaign, phone: str, state: str, n: int) -> CampaignRecipient:
    return CampaignRecipient.objects.create(campaign=campaign, row_number=n, phone=phone, state=state,
                                            finished_at=campaign.when)


@pytest.fixture
def sent(line):
    """Five contacts; ``march`` (today) reached ana, beto and carla (carla failed); ``old`` (40 days) reached dora;
    ana wrote in after march, eva wrote in but received nothing."""
    people = {name: Contact.objects.create(client=line.client, wa_id=f"57311555000{i}", profile_name=name)
              for i, name in enumerate(["ana", "beto", "carla", "dora", "eva"])}
    march, old = _campaign(line, "march"), _campaign(line, "old", days_ago=40)
    _row(march, people["ana"].wa_id, RecipientState.DELIVERED, 1)
    _row(march, people["beto"].wa_id, RecipientState.READ, 2)
    _row(march, people["carla"].wa_id, RecipientState.FAILED, 3)
    _row(old, people["dora"].wa_id, RecipientState.REPLIED, 1)
    for who in ("ana", "eva"):
        MessageFactory(phone_number=line, direction=Direction.INBOUND, from_number=people[who].wa_id,
                       to_number=line.digits, status="received")
    # Another client's campaign to the same numbers counts for nobody here.
    other = PhoneNumberFactory()
    _row(_campaign(other, "theirs"), people["eva"].wa_id, RecipientState.DELIVERED, 1)
    return march, old


@pytest.mark.parametrize("filters, expected", [
    ({"received_campaign": "march"}, 2),
    ({"received_campaign": {"campaign": "march"}}, 2),
    ({"received_campaign": "old"}, 1),
    ({"received_campaign": {"days": 30}}, 2),
    ({"received_campaign": {"days": 60}}, 3),
    ({"replied_to_campaign": "march"}, 1),
    ({"replied_to_campaign": "old"}, 1),
    ({"replied_to_campaign": {"days": 60}}, 2),
    ({"replied_to_campaign": {"days": 30}}, 1),
    ({"received_campaign": "march", "search": "beto"}, 1),
])
def test_counts(api_as, agent, line, sent, filters, expected):
    ids = {c.name: c.pk for c in sent}
    filters = dict(filters)
    for key, value in list(filters.items()):
        if isinstance(value, str) and value in ids:
            filters[key] = ids[value]
        elif isinstance(value, dict) and value.get("campaign") in ids:
            filters[key] = {"campaign": ids[value["campaign"]]}
    assert segments.filters_count(client_id=line.client_id, filters=filters) == expected
    response = api_as(agent).post(URL, {"filters": filters}, format="json")
    assert response.status_code == 200 and response.json() == {"count": expected}, response.content


def test_another_clients_campaign_matches_nobody(line, sent):
    theirs = Campaign.objects.get(name="theirs")
    assert segments.filters_count(client_id=line.client_id, filters={"received_campaign": theirs.pk}) == 0


@pytest.mark.parametrize("value", ["x", {"days": "x"}, {"days": 5000}, {"weeks": 2}, -1, True, [1]])
def test_bad_values_are_refused_by_name(api_as, agent, value):
    response = api_as(agent).post(URL, {"filters": {"received_campaign": value}}, format="json")
    assert response.status_code == 400, response.content


def test_the_admin_form_writes_both_shapes(line, sent):
    march = sent[0]
    form = SegmentForm(data={"client": line.client_id, "name": "March", "received_campaign": march.pk,
                             "replied_within_days": 7})
    assert form.is_valid(), form.errors
    assert form.instance.filters == {"received_campaign": march.pk, "replied_to_campaign": {"days": 7}}
    again = SegmentForm(instance=form.save())
    assert again.fields["received_campaign"].initial == march.pk
    assert again.fields["replied_within_days"].initial == 7


def test_the_contact_list_filters_by_campaign(api_as, agent, sent):
    march = sent[0]
    api = api_as(agent)
    received = api.get(f"/api/v1/contacts/?received_campaign={march.pk}").json()["results"]
    assert sorted(c["name"] for c in received) == ["ana", "beto"]
    replied = api.get(f"/api/v1/contacts/?replied_to_campaign={march.pk}").json()["results"]
    assert [c["name"] for c in replied] == ["ana"]
    assert api.get("/api/v1/contacts/?received_campaign=abc").status_code == 400
