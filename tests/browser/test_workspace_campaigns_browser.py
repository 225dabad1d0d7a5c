"""Issue 22 in Chromium: a client admin runs a campaign from the workspace (new → match the columns → dry run →
start), watches the bar reach 100 % without reloading, and downloads the export; screenshots at 1,366 and 390 px."""

from __future__ import annotations

import csv
import io
import threading

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import pump, screenshot
from tests.browser.test_campaigns_browser import csv_file, run_worker
from tests.browser.test_workspace_browser import DESKTOP, PHONE, login, staff

pytestmark = pytest.mark.browser

BUSINESS = "573245550101"


@pytest.mark.django_db(transaction=True)
def test_client_admin_creates_starts_watches_and_exports_a_campaign(page, demo, tmp_path, settings):
    from accounts.models import PhoneNumber
    from campaigns.models import Campaign
    from templates_mgr.models import Template

    settings.CAMPAIGN_COUNTS_MAX_AGE = 0.5
    staff("carla", "admin")
    number = PhoneNumber.objects.get(digits=BUSINESS)
    template = Template.objects.get(waba=number.waba, name="order_update")
    page.set_viewport_size(DESKTOP)
    login(page, demo.url, "carla")

    page.click('[data-nav="campaigns"]')
    page.wait_for_url(f"{demo.url}/campaigns/")
    page.click("#campaign-new")
    page.click("#wa-campaign-next")  # nothing filled: the errors name the fields
    expect(page.locator("#ws-form-errors")).to_contain_text("Name")
    expect(page.locator("#ws-form-errors")).to_contain_text("Recipients (CSV)")
    screenshot(page, "workspace-campaign-new-errors")
    page.set_viewport_size(PHONE)
    screenshot(page, "workspace-campaign-new-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.set_viewport_size(DESKTOP)
    page.fill("#id_name", "Pedidos de la semana")
    page.select_option("#id_phone_number", str(number.pk))
    page.select_option("#id_template", str(template.pk))
    page.fill("#id_pace", "10")
    page.set_input_files("#id_file", str(csv_file(tmp_path, 20)))
    page.click("#wa-campaign-next")

    page.select_option("#id_phone_column", "phone")
    page.select_option("#id_column__body_1", "cliente")
    page.select_option("#id_column__body_2", "pedido")
    page.click("#wa-campaign-check")
    expect(page.locator("#wa-report-sendable")).to_have_text("20")
    expect(page.locator("#wa-report-issues")).to_contain_text("Duplicate number")
    screenshot(page, "workspace-campaign-report")
    page.set_viewport_size(PHONE)
    screenshot(page, "workspace-campaign-report-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.set_viewport_size(DESKTOP)
    page.click("#wa-campaign-start")

    expect(page.locator("#wa-status")).to_have_text("Sending")
    campaign = Campaign.objects.get(name="Pedidos de la semana")
    assert page.url == f"{demo.url}/campaigns/{campaign.pk}/"
    worker = threading.Thread(target=run_worker, args=(campaign.pk,))
    worker.start()
    expect(page.locator("#wa-percent")).to_have_text("100%", timeout=30_000)  # no reload: the page polls
    worker.join(timeout=30)
    expect(page.locator("#wa-status")).to_have_text("Completed", timeout=15_000)
    pump()
    expect(page.locator('[data-count="read"]')).to_have_text("20", timeout=20_000)
    expect(page.locator("#wa-campaign-retry")).to_be_hidden()  # nothing failed: no retry offered
    page.wait_for_timeout(800)  # the bar's transition, for the picture
    screenshot(page, "workspace-campaign-1366")  # test-artifacts; the README's is the tour's

    with page.expect_download() as download_info:
        page.click("#wa-campaign-export")
    text = open(download_info.value.path(), encoding="utf-8").read()
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Row", "Phone", "State"] and any("(America/Bogota)" in cell for cell in rows[0])
    assert len(rows) == 1 + 22 and rows[1][2] == "Read"

    page.set_viewport_size(PHONE)
    screenshot(page, "workspace-campaign-390")  # test-artifacts; the README's is the tour's
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.goto(f"{demo.url}/campaigns/")
    expect(page.locator(f'[data-campaign="{campaign.pk}"]')).to_contain_text("100%")
    screenshot(page, "workspace-campaigns-390")  # test-artifacts; the README's is the tour's
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.set_viewport_size(DESKTOP)
    screenshot(page, "workspace-campaigns-1366")  # test-artifacts; the README's is the tour's
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors
