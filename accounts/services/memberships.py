"""Memberships: a person's role in a client, set or removed, each change in the client's audit trail."""

from __future__ import annotations

from django.db import transaction

from accounts.audit import audit_record
from accounts.models import (
    Client,
    Membership,
)

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
