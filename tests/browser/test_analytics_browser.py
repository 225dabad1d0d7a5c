"""Issue 8 end to end: the sandbox's history synced over HTTP, charted in Chromium, redrawn on a filter change."""

import pytest

from tests.browser.conftest import admin_login, screenshot

CHARTS = "/admin/analytics/conversationdatapoint/"


@pytest.mark.django_db(transaction=True)
def test_charts_show_the_sandbox_history_and_redraw_on_a_filter(page, live_server, django_user_model):
    from accounts.services import provider_account_create, provider_account_sync
    from analytics.daily import analytics_sync_recent
    from analytics.models import ConversationDataPoint
    from sandbox.services import sandbox_provision

    django_user_model.objects.create_superuser("ana", "ana@example.com", "pass-word-123")
    creds = sandbox_provision(seed_history_days=12)
    account = provider_account_create(
        actor=None,
        name="Aldeamo via sandbox",
        provider="aldeamo",
        base_url=f"{live_server.url}/sandbox/aldeamo",
        user_id=creds.aldeamo_user_id,
        api_key=creds.aldeamo_api_key,
        analytics_token=creds.aldeamo_token,
    )
    inventory = provider_account_sync(account=account)
    assert inventory.wabas == 3
    report = analytics_sync_recent(days=10, granularities=["DAILY"])
    assert report.errors == [] and ConversationDataPoint.objects.exists()

    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 and "favicon" not in r.url else None)
    admin_login(page, live_server, "ana", "pass-word-123")
    page.goto(f"{live_server.url}{CHARTS}")
    page.wait_for_selector("body[data-charts-ready=true]")
    for chart in ("over-time", "by-country", "by-number"):
        assert page.get_attribute(f"#wa-chart-{chart}", "data-drawn") == "true", chart
    assert int(page.get_attribute("#wa-chart-over-time", "data-total")) > 0
    assert int(page.get_attribute("#wa-chart-over-time", "data-labels")) == 30
    by_type = int(page.get_attribute("#wa-chart-over-time", "data-datasets"))
    assert page.locator("#wa-totals").inner_text().strip()
    assert not page.locator("#wa-empty").count()

    # Changing a filter reloads with the new query and the charts draw again.
    with page.expect_navigation():
        page.select_option("#id_stack", "conversation_direction")
    page.wait_for_selector("body[data-charts-ready=true]")
    assert "stack=conversation_direction" in page.url
    assert page.get_attribute("#wa-chart-over-time", "data-drawn") == "true"
    by_direction = int(page.get_attribute("#wa-chart-over-time", "data-datasets"))
    assert (by_type, by_direction) != (0, 0) and by_direction <= 3

    # One WABA only: its numbers alone in the ranking.
    waba_value = page.locator("#id_waba option", has_text="236928178367012").get_attribute("value")
    with page.expect_navigation():
        page.select_option("#id_waba", [waba_value])
    page.wait_for_selector("body[data-charts-ready=true]")
    assert page.get_attribute("#wa-chart-by-number", "data-drawn") == "true"
    assert int(page.get_attribute("#wa-chart-by-number", "data-labels")) == 2

    screenshot(page, "analytics", readme=True)
    # The browser's own favicon probe is the only miss allowed; nothing is blocked by the CSP.
    assert failed == [], failed
    errors = [e for e in page.console_errors if not e.startswith("Failed to load resource")]
    assert errors == [], page.console_errors
