"""The contacts pages: the list (search, tag and consent filters, pages) and a contact's page (tags, attributes,
consent and its history, the timeline of conversations and campaigns). Viewers read; agents tag, untag and
opt out or in, through the ``contacts`` services."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role
from accounts.tenancy import has_role
from contacts import consent, services
from contacts.models import ConsentSource
from contacts.services import definitions_for
from waportal.errors import ApplicationError
from workspace import selectors
from workspace.context import frame


@login_required
@require_GET
def contact_list(request):
    search = request.GET.get("q", "")[:100]
    tag = request.GET.get("tag", "")[:64]
    consent_state = request.GET.get("consent", "")
    queryset = selectors.contacts_listed(request.user, search=search, tag=tag, consent=consent_state)
    page = Paginator(queryset, selectors.CONTACTS_PER_PAGE).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in (("q", search), ("tag", tag), ("consent", consent_state)) if v})
    context = frame(request, current="contacts", title=_("Contacts"))
    context.update({
        "page": page,
        "contacts": [{"c": c, "tags": sorted(t.name for t in c.tags.all())} for c in page.object_list],
        "q": search, "tag": tag, "consent": consent_state, "query": query,
        "tags": list(selectors.contact_tags(request.user)[:200]),
        "consents": [("opted_in", _("Opted in")), ("opted_out", _("Opted out"))],
    })
    return render(request, "workspace/contacts.html", context)


def _detail(request, contact, *, error: str = "", status: int = 200):
    labels = {key: d.label for key, d in definitions_for(contact.client_id).items()}
    context = frame(request, current="contacts", title=contact.profile_name or f"+{contact.wa_id}")
    context.update({
        "contact": contact,
        "can_act": has_role(request.user, contact.client_id, Role.AGENT),
        "tags": sorted(t.name for t in contact.tags.all()),
        "attributes": sorted((labels.get(k, k), v) for k, v in (contact.attributes or {}).items()),
        "history": list(contact.consent_events.all()),
        "conversations": selectors.contact_conversations(request.user, contact),
        "campaigns": selectors.contact_campaigns(contact),
        "error": error,
    })
    return render(request, "workspace/contact.html", context, status=status)


@login_required
@require_GET
def contact_detail(request, pk: int):
    return _detail(request, selectors.contact_detail(request.user, pk))


def _act(request, pk: int, action):
    contact = selectors.contact_detail(request.user, pk)
    try:
        action(contact)
    except ApplicationError as exc:
        return _detail(request, selectors.contact_detail(request.user, pk), error=exc.message,
                       status=exc.http_status)
    return redirect(reverse("workspace:contact", args=[pk]))


@login_required
@require_POST
def contact_tag(request, pk: int):
    remove = request.POST.get("remove") == "1"

    def action(contact):
        services.contacts_tag(actor=request.user, client_id=contact.client_id, contact_ids=[contact.pk],
                              tags=[request.POST.get("tag", "")], remove=remove)

    return _act(request, pk, action)


@login_required
@require_POST
def contact_consent(request, pk: int):
    def action(contact):
        change = consent.contact_opt_out if request.POST.get("opted_out") == "1" else consent.contact_opt_in
        change(actor=request.user, contact=contact, source=ConsentSource.ADMIN)

    return _act(request, pk, action)
