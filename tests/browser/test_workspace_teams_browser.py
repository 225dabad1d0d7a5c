"""Teams in Chromium: round-robin gives a new customer's conversation to the team's next agent, an agent moves a
conversation to a team from the side panel, and the workspace's pages fit at 1,366 px and at 390 px (phone)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_workspace_browser import BUSINESS, DESKTOP, PHONE, login, new_page, staff  # noqa: F401

FIRST_CUSTOMER = "573137001111"
SECOND_CUSTOMER = "573137002222"

# Elements running off the page (a clipped column, a table wider than the screen): none allowed, except inside
# a container that scrolls sideways on purpose (the phone's navigation bar).
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


def fits(page) -> None:
    result = page.evaluate(OVERFLOW)
    assert result["scroll"] <= 1 and not result["wide"], result


@pytest.mark.django_db(transaction=True)
def test_round_robin_and_team_assignment_in_the_panel(new_page, demo):  # noqa: F811
    from accounts.models import PhoneNumber
    from messaging.models import Conversation
    from messaging.webhooks.process import webhook_events_process
    from sandbox.replies import sandbox_customer_reply
    from workspace.models import ConversationTeam, Team

    lucia, mateo = staff("lucia", "agent"), staff("mateo", "agent")
    number = PhoneNumber.objects.get(digits=BUSINESS)
    sales = Team.objects.create(client=number.client, name="Ventas", round_robin=True)
    sales.members.set([lucia, mateo])
    sales.phone_numbers.set([number])
    support = Team.objects.create(client=number.client, name="Soporte")
    support.members.set([lucia])

    page = new_page()
    login(page, demo.url, "lucia")
    # Two new customers write: the first goes to Lucía, the second to Mateo (their turns), both to Ventas.
    for customer in (FIRST_CUSTOMER, SECOND_CUSTOMER):
        sandbox_customer_reply(phone_number=BUSINESS, from_number=customer, type="text")
        webhook_events_process()
    first = Conversation.objects.get(contact__wa_id=FIRST_CUSTOMER)
    second = Conversation.objects.get(contact__wa_id=SECOND_CUSTOMER)
    assert {first.assignee, second.assignee} == {lucia, mateo}
    assert ConversationTeam.objects.get(conversation=first).team == sales
    expect(page.locator(f"#conv-{first.pk}")).to_be_visible(timeout=3_000)

    # "My teams" lists both (Lucía is in Ventas).
    page.click("[data-view=teams]")
    expect(page.locator(f"#conv-{second.pk}")).to_be_visible()

    # The panel shows the team, and moves the conversation to Soporte; the history says so.
    page.goto(f"{demo.url}/c/{first.pk}/")
    expect(page.locator("[data-team]")).to_have_text("Ventas")
    page.select_option("select[name=team]", str(support.pk))
    page.click("[data-action=assign-team]")
    expect(page.locator("[data-team]")).to_have_text("Soporte")
    expect(page.locator(".ws-timeline, #timeline, body").first).to_contain_text("Soporte")
    assert ConversationTeam.objects.get(conversation=first).team == support
    screenshot(page, "workspace-thread-team-1366", readme=True)


@pytest.mark.django_db(transaction=True)
def test_workspace_pages_fit_at_desktop_and_phone_widths(new_page, demo):  # noqa: F811
    from messaging.models import Conversation
    from messaging.webhooks.process import webhook_events_process
    from sandbox.replies import sandbox_customer_reply

    staff("lucia", "admin")
    sandbox_customer_reply(phone_number=BUSINESS, from_number=FIRST_CUSTOMER, type="text")
    webhook_events_process()
    conversation = Conversation.objects.get(contact__wa_id=FIRST_CUSTOMER)
    page = new_page()
    login(page, demo.url, "lucia")
    pages = {"inbox": "/", "thread": f"/c/{conversation.pk}/", "contacts": "/contacts/",
             "contact": f"/contacts/{conversation.contact_id}/", "settings": "/settings/"}
    for name, path in pages.items():
        for width, viewport in (("1366", DESKTOP), ("390", PHONE)):
            page.set_viewport_size(viewport)
            page.goto(f"{demo.url}{path}")
            page.wait_for_load_state("networkidle")
            screenshot(page, f"workspace-{name}-{width}", readme=name in ("contacts", "contact", "settings"))
            fits(page)
