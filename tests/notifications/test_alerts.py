"""Alerts: a template paused by a provider webhook reaches the client's subscribed admins (bell and email, in
their language); repeats are grouped; a campaign paused by the portal and unprocessed events alert too."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client as HttpClient

from accounts.models import Role
from campaigns.models import PauseKind
from notifications import selectors
from notifications.models import Alert, AlertKind, AlertReceipt, AlertSubscription
from notifications.tasks import alert_email_task
from templates_mgr.models import TemplateStatus
from tests.factories import MembershipFactory, TemplateFactory, UserFactory
from tests.messaging.test_ingest import process, store

pytestmark = pytest.mark.django_db


_sent = iter(range(10**6))


def template_event(line, event: str, template_id: int = 777):
    store(line.client.provider_account, {"field": "message_template_status_update", "value": {
        "event": event, "message_template_id": template_id, "message_template_name": "aviso",
        "message_template_language": "es", "other_info": {"n": next(_sent)}}})


@pytest.fixture
def template(line):
    return TemplateFactory(client=line.client, waba=line.waba, provider_template_id="777", name="aviso",
                           language="es", status=TemplateStatus.APPROVED,
                           components=[{"type": "BODY", "text": "Hola {{1}}"}])


def send_emails(captured) -> None:
    """What a task worker does with the alert emails enqueued on commit."""
    for callback in captured:
        callback()
    for alert in Alert.objects.all():
        alert_email_task.call(alert_id=alert.pk)


def test_a_template_paused_by_a_webhook_alerts_the_clients_subscribed_admins(
        line, template, client_admin, django_capture_on_commit_callbacks):
    english = MembershipFactory(client=line.client, role=Role.ADMIN,
                                user=UserFactory(is_staff=True, email="en@example.com")).user
    AlertSubscription.objects.create(user=english, client=line.client, language="en")
    quiet = MembershipFactory(client=line.client, role=Role.ADMIN,
                              user=UserFactory(is_staff=True, email="quiet@example.com")).user
    AlertSubscription.objects.create(user=quiet, client=line.client, is_active=False)
    agent = MembershipFactory(client=line.client, role=Role.AGENT,
                              user=UserFactory(is_staff=True, email="agent@example.com")).user
    other_client_admin = MembershipFactory(role=Role.ADMIN, user=UserFactory(is_staff=True, email="x@example.com"))

    with django_capture_on_commit_callbacks() as captured:
        template_event(line, "PAUSED")
        process()
    send_emails(captured)

    alert = Alert.objects.get()
    assert (alert.client_id, alert.kind, alert.count) == (line.client.pk, AlertKind.TEMPLATE_PAUSED, 1)
    assert set(AlertReceipt.objects.values_list("user_id", flat=True)) == {client_admin.pk, english.pk}
    assert sorted(m.to[0] for m in mail.outbox) == ["admin@example.com", "en@example.com"]
    by_to = {m.to[0]: m for m in mail.outbox}
    assert "was paused by WhatsApp" in by_to["en@example.com"].subject
    assert "fue pausada por WhatsApp" in by_to["admin@example.com"].subject  # the portal's language: Spanish
    assert "aviso" in by_to["admin@example.com"].body
    # The bell: one unread alert for the admins, none for the others.
    assert selectors.alerts_unread_count(user=client_admin) == 1
    assert selectors.alerts_unread_count(user=agent) == 0
    assert selectors.alerts_unread_count(user=other_client_admin.user) == 0
    browser = HttpClient()
    browser.force_login(client_admin)
    page = browser.get("/admin/").content.decode()
    assert 'class="wa-alerts-bell"' in page and "notifications/bell.js" in page
    assert browser.get("/api/v1/alerts/?unread=1&page_size=1").json()["count"] == 1  # what the bell shows
    from django.template import Context, Template
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = client_admin
    rendered = Template("{% load notifications_tags %}{% alerts_bell %}").render(Context({"request": request}))
    assert 'class="wa-alerts-count" data-unread="1"' in rendered  # the workspace's include
    # Sending again changes nothing (each person is emailed once).
    assert alert_email_task.call(alert_id=alert.pk) == 0


def test_ten_pauses_in_a_minute_make_one_grouped_alert(line, template, client_admin,
                                                       django_capture_on_commit_callbacks, fake_clock):
    with django_capture_on_commit_callbacks() as captured:
        for _ in range(10):
            template_event(line, "PAUSED")
            process()
            template_event(line, "UNPAUSED")
            process()
            fake_clock.advance(seconds=5)
    send_emails(captured)
    alert = Alert.objects.get()
    assert alert.count == 10
    assert len(mail.outbox) == 1
    assert selectors.alerts_unread_count(user=client_admin) == 1
    assert "(10 times)" in str(alert) or "(10 veces)" in str(alert)
    # After the window a new pause is a new alert.
    fake_clock.advance(hours=2)
    template_event(line, "PAUSED")
    process()
    assert Alert.objects.count() == 2


def test_rejected_and_category_changes_alert(line, template, client_admin):
    template.status = TemplateStatus.PENDING
    template.save(update_fields=["status"])
    store(line.client.provider_account, {"field": "message_template_status_update", "value": {
        "event": "REJECTED", "message_template_id": 777, "reason": "INVALID_FORMAT"}})
    store(line.client.provider_account, {"field": "template_category_update", "value": {
        "message_template_id": 777, "new_category": "MARKETING", "previous_category": "UTILITY"}})
    process()
    assert set(Alert.objects.values_list("kind", flat=True)) == {AlertKind.TEMPLATE_REJECTED,
                                                                  AlertKind.TEMPLATE_CATEGORY}


def test_a_campaign_paused_by_the_portal_alerts_but_one_paused_by_a_person_does_not(line, template, client_admin):
    from django.utils import timezone

    from campaigns import services as campaign_services
    from campaigns.stops import auto_pause

    campaign = campaign_services.campaign_create_with_recipients(
        actor=client_admin, phone_number=line, template=template, name="Promo",
        recipients=[{"phone": "573001112233", "variables": {"body_1": "x"}}])
    campaign.report_seen_at = timezone.now()
    campaign.save(update_fields=["report_seen_at"])
    campaign = campaign_services.campaign_start(actor=client_admin, campaign=campaign)
    campaign_services.campaign_pause(actor=client_admin, campaign=campaign)
    assert not Alert.objects.exists()
    campaign = campaign_services.campaign_resume(actor=client_admin, campaign=campaign)
    auto_pause(campaign=campaign, kind=PauseKind.AUTH, reason="401")
    alert = Alert.objects.get()
    assert alert.kind == AlertKind.CAMPAIGN_PAUSED and alert.params["pause_kind"] == "auth"


def test_provider_events_that_cannot_be_processed_alert_their_client(line, client_admin):
    from messaging.models import WebhookEvent

    for template_id in (5, 6, 7):
        store(line.client.provider_account, {"field": "template_category_update", "value": {
            "message_template_id": template_id, "new_category": "UTILITY"}})
    process()
    events = list(WebhookEvent.objects.all())
    assert {event.state for event in events} == {WebhookEvent.State.UNPROCESSED}
    attributed = {event.client_id for event in events} == {line.client.pk}
    assert Alert.objects.filter(kind=AlertKind.WEBHOOK_UNPROCESSED).count() == (1 if attributed else 0)

    from notifications.receivers import on_events_unprocessed

    Alert.objects.all().delete()
    for event in events:
        event.client_id = None
    on_events_unprocessed(events=events)
    assert not Alert.objects.exists()  # a raw event is nobody's until attributed
    for event in events:
        event.client_id = line.client.pk
    on_events_unprocessed(events=events)
    on_events_unprocessed(events=events)
    alert = Alert.objects.get()
    assert alert.kind == AlertKind.WEBHOOK_UNPROCESSED and alert.count == 2
    assert alert.receipts.filter(user=client_admin).exists()


def test_a_template_paused_found_by_a_sync_alerts_like_a_webhook(line, template, client_admin, receiver):
    """The scheduled refresh (a sync) finds what no webhook told: the same alert and outgoing event."""
    from notifications import services as notification_services
    from notifications.models import OutboxEvent
    from providers.types import TemplateInfo
    from templates_mgr.services import templates_upsert

    notification_services.webhook_endpoint_create(actor=None, client=line.client, url=receiver.url)
    listed = TemplateInfo(name=template.name, language=template.language, status="PAUSED",
                          category=template.category, id=template.provider_template_id,
                          components=tuple(template.components))
    templates_upsert(client=line.client, waba=line.waba, listed=[listed])
    templates_upsert(client=line.client, waba=line.waba, listed=[listed])  # nothing changed: nothing new

    alert = Alert.objects.get()
    assert (alert.kind, alert.count) == (AlertKind.TEMPLATE_PAUSED, 1)
    assert list(OutboxEvent.objects.values_list("type", flat=True)) == ["template.status"]
