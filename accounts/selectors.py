"""Reads about provider accounts that screens show."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext as _

from accounts import hooks
from accounts.models import ProviderAccount, WhatsAppBusinessAccount


@dataclass(frozen=True)
class SetupNote:
    """One line of the account page's "Setup" box: ``tone`` is ``info`` or ``warning``; ``url`` where to fix it."""

    tone: str
    text: str
    url: str = ""


def account_setup_notes(*, account: ProviderAccount, client_ids: set[int] | None = None) -> list[SetupNote]:
    """What this account can do with the credentials it has, and what a person still has to enter.

    Aldeamo's manual marks the WABA and number listings and the conversation
    analytics as ISV features (header ``token``); sending and templates need
    only ``ApiKey``/``UserId``. No listing returns a WABA's namespace, and
    Contacto Virtual's template listing has no ``id_template``: both are
    prompted here when missing.

    ``client_ids`` limits the notes to those clients' WABAs and templates (a
    client admin looking at an account shared with other clients); None is
    every client of the account (operators).
    """
    notes: list[SetupNote] = []
    capabilities = account.capabilities
    if capabilities.inventory == "isv":
        if account.analytics_token:
            notes.append(SetupNote("info", _(
                "With the ISV token, sync lists the clients, WABAs and numbers, and conversation analytics can be "
                "synced.")))
        else:
            notes.append(SetupNote("warning", _(
                "No ISV token: sending and templates work with the API key and user id, but the WABAs and numbers "
                "are not listed (add them by hand) and conversation analytics are not available. Features that "
                "need the ISV token: WABA and number listing, conversation analytics."),
                reverse("admin:accounts_whatsappbusinessaccount_add")))
        wabas = WhatsAppBusinessAccount.objects.filter(client__provider_account=account, is_active=True)
        if client_ids is not None:
            wabas = wabas.filter(client_id__in=client_ids)
        for waba in wabas.filter(namespace=""):
            notes.append(SetupNote("warning", _(
                "WABA %(waba)s has no template namespace: no template can be sent from its numbers until it is "
                "entered.") % {"waba": waba.waba_id},
                reverse("admin:accounts_whatsappbusinessaccount_change", args=[waba.pk])))
        if not wabas.exists():
            notes.append(SetupNote("warning", _(
                "No WABA yet: sync (with the ISV token) or add the client's WABA with its namespace, then its "
                "numbers."), reverse("admin:accounts_whatsappbusinessaccount_add")))
    for contributed in hooks.setup_notes.collect(account=account, client_ids=client_ids):
        notes.extend(contributed)
    return notes
