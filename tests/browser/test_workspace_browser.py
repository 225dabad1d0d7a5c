"""Issue 22 end to end in Chromium: an agent's day in the workspace, against the sandbox on the live server."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import htmx_settled, screenshot

BUSINESS = "573245550101"
CUSTOMER = "573137009911"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


def staff(username: str, role: str):
    from django.contrib.auth import get_user_model

    from accounts.models import Membership, PhoneNumber

    user = get_user_model().objects.create_user(username, f"{username}@example.com", "pass-word-123", is_staff=True,
                                                first_name=username.capitalize())
    Membership.objects.create(user=user, client=PhoneNumber.objects.get(digits=BUSINESS).client, role=role)
    return user


@pytest.fixture
def new_page(browser):
    """Pages in their own contexts, all closed at the end (an open inbox keeps polling the live server)."""
    contexts = []

    def make():
        context = browser.new_context(viewport=DESKTOP, locale="en-US")
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def login(page, url: str, username: str) -> None:
    page.goto(f"{url}/")
    expect(page.locator("#id_username")).to_be_visible()  # anonymous: the login page
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-word-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


@pytest.mark.django_db(transaction=True)
def test_agent_sees_a_new_customer_live_answers_with_a_canned_reply_assigns_and_resolves(new_page, demo):
    from accounts.models import PhoneNumber
    from messaging.models import Conversation
    from messaging.webhooks.process import webhook_events_process
    from sandbox.replies import sandbox_customer_reply
    from workspace.models import CannedResponse

    staff("lucia", "agent")
    staff("mateo", "agent")
    CannedResponse.objects.create(client=PhoneNumber.objects.get(digits=BUSINESS).client, shortcut="gracias",
                                  text="¡Gracias por escribirnos! Ya te ayudamos.")
    page = new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    login(page, demo.url, "lucia")
    expect(page.locator("[data-nav=inbox]")).to_have_attribute("aria-current", "page")

    # A customer writes while the agent watches: the conversation appears without a reload, within 3 s.
    sandbox_customer_reply(phone_number=BUSINESS, from_number=CUSTOMER, type="text")
    webhook_events_process()
    conversation = Conversation.objects.get(contact__wa_id=CUSTOMER)
    row = page.locator(f"#conv-{conversation.pk}")
    expect(row).to_be_visible(timeout=3_000)
    expect(page).to_have_title(__import__("re").compile(r"^\(\d+\) "))  # the unread badge in the title
    screenshot(page, "workspace-inbox-1366")  # test-artifacts; the README's is the tour's
    page.set_viewport_size(PHONE)
    screenshot(page, "workspace-inbox-390")  # test-artifacts; the README's is the tour's
    page.set_viewport_size(DESKTOP)

    row.locator("a").click()
    page.wait_for_url(f"{demo.url}/c/{conversation.pk}/")
    page.locator("#reply-text").press_sequentially("/grac")
    page.locator(".ws-canned[data-shortcut=gracias]").click()
    expect(page.locator("#reply-text")).to_have_value("¡Gracias por escribirnos! Ya te ayudamos.")
    page.click("[data-action=send]")
    expect(page.locator("#timeline")).to_contain_text("Ya te ayudamos", timeout=5_000)
    page.click("[data-action=assign-me]")
    expect(page.locator("[data-assignee]")).to_have_text("Lucia")
    page.click("[data-action=resolve]")
    expect(page.locator("[data-conversation-status]")).to_have_attribute("data-conversation-status", "resolved")
    expect(page.locator("#timeline .ws-activity")).to_have_count(2)
    screenshot(page, "workspace-thread-1366")  # test-artifacts; the README's is the tour's
    page.set_viewport_size(PHONE)
    screenshot(page, "workspace-thread-390")  # test-artifacts; the README's is the tour's
    assert not [error for error in errors if "Content Security Policy" in error or "htmx" in error], errors

    # A second agent sees it resolved and assigned.
    other = new_page()
    login(other, demo.url, "mateo")
    other.goto(f"{demo.url}/?status=resolved")
    expect(other.locator(f"#conv-{conversation.pk}")).to_contain_text("Lucia")
    other.goto(f"{demo.url}/c/{conversation.pk}/")
    expect(other.locator("[data-conversation-status]")).to_have_attribute("data-conversation-status", "resolved")


@pytest.mark.django_db(transaction=True)
def test_closed_window_sends_a_template_from_the_picker_with_its_preview(new_page, demo):
    from datetime import timedelta

    from django.utils import timezone

    from messaging.models import Conversation, Message
    from messaging.webhooks.process import webhook_events_process
    from sandbox.replies import sandbox_customer_reply

    staff("lucia", "agent")
    sandbox_customer_reply(phone_number=BUSINESS, from_number="573137008822", type="text")
    webhook_events_process()
    conversation = Conversation.objects.get(contact__wa_id="573137008822")
    Conversation.objects.filter(pk=conversation.pk).update(last_inbound_at=timezone.now() - timedelta(days=2))
    page = new_page()
    login(page, demo.url, "lucia")
    page.goto(f"{demo.url}/c/{conversation.pk}/")
    expect(page.locator("[data-action=send]")).to_have_count(0)
    page.select_option("#reply-box select[name=template]", label="actualiza_botones (es)")
    expect(page.locator("#template-preview")).to_contain_text("{{1}}")
    htmx_settled(page)
    page.locator("input[name=tpl_body_1]").press_sequentially("Valentina")
    expect(page.locator("#template-preview")).to_contain_text("Valentina")  # the preview follows what is typed
    screenshot(page, "workspace-template-picker-1366")  # test-artifacts; the README's is the tour's
    page.click("[data-action=send-template]")
    expect(page.locator("#timeline .wa-msg-out")).to_have_count(1, timeout=5_000)
    sent = Message.objects.filter(conversation=conversation, direction="out").get()
    assert sent.type == "template" and sent.status in ("sent", "delivered", "read")
    expect(page.locator("#timeline")).to_contain_text("Valentina")
