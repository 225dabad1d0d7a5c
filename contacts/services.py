"""Writes on contacts: create, update, delete, tags, attribute values (consent is in :mod:`contacts.consent`)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import Role
from accounts.tenancy import require_role
from contacts import consent
from contacts.models import AttributeDefinition, AttributeKind, ConsentSource, Tag
from messaging.models import Contact
from waportal.errors import ApplicationError

NAME_MAX = 200
TAG_MAX = 64
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}([_-][A-Za-z0-9]{2,8})?$")


def number_normalize(raw: str, *, region: str = "CO") -> str:
    """E.164 digits without "+" (``phonenumbers``); ApplicationError(field="number") when it is no number."""
    value = str(raw or "").strip()
    number = None
    for candidate, where in ((value, region or None), ("+" + re.sub(r"[\s\-().]", "", value), None)):
        try:
            parsed = phonenumbers.parse(candidate, where)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            number = parsed
            break
    if number is None:
        raise ApplicationError(_("%(value)s is not a valid phone number.") % {"value": value[:40]}, field="number")
    return f"{number.country_code}{number.national_number}"


def definitions_for(client_id: int) -> dict[str, AttributeDefinition]:
    return {d.key: d for d in AttributeDefinition.objects.filter(client_id=client_id)}


def attribute_value(definition: AttributeDefinition, value: Any) -> Any:
    """``value`` checked and stored as its definition's type (dates as ISO text); ApplicationError if not."""
    field = f"attributes.{definition.key}"
    if value is None or value == "":
        return None
    kind = definition.kind
    if kind == AttributeKind.NUMBER:
        try:
            number = Decimal(str(value).strip().replace(",", "."))
        except InvalidOperation:
            raise ApplicationError(_("%(label)s must be a number.") % {"label": definition.label}, field=field)
        if not number.is_finite():
            raise ApplicationError(_("%(label)s must be a number.") % {"label": definition.label}, field=field)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == AttributeKind.DATE:
        try:
            return dt.date.fromisoformat(str(value).strip()[:10]).isoformat()
        except ValueError:
            raise ApplicationError(_("%(label)s must be a date (YYYY-MM-DD).") % {"label": definition.label},
                                   field=field)
    text = str(value).strip()[:500]
    if kind == AttributeKind.CHOICE and text not in (definition.choices or []):
        raise ApplicationError(_("%(label)s must be one of: %(choices)s.") % {
            "label": definition.label, "choices": ", ".join(map(str, definition.choices or []))}, field=field)
    return text


def attributes_clean(*, client_id: int, values: Mapping[str, Any],
                     definitions: Mapping[str, AttributeDefinition] | None = None) -> dict[str, Any]:
    """Values for the client's defined attributes, each checked; an unknown key is refused by name."""
    if not isinstance(values, Mapping):
        raise ApplicationError(_("Attributes must be an object of key: value."), field="attributes")
    definitions = definitions if definitions is not None else definitions_for(client_id)
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        definition = definitions.get(key)
        if definition is None:
            raise ApplicationError(_("%(key)s is not one of this client's contact attributes.") % {"key": key},
                                   field=f"attributes.{key}")
        cleaned[key] = attribute_value(definition, value)
    return cleaned


def _tags_set(*, contact: Contact, names: Iterable[str]) -> None:
    wanted = {str(n).strip()[:TAG_MAX] for n in names if str(n).strip()}
    tags = [Tag.objects.get_or_create(client_id=contact.client_id, name=name)[0] for name in sorted(wanted)]
    contact.tags.set(tags)


def _language(value: str) -> str:
    value = (value or "").strip()
    if value and not LANGUAGE_RE.match(value):
        raise ApplicationError(_("Write the language as a code such as es, en or pt_BR."), field="language")
    return value


@transaction.atomic
def contact_create(*, actor, client_id: int, number: str, name: str = "", language: str = "",
                   attributes: Mapping[str, Any] | None = None, tags: Iterable[str] = (), opted_out: bool = False,
                   region: str = "CO") -> Contact:
    require_role(actor, client_id, Role.AGENT)
    digits = number_normalize(number, region=region)
    cleaned = {k: v for k, v in attributes_clean(client_id=client_id, values=attributes or {}).items()
               if v is not None}
    try:
        with transaction.atomic():
            contact = Contact.objects.create(client_id=client_id, wa_id=digits, profile_name=name[:NAME_MAX],
                                             language=_language(language), attributes=cleaned)
    except IntegrityError:
        raise ApplicationError(_("A contact with the number +%(number)s already exists.") % {"number": digits},
                               field="number")
    _tags_set(contact=contact, names=tags)
    if opted_out:
        consent.contact_opt_out(actor=actor, contact=contact, source=ConsentSource.API)
    audit_record(actor=actor, action="contact.create", obj=contact, client=contact.client,
                 changes={"wa_id": digits})
    return contact


@transaction.atomic
def contact_update(*, actor, contact: Contact, name: str | None = None, language: str | None = None,
                   attributes: Mapping[str, Any] | None = None, tags: Iterable[str] | None = None,
                   opted_out: bool | None = None, source: str = ConsentSource.API) -> Contact:
    """Change what is given; attributes merge (a null value removes one); tags replace the contact's tags."""
    require_role(actor, contact.client_id, Role.AGENT)
    fields = []
    if name is not None:
        contact.profile_name = name[:NAME_MAX]
        fields.append("profile_name")
    if language is not None:
        contact.language = _language(language)
        fields.append("language")
    if attributes is not None:
        merged = {**(contact.attributes or {}), **attributes_clean(client_id=contact.client_id, values=attributes)}
        contact.attributes = {k: v for k, v in merged.items() if v is not None}
        fields.append("attributes")
    if fields:
        contact.save(update_fields=[*fields, "updated_at"])
    if tags is not None:
        _tags_set(contact=contact, names=tags)
    if opted_out is True:
        consent.contact_opt_out(actor=actor, contact=contact, source=source)
    elif opted_out is False:
        consent.contact_opt_in(actor=actor, contact=contact, source=source)
    return contact


@transaction.atomic
def contact_delete(*, actor, contact: Contact) -> None:
    """Delete a contact, its conversations and its messages (what a customer's erasure request asks)."""
    require_role(actor, contact.client_id, Role.ADMIN)
    audit_record(actor=actor, action="contact.delete", obj=contact, client=contact.client,
                 changes={"wa_id": contact.wa_id})
    contact.delete()


@transaction.atomic
def contacts_tag(*, actor, client_id: int, contact_ids: Iterable[int], tags: Iterable[str],
                 remove: bool = False) -> int:
    """Add (or remove) ``tags`` on the client's contacts among ``contact_ids``; the number of contacts touched."""
    require_role(actor, client_id, Role.AGENT)
    ids = list(Contact.objects.filter(client_id=client_id, pk__in=list(contact_ids)).values_list("pk", flat=True))
    names = {str(n).strip()[:TAG_MAX] for n in tags if str(n).strip()}
    if not names:
        raise ApplicationError(_("Name at least one tag."), field="tags")
    through = Tag.contacts.through
    for name in sorted(names):
        if remove:
            tag = Tag.objects.filter(client_id=client_id, name=name).first()
            if tag is not None:
                through.objects.filter(tag=tag, contact_id__in=ids).delete()
            continue
        tag, _created = Tag.objects.get_or_create(client_id=client_id, name=name)
        have = set(through.objects.filter(tag=tag, contact_id__in=ids).values_list("contact_id", flat=True))
        through.objects.bulk_create([through(tag=tag, contact_id=i) for i in ids if i not in have])
    return len(ids)


def contact_for_number(*, client_id: int, digits: str, name: str = "") -> tuple[Contact, bool]:
    """The client's contact with ``digits``, created when missing (campaigns and imports)."""
    return Contact.objects.get_or_create(client_id=client_id, wa_id=digits, defaults={"profile_name": name[:NAME_MAX]})
