"""The conversation workflow's services: who may change what, the history, and the customer reopening."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from messaging.models import ConversationStatus
from tests.factories import PhoneNumberFactory
from tests.messaging.factories import member
from tests.messaging.test_ingest import inbound_payload, process, store, text_message
from waportal.errors import ApplicationError, PermissionDenied
from workspace import services
from workspace.models import ActivityKind, CannedResponse, ConversationActivity, Note

pytestmark = pytest.mark.django_db


def kinds(conversation):
    return list(ConversationActivity.objects.filter(conversation=conversation).values_list("kind", flat=True))


def test_assign_records_who_and_moves_updated_at(agent, other_agent, conversation):
    before = conversation.updated_at
    services.conversation_assign(actor=agent, conversation=conversation, assignee=other_agent)
    conversation.refresh_from_db()
    assert conversation.assignee == other_agent
    assert conversation.updated_at > before
    activity = ConversationActivity.objects.get(conversation=conversation)
    assert activity.actor == agent and activity.kind == ActivityKind.ASSIGNED
    assert activity.detail["to"] == other_agent.get_username()
    # The same assignment again changes and records nothing.
    services.conversation_assign(actor=agent, conversation=conversation, assignee=other_agent)
    assert kinds(conversation) == [ActivityKind.ASSIGNED]


def test_a_viewer_cannot_change_the_workflow(viewer, conversation):
    with pytest.raises(PermissionDenied):
        services.conversation_status_set(actor=viewer, conversation=conversation, status="resolved")
    with pytest.raises(PermissionDenied):
        services.conversation_note_add(actor=viewer, conversation=conversation, text="x")


def test_assignee_must_be_an_agent_of_the_client(agent, viewer, conversation):
    stranger = member(PhoneNumberFactory())
    for person in (viewer, stranger):
        with pytest.raises(ApplicationError) as refused:
            services.conversation_assign(actor=agent, conversation=conversation, assignee=person)
        assert refused.value.field == "assignee"


def test_snooze_needs_a_future_time_and_only_snooze_takes_one(agent, conversation):
    with pytest.raises(ApplicationError) as refused:
        services.conversation_status_set(actor=agent, conversation=conversation, status="snoozed")
    assert refused.value.field == "snoozed_until"
    with pytest.raises(ApplicationError):
        services.conversation_status_set(actor=agent, conversation=conversation, status="snoozed",
                                         snoozed_until=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ApplicationError):
        services.conversation_status_set(actor=agent, conversation=conversation, status="resolved",
                                         snoozed_until=timezone.now() + timedelta(hours=1))
    until = timezone.now() + timedelta(hours=1)
    services.conversation_status_set(actor=agent, conversation=conversation, status="snoozed", snoozed_until=until)
    services.conversation_status_set(actor=agent, conversation=conversation, status="open")
    conversation.refresh_from_db()
    assert conversation.status == "open" and conversation.snoozed_until is None
    assert kinds(conversation) == [ActivityKind.STATUS, ActivityKind.STATUS]


def test_labels_are_created_per_client_and_cleaned(agent, conversation):
    services.conversation_labels_set(actor=agent, conversation=conversation, labels=["VIP", " billing ", "vip"])
    assert sorted(conversation.labels.values_list("name", flat=True)) == ["billing", "vip"]
    services.conversation_labels_set(actor=agent, conversation=conversation, labels=["billing"])
    assert list(conversation.labels.values_list("name", flat=True)) == ["billing"]
    with pytest.raises(ApplicationError) as refused:
        services.conversation_labels_set(actor=agent, conversation=conversation, labels=["<script>"])
    assert refused.value.field == "labels"


def test_a_note_is_stored_and_never_sent(agent, conversation, fake):
    note = services.conversation_note_add(actor=agent, conversation=conversation, text="  Llamar mañana  ")
    assert note.text == "Llamar mañana" and Note.objects.count() == 1
    assert fake.sent == []
    with pytest.raises(ApplicationError):
        services.conversation_note_add(actor=agent, conversation=conversation, text="   ")


def test_a_customer_message_reopens_a_resolved_conversation():
    from tests.messaging.factories_inbound import aldeamo_line

    line = aldeamo_line()
    store(line.client.provider_account, inbound_payload(text_message("Hola", message_id="wamid.A"), origin=line.digits))
    process()
    conversation = line.conversations.get()
    agent = member(line)
    services.conversation_status_set(actor=agent, conversation=conversation, status="resolved")
    store(line.client.provider_account,
          inbound_payload(text_message("¿Sigue ahí?", message_id="wamid.B"), origin=line.digits))
    process()
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.OPEN
    assert kinds(conversation) == [ActivityKind.STATUS, ActivityKind.REOPENED]


def test_canned_responses_are_managed_by_client_admins(admin_user, agent, number):
    canned = services.canned_response_create(actor=admin_user, client_id=number.client_id, shortcut="/Hola",
                                             text="¡Hola! ¿En qué te ayudo?")
    assert canned.shortcut == "hola"
    with pytest.raises(ApplicationError) as refused:
        services.canned_response_create(actor=admin_user, client_id=number.client_id, shortcut="hola", text="x")
    assert refused.value.field == "shortcut"
    with pytest.raises(PermissionDenied):
        services.canned_response_create(actor=agent, client_id=number.client_id, shortcut="x", text="y")
    services.canned_response_update(actor=admin_user, canned=canned, text="Buenas")
    assert CannedResponse.objects.get().text == "Buenas"


def test_an_ended_snooze_opens_the_conversation_again(agent, conversation, client):
    from django.core.cache import cache

    services.conversation_status_set(actor=agent, conversation=conversation, status="snoozed",
                                     snoozed_until=timezone.now() + timedelta(hours=1))
    assert services.conversations_wake() == 0
    assert services.conversations_wake(now=timezone.now() + timedelta(hours=2)) == 1
    conversation.refresh_from_db()
    assert conversation.status == "open" and conversation.snoozed_until is None
    assert kinds(conversation) == [ActivityKind.STATUS, ActivityKind.WOKEN]
    # The inbox wakes them by itself.
    services.conversation_status_set(actor=agent, conversation=conversation, status="snoozed",
                                     snoozed_until=timezone.now() + timedelta(hours=1))
    type(conversation).objects.filter(pk=conversation.pk).update(snoozed_until=timezone.now() - timedelta(seconds=1))
    cache.delete("workspace:wake")
    client.force_login(agent)
    client.get("/inbox/changes/")
    conversation.refresh_from_db()
    assert conversation.status == "open"
