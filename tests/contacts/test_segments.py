"""Segments: saved filters with a live count; a campaign to a segment takes its contacts with their attributes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import CampaignRecipient, SkipReason
from contacts.models import AttributeDefinition, Segment, Tag
from messaging.models import Contact
from templates_mgr.models import TemplateCategory
from tests.factories import TemplateFactory
from tests.messaging.factories import ConversationFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/segments/"


@pytest.fixture
def people(line):
    AttributeDefinition.objects.create(client=line.client, key="city", label="City")
    ana = ConversationFactory(phone_number=line, contact__wa_id="573115550000", contact__profile_name="Ana",
                              contact__attributes={"city": "Cali"}, last_inbound_at=timezone.now()).contact
    beto = Contact.objects.create(client=line.client, wa_id="573115550001", profile_name="Beto",
                                  attributes={"city": "Cali"})
    carla = Contact.objects.create(client=line.client, wa_id="573115550002", attributes={"city": "Lima"})
    Tag.objects.create(client=line.client, name="vip").contacts.add(ana, beto, carla)
    return ana, beto, carla


def test_create_count_and_live_preview(api_as, agent, people):
    api = api_as(agent)
    filters = {"tags": ["vip"], "attributes": {"city": "Cali"}}
    assert api.post(URL + "count/", {"filters": filters}, format="json").json() == {"count": 2}
    response = api.post(URL, {"name": "VIP Cali", "filters": filters}, format="json")
    assert response.status_code == 201, response.content
    segment_id = response.json()["id"]
    assert api.get(f"{URL}{segment_id}/count/").json() == {"count": 2}
    recent = {"filters": {"inbound_within_days": 1}}
    assert api.post(URL + "count/", recent, format="json").json() == {"count": 1}
    quiet = {"filters": {"no_inbound_for_days": 1, "tags": ["vip"]}}
    assert api.post(URL + "count/", quiet, format="json").json() == {"count": 2}
    assert api.patch(f"{URL}{segment_id}/", {"filters": {"tags": ["nobody"]}}, format="json").status_code == 200
    assert api.get(f"{URL}{segment_id}/count/").json() == {"count": 0}


@pytest.mark.parametrize("filters", [{"colour": "red"}, {"consent": "perhaps"}, {"inbound_within_days": "x"},
                                     {"country": "Atlantis"}, {"attributes": {"city": {"near": 1}}}])
def test_bad_filters_are_refused_by_name(api_as, agent, filters):
    response = api_as(agent).post(URL, {"name": "x", "filters": filters}, format="json")
    assert response.status_code == 400, response.content
    assert not Segment.objects.exists()


def test_a_campaign_to_a_segment_fills_variables_and_reports_who_is_left_out(api_as, agent, line, people):
    ana, beto, carla = people
    Contact.objects.filter(pk=beto.pk).update(opted_out=True)
    segment = Segment.objects.create(client=line.client, name="VIP", filters={"tags": ["vip"]})
    template = TemplateFactory(waba=line.waba, category=TemplateCategory.MARKETING,
                               components=[{"type": "BODY", "text": "Hola {{1}}, desde {{2}}"}])
    response = api_as(agent).post("/api/v1/campaigns/", {
        "name": "Promo", "phone_number": line.pk, "template": template.pk, "segment": segment.pk,
        "attribute_mapping": {"body_1": "name", "body_2": "city"},
        "start_at": (timezone.now() + timedelta(hours=1)).isoformat()}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["segment"] == segment.pk
    rows = {r.phone: r for r in CampaignRecipient.objects.filter(campaign_id=response.json()["id"])}
    assert rows[ana.wa_id].variables == {"body_1": "Ana", "body_2": "Cali"} and not rows[ana.wa_id].skip_reason
    assert rows[beto.wa_id].skip_reason == SkipReason.OPTED_OUT
    assert rows[carla.wa_id].skip_reason  # no name for body_1: left out, with the reason
    assert response.json()["report"]["sendable"] == 1


def test_a_segment_of_another_client_or_an_unknown_attribute_is_refused(api_as, agent, line, people):
    from tests.factories import ClientFactory

    template = TemplateFactory(waba=line.waba)
    other = Segment.objects.create(client=ClientFactory(), name="theirs", filters={})
    mine = Segment.objects.create(client=line.client, name="mine", filters={})
    base = {"name": "x", "phone_number": line.pk, "template": template.pk}
    response = api_as(agent).post("/api/v1/campaigns/", {**base, "segment": other.pk}, format="json")
    assert response.status_code == 400 and "segment" in response.json()
    response = api_as(agent).post("/api/v1/campaigns/", {**base, "segment": mine.pk,
                                                         "attribute_mapping": {"body_1": "shoe"}}, format="json")
    assert response.status_code == 400 and "attribute_mapping" in response.json()
