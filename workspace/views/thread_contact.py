"""The thread's contact panel actions: tag and untag the customer without leaving the conversation, through the
same ``contacts`` service the contact page uses (agents and admins; a viewer gets the panel back with the
reason). Answers the panel (htmx swaps it whole)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.tenancy import has_role
from contacts import services as contact_services
from waportal.errors import ApplicationError
from workspace.contact_panel import contact_panel
from workspace.views.thread import conversation_or_404


@login_required
@require_POST
def contact_tag(request, pk: int):
    conversation = conversation_or_404(request, pk)
    error, status = "", 200
    try:
        contact_services.contacts_tag(actor=request.user, client_id=conversation.client_id,
                                      contact_ids=[conversation.contact_id], tags=[request.POST.get("tag", "")],
                                      remove=request.POST.get("remove") == "1")
    except ApplicationError as exc:
        error, status = exc.message, exc.http_status
    if not getattr(request, "htmx", False):  # a plain form post (no JavaScript): back to the thread
        return redirect("workspace:thread", pk=conversation.pk)
    context = {"conversation": conversation}
    context.update(contact_panel(conversation, can_act=has_role(request.user, conversation.client_id, Role.AGENT),
                                 error=error))
    return render(request, "workspace/_contact_panel.html", context, status=status)
