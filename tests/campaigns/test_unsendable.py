"""A campaign whose recipients cannot be sent is reported unsendable and does not start (issue 18).

Before issue 18, 192 valid recipients on a WABA without namespace were reported fully sendable, the campaign
started, failed 20 sends in a row on "no namespace" and paused itself.
"""

from __future__ import annotations

import pytest

from campaigns.models import Campaign, CampaignStatus
from tests.campaigns.conftest import phones, rows_for
from tests.messaging.factories import ContactoVirtualTemplateFactory, contacto_virtual_number, member

pytestmark = pytest.mark.django_db


def create(api, number, template, count=3):
    body = {"name": "Recordatorios", "phone_number": number.pk, "template": template.pk, "pace": 50,
            "recipients": rows_for(phones(count))}
    response = api.post("/api/v1/campaigns/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_a_waba_without_namespace_is_reported_and_refused_until_it_is_entered(api_as, number, template, superuser):
    number.waba.namespace = ""
    number.waba.save()
    api = api_as(superuser)
    campaign_id = create(api, number, template)

    report = api.get(f"/api/v1/campaigns/{campaign_id}/report/").json()
    assert report["sendable"] == 0 and report["sendable_when_fixed"] == 3
    assert [blocker["field"] for blocker in report["blockers"]] == ["namespace"]

    refused = api.post(f"/api/v1/campaigns/{campaign_id}/start/", {}, format="json")
    assert refused.status_code == 400 and "namespace" in refused.json()
    assert Campaign.objects.get(pk=campaign_id).status == CampaignStatus.VALIDATED

    assert api.patch(f"/api/v1/wabas/{number.waba.pk}/", {"namespace": "abc_123"}, format="json").status_code == 200
    assert api.get(f"/api/v1/campaigns/{campaign_id}/report/").json()["blockers"] == []
    assert api.post(f"/api/v1/campaigns/{campaign_id}/start/", {}, format="json").status_code == 200


def test_a_cv_template_without_id_template_is_reported_and_refused(api_as):
    line = contacto_virtual_number(digits="573001234577")
    template = ContactoVirtualTemplateFactory(client=line.client, provider_template_id="", text="Hola {1}")
    api = api_as(member(line))
    campaign_id = create(api, line, template, count=2)

    report = api.get(f"/api/v1/campaigns/{campaign_id}/report/").json()
    assert report["sendable"] == 0
    assert [blocker["field"] for blocker in report["blockers"]] == ["provider_template_id"]
    refused = api.post(f"/api/v1/campaigns/{campaign_id}/start/", {}, format="json")
    assert refused.status_code == 400 and "provider_template_id" in refused.json()


def test_the_admin_report_lists_the_blocker_and_offers_no_start(client, superuser, number, template):
    from campaigns import services

    number.waba.namespace = ""
    number.waba.save()
    campaign = services.campaign_create_with_recipients(
        actor=superuser, name="x", phone_number=number, template=template, pace=10,
        recipients=rows_for(phones(2)))
    client.force_login(superuser)
    page = client.get(f"/admin/campaigns/campaign/{campaign.pk}/report/").content.decode()
    assert 'id="wa-report-blockers"' in page and 'data-field="namespace"' in page
    assert 'id="wa-campaign-start"' not in page
