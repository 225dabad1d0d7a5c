"""The conversations, notes and canned-responses API: filters, PATCH through the services, no N+1."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.messaging.factories import ConversationFactory
from workspace import services
from workspace.models import CannedResponse, ConversationActivity

pytestmark = pytest.mark.django_db


def test_list_filters_mine_unassigned_status_label_and_search(api_as, agent, number, conversation):
    mine = ConversationFactory(phone_number=number, contact__profile_name="Zoe Ramírez")
    services.conversation_assign(actor=agent, conversation=mine, assignee=agent)
    services.conversation_labels_set(actor=agent, conversation=mine, labels=["vip"])
    services.conversation_status_set(actor=agent, conversation=conversation, status="pending")
    api = api_as(agent)

    def ids(query):
        response = api.get(f"/api/v1/conversations/?{query}")
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids("") == {mine.pk, conversation.pk}
    assert ids("view=mine") == {mine.pk}
    assert ids("view=unassigned") == {conversation.pk}
    assert ids("status=pending") == {conversation.pk}
    assert ids("label=vip") == {mine.pk}
    assert ids("search=zoe") == {mine.pk}
    assert ids(f"search={mine.contact.wa_id[-6:]}") == {mine.pk}
    row = api.get(f"/api/v1/conversations/{mine.pk}/").json()
    assert row["labels"] == ["vip"] and row["assignee"] == agent.pk and row["window_open"] is True


def test_patch_changes_the_workflow_and_records_it(api_as, agent, conversation):
    until = (timezone.now() + timedelta(hours=2)).isoformat()
    response = api_as(agent).patch(f"/api/v1/conversations/{conversation.pk}/",
                                   {"assignee": agent.pk, "status": "snoozed", "snoozed_until": until,
                                    "labels": ["billing"]}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "snoozed" and body["assignee"] == agent.pk and body["labels"] == ["billing"]
    assert ConversationActivity.objects.filter(conversation=conversation).count() == 3


def test_patch_refuses_bad_input_naming_the_field_and_changes_nothing(api_as, agent, viewer, conversation):
    api = api_as(agent)
    response = api.patch(f"/api/v1/conversations/{conversation.pk}/",
                         {"labels": ["ok"], "status": "snoozed"}, format="json")
    assert response.status_code == 400 and "snoozed_until" in response.json()
    assert not conversation.labels.exists()  # all or nothing
    response = api.patch(f"/api/v1/conversations/{conversation.pk}/", {"assignee": viewer.pk}, format="json")
    assert response.status_code == 400 and "assignee" in response.json()
    assert api_as(viewer).patch(f"/api/v1/conversations/{conversation.pk}/", {"status": "resolved"},
                                format="json").status_code == 403


def test_notes_are_listed_and_added(api_as, agent, viewer, conversation):
    url = f"/api/v1/conversations/{conversation.pk}/notes/"
    response = api_as(agent).post(url, {"text": "Prefiere llamada"}, format="json")
    assert response.status_code == 201 and response.json()["text"] == "Prefiere llamada"
    listed = api_as(viewer).get(url).json()["results"]
    assert [note["text"] for note in listed] == ["Prefiere llamada"]
    assert api_as(viewer).post(url, {"text": "x"}, format="json").status_code == 403


def test_the_list_costs_the_same_queries_for_3_or_30_conversations(api_as, agent, number,
                                                                   django_assert_max_num_queries):
    for _ in range(3):
        ConversationFactory(phone_number=number)
    api = api_as(agent)
    with django_assert_max_num_queries(6):
        assert api.get("/api/v1/conversations/").status_code == 200
    for _ in range(27):
        ConversationFactory(phone_number=number)
    with django_assert_max_num_queries(6):
        assert len(api.get("/api/v1/conversations/").json()["results"]) == 30


def test_canned_responses_crud(api_as, admin_user, agent, number):
    api = api_as(admin_user)
    created = api.post("/api/v1/canned-responses/", {"shortcut": "hola", "text": "¡Hola!"}, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["client"] == number.client_id
    assert api.post("/api/v1/canned-responses/", {"shortcut": "hola", "text": "x"},
                    format="json").status_code == 400
    assert api.patch(f"/api/v1/canned-responses/{pk}/", {"text": "Buenas"}, format="json").json()["text"] == "Buenas"
    assert [row["shortcut"] for row in api_as(agent).get("/api/v1/canned-responses/").json()["results"]] == ["hola"]
    assert api_as(agent).delete(f"/api/v1/canned-responses/{pk}/").status_code == 403
    assert api_as(admin_user).delete(f"/api/v1/canned-responses/{pk}/").status_code == 204
    assert not CannedResponse.objects.exists()
