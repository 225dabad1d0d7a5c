"""The workspace's pages through the test client: the frame, the inbox and its poll, the thread's actions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from messaging.models import Conversation, Message
from tests.factories import PhoneNumberFactory
from tests.messaging.factories import ConversationFactory, MessageFactory, member
from workspace import services
from workspace.models import CannedResponse, Note
from workspace.views.inbox import cursor_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def test_anonymous_goes_to_the_login_and_lands_on_the_inbox(client, agent):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    agent.set_password("pass-word-123")
    agent.save()
    page = client.get("/login/")
    assert page.status_code == 200 and b"htmx.min.js" in page.content
    response = client.post("/login/?next=/", {"username": agent.username, "password": "pass-word-123", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_the_login_is_throttled_like_the_admin_login(client, settings, agent):
    rates = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})
    assert rates, "the login throttles read the API's rates"
    codes = [client.post("/login/", {"username": agent.username, "password": "wrong"}).status_code
             for _ in range(40)]
    assert 429 in codes


def test_every_role_sees_only_the_pages_it_may_use(browser, number, agent, viewer, admin_user):
    for user in (viewer, agent, admin_user):
        page = browser(user).get("/")
        assert page.status_code == 200
        links = re.findall(rb'data-nav="([a-z]+)"', page.content)
        assert links[0] == b"inbox"
        for href in re.findall(rb'class="ws-nav-item[^"]*" href="([^"]+)"|href="([^"]+)" class="ws-nav-item',
                               page.content):
            url = (href[0] or href[1]).decode()
            assert browser(user).get(url).status_code == 200, (user, url)
        settings_page = browser(user).get("/settings/")
        assert settings_page.status_code == 200
        for url in re.findall(r'<li><a href="([^"]+)"', settings_page.content.decode()):
            assert browser(user).get(url).status_code == 200, (user, url)


def test_the_page_has_a_csp_nonce_policy_and_no_inline_script(browser, agent):
    page = browser(agent).get("/")
    policy = page["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", policy).group(1)
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert re.findall(rb"<script(?![^>]*\bsrc=)", page.content) == []


def test_the_inbox_lists_filters_and_shows_no_other_tenant(browser, agent, number, conversation):
    other = ConversationFactory(phone_number=PhoneNumberFactory())
    mine = ConversationFactory(phone_number=number)
    services.conversation_assign(actor=agent, conversation=mine, assignee=agent)
    page = browser(agent).get("/").content.decode()
    assert f'id="conv-{conversation.pk}"' in page and f'id="conv-{mine.pk}"' in page
    assert f'id="conv-{other.pk}"' not in page
    page = browser(agent).get("/?view=mine").content.decode()
    assert f'id="conv-{mine.pk}"' in page and f'id="conv-{conversation.pk}"' not in page


def test_the_poll_returns_only_changed_rows_in_constant_queries(browser, agent, number, conversation,
                                                                django_assert_max_num_queries):
    quiet = [ConversationFactory(phone_number=number) for _ in range(5)]
    Conversation.objects.update(updated_at=timezone.now() - timedelta(minutes=1))  # older than the poll's overlap
    client = browser(agent)
    client.get("/")
    cursor = cursor_of(timezone.now())
    # Nothing changed: nothing but the next poller.
    with django_assert_max_num_queries(8):
        body = client.get(f"/inbox/changes/?cursor={cursor}").content.decode()
    assert "conv-" not in body
    for conversation_ in quiet[:2]:
        services.conversation_assign(actor=agent, conversation=conversation_, assignee=agent)
    with django_assert_max_num_queries(8):
        body = client.get(f"/inbox/changes/?cursor={cursor}&shown={quiet[0].pk}").content.decode()
    # A row the page shows refreshes in place; a row it lacks comes in at the top.
    assert f'<div id="conv-{quiet[0].pk}" class="ws-conv-row" data-status="open" hx-swap-oob="true">' in body
    assert 'hx-swap-oob="afterbegin:#conversation-list"' in body and f"conv-{quiet[1].pk}" in body
    assert f"conv-{quiet[2].pk}" not in body
    # A row that leaves the filter goes away; the title carries the unread badge.
    services.conversation_status_set(actor=agent, conversation=quiet[0], status="resolved")
    body = client.get(f"/inbox/changes/?cursor={cursor}&status=open&shown={quiet[0].pk}").content.decode()
    assert f'<div id="conv-{quiet[0].pk}" hx-swap-oob="delete"></div>' in body
    assert "<title>" in body


def test_the_thread_shows_bubbles_notes_and_history_and_marks_read(browser, agent, number, conversation):
    MessageFactory(phone_number=number, conversation=conversation, content={"body": "Hola cliente"})
    conversation.unread_count = 2
    conversation.save()
    services.conversation_note_add(actor=agent, conversation=conversation, text="Nota interna")
    services.conversation_status_set(actor=agent, conversation=conversation, status="pending")
    page = browser(agent).get(f"/c/{conversation.pk}/").content.decode()
    assert "Hola cliente" in page and "Nota interna" in page and 'data-kind="activity"' in page
    conversation.refresh_from_db()
    assert conversation.unread_count == 0


def test_a_template_send_reads_as_the_customer_saw_it(browser, agent, number, conversation):
    from tests.factories import TemplateFactory

    template = TemplateFactory(client=number.client, waba=number.waba,
                               components=[{"type": "BODY", "text": "Hola {{1}}, tu pedido {{2}} salió."}])
    MessageFactory(phone_number=number, conversation=conversation, type="template", template=template,
                   content={"name": template.name, "language": {"code": "es"}, "components": [
                       {"type": "body", "parameters": [{"type": "text", "text": "Ana"},
                                                       {"type": "text", "text": "A-17"}]}]})
    page = browser(agent).get(f"/c/{conversation.pk}/").content.decode()
    assert "Hola Ana, tu pedido A-17 salió." in page


def test_reply_with_a_canned_response_assign_and_resolve(browser, agent, other_agent, number, conversation, fake):
    CannedResponse.objects.create(client=number.client, shortcut="gracias", text="¡Gracias por escribirnos!")
    client = browser(agent)
    suggestions = client.get(f"/c/{conversation.pk}/canned/?text=/gra").content.decode()
    assert "/gracias" in suggestions
    canned_id = CannedResponse.objects.get().pk
    filled = client.get(f"/c/{conversation.pk}/canned/?use={canned_id}").content.decode()
    assert "¡Gracias por escribirnos!" in filled
    answer = client.post(f"/c/{conversation.pk}/reply/", {"text": "¡Gracias por escribirnos!", "token": "t1"},
                         HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    assert 'hx-swap-oob="beforeend:#timeline"' in answer.content.decode()
    assert len(fake.sent) == 1 and Message.objects.filter(conversation=conversation).count() == 1
    client.post(f"/c/{conversation.pk}/assign/", {"assignee": "me"})
    answer = client.post(f"/c/{conversation.pk}/status/", {"status": "resolved"})
    assert 'data-conversation-status="resolved"' in answer.content.decode()
    seen_by_other = browser(other_agent).get(f"/c/{conversation.pk}/").content.decode()
    assert 'data-conversation-status="resolved"' in seen_by_other


def test_a_viewer_reads_but_cannot_act(browser, viewer, conversation, fake):
    page = browser(viewer).get(f"/c/{conversation.pk}/").content.decode()
    assert 'data-action="resolve"' not in page and 'data-action="send"' not in page
    assert browser(viewer).post(f"/c/{conversation.pk}/status/", {"status": "resolved"}).status_code == 403
    assert browser(viewer).post(f"/c/{conversation.pk}/reply/", {"text": "x"}).status_code == 403
    assert browser(viewer).post(f"/c/{conversation.pk}/notes/", {"text": "x"}).status_code == 403
    assert not Note.objects.exists() and fake.sent == []


def test_another_tenants_thread_is_a_404(browser, agent):
    other = ConversationFactory(phone_number=PhoneNumberFactory())
    client = browser(agent)
    assert client.get(f"/c/{other.pk}/").status_code == 404
    assert client.post(f"/c/{other.pk}/status/", {"status": "resolved"}).status_code == 404
    assert client.get(f"/c/{other.pk}/changes/").status_code == 404


def test_a_closed_window_offers_the_template_picker_and_sends(browser, agent, number, fake):
    from templates_mgr.models import TemplateStatus
    from tests.factories import TemplateFactory

    conversation = ConversationFactory(phone_number=number, last_inbound_at=None, last_message_at=None)
    template = TemplateFactory(client=number.client, waba=number.waba, status=TemplateStatus.APPROVED,
                               components=[{"type": "BODY", "text": "Hola {{1}}"}])
    client = browser(agent)
    page = client.get(f"/c/{conversation.pk}/").content.decode()
    assert 'data-action="send-template"' in page and 'data-action="send"' not in page
    form = client.get(f"/c/{conversation.pk}/template/form/?template={template.pk}").content.decode()
    assert 'name="tpl_body_1"' in form and "Hola {{1}}" in form
    typed = client.get(f"/c/{conversation.pk}/template/form/?template={template.pk}&tpl_body_1=Ana").content.decode()
    assert "Hola Ana" in typed
    answer = client.post(f"/c/{conversation.pk}/template/", {"template": template.pk, "tpl_body_1": "Ana",
                                                            "token": "tk"})
    assert answer.status_code == 200, answer.content.decode()[:500]
    assert len(fake.sent) == 1
    sent = Message.objects.get(conversation=conversation)
    assert sent.type == "template" and sent.created_by == agent


def test_a_second_member_role_changes_nothing_for_the_first(browser, number):
    admin = member(number, Role.ADMIN)
    assert browser(admin).get("/settings/").status_code == 200
