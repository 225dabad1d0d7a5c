"""Admin pages: segments built from fields with a live count, contacts opted out from the list, the opt-out
list's add form (a number that never wrote becomes an opted-out contact)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from contacts.models import AttributeDefinition, AttributeKind, ConsentEvent, Segment, Tag
from messaging.models import Contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, agent):
    agent.is_staff = True
    agent.save(update_fields=["is_staff"])
    client.force_login(agent)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def people(line):
    AttributeDefinition.objects.create(client=line.client, key="points", label="Points", kind=AttributeKind.NUMBER)
    contacts = [Contact.objects.create(client=line.client, wa_id=f"57311555000{i}", attributes={"points": i * 50})
                for i in range(4)]
    Tag.objects.create(client=line.client, name="vip").contacts.add(*contacts[1:])
    return contacts


def segment_form(line, **fields):
    return {"client": line.client_id, "name": "VIP con puntos", "tags": "vip", "attributes": "points>=100",
            "consent": "", "country": "", **fields}


def test_a_segment_is_built_from_fields_with_a_live_count(staff, line, people):
    response = staff.post(reverse("admin:contacts_segment_count"), segment_form(line))
    assert response.json() == {"count": 2}
    response = staff.post(reverse("admin:contacts_segment_count"), segment_form(line, attributes="points>=many"))
    assert response.json()["count"] is None and "Points must be a number" in response.json()["error"]
    response = staff.post(reverse("admin:contacts_segment_add"), segment_form(line))
    assert response.status_code == 302
    segment = Segment.objects.get()
    assert segment.filters == {"tags": ["vip"], "attributes": {"points": {"gte": 100}}}
    page = staff.get(reverse("admin:contacts_segment_change", args=[segment.pk]))
    assert "points&gt;=100" in page.content.decode() and b"wa-segment-count" in page.content


def test_opt_out_from_the_contact_list_records_who(staff, line, agent, people):
    response = staff.post(reverse("admin:messaging_contact_changelist"),
                          {"action": "opt_out", "_selected_action": [people[0].pk]})
    assert response.status_code == 302
    event = ConsentEvent.objects.get()
    assert event.contact == people[0] and event.source == "admin" and event.actor == agent
    people[0].refresh_from_db()
    assert people[0].opted_out


def test_the_opt_out_list_add_form_normalises_and_creates_the_contact(staff, line):
    response = staff.post(reverse("admin:contacts_consentevent_add"), {
        "client": line.client_id, "phone": "+57 300 000 0009", "opted_out": "on", "detail": "Pidió no recibir"})
    assert response.status_code == 302
    contact = Contact.objects.get(wa_id="573000000009")
    assert contact.opted_out and ConsentEvent.objects.get().detail == "Pidió no recibir"


def test_a_campaign_to_a_segment_from_the_admin_goes_straight_to_its_report(staff, line, people):
    from campaigns.models import Campaign, CampaignRecipient
    from templates_mgr.models import TemplateCategory
    from tests.factories import TemplateFactory

    template = TemplateFactory(waba=line.waba, category=TemplateCategory.MARKETING,
                               components=[{"type": "BODY", "text": "Tienes {{1}} puntos"}])
    segment = Segment.objects.create(client=line.client, name="VIP", filters={"tags": ["vip"]})
    Contact.objects.filter(pk=people[3].pk).update(opted_out=True)
    response = staff.post(reverse("admin:campaigns_campaign_add"), {
        "name": "Puntos", "phone_number": line.pk, "template": template.pk, "pace": 20, "default_country": "CO",
        "segment": segment.pk, "attribute_mapping": "body_1=points"})
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    campaign = Campaign.objects.get()
    assert response["Location"].endswith(f"/{campaign.pk}/report/")
    rows = {r.phone: r for r in CampaignRecipient.objects.filter(campaign=campaign)}
    assert rows[people[1].wa_id].variables == {"body_1": "50"}
    assert rows[people[3].wa_id].skip_reason == "opted_out"
    page = staff.get(response["Location"])
    assert people[3].wa_id in page.content.decode()


def test_the_new_campaign_form_wants_a_file_or_a_segment(staff, line):
    from tests.factories import TemplateFactory

    template = TemplateFactory(waba=line.waba)
    response = staff.post(reverse("admin:campaigns_campaign_add"), {
        "name": "x", "phone_number": line.pk, "template": template.pk, "pace": 20, "default_country": "CO"})
    assert response.status_code == 200 and "file" in response.context["form"].errors
