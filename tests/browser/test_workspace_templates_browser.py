"""Issue 22 in Chromium: a client admin builds a template in the workspace (WhatsApp's rules checked while typing),
watches its status change live when the provider's webhook arrives, and opens the analytics charts."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import pump, screenshot

WABA = "236928178367012"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


def client_admin(username: str):
    from django.contrib.auth import get_user_model

    from accounts.models import Membership, WhatsAppBusinessAccount

    user = get_user_model().objects.create_user(username, f"{username}@example.com", "pass-word-123", is_staff=True,
                                                first_name=username.capitalize())
    Membership.objects.create(user=user, client=WhatsAppBusinessAccount.objects.get(waba_id=WABA).client,
                              role="admin")
    return user


def login(page, url: str, username: str) -> None:
    page.goto(f"{url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-word-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def both_sizes(page, name: str) -> None:
    page.set_viewport_size(DESKTOP)
    screenshot(page, f"{name}-1366")  # the README's are the tour's
    page.set_viewport_size(PHONE)
    screenshot(page, f"{name}-390")
    page.set_viewport_size(DESKTOP)


@pytest.mark.django_db(transaction=True)
def test_admin_builds_with_live_checks_sees_the_status_change_live_and_opens_analytics(browser, demo):
    from accounts.models import WhatsAppBusinessAccount
    from analytics.daily import analytics_sync_recent
    from templates_mgr.models import Template, TemplateStatus

    client_admin("valeria")
    waba = WhatsAppBusinessAccount.objects.get(waba_id=WABA)
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        login(page, demo.url, "valeria")
        page.click("[data-nav=templates]")
        page.wait_for_url(f"{demo.url}/templates/")
        expect(page.locator("#template-list")).to_be_visible()
        both_sizes(page, "workspace-templates")

        # The builder: a body whose variable comes first is refused while typing, before any submit.
        page.click("#template-new")
        page.wait_for_url(f"{demo.url}/templates/new/")
        page.select_option("#id_waba", str(waba.pk))
        page.fill("#id_name", "aviso_listo")
        page.select_option("#id_category", "UTILITY")
        page.locator("#id_body_text").press_sequentially("{{1}} tu pedido está listo")
        error = page.locator("#check-body_text .ws-field-error")
        expect(error).to_be_visible(timeout=5_000)
        expect(page.locator("#ws-check-state")).to_have_attribute("data-state", "problems")
        assert page.url == f"{demo.url}/templates/new/"
        screenshot(page, "workspace-template-builder-error")

        # Fixed: the error goes away while typing, and the preview shows the example.
        page.fill("#id_body_text", "")
        page.locator("#id_body_text").press_sequentially("Hola {{1}}, tu pedido está listo.")
        page.fill("#id_body_example_1", "José")
        expect(error).to_have_count(0, timeout=5_000)
        expect(page.locator("#ws-check-state")).to_have_attribute("data-state", "ok")
        expect(page.locator("#wa-preview-body")).to_contain_text("Hola José")
        both_sizes(page, "workspace-template-builder")

        page.click("#wa-submit")
        template = Template.objects.get(waba=waba, name="aviso_listo")
        page.wait_for_url(f"{demo.url}/templates/{template.pk}/")
        assert template.status == TemplateStatus.PENDING
        expect(page.locator("#template-status-badge")).to_have_text("Pending")
        expect(page.locator("#wa-preview-body")).to_contain_text("tu pedido está listo")
        page.evaluate("window.wsNotReloaded = true")

        # The sandbox reviews it and posts message_template_status_update to the portal's webhook.
        pump()
        template.refresh_from_db()
        assert template.status == TemplateStatus.APPROVED
        expect(page.locator("#template-status-badge")).to_have_text("Approved", timeout=4_000)
        assert page.evaluate("window.wsNotReloaded") is True
        expect(page.locator("#template-history")).to_contain_text("Approved")
        screenshot(page, "workspace-template-1366")
        page.set_viewport_size(PHONE)
        screenshot(page, "workspace-template-390")
        page.set_viewport_size(DESKTOP)

        # Analytics: the sandbox's history synced, charted in the workspace frame.
        report = analytics_sync_recent(days=3, granularities=["DAILY"])
        assert report.errors == []
        page.click("[data-nav=analytics]")
        page.wait_for_url(f"{demo.url}/analytics/")
        page.wait_for_selector("body[data-charts-ready=true]")
        for chart in ("over-time", "by-country", "by-number"):
            assert page.get_attribute(f"#wa-chart-{chart}", "data-drawn") == "true", chart
        assert int(page.get_attribute("#wa-chart-over-time", "data-total")) > 0
        both_sizes(page, "workspace-analytics")
        assert not [e for e in errors if "Content Security Policy" in e or "htmx" in e], errors
    finally:
        context.close()
