"""Inventory entered by hand: WABAs and business numbers of accounts without the ISV token, and what no listing
returns (a WABA's namespace, a number's send limit). Client admins only; every change audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import (
    Client,
    PhoneNumber,
    Role,
    WhatsAppBusinessAccount,
)
from accounts.services.provider_accounts import refuse_unknown
from accounts.services.sync import display_number
from accounts.tenancy import require_role
from waportal.errors import ApplicationError

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


def digits_only(value: str, *, field: str, minimum: int, maximum: int) -> str:
    text = (value or "").strip()
    if not (text.isascii() and text.isdigit() and minimum <= len(text) <= maximum):
        raise ApplicationError(
            _("Write %(field)s as digits only (%(minimum)d to %(maximum)d digits).")
            % {"field": field, "minimum": minimum, "maximum": maximum},
            field=field,
        )
    return text


def checked_namespace(value: str) -> str:
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
    waba_id = digits_only(waba_id, field="waba_id", minimum=5, maximum=32)
    if WhatsAppBusinessAccount.objects.filter(client=client, waba_id=waba_id).exists():
        raise ApplicationError(_("This client already has the WABA %(waba)s.") % {"waba": waba_id}, field="waba_id")
    waba = WhatsAppBusinessAccount.objects.create(
        client=client, waba_id=waba_id, name=(name or "").strip()[:200], namespace=checked_namespace(namespace)
    )
    audit_record(actor=actor, action="waba.create", obj=waba, client=client,
                 changes={"waba_id": waba_id, "name": waba.name, "namespace": waba.namespace})
    return waba


@transaction.atomic
def waba_update(*, actor, waba: WhatsAppBusinessAccount, **data: Any) -> WhatsAppBusinessAccount:
    """Change what the provider cannot list (namespace) and the WABA's name or activity."""
    _require_inventory_admin(actor, waba.client)
    refuse_unknown(data, WABA_EDITABLE)
    if "namespace" in data:
        data["namespace"] = checked_namespace(data["namespace"])
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
    digits = digits_only(digits, field="digits", minimum=8, maximum=15)
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
    refuse_unknown(data, PHONE_NUMBER_EDITABLE)
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
