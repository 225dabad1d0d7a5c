"""The admin wizard (upload → map → report → start), the live campaign page, the list bars, opt-outs."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.models import Campaign, CampaignStatus
from tests.campaigns.conftest import work
from tests.factories import MembershipFactory
from tests.messaging.factories import aldeamo_number

pytestmark = pytest.mark.django_db

CSV = "telefono,nombre,dia\n3000000001,Ana,lunes\n3000000002,Bob,martes\nxx,Eve,jueves\n"


@pytest.fixture
def staff(client, agent):
    client.force_login(agent)
    return client


def no_inline_code(html: str) -> None:
    """The CSP allows no inline script or style: every <script> has a src, no <style> blocks."""
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or "application/json" in tag, tag
    assert "<style" not in html


def test_wizard_upload_map_report_start(staff, number, template, django_capture_on_commit_callbacks, fake_send):
    add = staff.get(reverse("admin:campaigns_campaign_add"))
    assert add.status_code == 200
    assert template.name in add.content.decode()
    no_inline_code(add.content.decode())

    response = staff.post(reverse("admin:campaigns_campaign_add"), {
        "name": "Citas de mayo", "phone_number": number.pk, "template": template.pk, "pace": 20,
        "default_country": "CO", "file": SimpleUploadedFile("citas.csv", CSV.encode(), content_type="text/csv"),
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign = Campaign.objects.get(name="Citas de mayo")
    assert response["Location"] == reverse("admin:campaigns_campaign_mapping", args=[campaign.pk])

    mapping = staff.get(response["Location"])
    html = mapping.content.decode()
    assert mapping.status_code == 200 and "telefono" in html and "Body {{1}}" in html
    no_inline_code(html)
    response = staff.post(response["Location"], {
        "phone_column": "telefono", "column__body_1": "nombre", "column__body_2": "", "fixed__body_2": "viernes",
    })
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:campaigns_campaign_report", args=[campaign.pk])
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.VALIDATED and campaign.report_seen_at is None
    assert campaign.variables == {"body_2": "viernes"}

    report = staff.get(response["Location"])
    html = report.content.decode()
    assert report.status_code == 200
    assert 'id="wa-campaign-start"' in html and "Start sending to 2 recipients" in html
    assert "xx" in html and "Not a valid phone number" in html
    no_inline_code(html)
    campaign.refresh_from_db()
    assert campaign.report_seen_at is not None

    with django_capture_on_commit_callbacks(execute=True):
        started = staff.post(reverse("admin:campaigns_campaign_action", args=[campaign.pk, "start"]))
    assert started.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING
    assert not campaign.upload.file  # the uploaded list is deleted once the campaign starts

    work(campaign)
    page = staff.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="wa-campaign"' in html and "campaigns/campaigns.js" in html and "<svg" in html
    assert 'data-count="sent">2<' in html
    no_inline_code(html)

    progress = staff.get(reverse("admin:campaigns_campaign_progress", args=[campaign.pk])).json()
    assert progress["status"] == "completed" and progress["percent"] == 100 and progress["counts"]["sent"] == 2
    assert progress["eta_text"] and progress["status_tone"] == "green"
    rows = fake_send.provider_calls
    assert sorted(rows) == ["573000000001", "573000000002"]


def test_start_button_lives_only_on_the_report(staff, make_campaign):
    campaign = make_campaign(2, start=False)
    Campaign.objects.filter(pk=campaign.pk).update(report_seen_at=None)
    # Opening the campaign sends a person to the report first.
    page = staff.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    assert page.status_code == 302
    assert page["Location"] == reverse("admin:campaigns_campaign_report", args=[campaign.pk])


def test_pause_resume_cancel_buttons(staff, make_campaign, django_capture_on_commit_callbacks):
    campaign = make_campaign(3)
    url = lambda action: reverse("admin:campaigns_campaign_action", args=[campaign.pk, action])  # noqa: E731
    page = staff.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert 'id="wa-campaign-pause"' in page
    staff.post(url("pause"))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED
    progress = staff.get(reverse("admin:campaigns_campaign_progress", args=[campaign.pk])).json()
    assert progress["status"] == "paused" and progress["pause_reason"]
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(url("resume"))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING
    staff.post(url("cancel"))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED
    response = staff.post(url("resume"), follow=True)
    assert "cannot be resumed" in response.content.decode()


def test_export_and_list_bars(staff, make_campaign, fake_send, django_assert_max_num_queries):
    campaign = make_campaign(4)
    work(campaign)
    export = staff.get(reverse("admin:campaigns_campaign_export", args=[campaign.pk]))
    assert export.status_code == 200 and len(b"".join(export.streaming_content).splitlines()) == 5
    changelist = reverse("admin:campaigns_campaign_changelist")
    with django_assert_max_num_queries(30) as one:
        html = staff.get(changelist).content.decode()
    assert "wa-camp-bar" in html and "100%" in html
    no_inline_code(html)
    for _ in range(5):
        make_campaign(2)
    with django_assert_max_num_queries(len(one.captured_queries) + 1):
        assert staff.get(changelist).status_code == 200


def test_other_tenants_and_viewers(client, make_campaign):
    campaign = make_campaign(2)
    stranger = MembershipFactory(client=aldeamo_number().client, role="admin").user
    client.force_login(stranger)
    assert client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).status_code == 404
    assert client.get(reverse("admin:campaigns_campaign_progress", args=[campaign.pk])).status_code == 404
    viewer = MembershipFactory(client=campaign.client, role="viewer").user
    client.force_login(viewer)
    page = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert 'id="wa-campaign-pause"' not in page
    assert client.post(reverse("admin:campaigns_campaign_action", args=[campaign.pk, "pause"])).status_code == 403
    assert client.get(reverse("admin:campaigns_campaign_add")).status_code == 403


def test_wizard_shows_csv_problems_on_the_form(staff, number, template):
    response = staff.post(reverse("admin:campaigns_campaign_add"), {
        "name": "x", "phone_number": number.pk, "template": template.pk, "pace": 20, "default_country": "CO",
        "file": SimpleUploadedFile("e.csv", b"a,a\n1,2\n", content_type="text/csv"),
    })
    assert response.status_code == 200
    assert "Column names must be unique" in response.content.decode()
    assert not Campaign.objects.exists()


def test_delete_a_finished_campaign(staff, make_campaign, fake_send):
    campaign = make_campaign(3)
    delete_url = reverse("admin:campaigns_campaign_delete", args=[campaign.pk])
    assert staff.get(delete_url).status_code == 403  # running: cancel first
    work(campaign)
    page = staff.get(delete_url)
    assert page.status_code == 200 and "3" in page.content.decode()
    assert staff.post(delete_url, {"post": "yes"}).status_code == 302
    assert not Campaign.objects.filter(pk=campaign.pk).exists()


def test_retry_is_offered_only_when_a_recipient_failed(staff, make_campaign, fake_send):
    from messaging.models import MessageStatus

    clean = make_campaign(2)
    work(clean)
    page = staff.get(reverse("admin:campaigns_campaign_change", args=[clean.pk])).content.decode()
    assert 'data-needs-failures="1" hidden' in page

    fake_send.outcome = lambda to: (MessageStatus.FAILED, "131026", "Not a WhatsApp user")
    failing = make_campaign(2)
    work(failing)
    page = staff.get(reverse("admin:campaigns_campaign_change", args=[failing.pk])).content.decode()
    assert 'data-needs-failures="1">' in page and 'id="wa-campaign-retry"' in page
