"""The workflow's outgoing events: an assignment and a resolution reach the client's webhook endpoints, in order."""

from __future__ import annotations

import pytest

from messaging.models import ConversationStatus
from notifications import services as notification_services
from notifications.models import OutboxEvent
from workspace import services

pytestmark = pytest.mark.django_db


def test_assigning_and_resolving_record_their_events_for_the_clients_endpoints(settings, agent, conversation):
    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = True
    settings.OUTGOING_WEBHOOKS_REQUIRE_HTTPS = False
    notification_services.webhook_endpoint_create(actor=None, client=conversation.client,
                                                   url="http://127.0.0.1:9/hooks")
    services.conversation_assign(actor=agent, conversation=conversation, assignee=agent)
    services.conversation_status_set(actor=agent, conversation=conversation, status=ConversationStatus.PENDING)
    services.conversation_status_set(actor=agent, conversation=conversation, status=ConversationStatus.RESOLVED)

    events = list(OutboxEvent.objects.order_by("pk").values_list("type", "ordering_key", "data"))
    assert [(kind, key) for kind, key, _data in events] == [
        ("conversation.assigned", f"conversation:{conversation.pk}"),
        ("conversation.resolved", f"conversation:{conversation.pk}"),
    ]
    assert events[0][2]["assignee"] == agent.pk and events[1][2]["previous_status"] == ConversationStatus.PENDING


def test_no_endpoint_no_event(agent, conversation):
    services.conversation_assign(actor=agent, conversation=conversation, assignee=agent)
    assert not OutboxEvent.objects.exists()
