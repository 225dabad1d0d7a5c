"""Two clients on one shared provider account, and everyone who might try to cross between them.

Client A (942) and client B (2437) live on ONE Aldeamo ISV account, as
Aldeamo's ISV accounts hold several clients. Each has a WABA, a number, an
approved template, a conversation with a message, a campaign and a raw
webhook event attributed to it. The people: an operator (superuser, holds the
BSP contract), A's admin, agent and viewer, B's admin, a staff user who
belongs to no client, and a user who is not staff at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
import responses
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from accounts.models import Role
from campaigns import services as campaign_services
from contacts.models import ContactImport, Segment
from messaging.models import WebhookEvent
from templates_mgr.models import TemplateStatus
from tests.factories import (
    ClientFactory,
    MembershipFactory,
    PhoneNumberFactory,
    ProviderAccountFactory,
    TemplateFactory,
    UserFactory,
    WabaFactory,
)
from tests.messaging.factories import ConversationFactory, MessageFactory
from tests.messaging.factories_inbound import WebhookEventFactory
from workspace.models import CannedResponse


@dataclass
class Side:
    """One client's objects."""

    client: Any
    waba: Any
    number: Any
    template: Any
    conversation: Any
    message: Any
    campaign: Any
    event: Any
    admin: Any
    agent: Any = None
    viewer: Any = None
    canned: Any = None
    contact: Any = None
    segment: Any = None
    contact_import: Any = None


@dataclass
class World:
    account: Any
    a: Side
    b: Side
    operator: Any
    outsider: Any
    plain: Any
    unattributed_event: Any
    other_account: Any
    other_client: Any
    users: dict[str, Any] = field(default_factory=dict)

    def api(self, who: str | None) -> APIClient:
        client = APIClient()
        if who is not None:
            client.force_authenticate(self.users[who])
        return client


def _side(account, client_id: str, name: str, *, with_staff: bool) -> Side:
    client = ClientFactory(provider_account=account, client_id=client_id, name=name)
    waba = WabaFactory(client=client, namespace=f"ns_{client_id}")
    number = PhoneNumberFactory(client=client, waba=waba)
    template = TemplateFactory(waba=waba, client=client, status=TemplateStatus.APPROVED,
                               components=[{"type": "BODY", "text": "Hola {{1}}"}])
    conversation = ConversationFactory(phone_number=number)
    message = MessageFactory(phone_number=number, conversation=conversation,
                             content={"body": f"private text of {name}"})
    admin = MembershipFactory(client=client, role=Role.ADMIN, user=UserFactory(is_staff=True)).user
    agent = viewer = None
    if with_staff:
        agent = MembershipFactory(client=client, role=Role.AGENT, user=UserFactory(is_staff=True)).user
        viewer = MembershipFactory(client=client, role=Role.VIEWER, user=UserFactory(is_staff=True)).user
    campaign = campaign_services.campaign_create_with_recipients(
        actor=admin, phone_number=number, template=template, name=f"Campaign of {name}",
        recipients=[{"phone": "573001112233", "variables": {"body_1": "x"}}])
    event = WebhookEventFactory(provider_account=account, client=client, state=WebhookEvent.State.PROCESSED,
                                payload={"customer": f"secret customer of {name}"})
    canned = CannedResponse.objects.create(client=client, shortcut="hola", text=f"Hola from {name}")
    segment = Segment.objects.create(client=client, name=f"Segment of {name}", filters={})
    contact_import = ContactImport.objects.create(client=client, original_name=f"import of {name}.csv")
    return Side(client=client, waba=waba, number=number, template=template, conversation=conversation,
                message=message, campaign=campaign, event=event, admin=admin, agent=agent, viewer=viewer,
                canned=canned, contact=conversation.contact, segment=segment, contact_import=contact_import)


@pytest.fixture
def world(db) -> World:
    account = ProviderAccountFactory(name="Shared ISV account", base_url="https://apitellitwatest.aldeamo.com")
    a = _side(account, "942", "Alpha", with_staff=True)
    b = _side(account, "2437", "Beta", with_staff=False)
    user_model = get_user_model()
    operator = user_model.objects.create_superuser("operator", "operator@example.com", "pass-word-123")
    outsider = UserFactory(is_staff=True)
    plain = UserFactory()
    unattributed = WebhookEventFactory(provider_account=account, payload={"customer": "nobody knows whose yet"})
    other_client = ClientFactory(name="Gamma")  # on an account of its own
    world = World(account=account, a=a, b=b, operator=operator, outsider=outsider, plain=plain,
                  unattributed_event=unattributed, other_account=other_client.provider_account,
                  other_client=other_client)
    world.users = {
        "operator": operator, "admin_a": a.admin, "agent_a": a.agent, "viewer_a": a.viewer, "admin_b": b.admin,
        "outsider": outsider, "plain": plain,
    }
    for user in world.users.values():
        user.set_password("pass-word-123")
        user.save(update_fields=["password"])
    return world


@pytest.fixture(autouse=True)
def _no_provider_network():
    """Nothing here may reach a provider: any call the portal makes fails as a connection error."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
