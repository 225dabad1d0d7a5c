"""Issue 7 end to end in Chromium: an agent uploads a CSV, reads the dry-run report, starts the campaign
against the sandbox (served by the live server), and watches the bar move to the end without reloading."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from playwright.sync_api import expect

from tests.browser.conftest import admin_login, pump, screenshot

pytestmark = pytest.mark.browser

BUSINESS = "573245550101"


def csv_file(tmp_path, rows: int):
    path = tmp_path / "pedidos.csv"
    lines = ["phone,cliente,pedido"] + [f"31370{i:05d},Cliente {i},#{1000 + i}" for i in range(rows)]
    lines += ["12345,Nadie,#0", f"31370{0:05d},Repetido,#1"]  # a bad number and a duplicate
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_worker(campaign_id: int) -> None:
    """The db_worker's job, in a thread with its own connection, while the page watches."""
    from campaigns import runner
    from campaigns.models import Campaign

    try:
        generation = Campaign.objects.values_list("generation", flat=True).get(pk=campaign_id)
        while runner.campaign_work(campaign_id=campaign_id, generation=generation, worker_id="browser-test",
                                   budget_seconds=1).again:
            pass
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_agent_uploads_checks_starts_and_watches_the_campaign(page, demo, tmp_path, settings):
    from accounts.models import PhoneNumber
    from campaigns.models import Campaign
    from templates_mgr.models import Template

    settings.CAMPAIGN_COUNTS_MAX_AGE = 0.5
    number = PhoneNumber.objects.get(digits=BUSINESS)
    template = Template.objects.get(waba=number.waba, name="order_update")
    admin_login(page, demo, "ana", "pass-word-123")

    page.goto(f"{demo.url}/admin/campaigns/campaign/add/")
    page.fill("#id_name", "Pedidos enviados")
    page.select_option("#id_phone_number", str(number.pk))
    page.select_option("#id_template", str(template.pk))
    page.fill("#id_pace", "10")
    page.set_input_files("#id_file", str(csv_file(tmp_path, 30)))
    page.click("#wa-campaign-next")

    page.select_option("#id_phone_column", "phone")
    page.select_option("#id_column__body_1", "cliente")
    page.select_option("#id_column__body_2", "pedido")
    screenshot(page, "campaign-mapping")
    page.click("#wa-campaign-check")

    expect(page.locator("#wa-report-sendable")).to_have_text("30")
    expect(page.locator("#wa-report-skipped")).to_have_text("2")
    expect(page.locator("#wa-report-issues")).to_contain_text("Duplicate number")
    expect(page.locator("#wa-report-issues")).to_contain_text("Not a valid phone number")
    screenshot(page, "campaign-report")
    page.click("#wa-campaign-start")

    expect(page.locator("#wa-status")).to_have_text("Sending")
    campaign = Campaign.objects.get(name="Pedidos enviados")
    worker = threading.Thread(target=run_worker, args=(campaign.pk,))
    worker.start()
    # 30 messages at 10 per second: the bar moves while we watch, then reaches the end.
    expect(page.locator("#wa-percent")).not_to_have_text("0%", timeout=15_000)
    expect(page.locator("#wa-percent")).to_have_text("100%", timeout=30_000)
    worker.join(timeout=30)
    expect(page.locator("#wa-status")).to_have_text("Completed", timeout=15_000)
    pump()
    expect(page.locator('[data-count="read"]')).to_have_text("30", timeout=20_000)
    expect(page.locator('.wa-camp-bar-big rect[data-seg="read"]')).to_have_attribute("width", "100")
    page.wait_for_timeout(800)  # let the bar's transition finish for the picture
    screenshot(page, "campaign-progress", readme=True)
    page.goto(f"{demo.url}/admin/campaigns/campaign/")
    expect(page.locator("#result_list")).to_contain_text("100%")
    screenshot(page, "campaign-list")
    assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors
