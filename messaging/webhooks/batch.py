"""What one processing batch shares: its events, accounts, numbers and messages, loaded in a few queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import Model, Q

from accounts.models import Client, PhoneNumber, ProviderAccount
from messaging.models import STATUS_FIELDS, Direction, Message, WebhookEvent
from providers.types import InboundMessage, StatusUpdate, TemplateEvent

# Column limits of the models, checked before writing so one odd payload is
# reported on its event instead of failing the batch.
MAX_NUMBER = 20
MAX_PROVIDER_ID = 128

MESSAGE_LOOKUP_FIELDS = ["id", "client_id", "conversation_id", "phone_number_id", "direction", "type",
                         "provider_message_id", "whatsapp_id", "custom_field", "to_number", "created_at",
                         *STATUS_FIELDS]


@dataclass
class Item:
    """One typed event of a stored webhook, with where it came from."""

    webhook: WebhookEvent
    event: StatusUpdate | InboundMessage | TemplateEvent

    @property
    def account_id(self) -> int:
        return self.webhook.provider_account_id

    @property
    def received_at(self) -> datetime:
        return self.webhook.received_at


@dataclass
class Phone:
    id: int
    client_id: int
    account_id: int
    digits: str
    is_active: bool


class MessageIndex:
    """Messages of a batch by (account, provider id or WhatsApp id)."""

    def __init__(self, messages: Iterable[Message], client_account: Mapping[int, int]) -> None:
        self._any: dict[tuple[int, str], Message] = {}
        self._out: dict[tuple[int, str], Message] = {}
        for message in messages:
            account_id = client_account[message.client_id]
            for key in (message.provider_message_id, message.whatsapp_id):
                if not key:
                    continue
                self._any.setdefault((account_id, key), message)
                if message.direction == Direction.OUTBOUND:
                    self._out.setdefault((account_id, key), message)

    def outbound(self, account_id: int, *ids: str) -> Message | None:
        for key in ids:
            if key and (account_id, key) in self._out:
                return self._out[(account_id, key)]
        return None

    def any(self, account_id: int, key: str) -> Message | None:
        return self._any.get((account_id, key)) if key else None


@dataclass
class BatchContext:
    """What a batch needs to know about its accounts, loaded with a fixed number of queries."""

    accounts: dict[int, ProviderAccount]
    client_account: dict[int, int]
    clients_by_account: dict[int, set[int]] = field(default_factory=dict)
    _phones: list[Phone] | None = None

    @classmethod
    def load(cls, account_ids: Iterable[int]) -> BatchContext:
        accounts = ProviderAccount.objects.only("id", "provider", "line_number").in_bulk(list(set(account_ids)))
        client_account = dict(
            Client.objects.filter(provider_account_id__in=list(accounts)).values_list("id", "provider_account_id")
        )
        clients_by_account: dict[int, set[int]] = defaultdict(set)
        for client_id, account_id in client_account.items():
            clients_by_account[account_id].add(client_id)
        return cls(accounts=accounts, client_account=client_account, clients_by_account=clients_by_account)

    @property
    def phones(self) -> list[Phone]:
        if self._phones is None:
            rows = PhoneNumber.objects.filter(client_id__in=list(self.client_account)).values_list(
                "id", "client_id", "digits", "is_active").order_by("id")
            self._phones = [Phone(id=pk, client_id=client_id, account_id=self.client_account[client_id],
                                   digits=digits, is_active=active) for pk, client_id, digits, active in rows]
        return self._phones

    def phone_by_id(self, phone_id: int) -> Phone | None:
        return next((phone for phone in self.phones if phone.id == phone_id), None)

    def business_phone(self, account_id: int, number: str) -> Phone | None:
        """The account's number ``number`` (exact, then digits only); without a number, the account's only one."""
        own = [phone for phone in self.phones if phone.account_id == account_id]
        if number:
            exact = [phone for phone in own if phone.digits == number]
            if not exact:
                digits = digits_of(number)
                exact = [phone for phone in own if digits and digits_of(phone.digits) == digits]
            return prefer_active(exact)
        return self.account_line(account_id)

    def account_line(self, account_id: int) -> Phone | None:
        """The line an account receives on when the payload names none (Contacto Virtual replies)."""
        own = [phone for phone in self.phones if phone.account_id == account_id]
        account = self.accounts.get(account_id)
        if account is not None and account.line_number:
            line = [phone for phone in own if digits_of(phone.digits) == digits_of(account.line_number)]
            if line:
                return prefer_active(line)
        active = [phone for phone in own if phone.is_active]
        if len(active) == 1:
            return active[0]
        if not active and len(own) == 1:
            return own[0]
        return None

    def lookup_messages(self, ids: set[str], *, lock: bool = True) -> MessageIndex:
        """Every message of these accounts whose provider id or WhatsApp id is in ``ids``: one query.

        Locked for the batch on databases that can (ordered by pk, so two
        workers lock in the same order): a status applied by another worker in
        between cannot be overwritten with an older one.
        """
        ids = {value for value in ids if value}
        if not ids or not self.client_account:
            return MessageIndex([], self.client_account)
        queryset = (
            Message.objects.filter(client_id__in=list(self.client_account))
            .filter(Q(provider_message_id__in=ids) | Q(whatsapp_id__in=ids))
            .only(*MESSAGE_LOOKUP_FIELDS)
            .order_by("pk")
        )
        if lock:
            queryset = queryset.select_for_update()
        return MessageIndex(list(queryset), self.client_account)


def prefer_active(phones: list[Phone]) -> Phone | None:
    if not phones:
        return None
    active = [phone for phone in phones if phone.is_active]
    return (active or phones)[0]


def attribute(webhook: WebhookEvent, client_id: int) -> None:
    """Note that ``webhook`` carried data of ``client_id`` (a status of its message, a message to its number…)."""
    webhook._clients.add(client_id)  # type: ignore[attr-defined]


def client_of(webhook: WebhookEvent, context: BatchContext) -> int | None:
    """The one client whose data this raw event carries, or None (then only operators may read it).

    Tenants share provider accounts (one Aldeamo ISV account, several clients),
    so a raw body is shown to a client's users only when everything in it is
    theirs: what it touched, or, on an account with a single client, that client.
    """
    touched = webhook._clients  # type: ignore[attr-defined]
    if len(touched) == 1:
        return next(iter(touched))
    if not touched:
        own = context.clients_by_account.get(webhook.provider_account_id, set())
        if len(own) == 1:
            return next(iter(own))
    return None


def bulk_update_rows(model: type[Model], objs: Sequence[Model], field_names: Sequence[str]) -> None:
    """``bulk_update`` in one statement whose cost does not grow with rows × fields.

    Django's ``bulk_update`` builds a ``CASE WHEN pk=… THEN …`` per field and
    row; at 500 rows that expression building dominates a processing batch
    (issue 9 measured it at most of the time). On PostgreSQL this sends one
    array per column instead: ``UPDATE … FROM unnest(%s::uuid[], …) AS v``.
    Other databases (SQLite in tests and the demo) use ``bulk_update``.
    """
    if not objs:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_update(objs, list(field_names))
        return
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in field_names)]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    arrays = [[column.get_db_prep_save(getattr(obj, column.attname), connection) for obj in objs]
              for column in columns]
    assignments = ", ".join(f"{quote(column.column)} = v.{quote(column.column)}" for column in columns[1:])
    sources = ", ".join(f"%s::{column.db_type(connection)}[]"
                        for column in columns)
    names = ", ".join(quote(column.column) for column in columns)
    pk_column = quote(meta.pk.column)
    sql = (f"UPDATE {table} SET {assignments} FROM unnest({sources}) AS v({names}) "
           f"WHERE {table}.{pk_column} = v.{pk_column}")
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)


def digits_of(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def number_variants(mobile: str) -> set[str]:
    """A Colombian mobile as it may have been stored: as given, with or without the 57 prefix."""
    digits = digits_of(mobile)
    variants = {mobile, digits}
    if len(digits) >= 10:
        variants.update({digits[-10:], "57" + digits[-10:]})
    return {variant for variant in variants if variant}


def language_key(language: str) -> str:
    return language.replace("-", "_").lower()
