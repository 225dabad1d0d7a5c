"""Provider accounts: create, change, delete (operators only), rotate the webhook secret, test the connection,
read the balance. A change to a shared account is audited for every client it serves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

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
    ProviderAccount,
    WhatsAppBusinessAccount,
    new_webhook_secret,
)
from accounts.tenancy import require_operator
from providers.base import ProviderAuthError, ProviderError, ProviderTimeout, first_error
from waportal.errors import ApplicationError, Conflict

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


def refuse_unknown(data: dict[str, Any], allowed) -> None:
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
    refuse_unknown(data, ACCOUNT_FIELDS)
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
    refuse_unknown(data, ACCOUNT_FIELDS)
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
        if exc.kind == "auth":
            hooks.credentials_refused.fire(account=account, error=exc)
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
