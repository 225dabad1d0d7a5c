"""The audit trail: one call records who did what to which object."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models

from accounts.models import AuditEntry, Client


def audit_record(
    *,
    actor,
    action: str,
    obj: models.Model,
    client: Client | None = None,
    changes: dict | None = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=obj._meta.label_lower,
        target_id=str(obj.pk),
        target_repr=str(obj)[:200],
        client=client,
        changes=changes or {},
    )


def changed_fields(
    before: dict, after: dict, *, secret_fields: Iterable[str] = ()
) -> dict:
    """What changed between two field dicts; secrets appear only as "replaced"."""
    secret_fields = set(secret_fields)
    changes: dict = {}
    for name, new in after.items():
        old = before.get(name)
        if old == new:
            continue
        if name in secret_fields:
            changes[name] = "replaced" if new else "cleared"
        else:
            changes[name] = {"from": _jsonable(old), "to": _jsonable(new)}
    return changes


def _jsonable(value):
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
