"""An account's sync: clients, WABAs and business numbers pulled from the provider and upserted (ISV listing,
an account without the ISV token, a single-line provider), then its templates through ``hooks.templates_sync``;
and what a client's admin may read of the result.

Network calls happen outside database transactions; upserts happen inside
one. What disappeared upstream is marked inactive, never deleted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import hooks
from accounts.gateway import provider_client
from accounts.models import (
    Client,
    PhoneNumber,
    ProviderAccount,
    QualityRating,
    WhatsAppBusinessAccount,
)
from accounts.services.provider_accounts import provider_account_balance_refresh
from accounts.tenancy import client_ids_for, is_operator
from providers.base import ProviderError
from providers.types import PhoneNumberInfo

# --- sync ---------------------------------------------------------------------


@dataclass
class SyncResult:
    clients: int = 0
    wabas: int = 0
    phone_numbers: int = 0
    templates: int = 0
    deactivated: int = 0
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "clients": self.clients,
            "wabas": self.wabas,
            "phone_numbers": self.phone_numbers,
            "templates": self.templates,
            "deactivated": self.deactivated,
            "warnings": self.warnings,
        }


def sync_result_visible(*, result: SyncResult, account: ProviderAccount, user) -> SyncResult:
    """What ``user`` may read of a sync of a shared account: operators all; others their clients' share.

    A client's admin may sync the account their client lives on, but the counts
    and warnings of the whole account would name the other clients' WABAs:
    they get their own clients' counts, and warnings that name another
    client's WABA become one line without it.
    """
    if is_operator(user):
        return result
    mine = set(client_ids_for(user) or ())
    wabas = WhatsAppBusinessAccount.objects.filter(client__provider_account=account, client_id__in=mine,
                                                   is_active=True)
    own_ids = set(wabas.values_list("waba_id", flat=True))
    foreign_ids = set(
        WhatsAppBusinessAccount.objects.filter(client__provider_account=account).exclude(client_id__in=mine)
        .values_list("waba_id", flat=True)
    ) - own_ids
    warnings, hidden = [], 0
    for warning in result.warnings:
        if any(waba_id and waba_id in warning for waba_id in foreign_ids):
            hidden += 1
        else:
            warnings.append(warning)
    if hidden:
        warnings.append(_("%(count)d warnings concern other clients of this account; the operators can see them.")
                        % {"count": hidden})
    own_clients = Client.objects.filter(provider_account=account, pk__in=mine)
    return SyncResult(
        clients=own_clients.count(),
        wabas=len(own_ids),
        phone_numbers=PhoneNumber.objects.filter(client_id__in=mine, client__provider_account=account,
                                                 is_active=True).count(),
        # Through the reverse relation: the templates manager's model, without importing it here.
        templates=own_clients.filter(templates__deleted_at__isnull=True).values("templates").count(),
        deactivated=0,
        warnings=warnings,
    )


def provider_account_sync(*, account: ProviderAccount, actor=None) -> SyncResult:
    """Pull clients, WABAs, phone numbers (and templates) from the provider and upsert them."""
    try:
        if account.capabilities.inventory == "isv":
            result = _sync_isv(account)
        else:
            result = _sync_single_line(account)
    except ProviderError as exc:
        ProviderAccount.objects.filter(pk=account.pk).update(last_sync_error=exc.message)
        if exc.kind == "auth":
            hooks.credentials_refused.fire(account=account, error=exc)
        raise
    result.templates = _sync_templates(account, result)
    now = timezone.now()
    ProviderAccount.objects.filter(pk=account.pk).update(last_sync_at=now, last_sync_error="")
    account.last_sync_at, account.last_sync_error = now, ""
    return result


# Templates are the templates manager's concern, and accounts (the bottom app) imports no app above it: the
# templates manager registers its pull here from its AppConfig.ready. A step is called as
# ``step(account=..., warnings=[...])``, returns how many templates it synced and may raise ProviderError.
def _sync_templates(account: ProviderAccount, result: SyncResult) -> int:
    synced = 0
    for step in hooks.templates_sync.receivers:
        try:
            synced += step(account=account, warnings=result.warnings)
        except ProviderError as exc:
            result.warnings.append(_("Templates: %(words)s") % {"words": exc.message})
    return synced


def _quality(value: str) -> str:
    value = (value or "").upper()
    return value if value in QualityRating.values else QualityRating.UNKNOWN


def _sync_isv(account: ProviderAccount) -> SyncResult:
    if not account.analytics_token:
        return _sync_isv_without_token(account)
    client = provider_client(account)
    result = SyncResult()
    entries = client.wabas_by_token()
    numbers: dict[tuple[str, str], list[PhoneNumberInfo]] = {}
    for entry in entries:
        for waba_id in entry.waba_ids:
            try:
                numbers[(entry.client_id, waba_id)] = client.phone_numbers(client_id=entry.client_id, waba_id=waba_id)
            except ProviderError as exc:
                # One bad WABA must not hide the others; its numbers stay as they were.
                result.warnings.append(_("WABA %(waba)s: %(words)s") % {"waba": waba_id, "words": exc.message})

    now = timezone.now()
    # What admins typed that no listing returns, by WABA id: kept when the listing puts the WABA under another
    # client (an account that ran without the ISV token had one client, its user id).
    entered = dict(
        WhatsAppBusinessAccount.objects.filter(client__provider_account=account).exclude(namespace="")
        .values_list("waba_id", "namespace")
    )
    before = {pk: (quality, verification) for pk, quality, verification in PhoneNumber.objects.filter(
        client__provider_account=account).values_list("pk", "quality_rating", "code_verification_status")}
    changed: list[tuple[PhoneNumber, str, str, str]] = []
    with transaction.atomic():
        seen_clients: list[int] = []
        for entry in entries:
            db_client, _created = Client.objects.update_or_create(
                provider_account=account,
                client_id=entry.client_id,
                defaults={"is_active": True, "synced_at": now},
                create_defaults={"name": f"{account.name} · {entry.client_id}", "is_active": True, "synced_at": now},
            )
            seen_clients.append(db_client.pk)
            result.clients += 1
            seen_wabas: list[int] = []
            for waba_id in entry.waba_ids:
                waba, _created = WhatsAppBusinessAccount.objects.update_or_create(
                    client=db_client, waba_id=waba_id, defaults={"is_active": True, "synced_at": now}
                )
                if not waba.namespace and entered.get(waba_id):
                    waba.namespace = entered[waba_id]
                    waba.save(update_fields=["namespace", "updated_at"])
                seen_wabas.append(waba.pk)
                result.wabas += 1
                if (entry.client_id, waba_id) not in numbers:
                    continue
                seen_numbers: list[int] = []
                for info in numbers[(entry.client_id, waba_id)]:
                    number, _created = PhoneNumber.objects.update_or_create(
                        client=db_client,
                        phone_number_id=info.id,
                        defaults={
                            "waba": waba,
                            "display_phone_number": info.display_phone_number,
                            "digits": info.digits,
                            "verified_name": info.verified_name,
                            "code_verification_status": info.code_verification_status,
                            "quality_rating": _quality(info.quality_rating),
                            "is_active": True,
                            "synced_at": now,
                        },
                    )
                    seen_numbers.append(number.pk)
                    result.phone_numbers += 1
                    was = before.get(number.pk)
                    for index, name in ((0, "quality_rating"), (1, "code_verification_status")):
                        if was is not None and was[index] != getattr(number, name):
                            changed.append((number, name, was[index], getattr(number, name)))
                result.deactivated += (
                    PhoneNumber.objects.filter(waba=waba, is_active=True).exclude(pk__in=seen_numbers).update(
                        is_active=False
                    )
                )
            result.deactivated += (
                WhatsAppBusinessAccount.objects.filter(client=db_client, is_active=True)
                .exclude(pk__in=seen_wabas)
                .update(is_active=False)
            )
        gone = Client.objects.filter(provider_account=account, is_active=True).exclude(pk__in=seen_clients)
        result.deactivated += gone.update(is_active=False)
        if changed:
            hooks.numbers_changed.fire(changes=changed)
    return result


def _sync_isv_without_token(account: ProviderAccount) -> SyncResult:
    """An account with only ``ApiKey``/``UserId``: one client (its user id), the WABAs and numbers admins entered.

    The manual lists WABAs and numbers only with the ISV token (seed 000
    §"WABA's y ClientId con Token", §"API PhoneNumber"), so nothing is listed
    or deactivated here; the template sync that follows uses ``ApiKey`` and
    ``UserId`` on the WABAs entered by hand.
    """
    now = timezone.now()
    with transaction.atomic():
        db_client, _created = Client.objects.update_or_create(
            provider_account=account,
            client_id=account.user_id,
            defaults={"is_active": True, "synced_at": now},
            create_defaults={"name": account.name, "is_active": True, "synced_at": now},
        )
    result = SyncResult(clients=1)
    result.wabas = WhatsAppBusinessAccount.objects.filter(client=db_client, is_active=True).count()
    result.phone_numbers = PhoneNumber.objects.filter(client=db_client, is_active=True).count()
    if not result.wabas:
        result.warnings.append(_(
            "Without the ISV token the provider lists no WABAs or numbers: add the WABA (with its namespace) and "
            "its numbers by hand, then sync again for the templates."
        ))
    return result


def display_number(digits: str) -> str:
    """``573001234567`` → ``+57 300 1234567`` (as WhatsApp shows it), or the digits."""
    try:
        parsed = phonenumbers.parse("+" + digits)
    except phonenumbers.NumberParseException:
        return digits
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _sync_single_line(account: ProviderAccount) -> SyncResult:
    """A provider that lists no clients or numbers (Contacto Virtual): the account is one client (its login),
    its line one number."""
    if account.capabilities.balance:
        provider_account_balance_refresh(account=account)
    now = timezone.now()
    result = SyncResult(clients=1)
    with transaction.atomic():
        db_client, _created = Client.objects.update_or_create(
            provider_account=account,
            client_id=account.login,
            defaults={"is_active": True, "synced_at": now},
            create_defaults={"name": account.name, "is_active": True, "synced_at": now},
        )
        if account.line_number:
            PhoneNumber.objects.update_or_create(
                client=db_client,
                phone_number_id=f"line-{account.line_number}",
                defaults={
                    "waba": None,
                    "display_phone_number": display_number(account.line_number),
                    "digits": account.line_number,
                    "verified_name": account.name,
                    "is_active": True,
                    "synced_at": now,
                },
            )
            result.phone_numbers = 1
        result.deactivated += (
            PhoneNumber.objects.filter(client=db_client, is_active=True)
            .exclude(digits=account.line_number or "-")
            .update(is_active=False)
        )
    return result
