"""The workspace's templates pages: the list and its filters, a template's page with its live status, the builder
that checks WhatsApp's rules while typing, deletion at the provider, sync, and every role's view."""

from __future__ import annotations

import re

import pytest

from accounts.models import Role
from providers.base import ProviderRejected
from templates_mgr.models import Template, TemplateChange, TemplateStatus
from tests.factories import MembershipFactory, WabaFactory
from tests.templates_mgr.factories import TemplateFactory
from tests.templates_mgr.test_admin_templates import FakeProvider, builder_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    def as_user(user):
        client.force_login(user)
        return client

    return as_user


@pytest.fixture
def provider(monkeypatch):
    fake = FakeProvider()
    fake.listed = []
    fake.templates_list = lambda **kwargs: fake.listed
    monkeypatch.setattr("templates_mgr.services.provider_client", lambda account: fake)
    return fake


@pytest.fixture
def waba(number):
    return number.waba


@pytest.fixture
def template(waba):
    return TemplateFactory(waba=waba, name="order_shipped", status=TemplateStatus.REJECTED,
                           rejected_reason="INVALID_FORMAT")


def test_the_list_shows_words_filters_and_no_other_client(browser, agent, waba, template):
    TemplateFactory(waba=waba, name="promo_marzo", category="MARKETING")
    theirs = TemplateFactory(waba=WabaFactory(), name="someone_elses")
    page = browser(agent).get("/templates/")
    body = page.content.decode()
    assert page.status_code == 200 and "order_shipped" in body and "promo_marzo" in body
    assert "Rejected" in body and "REJECTED<" not in body and "Utility" in body
    assert theirs.name not in body
    assert "promo_marzo" not in browser(agent).get("/templates/?status=REJECTED").content.decode()
    assert "order_shipped" not in browser(agent).get("/templates/?category=MARKETING").content.decode()
    assert "order_shipped" not in browser(agent).get("/templates/?q=promo").content.decode()


def test_the_list_in_spanish_says_the_status_in_spanish(client, agent, template):
    client.force_login(agent)
    body = client.get("/templates/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Rechazada" in body or "Rechazado" in body


def test_the_list_reads_in_a_fixed_number_of_queries(browser, agent, waba, django_assert_max_num_queries):
    for _i in range(40):
        TemplateFactory(waba=waba)
    client = browser(agent)
    with django_assert_max_num_queries(14):
        page = client.get("/templates/")
    assert page.content.count(b"data-template=") == 40


def test_a_template_page_shows_the_bubble_the_reason_in_words_and_history(browser, agent, template):
    TemplateChange.objects.create(template=template, field="status", old_value="PENDING", new_value="REJECTED",
                                  source=TemplateChange.Source.WEBHOOK)
    page = browser(agent).get(f"/templates/{template.pk}/")
    body = page.content.decode()
    assert page.status_code == 200 and 'id="wa-preview"' in body
    assert "format is not valid" in body and "INVALID_FORMAT" not in body
    assert "Pending → Rejected" in body and "Provider event" in body
    assert 'hx-trigger="every 2s"' in body
    # An agent neither deletes nor syncs (the admin gives that to client admins).
    assert 'id="template-delete"' not in body and 'id="templates-sync"' not in body


def test_another_clients_template_is_a_404(browser, admin_user):
    theirs = TemplateFactory(waba=WabaFactory())
    client = browser(admin_user)
    for url in (f"/templates/{theirs.pk}/", f"/templates/{theirs.pk}/status/", f"/templates/{theirs.pk}/delete/"):
        assert client.get(url).status_code == 404, url


def test_the_status_poll_is_204_until_the_template_changes(browser, agent, template,
                                                           django_assert_max_num_queries):
    client = browser(agent)
    page = client.get(f"/templates/{template.pk}/").content.decode()
    poll = re.search(r'hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")
    with django_assert_max_num_queries(6):
        assert client.get(poll).status_code == 204
    # A webhook (or a sync) approves it: the next poll brings the new status.
    template.status, template.rejected_reason = TemplateStatus.APPROVED, ""
    template.save()
    changed = client.get(poll)
    assert changed.status_code == 200 and b"Approved" in changed.content
    assert b'data-template-status="APPROVED"' in changed.content


def test_the_builder_checks_while_typing_without_sending(browser, admin_user, waba, provider):
    client = browser(admin_user)
    assert client.get("/templates/new/").status_code == 200
    answer = client.post("/templates/new/check/", {"waba": waba.pk, "language": "es",
                                                   "body_text": "{{1}} hola, tu pedido {{3}}"})
    body = answer.content.decode()
    assert answer.status_code == 200 and 'data-field="body_text"' in body and 'data-state="problems"' in body
    assert 'hx-swap-oob="true"' in body and 'id="wa-preview"' in body
    # An untouched name is not yet a mistake.
    assert 'data-field="name"' not in body
    fixed = client.post("/templates/new/check/", {**builder_post(waba)}).content.decode()
    assert 'data-state="ok"' in fixed and "data-field=" not in fixed
    assert provider.created == []


def test_the_builder_creates_through_the_service_and_says_the_providers_refusal(browser, admin_user, waba,
                                                                                 provider):
    client = browser(admin_user)
    done = client.post("/templates/new/", builder_post(waba))
    template = Template.objects.get(name="order_shipped")
    assert done.status_code == 302 and done["Location"] == f"/templates/{template.pk}/"
    assert provider.created and template.status == TemplateStatus.PENDING
    provider.error = ProviderRejected("Name already used", code="2388024")
    refused = client.post("/templates/new/", builder_post(waba, name="other_name"))
    assert refused.status_code == 400 and b"The provider refused the template" in refused.content


def test_viewers_and_agents_may_not_build_delete_or_sync(browser, viewer, agent, template):
    for user in (viewer, agent):
        client = browser(user)
        assert client.get("/templates/new/").status_code == 403
        assert client.post("/templates/new/check/", {"body_text": "x"}).status_code == 403
        assert client.get(f"/templates/{template.pk}/delete/").status_code == 403
        assert client.post("/templates/sync/").status_code == 403
        assert b'id="template-new"' not in client.get("/templates/").content


def test_a_client_admin_deletes_at_the_provider_and_syncs(browser, admin_user, template, provider):
    client = browser(admin_user)
    confirm = client.get(f"/templates/{template.pk}/delete/")
    assert confirm.status_code == 200 and b"order_shipped" in confirm.content
    assert client.post(f"/templates/{template.pk}/delete/").status_code == 302
    template.refresh_from_db()
    assert template.is_deleted and provider.deleted == [{"waba_id": template.waba.waba_id, "name": "order_shipped"}]
    synced = client.post("/templates/sync/", follow=True)
    assert synced.status_code == 200 and b"listed 0 templates" in synced.content


def test_every_role_walks_every_templates_page_without_an_error(browser, number, viewer, agent, admin_user,
                                                                 superuser, template):
    MembershipFactory(client=number.client, role=Role.ADMIN)
    for user in (viewer, agent, admin_user, superuser):
        client = browser(user)
        nav = client.get("/").content.decode()
        assert 'href="/templates/"' in nav and 'href="/analytics/"' in nav, user
        seen, todo = set(), ["/templates/"]
        while todo:
            url = todo.pop()
            if url in seen:
                continue
            seen.add(url)
            page = client.get(url)
            assert page.status_code == 200, (user, url, page.status_code)
            for link in re.findall(r'href="(/templates/[^"?#]*)"', page.content.decode()):
                todo.append(link)
        assert f"/templates/{template.pk}/" in seen
