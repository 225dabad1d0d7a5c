"""Every workspace page renders for every role (issue 22): a crawl of every link, and every URL name directly.

A realistic world (a client with a number, a conversation with messages of several types, a note, a template, a
campaign with a failed recipient, tagged contacts, a team; and a second client whose objects must never be
linked). For a viewer, an agent, a client admin and an operator: breadth-first, every same-origin ``<a href>``
found on a workspace page answers 200 (or redirects to a page that does), never 403/404/500, and no page links to
the other client's objects. Then every ``workspace:*`` URL name, reversed with the world's ids (and the other
client's), is fetched directly: never a 500 (403/404 where the role may not, 405 for a POST-only action).
"""

from __future__ import annotations

import re
from collections import deque
from datetime import timedelta
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from django.urls import Resolver404, URLPattern, resolve
from django.utils import timezone

from accounts.models import Role
from campaigns import services as campaigns
from campaigns.models import Campaign, CampaignRecipient, CampaignStatus, RecipientState
from contacts.models import Tag
from messaging.models import Direction
from tests.factories import PhoneNumberFactory, TemplateFactory
from tests.messaging.factories import ContactFactory, ConversationFactory, MessageFactory, member
from workspace import urls as workspace_urls
from workspace.models import CannedResponse, Note, Team

pytestmark = pytest.mark.django_db

HREF = re.compile(rb'<a\b[^>]*?\bhref="([^"#][^"]*)"')
# Object pages: (kind, path pattern); the other client's ids must never show up in a link.
OBJECT_LINKS = {
    "conversation": re.compile(r"^/c/(\d+)/"),
    "contact": re.compile(r"^/contacts/(\d+)/"),
    "campaign": re.compile(r"^/campaigns/(\d+)/"),
    "template": re.compile(r"^/templates/(\d+)/"),
    "admin-conversation": re.compile(r"^/admin/messaging/conversation/(\d+)/"),
    "admin-contact": re.compile(r"^/admin/messaging/contact/(\d+)/"),
    "admin-campaign": re.compile(r"^/admin/campaigns/campaign/(\d+)/"),
    "admin-template": re.compile(r"^/admin/templates_mgr/template/(\d+)/"),
}
QUERIES_PER_PATH = 25  # the filters combine: enough variants of one page to try each filter, not every product


def build_world(number) -> dict:
    """One client's working day, as the demo has it."""
    client = number.client
    agent_user = member(number, Role.AGENT)
    template = TemplateFactory(waba=number.waba, client=client, name="pedido_listo",
                               components=[{"type": "BODY", "text": "Hola {{1}}, tu pedido está listo."}])
    ana = ContactFactory(client=client, wa_id="573001110001", profile_name="Ana Gómez")
    luis = ContactFactory(client=client, wa_id="573001110002", profile_name="Luis Pérez")
    vip = Tag.objects.create(client=client, name="vip")
    vip.contacts.add(ana, luis)
    Tag.objects.create(client=client, name="mayorista").contacts.add(luis)
    conversation = ConversationFactory(phone_number=number, contact=ana)
    late = ConversationFactory(phone_number=number, contact=luis,
                               last_inbound_at=timezone.now() - timedelta(days=3))
    inbound = {"from_number": ana.wa_id, "to_number": number.digits, "direction": Direction.INBOUND}
    MessageFactory(phone_number=number, conversation=conversation, content={"body": "Hola, ¿tienen envíos?"},
                   **inbound)
    MessageFactory(phone_number=number, conversation=conversation, type="image",
                   content={"link": "https://example.com/foto.jpg", "caption": "Mi pedido"}, **inbound)
    MessageFactory(phone_number=number, conversation=conversation, type="location",
                   content={"latitude": 4.65, "longitude": -74.05, "name": "Oficina", "address": "Calle 93"},
                   **inbound)
    MessageFactory(phone_number=number, conversation=conversation, to_number=ana.wa_id,
                   content={"body": "¡Claro! Enviamos a todo el país."})
    MessageFactory(phone_number=number, conversation=conversation, to_number=ana.wa_id, type="template",
                   template=template, content={"name": template.name, "language": {"code": "es"},
                                               "components": [{"type": "body", "parameters": [
                                                   {"type": "text", "text": "Ana"}]}]})
    MessageFactory(phone_number=number, conversation=late, content={"body": "Gracias"},
                   from_number=luis.wa_id, to_number=number.digits, direction=Direction.INBOUND)
    Note.objects.create(conversation=conversation, author=agent_user, text="Cliente frecuente")
    CannedResponse.objects.create(client=client, shortcut="gracias", text="¡Gracias por escribirnos!")
    team = Team.objects.create(client=client, name="Ventas")
    team.members.add(agent_user)
    team.phone_numbers.add(number)
    campaign = Campaign.objects.create(client=client, phone_number=number, template=template, name="Promo",
                                       status=CampaignStatus.COMPLETED, started_at=timezone.now(),
                                       finished_at=timezone.now())
    for row, state in enumerate((RecipientState.SENT, RecipientState.SENT, RecipientState.FAILED), start=1):
        CampaignRecipient.objects.create(campaign=campaign, row_number=row, phone=f"5730011100{row:02d}",
                                         state=state, finished_at=timezone.now(), variables={"body_1": "Ana"},
                                         error_code="131026" if state == RecipientState.FAILED else "")
    # A campaign checked but not started: its report (and the way back to its mapping) is a page too.
    checked = campaigns.campaign_create_with_recipients(
        actor=agent_user, phone_number=number, template=template, name="Revisada",
        recipients=[{"phone": "573001110009", "variables": {"body_1": "Ana"}}, {"phone": "12", "variables": {}}])
    return {"conversation": conversation, "contact": ana, "campaign": campaign, "template": template,
            "number": number, "checked": checked}


@pytest.fixture
def world(number):
    ours = build_world(number)
    theirs = build_world(PhoneNumberFactory(digits="573009990000"))
    return ours, theirs


def foreign_ids(theirs: dict) -> dict[str, set[str]]:
    """The other client's object ids, by the kind of link that would show them."""
    from messaging.models import Conversation

    client = theirs["number"].client
    ids = {
        "conversation": {str(pk) for pk in Conversation.objects.filter(client=client).values_list("pk", flat=True)},
        "contact": {str(pk) for pk in client.contacts.values_list("pk", flat=True)},
        "campaign": {str(pk) for pk in Campaign.objects.filter(client=client).values_list("pk", flat=True)},
        "template": {str(pk) for pk in client.templates.values_list("pk", flat=True)},
    }
    return {**ids, **{f"admin-{kind}": value for kind, value in ids.items()}}


def is_workspace(path: str) -> bool:
    try:
        return resolve(path).namespace == "workspace"
    except Resolver404:
        return False


def crawl(client, *, forbidden: dict[str, set[str]] | None) -> dict[str, int]:
    """Breadth-first from the inbox: every link answered, the workspace pages' own links followed."""
    seen: dict[str, int] = {}
    per_path: dict[str, int] = {}
    queue = deque([("/", "start")])
    while queue:
        url, source = queue.popleft()
        parts = urlsplit(url)
        if url in seen or parts.path.startswith(("/static/", "/media/")) or parts.path == "/logout/":
            continue
        if int(parse_qs(parts.query).get("page", ["1"])[-1] or 1) > 2:
            continue
        per_path[parts.path] = per_path.get(parts.path, 0) + 1
        if per_path[parts.path] > QUERIES_PER_PATH:
            continue
        response = client.get(url, follow=True)
        seen[url] = response.status_code
        assert response.status_code == 200, (url, "linked from", source, response.status_code)
        final = response.request["PATH_INFO"]
        seen.setdefault(final, response.status_code)  # where a redirect led
        if not is_workspace(final) or "export" in final or not response["Content-Type"].startswith("text/html"):
            continue  # an admin page, a download, the API docs: answered, not followed
        for raw in HREF.findall(response.content):
            href = raw.decode().replace("&amp;", "&")
            target = urljoin(f"http://testserver{url}", href)
            if not target.startswith("http://testserver/"):
                continue  # another site (the provider's docs, a media link)
            link = target.removeprefix("http://testserver")
            if forbidden is not None:
                for kind, pattern in OBJECT_LINKS.items():
                    found = pattern.match(urlsplit(link).path)
                    assert not (found and found.group(1) in forbidden[kind]), (url, "links to", link)
            queue.append((link, url))
    return seen


@pytest.fixture
def as_user(client, settings):
    settings.LANGUAGE_CODE = "en"

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def roles(number, django_user_model):
    return {"viewer": member(number, Role.VIEWER), "agent": member(number, Role.AGENT),
            "admin": member(number, Role.ADMIN),
            "operator": django_user_model.objects.create_superuser("op", "op@example.com", "pass-word-123")}


@pytest.mark.parametrize("role", ["viewer", "agent", "admin", "operator"])
def test_every_linked_page_renders_and_no_link_leads_to_another_clients_object(as_user, world, roles, role):
    ours, theirs = world
    client = as_user(roles[role])
    seen = crawl(client, forbidden=None if role == "operator" else foreign_ids(theirs))
    # The crawl reached the world's pages (through the links alone).
    for path in ("/", "/contacts/", f"/contacts/{ours['contact'].pk}/", f"/c/{ours['conversation'].pk}/",
                 "/campaigns/", f"/campaigns/{ours['campaign'].pk}/"):
        assert path in seen, (role, path, sorted(seen))
    assert f"/campaigns/{ours['checked'].pk}/" in seen
    if role != "viewer":
        assert f"/campaigns/{ours['checked'].pk}/report/" in seen
    if role in ("admin", "operator"):
        assert "/templates/" in seen and f"/templates/{ours['template'].pk}/" in seen and "/analytics/" in seen


def reversed_urls(world_ids: dict) -> list[str]:
    """Every ``workspace:*`` URL, its ``<pk>`` filled with the world's object of that page."""
    kinds = {"c/": "conversation", "contacts/": "contact", "campaigns/": "campaign", "templates/": "template"}
    urls = []
    for pattern in workspace_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        route = str(pattern.pattern)
        path = "/" + route
        if "<int:pk>" in route:
            kind = next(kind for prefix, kind in kinds.items() if route.startswith(prefix))
            path = path.replace("<int:pk>", str(world_ids[kind].pk))
        urls.append(path.replace("<str:action>", "pause"))
    return urls


@pytest.mark.parametrize("role", ["viewer", "agent", "admin", "operator"])
def test_every_workspace_url_answers_without_a_server_error(as_user, world, roles, role):
    ours, theirs = world
    client = as_user(roles[role])
    for url in reversed_urls(ours):
        if url == "/logout/":
            continue
        status = client.get(url).status_code
        assert status in (200, 204, 302, 400, 403, 404, 405), (role, url, status)
    for url in reversed_urls(theirs):
        if "/" in url.strip("/") and any(ch.isdigit() for ch in url):  # only the pages of an object
            status = client.get(url).status_code
            if role == "operator":
                assert status in (200, 204, 302, 400, 403, 404, 405), (role, url, status)
            else:
                assert status in (302, 403, 404, 405), (role, url, status)  # never the other client's page
