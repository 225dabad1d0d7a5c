"""Issues 5 and 6 end to end in Chromium, against the sandbox served by the live server."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import admin_login, pump, screenshot

BUSINESS = "573245550101"
CUSTOMER = "573137004535"


def compose(page, live_server, **query):
    from accounts.models import PhoneNumber

    number = PhoneNumber.objects.get(digits=BUSINESS)
    params = "&".join(f"{k}={v}" for k, v in {"from": number.pk, "to": CUSTOMER, **query}.items())
    page.goto(f"{live_server.url}/admin/messaging/message/compose/?{params}")


def send_and_watch_read(page, name: str) -> None:
    page.click("#wa-send")
    page.wait_for_url(re.compile(r"/admin/messaging/message/[0-9a-f-]+/change/"))
    expect(page.locator("#wa-status-badge")).to_have_attribute("data-status", re.compile("sent|delivered|read"))
    pump()
    expect(page.locator("#wa-status-badge")).to_have_attribute("data-status", "read", timeout=15_000)
    screenshot(page, f"message-{name}")


@pytest.mark.django_db(transaction=True)
def test_agent_sends_text_image_list_and_template_and_sees_them_read(page, demo):
    from messaging.webhooks.process import webhook_events_process
    from sandbox.replies import sandbox_customer_reply

    # The customer writes first, so the 24-hour window is open for free-form messages.
    sandbox_customer_reply(phone_number=BUSINESS, from_number=CUSTOMER, type="text")
    webhook_events_process()
    admin_login(page, demo, "ana", "pass-word-123")

    compose(page, demo)
    page.select_option("#id_type", "text")
    page.fill("#id_body", "Hola Ana, tu pedido está en camino.")
    expect(page.locator("#wa-preview-bubble")).to_contain_text("tu pedido")
    screenshot(page, "composer", readme=True)
    send_and_watch_read(page, "text")

    compose(page, demo)
    page.select_option("#id_type", "image")
    page.fill("#id_media_link", "https://www.aldeamo.com/wp-content/uploads/2021/07/1.Logo-tell-IT-20.png")
    page.fill("#id_media_caption", "Nuestro logo")
    send_and_watch_read(page, "image")

    compose(page, demo)
    page.select_option("#id_type", "interactive")
    page.select_option("#id_interactive_type", "list")
    page.fill("#id_interactive_body", "¿Qué horario prefieres?")
    page.fill("#id_list_button", "Ver horarios")
    page.fill("#id_list_rows", "Mañana | 8 a 12\nTarde | 14 a 18")
    send_and_watch_read(page, "list")

    compose(page, demo)
    page.select_option("#id_type", "template")
    page.select_option("#id_template", label="actualiza_botones (es)")
    page.fill("#id_tpl_body_1", "Ana")
    send_and_watch_read(page, "template")
    assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors


@pytest.mark.django_db(transaction=True)
def test_customer_reply_appears_in_the_inbox_without_reload_and_agent_answers(page, demo):
    from messaging.models import Conversation, Direction, Message
    from messaging.webhooks.process import webhook_events_process
    from sandbox.replies import sandbox_customer_reply

    sandbox_customer_reply(phone_number=BUSINESS, from_number=CUSTOMER, type="text")
    webhook_events_process()
    conversation = Conversation.objects.get(contact__wa_id=CUSTOMER, phone_number__digits=BUSINESS)
    admin_login(page, demo, "ana", "pass-word-123")
    page.goto(f"{demo.url}/admin/messaging/conversation/")
    expect(page.locator("body")).to_contain_text(CUSTOMER[2:5])
    page.goto(f"{demo.url}/admin/messaging/conversation/inbox/{conversation.pk}/")
    before = page.locator("#wa-messages .wa-msg").count()

    # A new customer message arrives while the agent watches: no reload.
    sandbox_customer_reply(phone_number=BUSINESS, from_number=CUSTOMER, type="location")
    webhook_events_process()
    expect(page.locator("#wa-messages a[href*='openstreetmap']")).to_have_count(1, timeout=15_000)
    assert page.locator("#wa-messages .wa-msg").count() > before

    page.fill("#wa-reply-text", "Gracias, ya vamos para allá.")
    page.click("#wa-reply-send")
    expect(page.locator("#wa-messages")).to_contain_text("ya vamos para allá", timeout=15_000)
    reply = Message.objects.filter(direction=Direction.OUTBOUND, conversation=conversation).latest("created_at")
    assert reply.status in ("sent", "delivered", "read")
    pump()
    screenshot(page, "inbox", readme=True)
