"""Issue 22's reply box in Chromium: an alert when a customer writes, reply to a message, emoji, an image by URL."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_workspace_browser import BUSINESS, DESKTOP, PHONE, login, staff

CUSTOMER = "573137004455"
IMAGE_URL = "https://images.example.com/catalogo-verano.png"

# window.Notification observed: permission "default" until asked, then "granted"; every notification recorded.
NOTIFICATION_STUB = """
(() => {
  const key = "test.notification.permission";
  window.__notifications = [];
  window.__permissionAsked = 0;
  class FakeNotification {
    constructor(title, options) {
      this.title = title;
      this.body = (options || {}).body || "";
      window.__notifications.push({ title: this.title, body: this.body });
    }
    close() {}
    static get permission() { return window.sessionStorage.getItem(key) || "default"; }
    static requestPermission() {
      window.__permissionAsked += 1;
      window.sessionStorage.setItem(key, "granted");
      return Promise.resolve("granted");
    }
  }
  Object.defineProperty(window, "Notification", { value: FakeNotification, configurable: true, writable: true });
  // The chime: Web Audio observed (a headless browser has no speakers to listen to).
  window.__chimes = 0;
  class FakeAudioContext {
    constructor() { this.state = "running"; this.currentTime = 0; this.destination = {}; }
    resume() { return Promise.resolve(); }
    createOscillator() {
      return { type: "", frequency: { value: 0 }, connect: (node) => node, start: () => { window.__chimes += 1; },
               stop: () => {} };
    }
    createGain() {
      return { gain: { setValueAtTime: () => {}, exponentialRampToValueAtTime: () => {} }, connect: (node) => node };
    }
  }
  window.AudioContext = FakeAudioContext;
})();
"""


def wait_until(page, expression: str, timeout_ms: int = 6_000) -> None:
    """Poll ``expression`` from here (page.wait_for_function evaluates strings with eval, which the CSP forbids)."""
    for _ in range(timeout_ms // 100):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"Still false after {timeout_ms} ms: {expression}")


@pytest.fixture
def agent_page(browser):
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    context.grant_permissions(["notifications"])
    context.add_init_script(NOTIFICATION_STUB)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.console_errors = errors
    # The image the agent sends lives on another site: answer it here (the machine has no network).
    from sandbox.media import _png

    page.route(IMAGE_URL, lambda route: route.fulfill(status=200, content_type="image/png",
                                                      body=_png(160, 90, (18, 140, 126))))
    yield page
    context.close()


@pytest.mark.django_db(transaction=True)
def test_agent_is_alerted_replies_to_a_message_with_an_emoji_and_sends_an_image(agent_page, demo):
    from messaging.models import Conversation, Direction, Message
    from messaging.webhooks.process import webhook_events_process
    from sandbox.models import SandboxMessage
    from sandbox.replies import sandbox_customer_reply

    staff("lucia", "agent")
    page = agent_page
    login(page, demo.url, "lucia")

    # The bell asks the browser's permission and stays on.
    toggle = page.locator("#notify-toggle")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(toggle).to_contain_text("Notify me")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(toggle).to_contain_text("Notifications on")
    assert page.evaluate("window.__permissionAsked") == 1
    assert page.evaluate("window.localStorage.getItem('waportal.workspace.notify')") == "1"

    # A new customer writes: the poll brings the row marked as new, and a notification shows (once).
    sandbox_customer_reply(phone_number=BUSINESS, from_number=CUSTOMER, type="text")
    webhook_events_process()
    conversation = Conversation.objects.select_related("contact").get(contact__wa_id=CUSTOMER)
    expect(page.locator(f"#conv-{conversation.pk}")).to_be_visible(timeout=3_000)
    wait_until(page, "window.__notifications.length >= 1", 5_000)
    page.wait_for_timeout(2_500)  # another poll: the overlapping answer alerts nobody twice
    notes = page.evaluate("window.__notifications")
    name = conversation.contact.profile_name or conversation.contact.wa_id
    assert [note["title"] for note in notes] == [name], notes
    assert notes[0]["body"] == conversation.last_message_preview
    assert page.evaluate("window.__chimes") == 2  # one chime: two short tones

    # Reply to that very message: the strip shows it, the send carries its id to the provider.
    asked = Message.objects.get(conversation=conversation, direction=Direction.INBOUND)
    page.locator(f"#conv-{conversation.pk} a").click()
    page.wait_for_url(f"{demo.url}/c/{conversation.pk}/")
    page.click(f"[data-quote='{asked.pk}']")
    expect(page.locator("#reply-quote .ws-quoting")).to_be_visible()
    expect(page.locator("#reply-quote .ws-quoting-text")).not_to_be_empty()
    expect(page.locator("#reply-text")).to_be_focused()

    # An emoji, chosen with the keyboard, goes where the cursor is.
    page.locator("#reply-text").press_sequentially("Claro que sí")
    page.locator("#reply-text").press("Home")
    page.locator("#emoji-picker summary").focus()
    page.keyboard.press("Enter")
    first = page.locator("#emoji-panel .ws-emoji").first
    expect(first).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#emoji-panel .ws-emoji").nth(1)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#reply-text")).to_have_value("😃Claro que sí")
    expect(page.locator("#emoji-picker")).not_to_have_attribute("open", "")
    page.click("[data-action=send]")
    expect(page.locator("#timeline .wa-msg-out .wa-quote")).to_have_count(1, timeout=5_000)
    expect(page.locator("#reply-quote .ws-quoting")).to_have_count(0)
    sent = Message.objects.get(conversation=conversation, direction=Direction.OUTBOUND, type="text")
    assert sent.content["body"] == "😃Claro que sí" and sent.context_id == asked.provider_message_id
    assert SandboxMessage.objects.get(message_id=sent.provider_message_id).context_message_id == sent.context_id

    # An image by URL with a caption: refused while the link is not https, then sent and shown like inbound media.
    page.click("[data-action=attach]")
    page.select_option("#attach-type", "image")
    expect(page.locator("[data-attach-filename]")).to_be_hidden()
    page.fill("#attach-link", IMAGE_URL.replace("https:", "http:"))
    page.fill("#attach-caption", "Catálogo de verano")
    page.click("[data-action=send]")
    expect(page.locator("#reply-box .ws-error")).to_contain_text("File URL (https)")
    expect(page.locator("#attach-caption")).to_have_value("Catálogo de verano")
    page.fill("#attach-link", IMAGE_URL)
    page.click("[data-action=send]")
    image = page.locator(f"#timeline .wa-msg-out img[src='{IMAGE_URL}']")
    expect(image).to_be_visible(timeout=5_000)
    wait_until(page, f"document.querySelector(\"#timeline img[src='{IMAGE_URL}']\").naturalWidth > 0")
    expect(page.locator("#timeline .wa-msg-out").last).to_contain_text("Catálogo de verano")
    picture = Message.objects.get(conversation=conversation, direction=Direction.OUTBOUND, type="image")
    assert picture.content == {"link": IMAGE_URL, "caption": "Catálogo de verano"}

    # The box as an agent sees it while answering: quoting a message, the emoji picker open; on a phone, the
    # attachment panel open.
    page.click(f"[data-quote='{asked.pk}']")
    expect(page.locator("#reply-quote .ws-quoting")).to_be_visible()
    page.click("[data-action=emoji]")
    expect(page.locator("#emoji-panel .ws-emoji").first).to_be_visible()
    screenshot(page, "workspace-reply-1366")  # test-artifacts; the README's is the tour's
    page.keyboard.press("Escape")
    expect(page.locator("#emoji-panel .ws-emoji").first).to_be_hidden()
    page.click("[data-action=attach]")
    page.select_option("#attach-type", "document")
    expect(page.locator("[data-attach-filename]")).to_be_visible()
    screenshot(page, "workspace-reply-attach-1366")  # test-artifacts only
    page.set_viewport_size(PHONE)
    screenshot(page, "workspace-reply-390")  # test-artifacts; the README's is the tour's
    page.set_viewport_size(DESKTOP)
    # On the thread, the bell still hears other customers: the thread's poll brings their news (no request more).
    assert page.evaluate("window.__notifications.length") == 0
    sandbox_customer_reply(phone_number=BUSINESS, from_number="573137006677", type="text")
    webhook_events_process()
    other = Conversation.objects.select_related("contact").get(contact__wa_id="573137006677")
    wait_until(page, "window.__notifications.length >= 1", 6_000)
    assert page.evaluate("window.__notifications[0].title") == (other.contact.profile_name or other.contact.wa_id)
    assert page.evaluate("window.__chimes") == 2  # the sound works after a click on this page too
    assert not [error for error in page.console_errors
                if "Content Security Policy" in error or "htmx" in error], page.console_errors
