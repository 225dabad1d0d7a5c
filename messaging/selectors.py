"""Reads of messaging: what a user may see, scoped by tenancy (``accounts.tenancy``)."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Client, PhoneNumber, ProviderAccount, Role
from accounts.tenancy import client_ids_for, scope
from messaging.models import Conversation, Message, WebhookEvent
from templates_mgr.models import Template, TemplateStatus


def conversations_visible(user) -> QuerySet[Conversation]:
    return scope(Conversation.objects.all(), user, "client")


def thread_messages(conversation: Conversation) -> QuerySet[Message]:
    return Message.objects.filter(conversation=conversation).select_related("reply_to__template")


def webhook_accounts_visible(user) -> QuerySet[ProviderAccount]:
    """Accounts whose events ``user`` may filter by: all for operators, else those where they are a client admin."""
    ids = client_ids_for(user, Role.ADMIN)
    if ids is None:
        return ProviderAccount.objects.all()
    return ProviderAccount.objects.filter(
        pk__in=Client.objects.filter(pk__in=ids).values("provider_account_id"))


def webhook_events_visible(user) -> QuerySet[WebhookEvent]:
    """Raw events ``user`` may read: all for operators; a client admin's only those attributed to their clients.

    An event not (yet) attributed to one client may carry another tenant's
    customers (accounts are shared), so it stays with the operators.
    """
    ids = client_ids_for(user, Role.ADMIN)
    if ids is None:
        return WebhookEvent.objects.all()
    return WebhookEvent.objects.filter(client_id__in=ids)


def composer_numbers(user) -> QuerySet[PhoneNumber]:
    """The business numbers ``user`` may send from: active, in clients where they are agent or admin."""
    return scope(
        PhoneNumber.objects.filter(is_active=True).select_related("client__provider_account", "waba"),
        user,
        "client",
        Role.AGENT,
    ).order_by("client__name", "digits")


def composer_templates(user) -> QuerySet[Template]:
    """Approved, not deleted templates of the user's clients (agent role or above)."""
    return scope(
        Template.objects.filter(status=TemplateStatus.APPROVED, deleted_at__isnull=True)
        .select_related("waba", "client__provider_account"),
        user,
        "client",
        Role.AGENT,
    ).order_by("name", "language")
