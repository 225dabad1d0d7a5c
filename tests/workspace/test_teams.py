"""Teams: who may belong, a conversation's team, round-robin for a new customer, the API and the panel."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection, transaction
from rest_framework.test import APIClient

from accounts.models import Role
from messaging.models import Conversation
from tests.factories import PhoneNumberFactory
from tests.messaging.factories import ConversationFactory, member
from tests.messaging.factories_inbound import aldeamo_line
from tests.messaging.test_ingest import inbound_payload, process, store, text_message
from waportal.errors import ApplicationError, PermissionDenied
from workspace import selectors, teams
from workspace.models import ActivityKind, ConversationActivity, ConversationTeam, Team
from workspace.selectors import InboxFilter

pytestmark = pytest.mark.django_db


def customer_writes(line, *, wa_id: str, message_id: str, body: str = "Hola") -> Conversation:
    store(line.client.provider_account,
          inbound_payload(text_message(body, message_id=message_id, wa_id=wa_id), origin=line.digits, wa_id=wa_id))
    process()
    return Conversation.objects.get(phone_number=line, contact__wa_id=wa_id)


def test_team_members_and_numbers_belong_to_the_client(admin_user, agent, viewer, number):
    team = teams.team_create(actor=admin_user, client_id=number.client_id, name=" Ventas ", members=[agent.pk],
                             phone_numbers=[number.pk])
    assert team.name == "Ventas" and list(team.members.all()) == [agent]
    other = PhoneNumberFactory()
    stranger = member(other, Role.AGENT)
    for field, kwargs in (("members", {"members": [stranger.pk]}), ("members", {"members": [viewer.pk]}),
                          ("phone_numbers", {"phone_numbers": [other.pk]}), ("name", {"name": "Ventas"})):
        with pytest.raises(ApplicationError) as refused:
            teams.team_create(actor=admin_user, client_id=number.client_id, **{"name": "Otro", **kwargs})
        assert refused.value.field == field
    with pytest.raises(PermissionDenied):
        teams.team_create(actor=agent, client_id=number.client_id, name="Soporte")


def test_assigning_a_team_is_recorded_and_refuses_another_clients_team(admin_user, agent, conversation, number):
    team = teams.team_create(actor=admin_user, client_id=number.client_id, name="Soporte", members=[agent.pk])
    teams.conversation_team_set(actor=agent, conversation=conversation, team=team)
    assert ConversationTeam.objects.get(conversation=conversation).team == team
    activity = ConversationActivity.objects.get(conversation=conversation)
    assert activity.kind == ActivityKind.TEAM and activity.detail["to"] == "Soporte"
    # "My teams" shows it to the team's members only.
    assert list(selectors.conversations_filtered(agent, InboxFilter(view="teams"))) == [conversation]
    assert list(selectors.conversations_filtered(admin_user, InboxFilter(view="teams"))) == []
    other_team = Team.objects.create(client=PhoneNumberFactory().client, name="Ajeno")
    with pytest.raises(ApplicationError) as refused:
        teams.conversation_team_set(actor=agent, conversation=conversation, team=other_team)
    assert refused.value.field == "team"
    teams.conversation_team_set(actor=agent, conversation=conversation, team=None)
    assert not ConversationTeam.objects.exists()


def test_round_robin_gives_new_customers_to_members_in_turn():
    line = aldeamo_line()
    admin_user = member(line, Role.ADMIN)
    first, second = member(line, Role.AGENT), member(line, Role.AGENT)
    team = teams.team_create(actor=admin_user, client_id=line.client_id, name="Ventas",
                             members=[first.pk, second.pk], phone_numbers=[line.pk], round_robin=True)
    got = [customer_writes(line, wa_id=f"57311555000{n}", message_id=f"wamid.{n}").assignee for n in range(4)]
    assert got == [first, second, first, second]
    conversation = Conversation.objects.get(contact__wa_id="573115550000")
    assert ConversationTeam.objects.get(conversation=conversation).team == team
    assert list(ConversationActivity.objects.filter(conversation=conversation).values_list("kind", flat=True)) == [
        ActivityKind.TEAM, ActivityKind.ASSIGNED]
    # A known customer writing again is not routed again.
    again = customer_writes(line, wa_id="573115550000", message_id="wamid.again")
    assert again.assignee == first and ConversationActivity.objects.filter(conversation=again).count() == 2


def test_without_round_robin_the_team_gets_the_conversation_but_nobody_is_assigned():
    line = aldeamo_line()
    admin_user = member(line, Role.ADMIN)
    agent = member(line, Role.AGENT)
    team = teams.team_create(actor=admin_user, client_id=line.client_id, name="Soporte", members=[agent.pk],
                             phone_numbers=[line.pk])
    conversation = customer_writes(line, wa_id="573115551111", message_id="wamid.x")
    assert conversation.assignee is None
    assert ConversationTeam.objects.get(conversation=conversation).team == team


def test_next_member_takes_a_turn(admin_user, agent, number):
    team = teams.team_create(actor=admin_user, client_id=number.client_id, name="Soporte", members=[agent.pk],
                             phone_numbers=[number.pk], round_robin=True)
    assert teams.team_next_member(team_id=team.pk) == agent
    team.refresh_from_db()
    assert team.rotation == 1


@pytest.mark.django_db(transaction=True)
def test_round_robin_is_fair_with_two_workers_at_once():
    """Two threads take turns concurrently: every member gets exactly as many as the others, none twice at once.

    On PostgreSQL the team row lock makes the second worker wait for the first's commit; SQLite serialises writers.
    """
    if connection.vendor == "sqlite" and "memory" in str(connection.settings_dict["NAME"]):
        pytest.skip("an in-memory SQLite database is not shared between threads")
    line = PhoneNumberFactory()
    members = [member(line, Role.AGENT) for _ in range(3)]
    team = Team.objects.create(client=line.client, name="Turnos", round_robin=True)
    team.members.set(members)
    picked: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(2)

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(6):
                with transaction.atomic():
                    user = teams.team_next_member(team_id=team.pk)
                    with lock:
                        picked.append(user.pk)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    team.refresh_from_db()
    assert team.rotation == 12
    assert sorted(picked.count(user.pk) for user in members) == [4, 4, 4]


def test_teams_api_admins_manage_agents_read(admin_user, agent, number, conversation):
    api = APIClient()
    api.force_authenticate(admin_user)
    created = api.post("/api/v1/teams/", {"name": "Ventas", "members": [agent.pk], "phone_numbers": [number.pk],
                                          "round_robin": True}, format="json")
    assert created.status_code == 201, created.content
    team_id = created.json()["id"]
    assert created.json()["members"] == [agent.pk]
    refused = api.post("/api/v1/teams/", {"name": "Otro", "members": [member(PhoneNumberFactory()).pk]},
                       format="json")
    assert refused.status_code == 400 and "members" in refused.content.decode()
    assert api.patch(f"/api/v1/teams/{team_id}/", {"round_robin": False}, format="json").json()["round_robin"] is False
    reader = APIClient()
    reader.force_authenticate(agent)
    assert [row["id"] for row in reader.get("/api/v1/teams/").json()["results"]] == [team_id]
    assert reader.patch(f"/api/v1/teams/{team_id}/", {"name": "x"}, format="json").status_code == 403
    # A conversation takes a team through PATCH; another client's team is a 400 naming the field.
    answer = reader.patch(f"/api/v1/conversations/{conversation.pk}/", {"team": team_id}, format="json")
    assert answer.status_code == 200 and answer.json()["team"] == team_id
    foreign = Team.objects.create(client=PhoneNumberFactory().client, name="Ajeno")
    answer = reader.patch(f"/api/v1/conversations/{conversation.pk}/", {"team": foreign.pk}, format="json")
    assert answer.status_code == 400 and "team" in answer.content.decode()
    stranger = member(PhoneNumberFactory())
    answer = reader.patch(f"/api/v1/conversations/{conversation.pk}/", {"assignee": stranger.pk}, format="json")
    assert answer.status_code == 400 and "assignee" in answer.content.decode()
    assert api.delete(f"/api/v1/teams/{team_id}/").status_code == 204


def test_conversations_api_list_reads_teams_in_constant_queries(agent, number, admin_user,
                                                               django_assert_max_num_queries):
    team = teams.team_create(actor=admin_user, client_id=number.client_id, name="Soporte", members=[agent.pk])
    for _ in range(5):
        teams.conversation_team_set(actor=agent, conversation=ConversationFactory(phone_number=number), team=team)
    api = APIClient()
    api.force_authenticate(agent)
    with django_assert_max_num_queries(8):
        rows = api.get("/api/v1/conversations/").json()["results"]
    assert {row["team"] for row in rows} == {team.pk}


def test_the_panel_assigns_a_team_and_the_inbox_filters_my_teams(client, agent, admin_user, conversation, number):
    team = teams.team_create(actor=admin_user, client_id=number.client_id, name="Soporte", members=[agent.pk])
    client.force_login(agent)
    page = client.get(f"/c/{conversation.pk}/").content.decode()
    assert 'data-action="assign-team"' in page and "Soporte" in page
    answer = client.post(f"/c/{conversation.pk}/team/", {"team": team.pk})
    assert answer.status_code == 200 and "Soporte" in answer.content.decode()
    assert ConversationTeam.objects.get(conversation=conversation).team == team
    assert client.post(f"/c/{conversation.pk}/team/", {"team": "abc"}).status_code == 400
    inbox = client.get("/?view=teams&status=all").content.decode()
    assert 'data-view="teams"' in inbox and f"/c/{conversation.pk}/" in inbox


def test_the_teams_admin_is_scoped_to_the_client(client, admin_user, agent, number):
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(pk=admin_user.pk).update(is_staff=True)
    other = PhoneNumberFactory()
    stranger = member(other, Role.AGENT)
    Team.objects.create(client=other.client, name="Ajeno")
    client.force_login(admin_user)
    listing = client.get("/admin/workspace/team/").content.decode()
    assert "Ajeno" not in listing
    form = client.get("/admin/workspace/team/add/").content.decode()
    assert agent.get_username() in form and stranger.get_username() not in form
    answer = client.post("/admin/workspace/team/add/", {"client": number.client_id, "name": "Ventas",
                                                        "members": [agent.pk], "phone_numbers": [number.pk],
                                                        "round_robin": "on"})
    assert answer.status_code == 302, answer.content.decode()[:2000]
    team = Team.objects.get(name="Ventas")
    assert list(team.members.all()) == [agent] and team.round_robin
