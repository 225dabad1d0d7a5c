"""Writes for provider accounts and their inventory.

Network calls happen outside database transactions; upserts happen inside
one. What disappeared upstream is marked inactive, never deleted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import conf, hooks
from accounts.audit import audit_record, changed_fields
from accounts.gateway import provider_client
from accounts.models import (
    Client,
    Membership,
    PhoneNumber,
    ProviderAccount,
    QualityRating,
    Role,
    WhatsAppBusinessAccount,
    new_webhook_secret,
)
from accounts.tenancy import client_ids_for, is_operator, require_operator, require_role
from providers.base import ProviderAuthError, ProviderError, ProviderTimeout, first_error
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


def _refuse_unknown(data: dict[str, Any], allowed) -> None:
    """A service's keyword data may hold only the fields it knows; the error names the first stranger."""
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ApplicationError(_("Unknown field: %(name)s") % {"name": ", ".join(unknown)}, field=unknown[0])


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


def _audit_account(*, actor, action: str, account: ProviderAccount, changes: dict | None = None) -> None:
    """One entry for the operators, and one in the trail of every client the account serves.

    An account is shared by its clients: a change to it is a change to each of
    them, so each client's admins see it in their own audit trail.
    """
    audit_record(actor=actor, action=action, obj=account, changes=changes)
    for client in Client.objects.filter(provider_account=account):
        audit_record(actor=actor, action=action, obj=account, client=client, changes=changes)


@transaction.atomic
def provider_account_create(*, actor, **data: Any) -> ProviderAccount:
    require_operator(actor, _("Only the portal's operators may add provider accounts."))
    _refuse_unknown(data, ACCOUNT_FIELDS)
    account = ProviderAccount(**data, created_by=actor if actor and actor.is_authenticated else None)
    _validate(account)
    account.save()
    _audit_account(
        actor=actor,
        action="provider_account.create",
        account=account,
        changes=changed_fields({}, _snapshot(account), secret_fields=ProviderAccount.SECRET_FIELDS),
    )
    return account


@transaction.atomic
def provider_account_update(*, account: ProviderAccount, actor, **data: Any) -> ProviderAccount:
    """Change fields; an empty secret in ``data`` keeps the stored one (write-only secrets).

    Operators only: the base URL decides where the stored secrets are sent, and
    an account is shared by several clients, so nobody inside one client may
    redirect, re-key or rename it (issue 17).
    """
    require_operator(actor)
    _refuse_unknown(data, ACCOUNT_FIELDS)
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
        _audit_account(actor=actor, action="provider_account.update", account=account, changes=changes)
    return account


def provider_account_delete(*, account: ProviderAccount, actor) -> None:
    """Delete an account with no history; one with messages, campaigns or templates is a 409 (operators only).

    Its history (protected rows) must outlive it: the answer says to deactivate
    it instead (``is_active = false``), which stops its use and keeps the record.
    """
    require_operator(actor, _("Only the portal's operators may delete provider accounts."))
    try:
        with transaction.atomic():
            _audit_account(actor=actor, action="provider_account.delete", account=account)
            account.delete()
    except (ProtectedError, RestrictedError) as exc:
        raise Conflict(
            _("This provider account has history (messages or campaigns) and cannot be deleted. "
              "Deactivate it instead: set is_active to false."),
            field="is_active",
        ) from exc


@transaction.atomic
def provider_account_webhook_secret_rotate(*, account: ProviderAccount, actor) -> ProviderAccount:
    """A new webhook secret; the old one keeps working for ``WEBHOOK_SECRET_GRACE_HOURS`` (operators only).

    The provider keeps calling the old URL until someone changes it in the
    provider's console, so the old secret is accepted for a grace period and
    then refused. Rotating again before it ends drops the older secret at once.
    """
    require_operator(actor, _("Only the portal's operators may rotate a webhook secret."))
    account = ProviderAccount.objects.select_for_update().get(pk=account.pk)
    account.previous_webhook_secret = account.webhook_secret
    account.previous_webhook_secret_until = timezone.now() + timedelta(hours=conf.setting("WEBHOOK_SECRET_GRACE_HOURS"))
    account.webhook_secret = new_webhook_secret()
    account.save(update_fields=["webhook_secret", "previous_webhook_secret", "previous_webhook_secret_until",
                                "updated_at"])
    # Never the secrets themselves in the trail: only that it changed, and until when the old one works.
    _audit_account(actor=actor, action="provider_account.webhook_secret_rotate", account=account,
                   changes={"webhook_secret": "replaced",
                            "previous_webhook_secret_until": account.previous_webhook_secret_until.isoformat()})
    return account


# --- connection test and balance ---------------------------------------------


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    message: str


def provider_account_test_connection(*, account: ProviderAccount) -> ConnectionCheck:
    """A clear yes/no, every word of ours in the person's language (the provider's own words quoted as they are).

    Aldeamo has no "who am I" call: the ISV token is proven with the WABA
    listing, the API key and user id with a one-template listing of a WABA
    (synced or entered by hand). Contacto Virtual: the balance query.
    """
    capabilities = account.capabilities
    try:
        if capabilities.balance:
            # The balance query proves the credentials; keep its answer too.
            provider_account_balance_refresh(account=account)
            message = _("%(provider)s accepted the credentials; the balance is %(balance)s.") % {
                "provider": account.get_provider_display(),
                "balance": account.balance,
            }
        elif capabilities.inventory == "isv":
            message = _isv_connection_words(account)
        else:
            message = _("%(provider)s accepted the credentials: “%(words)s”.") % {
                "provider": account.get_provider_display(), "words": provider_client(account).check_connection()}
    except ProviderError as exc:
        return ConnectionCheck(ok=False, message=provider_error_words(exc, account=account))
    except ApplicationError as exc:
        return ConnectionCheck(ok=False, message=exc.message)
    return ConnectionCheck(ok=True, message=message)


def _isv_connection_words(account: ProviderAccount) -> str:
    client = provider_client(account)
    sentences: list[str] = []
    if account.analytics_token:
        entries = client.wabas_by_token()
        wabas = sum(len(entry.waba_ids) for entry in entries)
        sentences.append(ngettext(
            "The ISV token works: it sees %(clients)d client", "The ISV token works: it sees %(clients)d clients",
            len(entries)) % {"clients": len(entries)} + " " + ngettext(
            "with %(wabas)d WhatsApp Business account.", "with %(wabas)d WhatsApp Business accounts.", wabas)
            % {"wabas": wabas})
    waba_id = (
        WhatsAppBusinessAccount.objects.filter(client__provider_account=account, is_active=True)
        .values_list("waba_id", flat=True)
        .first()
    )
    if waba_id:
        templates = client.templates_list(waba_id=waba_id, limit=1)
        if templates:
            sentences.append(_("The API key and user id work: WABA %(waba)s lists at least one template.")
                             % {"waba": waba_id})
        else:
            sentences.append(_("The API key and user id work: WABA %(waba)s lists no templates yet.")
                             % {"waba": waba_id})
    if not sentences:
        raise ApplicationError(_(
            "Nothing to check yet: without the ISV token, the API key and user id are checked by listing the "
            "templates of a WABA. Add the client's WABA (id and namespace), then test again."
        ), field="analytics_token")
    return " ".join(sentences)


def provider_error_words(exc: ProviderError, *, account: ProviderAccount) -> str:
    """A provider failure in the person's language; the provider's own words (if any) quoted after."""
    provider = account.get_provider_display()
    if isinstance(exc, ProviderAuthError):
        sentence = _("%(provider)s refused the credentials: check the API key, user id or token.")
    elif isinstance(exc, ProviderTimeout):
        sentence = _("%(provider)s did not answer in time.")
    elif exc.retryable:
        sentence = _("%(provider)s could not be reached at %(url)s; try again later or check the base URL.")
    elif exc.status in (404, 405) or (exc.status is not None and 300 <= exc.status < 400):
        sentence = _("%(provider)s does not know this address (HTTP %(status)s): check the base URL at %(url)s.")
    else:
        sentence = _("%(provider)s refused the request.")
    words = sentence % {"provider": provider, "url": account.effective_base_url, "status": exc.status}
    said = first_error(exc.body) if exc.body is not None else None
    if not said and isinstance(exc.body, dict) and isinstance(exc.body.get("status"), str):
        said = exc.body["status"].strip()  # Contacto Virtual's words for its code
    if said:
        words += " " + _("The provider said: “%(words)s”.") % {"words": said}
    return words


def provider_account_balance_refresh(*, account: ProviderAccount) -> ProviderAccount:
    if not account.capabilities.balance:
        raise ApplicationError(_("%(provider)s accounts have no balance to read.")
                               % {"provider": account.get_provider_display()}, field="provider")
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


# --- inventory entered by hand (accounts without the ISV token; what no listing returns) --------------------

WABA_EDITABLE = ("name", "namespace", "is_active")
PHONE_NUMBER_EDITABLE = ("waba", "display_phone_number", "verified_name", "is_active", "send_limit")


def _checked_send_limit(value) -> int:
    """A number's send limit: whole messages per second, 1 to 1,000 (WhatsApp's tiers: 20, 80, 1,000)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        raise ApplicationError(_("The sending limit is a whole number of messages per second from 1 to 1,000."),
                               field="send_limit")
    return value


def _store_send_limit(number: PhoneNumber, per_second: int) -> int:
    """The limit lives in the number's send bucket (campaigns.NumberRate), where every sender reads it."""
    from accounts import rates

    return rates.set_number_limit(phone_number_id=number.pk, digits=number.digits, per_second=per_second)


def _digits_only(value: str, *, field: str, minimum: int, maximum: int) -> str:
    text = (value or "").strip()
    if not (text.isascii() and text.isdigit() and minimum <= len(text) <= maximum):
        raise ApplicationError(
            _("Write %(field)s as digits only (%(minimum)d to %(maximum)d digits).")
            % {"field": field, "minimum": minimum, "maximum": maximum},
            field=field,
        )
    return text


def _checked_namespace(value: str) -> str:
    """A template namespace as WhatsApp gives it (``b1c2…_a3f4…``): letters, digits, ``_`` and ``-``."""
    text = (value or "").strip()
    if text and not (len(text) <= 100 and text.replace("_", "").replace("-", "").isalnum() and text.isascii()):
        raise ApplicationError(
            _("The namespace is letters, digits, '_' and '-' only (as WhatsApp Manager shows it), at most 100."),
            field="namespace",
        )
    return text


def _require_inventory_admin(actor, client: Client) -> None:
    if actor is not None:
        require_role(actor, client, Role.ADMIN)


@transaction.atomic
def waba_create(*, actor, client: Client, waba_id: str, name: str = "", namespace: str = "") -> WhatsAppBusinessAccount:
    """A WABA entered by an admin: the provider lists WABAs only with the ISV token, and never the namespace.

    A later sync with the token keeps what was entered here (it only marks the WABA active and synced).
    """
    _require_inventory_admin(actor, client)
    account = client.provider_account
    if not account.capabilities.manual_inventory:
        raise ApplicationError(_("%(provider)s lines have no WhatsApp Business accounts to enter by hand.")
                               % {"provider": account.get_provider_display()}, field="client")
    waba_id = _digits_only(waba_id, field="waba_id", minimum=5, maximum=32)
    if WhatsAppBusinessAccount.objects.filter(client=client, waba_id=waba_id).exists():
        raise ApplicationError(_("This client already has the WABA %(waba)s.") % {"waba": waba_id}, field="waba_id")
    waba = WhatsAppBusinessAccount.objects.create(
        client=client, waba_id=waba_id, name=(name or "").strip()[:200], namespace=_checked_namespace(namespace)
    )
    audit_record(actor=actor, action="waba.create", obj=waba, client=client,
                 changes={"waba_id": waba_id, "name": waba.name, "namespace": waba.namespace})
    return waba


@transaction.atomic
def waba_update(*, actor, waba: WhatsAppBusinessAccount, **data: Any) -> WhatsAppBusinessAccount:
    """Change what the provider cannot list (namespace) and the WABA's name or activity."""
    _require_inventory_admin(actor, waba.client)
    _refuse_unknown(data, WABA_EDITABLE)
    if "namespace" in data:
        data["namespace"] = _checked_namespace(data["namespace"])
    if "name" in data:
        data["name"] = (data["name"] or "").strip()[:200]
    before = {name: getattr(waba, name) for name in data}
    for name, value in data.items():
        setattr(waba, name, value)
    waba.save()
    changes = {name: {"from": before[name], "to": value} for name, value in data.items() if before[name] != value}
    if changes:
        audit_record(actor=actor, action="waba.update", obj=waba, client=waba.client, changes=changes)
    return waba


def _checked_number_waba(client: Client, waba: WhatsAppBusinessAccount | None) -> WhatsAppBusinessAccount | None:
    if waba is not None and waba.client_id != client.pk:
        raise ApplicationError(_("The WABA belongs to another client."), field="waba")
    if waba is None and client.provider_account.capabilities.templates_per_waba:
        raise ApplicationError(_("A %(provider)s number needs its WABA (its templates live there).")
                               % {"provider": client.provider_account.get_provider_display()}, field="waba")
    return waba


@transaction.atomic
def phone_number_create(
    *,
    actor,
    client: Client,
    digits: str,
    waba: WhatsAppBusinessAccount | None = None,
    display_phone_number: str = "",
    verified_name: str = "",
    phone_number_id: str = "",
    send_limit: int | None = None,
) -> PhoneNumber:
    """A business number entered by an admin (the ``from`` of sends): digits with the country code."""
    _require_inventory_admin(actor, client)
    if send_limit is not None:
        send_limit = _checked_send_limit(send_limit)
    digits = _digits_only(digits, field="digits", minimum=8, maximum=15)
    waba = _checked_number_waba(client, waba)
    if PhoneNumber.objects.filter(client=client, digits=digits).exists():
        raise ApplicationError(_("This client already has the number %(digits)s.") % {"digits": digits},
                               field="digits")
    phone_number_id = (phone_number_id or "").strip() or f"manual-{digits}"
    if PhoneNumber.objects.filter(client=client, phone_number_id=phone_number_id).exists():
        raise ApplicationError(_("This client already has a number with this provider id."), field="phone_number_id")
    number = PhoneNumber.objects.create(
        client=client,
        waba=waba,
        phone_number_id=phone_number_id[:64],
        digits=digits,
        display_phone_number=(display_phone_number or "").strip()[:40] or display_number(digits),
        verified_name=(verified_name or "").strip()[:200],
    )
    changes = {"digits": digits, "waba": waba.waba_id if waba else None}
    if send_limit is not None:
        _store_send_limit(number, send_limit)
        changes["send_limit"] = send_limit
    audit_record(actor=actor, action="phone_number.create", obj=number, client=client, changes=changes)
    return number


@transaction.atomic
def phone_number_update(*, actor, number: PhoneNumber, **data: Any) -> PhoneNumber:
    _require_inventory_admin(actor, number.client)
    _refuse_unknown(data, PHONE_NUMBER_EDITABLE)
    if "waba" in data:
        _checked_number_waba(number.client, data["waba"])
    send_limit = data.pop("send_limit", None)
    changes = {}
    if send_limit is not None:
        before_limit = _store_send_limit(number, _checked_send_limit(send_limit))
        if before_limit != send_limit:
            changes["send_limit"] = {"from": str(before_limit), "to": str(send_limit)}
        number._state.fields_cache.pop("send_rate", None)  # a row selected with the number is stale now
    before = {name: getattr(number, name) for name in data}
    for name, value in data.items():
        setattr(number, name, value.strip() if isinstance(value, str) else value)
    number.save()
    changes |= {name: {"from": str(before[name]), "to": str(getattr(number, name))}
                for name in data if before[name] != getattr(number, name)}
    if changes:
        audit_record(actor=actor, action="phone_number.update", obj=number, client=number.client, changes=changes)
    return number
