"""The workspace tour (issue 22): every workspace page at 1,366 px and at 390 px (phone), in the demo's world.

One test visits each page a client admin can open (login, inbox, a thread with the reply box, the closed window's
template picker, contacts, a contact, campaigns, a new campaign, a campaign, templates, a template, the builder,
analytics, settings) at both widths, asserts nothing runs off the page sideways (a table may scroll inside its own
box) and, with ``UPDATE_SCREENSHOTS=1``, saves ``docs/screenshots/workspace-<page>-{1366,390}.png`` for the README's
tour. The phone's header is checked too: the "Menu" button opens the task links stacked, the bell and the user
menu stay reachable. Regenerate every picture with one command::

    UPDATE_SCREENSHOTS=1 .venv/bin/python -m pytest tests/browser/test_workspace_tour.py
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import htmx_settled, pump, screenshot
from tests.browser.test_workspace_browser import BUSINESS, DESKTOP, PHONE, login, new_page, staff  # noqa: F401

pytestmark = pytest.mark.browser

CUSTOMER = "573137004455"
LATE_CUSTOMER = "573137004466"

# Elements running off the page (a clipped column, a table wider than the screen): none allowed, except inside a
# container that scrolls sideways on purpose (a wide table in its own box).
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (el) => {
    for (let up = el.parentElement; up; up = up.parentElement) {
      if (['auto', 'scroll'].includes(getComputedStyle(up).overflowX)) return true;
    }
    return false;
  };
  const wide = [...document.querySelectorAll('body *')].filter((el) => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return box.width > 0 && box.right > width + 1 && style.position !== 'fixed' && !el.closest('[hidden]')
      && !scrolls(el);
  }).map((el) => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ')[0] : ''));
  return {scroll: document.documentElement.scrollWidth - width, wide: wide.slice(0, 8)};
}"""


def fits(page, name: str) -> None:
    result = page.evaluate(OVERFLOW)
    assert result["scroll"] <= 1 and not result["wide"], (name, result)


def pictured(page, name: str, label: str) -> None:
    """The page as it stands, at each width: check it fits, save the README's picture."""
    for width, viewport in (("1366", DESKTOP), ("390", PHONE)):
        page.set_viewport_size(viewport)
        fits(page, f"{label} at {width}")
        screenshot(page, f"workspace-{name}-{width}", readme=True)


def both_widths(page, url: str, name: str) -> None:
    """Open ``url`` at each width, check it fits, save the README's picture."""
    for width, viewport in (("1366", DESKTOP), ("390", PHONE)):
        page.set_viewport_size(viewport)
        page.goto(url)
        page.wait_for_load_state("networkidle")
        fits(page, f"{name} at {width}")
        screenshot(page, f"workspace-{name}-{width}", readme=True)


def demo_history(url: str, actor) -> None:
    """The demo's earlier conversations (text, a document, a location, an image) and its finished campaign."""
    import requests

    from sandbox.demo_history import demo_history_seed
    from sandbox.transport import InProcessTransport

    session = requests.Session()
    session.mount(f"{url}/", InProcessTransport())
    try:
        demo_history_seed(actor=actor, session=session)
    finally:
        session.close()


@pytest.mark.django_db(transaction=True)
def test_every_workspace_page_at_desktop_and_phone_widths(new_page, demo):  # noqa: F811
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from analytics.daily import analytics_sync_recent
    from campaigns.models import Campaign
    from messaging.models import Conversation
    from messaging.webhooks.process import webhook_events_process
    from sandbox.models import SandboxWaba
    from sandbox.replies import sandbox_customer_reply
    from sandbox.services_analytics import sandbox_analytics_generate
    from templates_mgr.models import Template
    from workspace.models import Team

    demo_history(demo.url, get_user_model().objects.get(username="ana"))
    pump()  # the campaign's messages delivered and read, as a few minutes later
    carla = staff("carla", "admin")
    team = Team.objects.create(client=carla.memberships.get().client, name="Ventas")
    team.members.set([carla])
    # Two weeks of the provider's analytics (the fixture seeds one day), synced: the charts open full.
    for waba in SandboxWaba.objects.all():
        sandbox_analytics_generate(waba=waba, days=14)
    analytics_sync_recent(days=14, granularities=["DAILY"])
    # A customer who writes in several types (the thread), another whose window is closed (the template picker).
    for customer, kind in ((CUSTOMER, "text"), (CUSTOMER, "image"), (CUSTOMER, "location"), (CUSTOMER, "text"),
                           (LATE_CUSTOMER, "text")):
        sandbox_customer_reply(phone_number=BUSINESS, from_number=customer, type=kind)
        webhook_events_process()
    conversation = Conversation.objects.get(contact__wa_id=CUSTOMER)
    late = Conversation.objects.get(contact__wa_id=LATE_CUSTOMER)  # its window closed: the template picker
    Conversation.objects.filter(pk=late.pk).update(last_inbound_at=timezone.now() - timedelta(days=2))
    campaign = Campaign.objects.filter(phone_number__client__memberships__user=carla).order_by("-pk").first()
    template = Template.objects.filter(waba__phone_numbers__digits=BUSINESS, name="order_update").first()
    assert campaign is not None and template is not None

    page = new_page()
    page.set_viewport_size(DESKTOP)
    page.goto(f"{demo.url}/login/")
    pictured(page, "login", "login")
    page.set_viewport_size(DESKTOP)
    login(page, demo.url, "carla")

    both_widths(page, f"{demo.url}/", "inbox")
    both_widths(page, f"{demo.url}/c/{conversation.pk}/", "thread")
    # The reply box while answering: quoting a message with the emoji picker open; on a phone, attaching by URL.
    page.set_viewport_size(DESKTOP)
    page.click("[data-quote]")
    expect(page.locator("#reply-quote .ws-quoting")).to_be_visible()
    page.locator("#reply-text").press_sequentially("Claro que sí, ")
    page.click("[data-action=emoji]")
    expect(page.locator("#emoji-panel .ws-emoji").first).to_be_visible()
    fits(page, "reply box at 1366")
    screenshot(page, "workspace-reply-1366", readme=True)
    page.keyboard.press("Escape")
    page.click("[data-action=attach]")
    page.select_option("#attach-type", "document")
    page.set_viewport_size(PHONE)
    fits(page, "reply box at 390")
    screenshot(page, "workspace-reply-390", readme=True)
    # The side panel moves the conversation to a team; the history says so.
    page.set_viewport_size(DESKTOP)
    page.goto(f"{demo.url}/c/{conversation.pk}/")
    page.select_option("select[name=team]", str(team.pk))
    page.click("[data-action=assign-team]")
    expect(page.locator("[data-team]")).to_have_text("Ventas")
    pictured(page, "thread-team", "thread with its team")
    # The closed window: the picker with a template chosen, its input filled and the preview following it.
    page.goto(f"{demo.url}/c/{late.pk}/")
    page.select_option("#reply-box select[name=template]", label="actualiza_botones (es)")
    expect(page.locator("#template-preview")).to_contain_text("{{1}}")  # its inputs are in: type into them
    htmx_settled(page)
    page.locator("input[name=tpl_body_1]").press_sequentially("Valentina")
    expect(page.locator("#template-preview")).to_contain_text("Valentina")
    pictured(page, "template-picker", "template picker")
    both_widths(page, f"{demo.url}/contacts/", "contacts")
    both_widths(page, f"{demo.url}/contacts/{conversation.contact_id}/", "contact")
    both_widths(page, f"{demo.url}/campaigns/", "campaigns")
    both_widths(page, f"{demo.url}/campaigns/new/", "campaign-new")
    both_widths(page, f"{demo.url}/campaigns/{campaign.pk}/", "campaign")
    both_widths(page, f"{demo.url}/templates/", "templates")
    both_widths(page, f"{demo.url}/templates/{template.pk}/", "template")
    # The builder half filled: WhatsApp's rules checked while typing, the preview showing the example.
    page.set_viewport_size(DESKTOP)
    page.goto(f"{demo.url}/templates/new/")
    page.select_option("#id_waba", str(template.waba_id))
    page.fill("#id_name", "aviso_listo")
    page.select_option("#id_category", "UTILITY")
    page.locator("#id_body_text").press_sequentially("Hola {{1}}, tu pedido está listo.")
    page.fill("#id_body_example_1", "José")
    expect(page.locator("#ws-check-state")).to_have_attribute("data-state", "ok", timeout=5_000)
    expect(page.locator("#wa-preview-body")).to_contain_text("Hola José")
    pictured(page, "template-builder", "template builder")
    both_widths(page, f"{demo.url}/analytics/", "analytics")
    both_widths(page, f"{demo.url}/settings/", "settings")

    # The phone's header: the task links behind "Menu", stacked; the bell and the user menu stay in the header.
    page.set_viewport_size(PHONE)
    page.goto(f"{demo.url}/")
    expect(page.locator("[data-nav=contacts]")).to_be_hidden()
    expect(page.locator("form[action='/logout/'] button")).to_be_visible()
    page.click(".ws-menu-button")
    links = page.locator(".ws-nav-item")
    expect(page.locator("[data-nav=contacts]")).to_be_visible()
    boxes = [links.nth(i).bounding_box() for i in range(links.count())]
    assert len({round(box["x"]) for box in boxes}) == 1 and len(boxes) >= 6  # stacked, one under the other
    assert all(box["x"] + box["width"] <= PHONE["width"] for box in boxes)
    fits(page, "the open menu at 390")
    screenshot(page, "workspace-menu-390", readme=True)
    page.click("[data-nav=campaigns]")
    page.wait_for_url(f"{demo.url}/campaigns/")
    # On a desktop the links are a row, no "Menu" button.
    page.set_viewport_size(DESKTOP)
    expect(page.locator(".ws-menu-button")).to_be_hidden()
    expect(page.locator("[data-nav=contacts]")).to_be_visible()
    first, last = links.first.bounding_box(), links.last.bounding_box()
    assert first["y"] == last["y"] and last["x"] > first["x"]
    # In Spanish (longer words) the phone's header still fits.
    page.set_viewport_size(PHONE)
    page.context.add_cookies([{"name": "django_language", "value": "es", "url": demo.url}])
    page.goto(f"{demo.url}/")
    expect(page.locator(".ws-menu-button")).to_contain_text("Menú")
    fits(page, "the Spanish header at 390")
