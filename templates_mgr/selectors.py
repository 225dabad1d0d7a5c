"""Reads of templates that other screens show."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import ngettext

from accounts.models import ProviderAccount
from accounts.selectors import SetupNote
from templates_mgr.models import Template


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
