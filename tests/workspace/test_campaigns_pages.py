"""The workspace's campaigns pages: list, wizard, a campaign's page, its controls and export, by role."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from django.utils import translation

from accounts.models import Role, UserProfile
from campaigns import services, tracking
from campaigns.models import Campaign, CampaignRecipient, CampaignStatus, RecipientState
from tests.factories import PhoneNumberFactory, TemplateFactory
from tests.messaging.factories import member

pytestmark = pytest.mark.django_db

FINISHED = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)  # 10:00 in Bogotá


@pytest.fixture(autouse=True)
def _english(settings, tmp_path):
    settings.LANGUAGE_CODE = "en"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CAMPAIGN_COUNTS_MAX_AGE = 0
    yield
    translation.activate("en")


@pytest.fixture
def browser(client):
    def as_user(user, language: str = "en"):
        client.force_login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
        return client

    return as_user


@pytest.fixture
def operator(django_user_model):
    return django_user_model.objects.create_superuser("op", "op@example.com", "pass-word-123")


@pytest.fixture
def template(number):
    return TemplateFactory(waba=number.waba, client=number.client, name="promo_marzo",
                           components=[{"type": "BODY", "text": "Hola {{1}}"}])


def finished_campaign(number, template, *, name="Promo marzo", failed: int = 1, sent: int = 2) -> Campaign:
    """A completed campaign: ``sent`` recipients sent, ``failed`` failed (131026: not on WhatsApp)."""
    campaign = Campaign.objects.create(client=number.client, phone_number=number, template=template, name=name,
                                       status=CampaignStatus.COMPLETED, started_at=FINISHED, finished_at=FINISHED)
    row = 0
    for state, count in ((RecipientState.SENT, sent), (RecipientState.FAILED, failed)):
        for _i in range(count):
            row += 1
            CampaignRecipient.objects.create(
                campaign=campaign, row_number=row, phone=f"5730000{row:05d}", state=state, finished_at=FINISHED,
                variables={"body_1": f"Cliente {row}"},
                error_code="131026" if state == RecipientState.FAILED else "")
    tracking.campaign_counts_cache(campaign=campaign)
    return campaign


def links(content: bytes) -> list[str]:
    return [href.decode() for href in re.findall(rb'href="(/[^"]*)"', content) if not href.startswith(b"/static/")]


def test_every_page_renders_for_every_role_and_links_only_to_allowed_pages(browser, number, template, viewer, agent,
                                                                           admin_user, operator):
    done = finished_campaign(number, template)
    running = finished_campaign(number, template, name="Running one", failed=0)
    running.status = CampaignStatus.RUNNING
    running.save(update_fields=["status"])
    checked = services.campaign_create_with_recipients(
        actor=admin_user, phone_number=number, template=template, name="Checked one",
        recipients=[{"phone": "573001112233", "variables": {"body_1": "x"}}, {"phone": "12", "variables": {}}])
    for user in (viewer, agent, admin_user, operator):
        client = browser(user)
        home = client.get("/")
        assert b'data-nav="campaigns"' in home.content and b'href="/campaigns/"' in home.content
        seen, todo = set(), ["/campaigns/", f"/campaigns/{done.pk}/", f"/campaigns/{running.pk}/",
                             f"/campaigns/{checked.pk}/"]
        while todo:
            url = todo.pop()
            if url in seen or not url.startswith("/campaigns/"):
                continue
            seen.add(url)
            page = client.get(url, follow=True)
            assert page.status_code == 200, (user, url, page.status_code)
            if page["Content-Type"].startswith("text/html"):
                todo += links(page.content)
        assert f"/campaigns/{done.pk}/export/" in seen and f"/campaigns/{done.pk}/report/" not in seen
        may_run = user != viewer
        assert ("/campaigns/new/" in seen) == may_run
        detail = client.get(f"/campaigns/{done.pk}/").content
        assert (b'id="wa-campaign-retry"' in detail) == may_run
        assert (b"/do/pause/" in client.get(f"/campaigns/{running.pk}/").content) == may_run
        report = client.get(f"/campaigns/{checked.pk}/report/").content
        assert b"Not a valid phone number" in report and (b'id="wa-campaign-start"' in report) == may_run
    assert browser(viewer).get("/campaigns/new/").status_code == 403


def test_campaigns_left_settings_and_the_admin_pages_still_work(browser, number, template, agent, operator):
    campaign = finished_campaign(number, template)
    assert b"/admin/campaigns/" not in browser(agent).get("/settings/").content
    client = browser(operator)
    assert b"/admin/campaigns/" not in client.get("/settings/").content
    assert client.get("/admin/campaigns/campaign/").status_code == 200
    assert client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/").status_code == 200


def test_another_clients_campaign_is_a_404(browser, template, number, agent):
    theirs = finished_campaign(PhoneNumberFactory(), TemplateFactory())
    client = browser(agent)
    for suffix in ("", "report/", "mapping/", "progress/", "export/"):
        assert client.get(f"/campaigns/{theirs.pk}/{suffix}").status_code == 404, suffix
    assert client.post(f"/campaigns/{theirs.pk}/do/cancel/").status_code == 404
    assert b"data-campaign=" not in client.get("/campaigns/").content


def test_the_list_filters_pages_and_reads_in_a_fixed_number_of_queries(browser, number, template, agent,
                                                                      django_assert_max_num_queries):
    for i in range(40):
        finished_campaign(number, template, name=f"Campaign {i:02d}", sent=1, failed=0)
    scheduled = finished_campaign(number, template, name="Later", sent=0, failed=0)
    scheduled.status, scheduled.start_at = CampaignStatus.SCHEDULED, FINISHED
    scheduled.save(update_fields=["status", "start_at"])
    client = browser(agent)
    client.get("/campaigns/")  # warm the session and caches
    with django_assert_max_num_queries(16):
        page = client.get("/campaigns/")
    assert page.status_code == 200 and page.content.count(b"data-campaign=") == 25
    assert b"Page 1 of 2 (41 campaigns)" in page.content and b"100%" in page.content
    filtered = client.get("/campaigns/?status=scheduled").content.decode()
    assert filtered.count("data-campaign=") == 1 and "Later" in filtered
    assert "Mar 1, 2026, 10:00" in filtered  # 15:00 UTC in the user's zone (Bogotá), the English format
    assert client.get("/campaigns/?page=2").content.count(b"data-campaign=") == 16
    assert client.get("/campaigns/?status=nonsense&page=x").status_code == 200


def test_an_agent_creates_maps_checks_and_starts_a_campaign(browser, number, template, agent, tmp_path):
    client = browser(agent)
    upload = io.BytesIO(b"telefono,nombre\n3001234567,Ana\n3009876543,Beto\n123,Nadie\n")
    upload.name = "lista.csv"
    response = client.post("/campaigns/new/", {
        "name": "Bienvenida", "phone_number": number.pk, "template": template.pk, "pace": 10,
        "default_country": "CO", "file": upload})
    campaign = Campaign.objects.get(name="Bienvenida")
    assert response.status_code == 302 and response["Location"] == f"/campaigns/{campaign.pk}/mapping/"
    mapping = client.get(response["Location"])
    assert mapping.status_code == 200 and b"telefono" in mapping.content
    response = client.post(f"/campaigns/{campaign.pk}/mapping/", {"phone_column": "telefono",
                                                                   "column__body_1": "nombre"})
    assert response["Location"] == f"/campaigns/{campaign.pk}/report/"
    report = client.get(response["Location"]).content.decode()
    assert 'id="wa-report-sendable"><strong>2<' in report and "Not a valid phone number" in report
    assert f"/campaigns/{campaign.pk}/do/start/" in report
    response = client.post(f"/campaigns/{campaign.pk}/do/start/")
    assert response["Location"] == f"/campaigns/{campaign.pk}/"
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING
    page = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "The campaign started." in page and f'data-progress-url="/campaigns/{campaign.pk}/progress/"' in page
    progress = client.get(f"/campaigns/{campaign.pk}/progress/").json()
    assert progress["status"] == "running" and progress["total"] == 2


def test_errors_name_the_field(browser, number, template, agent):
    client = browser(agent)
    response = client.post("/campaigns/new/", {"name": "", "phone_number": number.pk, "template": template.pk,
                                               "pace": 10, "default_country": "CO"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'href="#id_name">Name</a>: This field is required.' in page
    assert 'href="#id_file">Recipients (CSV)</a>: Upload a CSV file or pick a segment' in page
    campaign = finished_campaign(number, template, failed=0)
    response = client.post(f"/campaigns/{campaign.pk}/do/pause/")  # a completed campaign cannot pause
    assert response.status_code == 302
    assert b'class="ws-message ws-message-error"' in client.get(response["Location"]).content


def test_retry_is_offered_only_when_some_recipient_failed(browser, number, template, agent):
    clean = finished_campaign(number, template, name="Clean", failed=0)
    failing = finished_campaign(number, template, name="Failing", failed=2)
    client = browser(agent)
    clean_page = client.get(f"/campaigns/{clean.pk}/").content.decode()
    assert re.search(r'data-needs-failures="1" hidden>', clean_page)
    failing_page = client.get(f"/campaigns/{failing.pk}/").content.decode()
    assert re.search(r'data-needs-failures="1">', failing_page)
    assert "not on WhatsApp" in failing_page or "WhatsApp" in failing_page  # the reason in words, not 131026
    assert client.get(f"/campaigns/{failing.pk}/progress/").json()["counts"]["failed"] == 2
    response = client.post(f"/campaigns/{failing.pk}/do/retry/")
    follow_up = Campaign.objects.get(source_campaign=failing)
    assert response["Location"] == f"/campaigns/{follow_up.pk}/report/" and follow_up.recipient_count == 2


def test_a_viewer_reads_but_cannot_act(browser, number, template, viewer):
    campaign = finished_campaign(number, template)
    campaign.status = CampaignStatus.RUNNING
    campaign.save(update_fields=["status"])
    client = browser(viewer)
    assert client.post(f"/campaigns/{campaign.pk}/do/pause/").status_code == 403
    assert client.post("/campaigns/new/", {"name": "x"}).status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING


def test_status_words_are_translated(browser, number, template, agent):
    campaign = finished_campaign(number, template)
    with translation.override("es"):
        expected = campaign.get_status_display()
    assert expected != "Completed"
    page = browser(agent, "es").get(f"/campaigns/{campaign.pk}/").content.decode()
    assert f'id="wa-status">{expected}<' in page


def test_the_export_speaks_the_users_language_and_zone(browser, number, template):
    user = member(number, Role.AGENT)
    UserProfile.objects.create(user=user, time_zone="America/Bogota")
    campaign = finished_campaign(number, template)
    response = browser(user, "es").get(f"/campaigns/{campaign.pk}/export/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    raw = b"".join(response.streaming_content).decode("utf-8")
    assert raw.startswith("\ufeff")  # Excel reads the accents
    rows = list(csv.reader(io.StringIO(raw.lstrip("\ufeff")), delimiter=";"))  # Excel in Spanish splits on ";"
    header = rows[0]
    assert header[:3] == ["Fila", "Teléfono", "Estado"]
    assert any(cell.endswith("(America/Bogota)") for cell in header)
    sent_at = next(i for i, cell in enumerate(header) if cell.endswith("(America/Bogota)"))
    assert rows[1][sent_at] == "2026-03-01 10:00:00"
    assert rows[1][2] == "Enviado" and rows[3][2] == "Fallido"
    error = header.index("Error")
    assert rows[3][error] and "131026" not in rows[3][error]  # the reason in words


def test_the_api_export_keeps_its_keys_and_takes_the_zone(number, template, agent, client):
    UserProfile.objects.create(user=agent, time_zone="America/Bogota")
    campaign = finished_campaign(number, template)
    client.force_login(agent)
    response = client.get(f"/api/v1/campaigns/{campaign.pk}/export/", HTTP_ACCEPT_LANGUAGE="es")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0]["state"] == "sent" and rows[2]["state"] == "failed"
    assert rows[0]["sent_at"] == "2026-03-01T10:00:00-05:00"


def test_the_admin_export_is_for_people_too(number, template, operator, client):
    campaign = finished_campaign(number, template)
    client.force_login(operator)
    response = client.get(f"/admin/campaigns/campaign/{campaign.pk}/export/", HTTP_ACCEPT_LANGUAGE="en")
    header = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()[0]
    assert header.startswith("Row,Phone,State")


def test_services_answer_the_same_as_the_pages(number, template, agent):
    """The pages go through the services: a campaign created there is audited like the admin's."""
    campaign = services.campaign_create_with_recipients(
        actor=agent, phone_number=number, template=template, name="Por servicio",
        recipients=[{"phone": "573001112233", "variables": {"body_1": "x"}}])
    assert campaign.status == CampaignStatus.VALIDATED


def test_throttled_by_the_provider_shows_while_it_happens(browser, number, template, agent):
    import time

    from accounts.models import NumberRate

    campaign = finished_campaign(number, template, failed=0)
    campaign.status = CampaignStatus.RUNNING
    campaign.save(update_fields=["status"])
    client = browser(agent)
    assert re.search(r'id="wa-throttled" hidden>', client.get(f"/campaigns/{campaign.pk}/").content.decode())
    NumberRate.objects.update_or_create(phone_number=number, defaults={"throttled_until": time.time() + 60})
    page = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert re.search(r'id="wa-throttled">Throttled by the provider', page)
    assert client.get(f"/campaigns/{campaign.pk}/progress/").json()["throttled"] is True


def test_a_campaign_for_a_segment_goes_straight_to_its_report(browser, number, template, agent):
    from contacts.models import Segment
    from tests.messaging.factories import ContactFactory

    ContactFactory(client=number.client, wa_id="573001230001", profile_name="Ana")
    segment = Segment.objects.create(client=number.client, name="Todos", filters={})
    response = browser(agent).post("/campaigns/new/", {
        "name": "Segmento", "phone_number": number.pk, "template": template.pk, "pace": 10,
        "default_country": "CO", "segment": segment.pk, "attribute_mapping": "body_1=name"})
    campaign = Campaign.objects.get(name="Segmento")
    assert response.status_code == 302 and response["Location"] == f"/campaigns/{campaign.pk}/report/"
    assert campaign.recipient_count == 1
