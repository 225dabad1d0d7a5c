"""The thread's contact panel in Chromium: an agent tags and untags the customer without leaving the conversation
(htmx swaps the panel), typed attributes read in the page's language, and the panel fits at 1,366 and 390 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_workspace_browser import BUSINESS, PHONE, login, new_page, staff  # noqa: F401
from tests.browser.test_workspace_tour import fits

CUSTOMER = "573137004444"


@pytest.mark.django_db(transaction=True)
def test_an_agent_tags_the_customer_from_the_thread_panel(new_page, demo):  # noqa: F811
    from django.utils import timezone

    from accounts.models import PhoneNumber
    from campaigns.models import Campaign, CampaignStatus, RecipientState
    from contacts.models import AttributeDefinition, AttributeKind
    from messaging.models import Conversation
    from messaging.webhooks.process import webhook_events_process
    from sandbox.replies import sandbox_customer_reply
    from templates_mgr.models import Template

    staff("sofia", "agent")
    number = PhoneNumber.objects.get(digits=BUSINESS)
    sandbox_customer_reply(phone_number=BUSINESS, from_number=CUSTOMER, type="text")
    webhook_events_process()
    conversation = Conversation.objects.get(contact__wa_id=CUSTOMER)
    AttributeDefinition.objects.create(client=number.client, key="spent", label="Spent", kind=AttributeKind.NUMBER)
    AttributeDefinition.objects.create(client=number.client, key="birthday", label="Birthday",
                                       kind=AttributeKind.DATE)
    contact = conversation.contact
    contact.attributes, contact.language = {"spent": 1234567.5, "birthday": "1990-03-07"}, "es"
    contact.save()
    now = timezone.now()
    campaign = Campaign.objects.create(client=number.client, phone_number=number, name="Black Friday",
                                       template=Template.objects.filter(client=number.client).first(),
                                       status=CampaignStatus.COMPLETED, started_at=now, finished_at=now)
    campaign.recipients.create(row_number=1, phone=CUSTOMER, state=RecipientState.READ, finished_at=now)

    page = new_page()
    login(page, demo.url, "sofia")
    page.goto(f"{demo.url}/c/{conversation.pk}/")
    panel = page.locator("#ws-contact")
    expect(panel.locator("[data-attribute=spent]")).to_have_text("1,234,567.5")
    expect(panel.locator("[data-attribute=birthday]")).to_have_text("Mar 7, 1990")
    expect(panel.locator(f"[data-campaign='{campaign.pk}'] a")).to_have_attribute("href", f"/campaigns/{campaign.pk}/")
    expect(panel.locator(f"[data-campaign='{campaign.pk}']")).to_contain_text("Read")
    panel.locator("#ws-contact-tag-form input[name=tag]").fill("vip")
    panel.locator("#ws-contact-tag-form button").click()
    expect(page.locator("#ws-contact [data-tag=vip]")).to_be_visible()
    assert list(contact.tags.values_list("name", flat=True)) == ["vip"]
    page.locator("#ws-contact-tag-form input[name=tag]").fill("mayorista")
    page.locator("#ws-contact-tag-form button").click()
    expect(page.locator("#ws-contact [data-tag=mayorista]")).to_be_visible()
    page.locator("#ws-contact [data-tag=mayorista] .ws-contact-untag").click()
    expect(page.locator("#ws-contact [data-tag=mayorista]")).to_have_count(0)
    assert list(contact.tags.values_list("name", flat=True)) == ["vip"]
    assert page.url.endswith(f"/c/{conversation.pk}/")  # never left the thread
    fits(page, "thread panel")
    panel.scroll_into_view_if_needed()
    screenshot(page, "workspace-thread-panel-1366")
    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.locator("#ws-contact [data-tag=vip]")).to_be_visible()
    fits(page, "thread panel")
    screenshot(page, "workspace-thread-panel-390")
