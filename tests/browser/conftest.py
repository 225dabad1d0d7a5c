"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Marked ``browser``; skipped (with the reason) when Chromium is not installed,
so a developer without it still runs everything else. CI installs it.
Screenshots go to ``test-artifacts/``; with ``UPDATE_SCREENSHOTS=1`` the README's
are also copied into ``docs/screenshots/`` (commit them deliberately).
"""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

# Playwright's sync API runs an event loop in this thread; the ORM calls the
# tests make around it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is required in CI but was not found at {CHROMIUM}")
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.console_errors = errors
    yield page
    context.close()


def screenshot(page, name: str, *, readme: bool = False) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if readme and os.environ.get("UPDATE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, SCREENSHOTS / f"{name}.png")
    return path


def admin_login(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


@pytest.fixture
def demo(live_server, django_user_model):
    """The demo world aimed at the live server: sandbox provisioned, both accounts synced, an admin ``ana``."""
    from django.core.management import call_command

    django_user_model.objects.create_superuser("ana", "ana@example.com", "pass-word-123")
    from sandbox.models import SandboxAccount

    call_command("demo_setup", base_url=live_server.url, history_days=1, stdout=open(os.devnull, "w"))
    # Deterministic customers: every message is delivered and read, nobody answers on their own.
    SandboxAccount.objects.update(failed_share=0, read_share=1, reply_share=0, duplicate_share=0, reorder_share=0)
    return live_server


def pump(rounds: int = 2) -> None:
    """Do the background workers' job now: the sandbox posts what is due, the portal processes it."""
    from datetime import timedelta

    from django.utils import timezone

    from messaging.webhooks.process import webhook_events_process
    from sandbox.delivery import sandbox_deliver_due

    for _ in range(rounds):
        sandbox_deliver_due(now=timezone.now() + timedelta(hours=1))
        webhook_events_process()


def htmx_settled(page) -> None:
    """Wait until htmx has settled what it swapped in: new content gets its triggers then (about 20 ms after the
    swap), and keys typed before that are not heard -- a person never types that fast, a test does."""
    from playwright.sync_api import expect

    expect(page.locator(".htmx-added, .htmx-settling, .htmx-swapping, .htmx-request")).to_have_count(0)
