"""Writes for provider accounts and their inventory.

Network calls happen outside database transactions; upserts happen inside
one. What disappeared upstream is marked inactive, never deleted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit_record, changed_fields
from accounts.gateway import provider_client
from accounts.models import (
    Client,
    Membership,
    PhoneNumber,
    Provider,
    ProviderAccount,
    QualityRating,
    WhatsAppBusinessAccount,
)
from providers.base import ProviderError
from providers.types import PhoneNumberInfo
from waportal.errors import ApplicationError, Conflict

logger = logging.getLogger(__name__)

ACCOUNT_FIELDS = (
    "name",
    "provider",
    "environment",
    "base_url",
    "user_id",
    "api_key",
    "analytics_token",
    "templates_list_path",
    "login",
    "token",
    "line_number",
    "is_active",
)


def _snapshot(account: ProviderAccount) -> dict[str, Any]:
    return {name: getattr(account, name) for name in ACCOUNT_FIELDS}


def _validate(account: ProviderAccount) -> None:
    """Model validation, as an ApplicationError naming the first field at fault."""
    try:
        account.full_clean(exclude=["created_by"])
    except ValidationError as exc:
        errors = exc.message_dict
        first = next(iter(errors))
        raise ApplicationError(
            "; ".join(errors[first]),
            field=None if first == "__all__" else first,
            extra={k: v for k, v in errors.items() if k != "__all__"},
        ) from exc


@transaction.atomic
def provider_account_create(*, actor, **data: Any) -> ProviderAccount:
    unknown = set(data) - set(ACCOUNT_FIELDS)
    if unknown:
        raise ApplicationError(_("Unknown field: %(name)s") % {"name": ", ".join(sorted(unknown))})
    account = ProviderAccount(**data, created_by=actor if actor and actor.is_authenticated else None)
    _validate(account)
    account.save()
    audit_record(
        actor=actor,
        action="provider_account.create",
        obj=account,
        changes=changed_fields({}, _snapshot(account), secret_fields=ProviderAccount.SECRET_FIELDS),
    )
    return account


@transaction.atomic
def provider_account_update(*, account: ProviderAccount, actor, **data: Any) -> ProviderAccount:
    """Change fields; an empty secret in ``data`` keeps the stored one (write-only secrets)."""
    unknown = set(data) - set(ACCOUNT_FIELDS)
    if unknown:
        raise ApplicationError(_("Unknown field: %(name)s") % {"name": ", ".join(sorted(unknown))})
    if "provider" in data and data["provider"] != account.provider:
        raise ApplicationError(_("The provider of an existing account cannot change."), field="provider")
    before = _snapshot(account)
    for name, value in data.items():
        if name in ProviderAccount.SECRET_FIELDS and not value:
            continue
        setattr(account, name, value)
    _validate(account)
    account.save()
    changes = changed_fields(before, _snapshot(account), secret_fields=ProviderAccount.SECRET_FIELDS)
    if changes:
        audit_record(actor=actor, action="provider_account.update", obj=account, changes=changes)
    return account


def provider_account_delete(*, account: ProviderAccount, actor) -> None:
    """Delete an account with no history; one with messages, campaigns or templates is a 409.

    Its history (protected rows) must outlive it: the answer says to deactivate
    it instead (``is_active = false``), which stops its use and keeps the record.
    """
    try:
        with transaction.atomic():
            audit_record(actor=actor, action="provider_account.delete", obj=account)
            account.delete()
    except (ProtectedError, RestrictedError) as exc:
        raise Conflict(
            _("This provider account has history (messages or campaigns) and cannot be deleted. "
              "Deactivate it instead: set is_active to false."),
            field="is_active",
        ) from exc


# --- connection test and balance ---------------------------------------------


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    message: str


def provider_account_test_connection(*, account: ProviderAccount) -> ConnectionCheck:
    """A clear yes/no with the provider's own words."""
    try:
        if account.provider == Provider.CONTACTO_VIRTUAL:
            # The balance query proves the credentials; keep its answer too.
            provider_account_balance_refresh(account=account)
            message = _("Contacto Virtual accepted the login %(login)s; the balance is %(balance)s.") % {
                "login": account.login,
                "balance": account.balance,
            }
        else:
            waba_id = (
                WhatsAppBusinessAccount.objects.filter(client__provider_account=account, is_active=True)
                .values_list("waba_id", flat=True)
                .first()
            )
            message = provider_client(account).check_connection(waba_id=waba_id or "")
    except ProviderError as exc:
        return ConnectionCheck(ok=False, message=exc.message)
    return ConnectionCheck(ok=True, message=message)


def provider_account_balance_refresh(*, account: ProviderAccount) -> ProviderAccount:
    if account.provider != Provider.CONTACTO_VIRTUAL:
        raise ApplicationError(_("Only Contacto Virtual accounts have a balance."), field="provider")
    balance = provider_client(account).balance()
    account.balance = balance.amount
    account.balance_checked_at = timezone.now()
    account.save(update_fields=["balance", "balance_checked_at", "updated_at"])
    return account


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


def provider_account_sync(*, account: ProviderAccount, actor=None) -> SyncResult:
    """Pull clients, WABAs, phone numbers (and templates) from the provider and upsert them."""
    try:
        if account.provider == Provider.ALDEAMO:
            result = _sync_aldeamo(account)
        else:
            result = _sync_contacto_virtual(account)
    except ProviderError as exc:
        ProviderAccount.objects.filter(pk=account.pk).update(last_sync_error=exc.message)
        raise
    result.templates = _sync_templates(account, result)
    now = timezone.now()
    ProviderAccount.objects.filter(pk=account.pk).update(last_sync_at=now, last_sync_error="")
    account.last_sync_at, account.last_sync_error = now, ""
    return result


def _sync_templates(account: ProviderAccount, result: SyncResult) -> int:
    """Templates are the templates manager's concern; it registers itself if installed."""
    try:
        from templates_mgr.services import templates_sync_for_account
    except ImportError:
        return 0
    try:
        return templates_sync_for_account(account=account, warnings=result.warnings)
    except ProviderError as exc:
        result.warnings.append(_("Templates: %(words)s") % {"words": exc.message})
        return 0


def _quality(value: str) -> str:
    value = (value or "").upper()
    return value if value in QualityRating.values else QualityRating.UNKNOWN


def _sync_aldeamo(account: ProviderAccount) -> SyncResult:
    if not account.analytics_token:
        raise ApplicationError(
            _("Set the ISV analytics token: WABAs and numbers are listed with it."), field="analytics_token"
        )
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
    return result


def display_number(digits: str) -> str:
    """``573001234567`` → ``+57 300 1234567`` (as WhatsApp shows it), or the digits."""
    try:
        parsed = phonenumbers.parse("+" + digits)
    except phonenumbers.NumberParseException:
        return digits
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _sync_contacto_virtual(account: ProviderAccount) -> SyncResult:
    """Contacto Virtual lists no clients or numbers: the account is one client, its line one number."""
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


# --- memberships ----------------------------------------------------------------


@transaction.atomic
def membership_set(*, actor, user, client: Client, role: str) -> Membership:
    membership, created = Membership.objects.get_or_create(user=user, client=client, defaults={"role": role})
    old_role = None if created else membership.role
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
    if created or old_role != role:
        audit_record(
            actor=actor,
            action="membership.set",
            obj=membership,
            client=client,
            changes={"role": {"from": old_role, "to": role}},
        )
    return membership


@transaction.atomic
def membership_remove(*, actor, membership: Membership) -> None:
    audit_record(actor=actor, action="membership.remove", obj=membership, client=membership.client)
    membership.delete()
