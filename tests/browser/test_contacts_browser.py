"""Issue 23 end to end in Chromium: build a segment by tag and attribute and watch its count change while
editing, create a campaign to it, schedule it a few seconds ahead, and watch it start at its time (a worker
thread honours the task's ``run_after`` as the task worker does)."""

from __future__ import annotations

import threading
import time
import zoneinfo
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import admin_login, screenshot

pytestmark = pytest.mark.browser

BUSINESS = "573245550101"


def run_worker_when_due(campaign_id: int) -> None:
    """The task worker's job: run the campaign's task, waiting for its ``run_after`` like the queue does."""
    from campaigns import runner
    from campaigns.models import Campaign

    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            generation = Campaign.objects.values_list("generation", flat=True).get(pk=campaign_id)
            outcome = runner.campaign_work(campaign_id=campaign_id, generation=generation, worker_id="browser-test",
                                           budget_seconds=1)
            if not outcome.again:
                return
            if outcome.run_after is not None:
                time.sleep(max(0.0, (outcome.run_after - timezone.now()).total_seconds()))
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_segment_by_tag_and_attribute_then_a_scheduled_campaign_starts_on_time(page, demo):
    from accounts.models import PhoneNumber
    from campaigns.models import Campaign
    from contacts.models import AttributeDefinition, Tag
    from messaging.models import Contact
    from templates_mgr.models import Template

    number = PhoneNumber.objects.get(digits=BUSINESS)
    client = number.client
    template = Template.objects.get(waba=number.waba, name="order_update")
    AttributeDefinition.objects.create(client=client, key="city", label="City")
    vip = Tag.objects.create(client=client, name="vip")
    for i, city in enumerate(["Cali", "Cali", "Cali", "Lima", "Cali"]):
        contact = Contact.objects.create(client=client, wa_id=f"5731370{i:05d}", profile_name=f"Cliente {i}",
                                         attributes={"city": city})
        if i < 4:
            vip.contacts.add(contact)
    admin_login(page, demo, "ana", "pass-word-123")

    page.goto(f"{demo.url}/admin/contacts/segment/add/")
    page.select_option("#id_client", str(client.pk))
    page.fill("#id_name", "VIP de Cali")
    page.fill("#id_tags", "vip")
    expect(page.locator("#wa-segment-count-value")).to_have_text("4")
    page.fill("#id_attributes", "city=Cali")
    expect(page.locator("#wa-segment-count-value")).to_have_text("3")
    screenshot(page, "segment-live-count")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_be_visible()

    page.goto(f"{demo.url}/admin/campaigns/campaign/add/")
    page.fill("#id_name", "Pedidos VIP")
    page.select_option("#id_phone_number", str(number.pk))
    page.select_option("#id_template", str(template.pk))
    page.select_option("#id_segment", label="VIP de Cali")
    page.fill("#id_attribute_mapping", "body_1=name\nbody_2=city")
    page.click("#wa-campaign-next")
    expect(page.locator("#wa-report-sendable")).to_have_text("3")

    # A few seconds ahead, in the user's zone (the portal's default, Bogotá).
    zone = zoneinfo.ZoneInfo("America/Bogota")
    when = (timezone.now() + timedelta(seconds=8)).astimezone(zone).replace(microsecond=0)
    page.eval_on_selector("#wa-start-at", "(el, v) => { el.step = '1'; el.value = v; }",
                          when.strftime("%Y-%m-%dT%H:%M:%S"))
    page.click("#wa-campaign-start")
    expect(page.locator("#wa-status")).to_have_text("Scheduled")
    campaign = Campaign.objects.get(name="Pedidos VIP")
    assert abs((campaign.start_at - when).total_seconds()) < 1
    worker = threading.Thread(target=run_worker_when_due, args=(campaign.pk,))
    worker.start()
    expect(page.locator("#wa-status")).to_have_text("Completed", timeout=40_000)
    worker.join(timeout=30)
    campaign.refresh_from_db()
    assert campaign.started_at >= when
    screenshot(page, "segment-campaign-completed")
    assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors
