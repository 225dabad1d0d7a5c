"""Who may see and do what: every query and every write goes through here.

A user sees the objects of the clients they belong to; superusers (the
portal's operators) see everything. Roles rank viewer < agent < admin.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.models import ROLE_RANK, Client, Membership, ProviderAccount, Role
from waportal.errors import PermissionDenied


def client_ids_for(user, min_role: str = Role.VIEWER) -> set[int] | None:
    """Ids of the clients ``user`` holds at least ``min_role`` in; None means all (superuser)."""
    if user is None or not user.is_authenticated:
        return set()
    if user.is_superuser:
        return None
    cache_attr = f"_client_ids_{min_role}"
    cached = getattr(user, cache_attr, None)
    if cached is not None:
        return cached
    wanted = [role for role, rank in ROLE_RANK.items() if rank >= ROLE_RANK[Role(min_role)]]
    ids = set(Membership.objects.filter(user=user, role__in=wanted).values_list("client_id", flat=True))
    setattr(user, cache_attr, ids)
    return ids


def scope(queryset: QuerySet, user, client_path: str, min_role: str = Role.VIEWER) -> QuerySet:
    """``queryset`` narrowed to what ``user`` may see; ``client_path`` leads to the Client.

    ``client_path`` is the lookup from the model to its client id, e.g.
    ``"client"``, ``"waba__client"``, ``"clients"`` (for provider accounts).
    """
    ids = client_ids_for(user, min_role)
    if ids is None:
        return queryset
    if client_path == "clients":
        # A reverse relation (provider accounts): a subquery avoids duplicate rows.
        return queryset.filter(pk__in=Client.objects.filter(pk__in=ids).values("provider_account_id"))
    return queryset.filter(**{f"{client_path}__in": ids})

def role_in(user, client: Client | int) -> str | None:
    """The user's role in ``client`` (admin for superusers), or None."""
    if user.is_superuser:
        return Role.ADMIN
    client_id = client if isinstance(client, int) else client.pk
    return Membership.objects.filter(user=user, client_id=client_id).values_list("role", flat=True).first()


def has_role(user, client: Client | int, min_role: str) -> bool:
    role = role_in(user, client)
    return role is not None and ROLE_RANK[Role(role)] >= ROLE_RANK[Role(min_role)]


def require_role(user, client: Client | int, min_role: str) -> None:
    if not has_role(user, client, min_role):
        raise PermissionDenied(
            _("You need the %(role)s role in this client to do that.") % {"role": Role(min_role).label}
        )


def is_operator(user) -> bool:
    """Operators hold the BSP contract: they alone change, re-key, redirect or delete provider accounts.

    They are the portal's superusers. A client's admin works inside their client
    and may test and sync its account, never change where its secrets go.
    """
    return user is not None and user.is_authenticated and user.is_active and user.is_superuser


def require_operator(user, message: str | None = None) -> None:
    """Refuse anyone but an operator; ``user`` None is the system itself (management commands)."""
    if user is None or is_operator(user):
        return
    raise PermissionDenied(message or _("Only the portal's operators may change provider accounts."))


def provider_accounts_visible(user):
    """Provider accounts ``user`` may see: those of their clients; all for operators."""
    queryset = ProviderAccount.objects.all()
    if user is None or not user.is_authenticated:
        return queryset.none()
    ids = client_ids_for(user)
    if ids is None:
        return queryset
    return queryset.filter(pk__in=Client.objects.filter(pk__in=ids).values("provider_account_id"))


def require_account_admin(user, account: ProviderAccount) -> None:
    """Operators, and admins of one of the account's clients, may test and sync it (nothing more)."""
    if is_operator(user):
        return
    if user is not None and user.is_authenticated and Membership.objects.filter(
        user=user, role=Role.ADMIN, client__provider_account=account
    ).exists():
        return
    raise PermissionDenied(_("Only an admin of this account's client may test or sync it."))
