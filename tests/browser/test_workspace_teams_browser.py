"""Teams in Chromium: round-robin gives a new customer's conversation to the team's next agent, an agent moves a
conversation to a team from the side panel. (The pages' fit at 1,366 and 390 px: ``test_workspace_tour.py``.)"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_workspace_browser import BUSINESS, DESKTOP, PHONE, login, new_page, staff  # noqa: F401

FIRST_CUSTOMER = "573137001111"
SECOND_CUSTOMER = "573137002222"

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
    screenshot(page, "workspace-thread-team-1366")  # test-artifacts; the README's is the tour's

