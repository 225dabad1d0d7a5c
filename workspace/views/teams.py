"""The thread's team menu: give the conversation to one of its client's teams (or to none)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from waportal.errors import ApplicationError
from workspace import teams
from workspace.views.thread import panel_act


@login_required
@require_POST
def team_assign(request, pk: int):
    def action(conversation):
        raw = request.POST.get("team", "")
        if raw in ("", "none"):
            team = None
        elif raw.isdigit():
            team = teams.team_for(client_id=conversation.client_id, team_id=int(raw))
        else:
            raise ApplicationError(_("Pick a team."), field="team")
        teams.conversation_team_set(actor=request.user, conversation=conversation, team=team)

    return panel_act(request, pk, action)
