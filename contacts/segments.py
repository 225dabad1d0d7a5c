"""Writes on segments (saved contact filters) and their counts; the filter itself is :mod:`contacts.selectors`."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import Role
from accounts.tenancy import require_role
from contacts.models import Segment
from contacts.selectors import contacts_filter, filters_clean, segment_contacts
from messaging.models import Contact
from waportal.errors import ApplicationError


def _name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ApplicationError(_("Give the segment a name."), field="name")
    return name[:120]


@transaction.atomic
def segment_create(*, actor, client_id: int, name: str, filters: dict) -> Segment:
    require_role(actor, client_id, Role.AGENT)
    try:
        with transaction.atomic():
            segment = Segment.objects.create(client_id=client_id, name=_name(name), filters=filters_clean(filters),
                                             created_by=actor if getattr(actor, "is_authenticated", False) else None)
    except IntegrityError:
        raise ApplicationError(_("A segment with this name already exists."), field="name")
    audit_record(actor=actor, action="segment.create", obj=segment, client=segment.client,
                 changes={"filters": segment.filters})
    return segment


@transaction.atomic
def segment_update(*, actor, segment: Segment, name: str | None = None, filters: dict | None = None) -> Segment:
    require_role(actor, segment.client_id, Role.AGENT)
    if name is not None:
        segment.name = _name(name)
    if filters is not None:
        segment.filters = filters_clean(filters)
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError:
        raise ApplicationError(_("A segment with this name already exists."), field="name")
    return segment


@transaction.atomic
def segment_delete(*, actor, segment: Segment) -> None:
    require_role(actor, segment.client_id, Role.AGENT)
    audit_record(actor=actor, action="segment.delete", obj=segment, client=segment.client, changes={})
    segment.delete()


def segment_count(*, segment: Segment) -> int:
    return segment_contacts(segment).count()


def filters_count(*, client_id: int, filters: dict) -> int:
    return contacts_filter(Contact.objects.filter(client_id=client_id), filters_clean(filters)).count()
