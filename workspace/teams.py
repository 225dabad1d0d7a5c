"""Writes about teams: a client's groups of agents, a conversation's team, and round-robin assignment.

Like ``workspace.services`` (keyword-only, own transactions, ``ApplicationError`` naming the field). A team's
members are the client's agents and admins (those who may be given its conversations); the numbers it serves
are the client's. Round-robin hands a new customer's conversation to the next member in turn: the team row is
locked (``select_for_update``) while its ``rotation`` counter moves, so two workers storing customers' first
messages at the same moment take two different turns, and every member gets as many turns as the others.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from accounts.models import Membership, PhoneNumber, Role
from accounts.tenancy import require_role
from messaging.models import Conversation, Direction, Message
from notifications.models import EventType
from waportal.errors import ApplicationError
from workspace import services
from workspace.models import ActivityKind, ConversationActivity, ConversationTeam, Team

MAX_MEMBERS = 200


def _members(client_id: int, ids: Sequence[int]) -> list:
    ids = sorted({int(pk) for pk in ids})
    if len(ids) > MAX_MEMBERS:
        raise ApplicationError(_("A team has at most %(count)d members.") % {"count": MAX_MEMBERS}, field="members")
    users = list(get_user_model().objects.filter(pk__in=ids, is_active=True, memberships__client_id=client_id,
                                                 memberships__role__in=[Role.AGENT, Role.ADMIN]).distinct())
    if len(users) != len(ids):
        raise ApplicationError(_("A team's members are this client's agents and admins."), field="members")
    return users


def _numbers(client_id: int, ids: Sequence[int]) -> list[PhoneNumber]:
    ids = sorted({int(pk) for pk in ids})
    numbers = list(PhoneNumber.objects.filter(pk__in=ids, client_id=client_id))
    if len(numbers) != len(ids):
        raise ApplicationError(_("A team serves only this client's business numbers."), field="phone_numbers")
    return numbers


def _name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name or len(name) > 60:
        raise ApplicationError(_("A team's name is 1 to 60 characters."), field="name")
    return name


def _save(team: Team) -> Team:
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError:
        raise ApplicationError(_("This client already has a team with this name."), field="name") from None
    return team


@transaction.atomic
def team_create(*, actor, client_id: int, name: str, members: Sequence[int] = (),
                phone_numbers: Sequence[int] = (), round_robin: bool = False) -> Team:
    """A new team of the client (client admins manage teams)."""
    require_role(actor, client_id, Role.ADMIN)
    team = _save(Team(client_id=client_id, name=_name(name), round_robin=bool(round_robin)))
    team.members.set(_members(client_id, members))
    team.phone_numbers.set(_numbers(client_id, phone_numbers))
    return team


@transaction.atomic
def team_update(*, actor, team: Team, name: str | None = None, members: Sequence[int] | None = None,
                phone_numbers: Sequence[int] | None = None, round_robin: bool | None = None) -> Team:
    require_role(actor, team.client_id, Role.ADMIN)
    if name is not None:
        team.name = _name(name)
    if round_robin is not None:
        team.round_robin = bool(round_robin)
    _save(team)
    if members is not None:
        team.members.set(_members(team.client_id, members))
    if phone_numbers is not None:
        team.phone_numbers.set(_numbers(team.client_id, phone_numbers))
    return team


def team_delete(*, actor, team: Team) -> None:
    """Delete the team; its conversations keep their assignee and lose the team."""
    require_role(actor, team.client_id, Role.ADMIN)
    team.delete()


def team_for(*, client_id: int, team_id: int | None) -> Team | None:
    """The team an API or form names, or None; a team of another client is refused naming the field."""
    if team_id is None:
        return None
    team = Team.objects.filter(pk=team_id, client_id=client_id).first()
    if team is None:
        raise ApplicationError(_("This team is not one of this client's teams."), field="team")
    return team


def _team_of(conversation: Conversation) -> Team | None:
    link = ConversationTeam.objects.filter(conversation=conversation).select_related("team").first()
    return link.team if link else None


@transaction.atomic
def conversation_team_set(*, actor, conversation: Conversation, team: Team | None) -> Conversation:
    """Give the conversation to ``team`` (or to no team); the assignee stays as it is."""
    require_role(actor, conversation.client_id, Role.AGENT)
    if team is not None and team.client_id != conversation.client_id:
        raise ApplicationError(_("This team is not one of this client's teams."), field="team")
    conversation = services._locked(conversation)
    previous = _team_of(conversation)
    if (previous.pk if previous else None) == (team.pk if team else None):
        return conversation
    if team is None:
        ConversationTeam.objects.filter(conversation=conversation).delete()
    else:
        ConversationTeam.objects.update_or_create(conversation=conversation, defaults={"team": team})
    services._touch(conversation, [])
    services._record(conversation, actor, ActivityKind.TEAM,
                     {"from": previous.name if previous else "", "to": team.name if team else ""})
    return conversation


def team_next_member(*, team_id: int):
    """The member whose turn it is (None for a team without assignable members); takes the turn.

    Locks the team row until the caller's transaction ends: concurrent callers wait and take the next turns.
    """
    team = Team.objects.select_for_update().get(pk=team_id)
    members = list(get_user_model().objects.filter(
        is_active=True, workspace_teams=team,
        pk__in=Membership.objects.filter(client_id=team.client_id, role__in=[Role.AGENT, Role.ADMIN])
        .values("user_id")).order_by("pk"))
    if not members:
        return None
    chosen = members[team.rotation % len(members)]
    Team.objects.filter(pk=team.pk).update(rotation=team.rotation + 1)
    return chosen


def conversations_route_on_inbound(*, messages: Sequence[Message], **_ignored) -> None:
    """``messaging.hooks.inbound_stored``: a new customer's conversation goes to the team serving its number.

    New: no customer message before this batch, no assignee and no team yet. With round-robin the team's next
    member is its assignee. One read per batch when no team serves its numbers; the history records each routing.
    """
    inbound = [message for message in messages if message.direction == Direction.INBOUND]
    if not inbound:
        return
    teams: dict[int, Team] = {}  # business number id → the team serving it (the oldest, when several do)
    for team in (Team.objects.filter(phone_numbers__in={message.phone_number_id for message in inbound})
                 .prefetch_related("phone_numbers").order_by("pk")):
        for number in team.phone_numbers.all():
            teams.setdefault(number.pk, team)
    if not teams:
        return
    earlier = Message.objects.filter(conversation=OuterRef("pk"), direction=Direction.INBOUND).exclude(
        pk__in={message.pk for message in inbound})
    fresh = list(Conversation.objects.filter(pk__in={message.conversation_id for message in inbound},
                                             phone_number_id__in=teams, assignee__isnull=True,
                                             team_link__isnull=True)
                 .exclude(Exists(earlier)).values_list("pk", "phone_number_id", "client_id"))
    for pk, number_id, client_id in fresh:
        team = teams[number_id]
        if team.client_id == client_id:
            _route(conversation_id=pk, team=team)


def _route(*, conversation_id: int, team: Team) -> None:
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        if conversation.assignee_id is not None or ConversationTeam.objects.filter(conversation=conversation).exists():
            return
        ConversationTeam.objects.create(conversation=conversation, team=team)
        assignee = team_next_member(team_id=team.pk) if team.round_robin else None
        fields = []
        if assignee is not None:
            conversation.assignee = assignee
            fields.append("assignee")
        services._touch(conversation, fields)
        ConversationActivity.objects.create(conversation=conversation, actor=None, kind=ActivityKind.TEAM,
                                            detail={"from": "", "to": team.name, "auto": True})
        if assignee is not None:
            name = services._user_label(assignee)
            ConversationActivity.objects.create(
                conversation=conversation, actor=None, kind=ActivityKind.ASSIGNED,
                detail={"from": "", "to": name, "round_robin": team.name})
            services._event(conversation, EventType.CONVERSATION_ASSIGNED,
                            {"assignee": assignee.pk, "assignee_name": name})
