"""Reads of templates that other screens show."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext, ngettext

from accounts.models import ProviderAccount, Role, WhatsAppBusinessAccount
from accounts.selectors import SetupNote
from accounts.tenancy import scope
from providers import registry
from templates_mgr.models import Template, TemplateStatus


def template_setup_notes(*, account: ProviderAccount, client_ids: set[int] | None = None) -> list[SetupNote]:
    """The account page's Setup line for templates still missing the id a person must enter (Contacto Virtual's
    listing has none, and sending needs it)."""
    if not account.capabilities.template_ids_by_hand:
        return []
    templates = Template.objects.filter(client__provider_account=account, deleted_at__isnull=True,
                                        provider_template_id="")
    if client_ids is not None:
        templates = templates.filter(client_id__in=client_ids)
    missing = templates.count()
    if not missing:
        return []
    return [SetupNote("warning", ngettext(
        "%(count)d template has no id_template: %(provider)s's listing does not give it and sending "
        "needs it; enter it on the template.",
        "%(count)d templates have no id_template: %(provider)s's listing does not give it and sending "
        "needs it; enter it on each template.", missing) % {"count": missing,
                                                            "provider": account.get_provider_display()},
        reverse("admin:templates_mgr_template_changelist"))]


def templates_visible(user, min_role: str = Role.VIEWER) -> QuerySet[Template]:
    """The templates of the clients ``user`` holds at least ``min_role`` in, ready for lists (no N+1)."""
    return scope(Template.objects.select_related("waba", "client__provider_account"), user, "client", min_role)


def templates_listed(user, *, search: str = "", status: str = "", category: str = "", language: str = "",
                     waba: int | None = None) -> QuerySet[Template]:
    """The templates list: by name or text, status (``deleted`` for the gone ones; live ones otherwise), category,
    language and WABA."""
    templates = templates_visible(user)
    if search:
        templates = templates.filter(Q(name__icontains=search) | Q(text__icontains=search))
    if status == "deleted":
        templates = templates.filter(deleted_at__isnull=False)
    elif status in TemplateStatus.values:
        templates = templates.filter(status=status, deleted_at__isnull=True)
    if category:
        templates = templates.filter(category=category)
    if language:
        templates = templates.filter(language=language)
    if waba:
        templates = templates.filter(waba_id=waba)
    return templates.order_by("name", "language", "pk")


def template_detail(user, pk: int) -> Template:
    """One template the user may see; another client's is a 404."""
    template = templates_visible(user).filter(pk=pk).first()
    if template is None:
        raise Http404(gettext("No such template."))
    return template


def template_changed_at(user, pk: int):
    """When the template last changed (status, sync, deletion): the live page's cheap poll key. One query."""
    found = templates_visible(user).filter(pk=pk).values_list("updated_at", flat=True).first()
    if found is None:
        raise Http404(gettext("No such template."))
    return found


def template_siblings(template: Template) -> list[tuple[str, str]]:
    """(language, status) of every live language of the template's name in its WABA: deleting removes them all."""
    return list(Template.objects.filter(waba=template.waba, name=template.name, deleted_at__isnull=True)
                .order_by("language").values_list("language", "status"))


def builder_wabas(user) -> QuerySet[WhatsAppBusinessAccount]:
    """The WABAs ``user`` may create templates in: active, of a provider that creates templates by API (capability
    ``template_write``), of a client they administer."""
    wabas = WhatsAppBusinessAccount.objects.filter(
        is_active=True, client__provider_account__provider__in=registry.with_capability("template_write")
    ).select_related("client")
    return scope(wabas, user, "client", Role.ADMIN)


def template_wabas(user) -> QuerySet[WhatsAppBusinessAccount]:
    """The WABAs the list's filter offers."""
    return scope(WhatsAppBusinessAccount.objects.select_related("client"), user, "client").order_by("name", "pk")
