"""/api/v1/campaigns/: create from JSON and from CSV, the report, start/pause/resume/cancel, tenancy."""

from __future__ import annotations

import io

import pytest
from django_tasks_db.models import DBTaskResult

from campaigns.models import Campaign, CampaignStatus
from tests.campaigns.conftest import phones, rows_for, work
from tests.factories import MembershipFactory, TemplateFactory
from tests.messaging.factories import aldeamo_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_api(api_as, agent):
    return api_as(agent)


def create_json(api, number, template, count=3, **extra):
    body = {"name": "Recordatorios", "phone_number": number.pk, "template": template.pk, "pace": 50,
            "recipients": rows_for(phones(count)), **extra}
    return api.post("/api/v1/campaigns/", body, format="json")


def test_create_from_json_reports_then_starts(client_api, number, template, django_capture_on_commit_callbacks,
                                              fake_send, settings):
    settings.CAMPAIGN_WORKERS = 2
    response = create_json(client_api, number, template, recipients=[*rows_for(phones(3)), {"phone": "123"}])
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "validated" and body["recipient_count"] == 3
    assert body["report"] == {"rows": 4, "sendable": 3, "skipped": 1, "reasons": {"bad_number": 1}, "seen": False}
    assert body["counts"]["queued"] == 3
    campaign_id = body["id"]

    refused = client_api.post(f"/api/v1/campaigns/{campaign_id}/start/", {}, format="json")
    assert refused.status_code == 400 and "report" in refused.json()

    report = client_api.get(f"/api/v1/campaigns/{campaign_id}/report/")
    assert report.status_code == 200
    data = report.json()
    assert data["rows"] == 4 and data["skipped"] == 1 and data["count"] == 1
    assert data["reasons"] == [{"reason": "bad_number", "label": "Not a valid phone number", "count": 1}]
    assert data["results"][0] == {"row": 4, "phone": "123", "reason": "bad_number",
                                  "reason_label": "Not a valid phone number", "detail": data["results"][0]["detail"]}

    with django_capture_on_commit_callbacks(execute=True):
        started = client_api.post(f"/api/v1/campaigns/{campaign_id}/start/", {}, format="json")
    assert started.status_code == 200, started.content
    assert started.json()["status"] == "running"
    tasks = DBTaskResult.objects.filter(task_path="campaigns.tasks.campaign_run")
    assert tasks.count() == 2
    generation = Campaign.objects.get(pk=campaign_id).generation
    assert all(t.args_kwargs["kwargs"] == {"campaign_id": campaign_id, "generation": generation} for t in tasks)

    work(Campaign.objects.get(pk=campaign_id))
    detail = client_api.get(f"/api/v1/campaigns/{campaign_id}/").json()
    assert detail["status"] == "completed" and detail["percent"] == 100
    assert detail["counts"]["sent"] == 3 and detail["top_failures"] == [] and detail["eta_seconds"] == 0

    recipients = client_api.get(f"/api/v1/campaigns/{campaign_id}/recipients/?state=sent").json()
    assert recipients["count"] == 3 and recipients["results"][0]["message_status"] == "sent"
    export = client_api.get(f"/api/v1/campaigns/{campaign_id}/export/")
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    assert len(b"".join(export.streaming_content).decode("utf-8-sig").strip().splitlines()) == 5


def test_create_from_csv_multipart(client_api, number, template):
    data = "telefono;nombre;dia\n3000000001;Ana;lunes\n3000000002;Bob;martes\n3000000002;Bob;martes\n"
    upload = io.BytesIO(data.encode("utf-8"))
    upload.name = "lista.csv"
    response = client_api.post(
        "/api/v1/campaigns/",
        {"name": "CSV", "phone_number": number.pk, "template": template.pk, "file": upload,
         "mapping": '{"body_1": "nombre", "body_2": "dia"}'},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["report"]["sendable"] == 2 and body["report"]["reasons"] == {"duplicate": 1}
    campaign = Campaign.objects.get(pk=body["id"])
    assert campaign.upload.phone_column == "telefono" and campaign.upload.original_name == "lista.csv"


def test_csv_with_matching_headers_needs_no_mapping(client_api, number, template):
    upload = io.BytesIO(b"phone,body_1,body_2\n573000000001,Ana,lunes\n")
    upload.name = "l.csv"
    response = client_api.post("/api/v1/campaigns/", {"name": "auto", "phone_number": number.pk,
                                                      "template": template.pk, "file": upload}, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["recipient_count"] == 1


@pytest.mark.parametrize(
    "change, field",
    [
        ({"name": ""}, "name"),
        ({"pace": 0}, "pace"),
        ({"pace": 10**7}, "pace"),
        ({"recipients": []}, "recipients"),
        ({"phone_number": 999999}, "phone_number"),
        ({"template": 999999}, "template"),
        ({"variables": {"body_7": "x"}}, "variables"),
        ({"start_at": "2001-01-01T00:00:00Z"}, "start_at"),
    ],
)
def test_bad_input_names_the_field(client_api, number, template, change, field, settings):
    settings.CAMPAIGN_PACE_LIMIT = 80
    body = {"name": "x", "phone_number": number.pk, "template": template.pk, "recipients": rows_for(phones(1)),
            **change}
    response = client_api.post("/api/v1/campaigns/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not Campaign.objects.exists()


def test_file_and_list_together_are_refused(client_api, number, template):
    upload = io.BytesIO(b"phone\n573000000001\n")
    upload.name = "a.csv"
    response = client_api.post("/api/v1/campaigns/", {"name": "x", "phone_number": number.pk,
                                                      "template": template.pk, "file": upload,
                                                      "recipients": []}, format="multipart")
    assert response.status_code == 400


def test_pause_resume_cancel(client_api, make_campaign, django_capture_on_commit_callbacks):
    campaign = make_campaign(5)
    url = f"/api/v1/campaigns/{campaign.pk}"
    paused = client_api.post(f"{url}/pause/")
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert paused.json()["pause_kind"] == "user"
    again = client_api.post(f"{url}/pause/")
    assert again.status_code == 409 and "status" in again.json()
    with django_capture_on_commit_callbacks(execute=True):
        resumed = client_api.post(f"{url}/resume/")
    assert resumed.status_code == 200 and resumed.json()["status"] == "running"
    assert resumed.json()["pause_reason"] == ""
    cancelled = client_api.post(f"{url}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["counts"]["cancelled"] == 5


def test_schedule_with_start_at(client_api, make_campaign, django_capture_on_commit_callbacks):
    campaign = make_campaign(2, start=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_api.post(f"/api/v1/campaigns/{campaign.pk}/start/",
                                   {"start_at": "2099-01-01T10:00:00Z"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "scheduled"
    tasks = DBTaskResult.objects.filter(task_path="campaigns.tasks.campaign_run")
    assert tasks.count() == 2 and all(task.run_after.year == 2099 for task in tasks)


def test_another_tenant_gets_404_and_viewers_403(api_as, make_campaign, number):
    campaign = make_campaign(2, start=False)
    other = MembershipFactory(client=aldeamo_number().client, role="admin").user
    api = api_as(other)
    assert api.get(f"/api/v1/campaigns/{campaign.pk}/").status_code == 404
    assert api.post(f"/api/v1/campaigns/{campaign.pk}/pause/").status_code == 404
    assert api.get(f"/api/v1/campaigns/{campaign.pk}/report/").status_code == 404
    assert api.get("/api/v1/campaigns/").json()["count"] == 0
    # Nor can they use this tenant's number or template.
    template = campaign.template
    response = create_json(api, number, template)
    assert response.status_code == 400 and "phone_number" in response.json()

    viewer = MembershipFactory(client=number.client, role="viewer").user
    api = api_as(viewer)
    assert api.get(f"/api/v1/campaigns/{campaign.pk}/").status_code == 200
    assert api.post(f"/api/v1/campaigns/{campaign.pk}/start/").status_code == 403
    assert create_json(api, number, template).status_code == 403


def test_another_tenants_template_is_refused_as_unknown_even_with_an_own_number(api_as, template):
    """Their own sender, this tenant's template: the answer of a template that does not exist (no oracle)."""
    own_number = aldeamo_number()
    intruder = MembershipFactory(client=own_number.client, role="admin").user
    api = api_as(intruder)
    missing = TemplateFactory.build(pk=template.pk + 1000)

    response = create_json(api, own_number, template)
    nowhere = create_json(api, own_number, missing)

    assert response.status_code == nowhere.status_code == 400
    body = response.json()
    assert "template" in body and "phone_number" not in body
    assert str(body).replace(str(template.pk), "<pk>") == str(nowhere.json()).replace(str(missing.pk), "<pk>")
    assert template.name not in response.content.decode()
    assert not Campaign.objects.exists()


def test_list_query_count_does_not_grow(client_api, number, agent, django_assert_max_num_queries, fake_send):
    from campaigns import services

    template = TemplateFactory(waba=number.waba, components=[{"type": "BODY", "text": "Hola {{1}}"}])

    def make(n):
        for i in range(n):
            campaign = services.campaign_create_with_recipients(
                actor=agent, phone_number=number, template=template, name=f"c{i}",
                recipients=[{"phone": "573000000001", "variables": {"body_1": "x"}}])
            services.campaign_report_seen(actor=agent, campaign=campaign)
            services.campaign_start(actor=agent, campaign=campaign)

    make(2)
    with django_assert_max_num_queries(12) as few:
        assert client_api.get("/api/v1/campaigns/").json()["count"] == 2
    make(8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client_api.get("/api/v1/campaigns/")
    assert response.json()["count"] == 10
    assert all(item["counts"]["queued"] == 1 for item in response.json()["results"])


def test_retry_failed_endpoint(client_api, make_campaign, fake_send):
    from messaging.models import MessageStatus

    campaign = make_campaign(3)
    fake_send.outcome = lambda to: (MessageStatus.FAILED, "131026", "undeliverable")
    work(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED  # 3 failures: under the threshold (10 of 50)
    response = client_api.post(f"/api/v1/campaigns/{campaign.pk}/retry-failed/", {}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["recipient_count"] == 3 and response.json()["source_campaign"] == campaign.pk


def test_schema_lists_the_campaign_endpoints(client):
    paths = client.get("/api/schema/?format=json").json()["paths"]
    for path in ["/api/v1/campaigns/", "/api/v1/campaigns/{id}/", "/api/v1/campaigns/{id}/start/",
                 "/api/v1/campaigns/{id}/pause/", "/api/v1/campaigns/{id}/resume/", "/api/v1/campaigns/{id}/cancel/",
                 "/api/v1/campaigns/{id}/report/"]:
        assert path in paths, path
