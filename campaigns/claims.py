"""A campaign's claims: which worker holds which recipients, for how long, and what happened to them.

A chunk of recipients is claimed with one UPDATE that marks rows ``claimed``
with the worker's id and a lease and returns them (``WITH picked AS
MATERIALIZED (SELECT … FOR UPDATE SKIP LOCKED) UPDATE … RETURNING …`` on
PostgreSQL; on SQLite the same single statement runs under the database's
write lock). Only ``pending`` rows, or ``claimed`` rows whose lease has
expired (their worker died), can be claimed; a live worker renews its leases
(:class:`LeaseKeeper`). Outcomes are written back in one statement per chunk.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import (
    Campaign,
    CampaignRecipient,
    RecipientState,
)
from messaging import sending
from messaging.models import Message, MessageStatus
from waportal.sql import db_param, values_table

logger = logging.getLogger(__name__)

LOST_IN_FLIGHT = "worker_lost"


def lost_in_flight_words() -> str:
    return _("The worker sending this message stopped before the provider's answer was recorded; the provider may "
             "have sent it. Check with the customer, then use \"send again\" if needed.")


def in_flight_resolve(*, campaign_id: int) -> int:
    """Recipients recorded as in flight (message still ``queued``/``sending``) with no claim left: unknown.

    Nobody holds them any more, so nobody will record their answer: a campaign
    is never ``completed`` with a recipient in flight. Returns how many.
    """
    stuck = list(CampaignRecipient.objects.filter(
        campaign_id=campaign_id, state=RecipientState.SENDING,
        message__status__in=(MessageStatus.QUEUED, MessageStatus.SENDING),
    ).values_list("pk", "message_id"))
    if not stuck:
        return 0
    words = lost_in_flight_words()
    sending.messages_lost_in_flight(message_ids=[message_id for _pk, message_id in stuck], words=words)
    return CampaignRecipient.objects.filter(pk__in=[pk for pk, _m in stuck], state=RecipientState.SENDING).update(
        state=RecipientState.UNKNOWN, error_code=LOST_IN_FLIGHT, error=words, finished_at=timezone.now())


@dataclass(frozen=True)
class Claimed:
    id: int
    phone: str
    variables: dict[str, str]
    attempts: int


@dataclass(frozen=True, slots=True)
class RecipientOutcome:
    """What happened to one recipient of a chunk, as :func:`record_outcomes` writes it."""

    id: int
    state: str
    finished_at: datetime
    message_id: Any = None
    error_code: str = ""
    error: str = ""
    #: The failure's kind (``ProviderError.kind``: "auth", "rejected", …), not stored: read by the chunk's count.
    error_kind: str = ""


# --- claims ------------------------------------------------------------------------


def claim_chunk(*, campaign_id: int, worker_id: str, size: int, lease_seconds: float) -> list[Claimed]:
    """Atomically claim up to ``size`` open recipients (pending, or claimed with an expired lease).

    On PostgreSQL the rows are picked in a ``MATERIALIZED`` CTE, evaluated
    exactly once. Written as ``UPDATE … WHERE id IN (SELECT … LIMIT n FOR
    UPDATE SKIP LOCKED)``, the planner may put the subquery on the inner side
    of a nested loop and run it again for every outer row; each run skips the
    rows this very statement has just updated (they are locked by it) and
    takes the next ones, so a "chunk of 8" claimed the whole campaign whenever
    the table's statistics favoured that plan.
    """
    now = timezone.now()
    table = CampaignRecipient._meta.db_table
    open_rows = "(state = %s OR lease_until < %s)"
    pick = (f"SELECT id FROM {table} WHERE campaign_id = %s AND state IN (%s, %s) AND {open_rows} "
            f"ORDER BY id LIMIT %s")
    pick_params = [campaign_id, RecipientState.PENDING, RecipientState.CLAIMED, RecipientState.PENDING, db_param(now),
                   size]
    assign = "state = %s, claimed_by = %s, claimed_at = %s, lease_until = %s, attempts = attempts + 1"
    assign_params = [RecipientState.CLAIMED, worker_id, db_param(now), db_param(now + timedelta(seconds=lease_seconds))]
    returning = f"RETURNING {table}.id, {table}.phone, {table}.variables, {table}.attempts"
    if connection.vendor == "postgresql":
        sql = (f"WITH picked AS MATERIALIZED ({pick} FOR UPDATE SKIP LOCKED) "
               f"UPDATE {table} SET {assign} FROM picked WHERE {table}.id = picked.id AND {open_rows} "
               f"{returning}")
        params = [*pick_params, *assign_params, RecipientState.PENDING, db_param(now)]
    else:  # SQLite: one statement under the database's write lock; the subquery runs once
        sql = f"UPDATE {table} SET {assign} WHERE id IN ({pick}) AND {open_rows} {returning}"
        params = [*assign_params, *pick_params, RecipientState.PENDING, db_param(now)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    claimed = [
        Claimed(id=row[0], phone=row[1], variables=row[2] if isinstance(row[2], dict) else json.loads(row[2] or "{}"),
                attempts=row[3])
        for row in rows
    ]
    claimed.sort(key=lambda c: c.id)
    return claimed


def release(*, recipient_ids: list[int], worker_id: str) -> None:
    """Give back claimed recipients this worker did not get to (their claim did not count)."""
    if recipient_ids:
        CampaignRecipient.objects.filter(
            pk__in=recipient_ids, state=RecipientState.CLAIMED, claimed_by=worker_id
        ).update(state=RecipientState.PENDING, claimed_by="", lease_until=None, attempts=F("attempts") - 1)


def defer(*, recipient_ids: list[int], worker_id: str, seconds: float) -> None:
    """Put claimed recipients back for later: claimable again after ``seconds`` (a throttle's wait).

    They stay ``claimed`` by nobody with a lease ending then, so no worker takes
    them before; the attempt does not count (the provider refused to take it).
    """
    if recipient_ids:
        CampaignRecipient.objects.filter(
            pk__in=recipient_ids, state=RecipientState.CLAIMED, claimed_by=worker_id
        ).update(claimed_by="", lease_until=timezone.now() + timedelta(seconds=seconds), attempts=F("attempts") - 1)


def extend_lease(*, recipient_ids: list[int], worker_id: str, lease_seconds: float) -> None:
    if recipient_ids:
        CampaignRecipient.objects.filter(
            pk__in=recipient_ids, state=RecipientState.CLAIMED, claimed_by=worker_id
        ).update(lease_until=timezone.now() + timedelta(seconds=lease_seconds))


def record_outcomes(outcomes: list[RecipientOutcome]) -> None:
    """Write a chunk's outcomes in one ``UPDATE … FROM (VALUES …)`` statement (see :mod:`waportal.sql`)."""
    if not outcomes:
        return
    table = CampaignRecipient._meta.db_table
    message_pk = Message._meta.pk
    rows = [
        (outcome.id, outcome.state,
         message_pk.get_db_prep_value(outcome.message_id, connection) if outcome.message_id else None,
         outcome.error_code, outcome.error, db_param(outcome.finished_at))
        for outcome in outcomes
    ]
    values, params, (pk, state, message_id, error_code, error, finished_at) = values_table(
        rows, ["bigint", None, "uuid", None, None, "timestamp with time zone"])
    sql = (
        f"UPDATE {table} SET state = {state}, message_id = {message_id}, error_code = {error_code}, "
        f"error = {error}, finished_at = {finished_at}, claimed_by = '', lease_until = NULL "
        f"FROM {values} WHERE {table}.id = {pk}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def renew_claims(*, campaign_id: int, worker_id: str, lease_seconds: float) -> int:
    """Push the lease of every recipient this worker holds in the campaign; one UPDATE."""
    return CampaignRecipient.objects.filter(
        campaign_id=campaign_id, state=RecipientState.CLAIMED, claimed_by=worker_id
    ).update(lease_until=timezone.now() + timedelta(seconds=lease_seconds))


class LeaseKeeper(threading.Thread):
    """A worker's heartbeat while it works a slice: renews its claims' leases and the campaign's heartbeat.

    It runs beside the sending loop, on its own database connection, every
    ``CAMPAIGN_LEASE_RENEW_SECONDS``: a send that waits 30 s for the provider
    keeps its claims, and a worker that dies (``kill -9``) stops renewing, so
    its claims are free ``CAMPAIGN_CLAIM_LEASE_SECONDS`` (12 s) later, not
    minutes. Errors are logged and retried at the next beat; the sending loop
    renews too (at half the lease), so a missed beat costs nothing.
    """

    def __init__(self, *, campaign_id: int, worker_id: str, lease_seconds: float, every: float) -> None:
        super().__init__(name=f"lease-{worker_id}", daemon=True)
        self.campaign_id, self.worker_id, self.lease, self.every = campaign_id, worker_id, lease_seconds, every
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            while not self.stop.wait(self.every):
                try:
                    renew_claims(campaign_id=self.campaign_id, worker_id=self.worker_id, lease_seconds=self.lease)
                    Campaign.objects.filter(pk=self.campaign_id).update(heartbeat_at=timezone.now())
                except Exception as exc:  # the database away: the next beat tries again
                    logger.warning("campaign %s: could not renew the leases of %s: %s", self.campaign_id,
                                   self.worker_id, exc)
                    connection.close()
        finally:
            connection.close()

    def __enter__(self) -> LeaseKeeper:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.join(timeout=self.every + 5)
