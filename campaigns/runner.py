"""The campaign worker: claim a chunk, keep the pace, send, record, check, repeat.

One call of :func:`campaign_work` is one *slice* of a background task (see
:mod:`campaigns.tasks`): it works for about ``CAMPAIGN_SLICE_SECONDS`` and says
whether the task should run again. Any number of slices may run at once, in
any number of ``db_worker`` processes; these rules keep that safe:

**Claims.** A chunk of recipients is claimed with one UPDATE that marks rows
``claimed`` with this worker's id and a lease and returns them
(``WITH picked AS MATERIALIZED (SELECT … FOR UPDATE SKIP LOCKED) UPDATE … RETURNING …``
on PostgreSQL; on SQLite the same single statement runs under the database's
write lock). Only ``pending`` rows, or ``claimed`` rows whose lease has
expired (their worker died), can be claimed.

**Never twice.** Every send carries the key ``campaign:<id>:recipient:<id>``,
unique per client in the message table. A chunk goes through the send
service's batch (:class:`messaging.sending.TemplateBatch`): its messages are
stored ``queued`` in a few statements, each is marked ``sending`` (only while
still queued) just before its provider call, and a key already used returns
its first message. A recipient claimed again after its worker died is
therefore linked to the message that left, or sent now if its message never
did -- never sent twice.

**Pace.** ``Campaign.pace_next_slot`` is a token bucket shared by all workers:
a worker reserves slots with one atomic ``UPDATE … SET pace_next_slot =
max(pace_next_slot, now) + n/pace RETURNING``, about ``PACE_WINDOW_SECONDS``
of them at a time (:class:`PaceShare`), and sends message *i* of a
reservation at ``start + i/pace``. Slots never overlap, so the campaign's
rate never exceeds its pace; small reservations interleave the workers, so
together they hold a pace none of them could alone.

**Control.** Before each chunk, and every ``CAMPAIGN_CONTROL_SECONDS`` while
sending one, the worker re-reads the campaign: a pause, a cancel, a newer
generation (a resume started fresh tasks) or a template that became PAUSED,
REJECTED or DISABLED stops it; the rest of its chunk is given back unsent.
Chunks are bigger than that interval (``CAMPAIGN_CHUNK_SECONDS``) because a
chunk's claim, store and record cost the same for 15 recipients as for 80.
A 401 from the provider or a failure ratio above the threshold pauses the
campaign with the reason.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import F, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import PhoneNumber, Provider
from campaigns import conf, tracking
from campaigns.models import (
    OPEN_STATES,
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    OptOut,
    PauseKind,
    RecipientState,
    SkipReason,
)
from campaigns.variables import ContentBuilder, template_slots
from messaging import sending
from messaging.models import Contact, Message, MessageStatus
from providers.base import ProviderAuthError, ProviderError
from templates_mgr.models import Template, TemplateStatus
from waportal.errors import ApplicationError
from waportal.sql import db_param, values_table

logger = logging.getLogger(__name__)

# The template statuses that stop a campaign (WhatsApp refuses sends with them).
STOPPING_TEMPLATE_STATUSES = {
    TemplateStatus.PAUSED, TemplateStatus.REJECTED, TemplateStatus.DISABLED, TemplateStatus.PENDING_DELETION,
    TemplateStatus.DELETED,
}
AUTH_ERROR_CODES = {"401", "403"}
# Contacto Virtual answers "authentication error" as return code 2.
CV_AUTH_ERROR_CODES = {"2"}
FAILED_STATES = (RecipientState.FAILED, RecipientState.UNKNOWN)
HEARTBEAT_EVERY = 5.0
# Pace slots are reserved about this many seconds at a time (see PaceShare).
PACE_WINDOW_SECONDS = 0.1
# Recipients in a worker's first chunk, before it has measured how long a send takes.
FIRST_CHUNK = 10


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


@dataclass(frozen=True)
class SliceOutcome:
    """What a slice did and whether its task should run again (and when)."""

    again: bool
    reason: str
    sent: int = 0
    run_after: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"again": self.again, "reason": self.reason, "sent": self.sent,
                "run_after": self.run_after.isoformat() if self.run_after else None}


@dataclass(frozen=True, slots=True)
class RecipientOutcome:
    """What happened to one recipient of a chunk, as :func:`record_outcomes` writes it."""

    id: int
    state: str
    finished_at: datetime
    message_id: Any = None
    error_code: str = ""
    error: str = ""


@dataclass
class ChunkResult:
    sent: int = 0
    failures: int = 0
    auth_failure: str = ""


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


# --- pace ------------------------------------------------------------------------


def reserve_slots(*, campaign_id: int, count: int, pace: int) -> tuple[float, float]:
    """Reserve ``count`` send slots in the shared bucket; returns (first slot, interval), epoch seconds.

    One atomic statement: concurrent workers get disjoint windows. Workers use
    their own clock (``time.time()``); on one machine, or NTP-synced ones, the
    skew is far below a slot.
    """
    interval = 1.0 / max(pace, 1)
    now = time.time()
    table = Campaign._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET pace_next_slot = "
            f"(CASE WHEN pace_next_slot > %s THEN pace_next_slot ELSE %s END) + %s "
            f"WHERE id = %s RETURNING pace_next_slot",
            [now, now, count * interval, campaign_id],
        )
        row = cursor.fetchone()
    end = float(row[0]) if row else now + count * interval
    return end - count * interval, interval


def _sleep_until(moment: float) -> None:
    delay = moment - time.time()
    if delay > 0:
        time.sleep(delay)


class PaceShare:
    """One worker's turns in a campaign's shared bucket, reserved a few at a time.

    Reserving a whole chunk at once would give each worker long windows of its
    own, and one worker cannot always keep the pace alone (each send waits for
    the provider); reserving about ``PACE_WINDOW_SECONDS`` of slots at a time
    interleaves the workers finely, so together they hold the pace.
    """

    def __init__(self, *, campaign_id: int, pace: int) -> None:
        self.campaign_id, self.pace = campaign_id, pace
        self.per_reservation = max(1, round(pace * PACE_WINDOW_SECONDS))
        self.interval = 1.0 / max(pace, 1)
        self.next_slot = 0.0
        self.left = 0

    def wait(self, *, wanted: int) -> None:
        """Sleep until this worker's next slot; ``wanted`` sends remain in its chunk (no slot is reserved idle)."""
        if not self.left:
            self.left = min(self.per_reservation, max(wanted, 1))
            self.next_slot, self.interval = reserve_slots(campaign_id=self.campaign_id, count=self.left,
                                                          pace=self.pace)
        _sleep_until(self.next_slot)
        self.next_slot += self.interval
        self.left -= 1


# --- the slice ------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    status: str
    generation: int
    pace: int
    start_at: datetime | None
    template_status: str
    template_deleted: bool

    @property
    def template_stops(self) -> bool:
        """The template can no longer be sent (deleted, or in a status WhatsApp refuses)."""
        return self.template_deleted or self.template_status in STOPPING_TEMPLATE_STATUSES

    def lets_send(self, generation: int) -> bool:
        """Whether a worker of ``generation`` may go on sending: the run loop's checks, all passed."""
        return self.generation == generation and self.status == CampaignStatus.RUNNING and not self.template_stops


def _snapshot(campaign_id: int) -> Snapshot | None:
    row = (
        Campaign.objects.filter(pk=campaign_id)
        .values_list("status", "generation", "pace", "start_at", "template__status", "template__deleted_at")
        .first()
    )
    if row is None:
        return None
    return Snapshot(status=row[0], generation=row[1], pace=row[2], start_at=row[3], template_status=row[4],
                    template_deleted=row[5] is not None)


def auto_pause(*, campaign: Campaign, kind: str, reason: str) -> bool:
    """Pause a running (or scheduled) campaign by itself, with the reason shown; audited."""
    moved = campaign.transition(
        CampaignStatus.PAUSED, only_from=(CampaignStatus.RUNNING, CampaignStatus.SCHEDULED),
        pause_kind=kind, pause_reason=reason, paused_at=timezone.now(),
    )
    if moved:
        logger.warning("campaign %s paused automatically: %s", campaign.pk, reason)
        audit_record(actor=None, action="campaign.auto_pause", obj=campaign, client=campaign.client,
                     changes={"pause_kind": kind, "pause_reason": reason})
    return moved


def template_stop_reason(*, name: str, status: str, deleted: bool) -> str:
    if deleted:
        return _("The template %(name)s was deleted at the provider.") % {"name": name}
    return _("The template %(name)s is now %(status)s; WhatsApp will not send it.") % {
        "name": name, "status": TemplateStatus(status).label if status in TemplateStatus.values else status,
    }


class CampaignWorker:
    """One slice of work on one campaign (objects loaded once, state re-read per chunk)."""

    def __init__(self, *, campaign: Campaign, generation: int, worker_id: str) -> None:
        self.campaign = campaign
        self.generation = generation
        self.worker_id = worker_id[:64]
        self.phone_number: PhoneNumber = campaign.phone_number
        self.template: Template = campaign.template
        self.builder = ContentBuilder(self.template, template_slots(self.template), campaign.variables)
        provider = self.phone_number.client.provider_account.provider
        self.auth_codes = AUTH_ERROR_CODES | (CV_AUTH_ERROR_CODES if provider == Provider.CONTACTO_VIRTUAL else set())
        self.lease = float(conf.setting("CAMPAIGN_CLAIM_LEASE_SECONDS"))
        self.chunk_seconds = float(conf.setting("CAMPAIGN_CHUNK_SECONDS"))
        self.chunk_max = int(conf.setting("CAMPAIGN_CHUNK_MAX"))
        self.control_seconds = float(conf.setting("CAMPAIGN_CONTROL_SECONDS"))
        self.max_attempts = int(conf.setting("CAMPAIGN_MAX_ATTEMPTS"))
        self.batch = sending.TemplateBatch(phone_number=self.phone_number, template=self.template)
        self.seconds_per_send = 0.0  # moving average, slot waits included: sizes chunks
        self.last_heartbeat = 0.0

    # -- the loop --

    def run(self, *, budget_seconds: float) -> SliceOutcome:
        # The keeper needs its own committed view of the rows: not inside a caller's transaction (tests).
        every = float(conf.setting("CAMPAIGN_LEASE_RENEW_SECONDS"))
        keeper = (LeaseKeeper(campaign_id=self.campaign.pk, worker_id=self.worker_id, lease_seconds=self.lease,
                              every=every)
                  if every > 0 and not connection.in_atomic_block else nullcontext())
        with keeper:
            return self._run(budget_seconds=budget_seconds)

    def _run(self, *, budget_seconds: float) -> SliceOutcome:
        deadline = time.monotonic() + budget_seconds
        sent = 0
        while True:
            snap = _snapshot(self.campaign.pk)
            if snap is None:
                return SliceOutcome(again=False, reason="deleted", sent=sent)
            if snap.generation != self.generation:
                return SliceOutcome(again=False, reason="superseded", sent=sent)
            if snap.status == CampaignStatus.SCHEDULED:
                if snap.start_at and snap.start_at > timezone.now():
                    return SliceOutcome(again=True, reason="scheduled", sent=sent, run_after=snap.start_at)
                self.campaign.transition(CampaignStatus.RUNNING, only_from=(CampaignStatus.SCHEDULED,),
                                         started_at=timezone.now())
                continue
            if snap.status != CampaignStatus.RUNNING:
                return SliceOutcome(again=False, reason=snap.status, sent=sent)
            if snap.template_stops:
                auto_pause(campaign=self.campaign, kind=PauseKind.TEMPLATE, reason=template_stop_reason(
                    name=self.template.name, status=snap.template_status, deleted=snap.template_deleted))
                return SliceOutcome(again=False, reason="template", sent=sent)
            self._heartbeat()
            chunk = claim_chunk(campaign_id=self.campaign.pk, worker_id=self.worker_id,
                                size=self._chunk_size(snap.pace), lease_seconds=self.lease)
            if not chunk:
                return self._nothing_to_claim(sent)
            result = self._process(chunk, pace=snap.pace)
            sent += result.sent
            if result.auth_failure:
                auto_pause(campaign=self.campaign, kind=PauseKind.AUTH, reason=result.auth_failure)
                return SliceOutcome(again=False, reason="auth", sent=sent)
            if result.failures and self._too_many_failures():
                return SliceOutcome(again=False, reason="failures", sent=sent)
            if time.monotonic() >= deadline:
                return SliceOutcome(again=True, reason="slice", sent=sent)

    def _chunk_size(self, pace: int) -> int:
        """About CHUNK_SECONDS of work: bounded by the pace and by how long sends take."""
        by_pace = pace * self.chunk_seconds
        by_speed = self.chunk_seconds / self.seconds_per_send if self.seconds_per_send else FIRST_CHUNK
        return max(1, min(self.chunk_max, int(by_pace), int(by_speed) or 1))

    def _heartbeat(self) -> None:
        now = time.monotonic()
        if now - self.last_heartbeat >= HEARTBEAT_EVERY:
            Campaign.objects.filter(pk=self.campaign.pk).update(heartbeat_at=timezone.now())
            self.last_heartbeat = now

    def _nothing_to_claim(self, sent: int) -> SliceOutcome:
        """Nothing claimable: finish the campaign, or wait for claims other workers hold."""
        held = CampaignRecipient.objects.filter(campaign_id=self.campaign.pk, state__in=OPEN_STATES).aggregate(
            lease=Min("lease_until"))
        if held["lease"] is None and not CampaignRecipient.objects.filter(
            campaign_id=self.campaign.pk, state=RecipientState.PENDING
        ).exists():
            in_flight_resolve(campaign_id=self.campaign.pk)
            if self.campaign.transition(CampaignStatus.COMPLETED, only_from=(CampaignStatus.RUNNING,),
                                        finished_at=timezone.now()):
                audit_record(actor=None, action="campaign.complete", obj=self.campaign, client=self.campaign.client)
                tracking.campaigns_refresh(campaign_ids=[self.campaign.pk], force=True)
            return SliceOutcome(again=False, reason="completed", sent=sent)
        # Another worker holds claims: come back shortly (it usually completes the
        # campaign first), and no later than its lease, to take over if it died.
        soon = timezone.now() + timedelta(seconds=2)
        return SliceOutcome(again=True, reason="waiting", sent=sent, run_after=min(soon, held["lease"] or soon))

    # -- one chunk --

    def _process(self, chunk: list[Claimed], *, pace: int) -> ChunkResult:
        """Store the chunk's messages, send them at this worker's pace slots, record every outcome."""
        result = ChunkResult()
        chunk = self._without_opted_out(chunk)
        if not chunk:
            return result
        stored = self.batch.store([
            sending.BatchItem(to=c.phone, content=self.builder.content(c.variables),
                              idempotency_key=CampaignRecipient.idempotency_key(self.campaign.pk, c.id))
            for c in chunk
        ])
        done: list[RecipientOutcome] = []
        give_back: list[int] = []
        share = PaceShare(campaign_id=self.campaign.pk, pace=pace)
        began = time.time()
        cutoff = began + len(chunk) * max(share.interval, self.seconds_per_send) + self.chunk_seconds
        lease_renew_at = began + self.lease / 2
        control_at = began + self.control_seconds
        sends = 0
        try:
            for index, (claimed, entry) in enumerate(zip(chunk, stored, strict=True)):
                if isinstance(entry, ApplicationError):
                    done.append(self._failed(claimed, "refused", entry.message))
                    result.sent += 1
                    result.failures += 1
                    continue
                if entry.status == MessageStatus.SENDING:
                    # Handed to the provider by a worker that died before recording the answer:
                    # the provider may have it. Unknown, with "send again" offered; never resent blindly.
                    sending.messages_lost_in_flight(message_ids=[entry.pk], words=lost_in_flight_words())
                    done.append(self._finished(claimed, RecipientState.UNKNOWN, message_id=entry.pk,
                                               code=LOST_IN_FLIGHT, error=lost_in_flight_words()))
                    result.sent += 1
                    continue
                if entry.status != MessageStatus.QUEUED:
                    done.append(self._outcome_of(claimed, entry))  # handed to the provider before: linked
                    continue
                if claimed.attempts > self.max_attempts:
                    words = _("Could not be sent after %(n)d attempts.") % {"n": self.max_attempts}
                    self.batch.abandon(entry, words=words)
                    done.append(self._finished(claimed, RecipientState.FAILED, message_id=entry.pk, code="attempts",
                                               error=words))
                    result.failures += 1
                    continue
                now = time.time()
                if now > cutoff:
                    give_back = [c.id for c in chunk[index:]]
                    break
                if now >= control_at:
                    if not self._still_running():
                        give_back = [c.id for c in chunk[index:]]
                        break
                    control_at = now + self.control_seconds
                if now > lease_renew_at:
                    extend_lease(recipient_ids=[c.id for c in chunk[index:]], worker_id=self.worker_id,
                                 lease_seconds=self.lease)
                    lease_renew_at = now + self.lease / 2
                share.wait(wanted=len(chunk) - index)
                sends += 1
                recipient = self._send(claimed, entry)
                if recipient is None:
                    continue  # unexpected error: left claimed, retried after the lease
                done.append(recipient)
                result.sent += 1
                if recipient.state in FAILED_STATES:
                    result.failures += 1
                    if recipient.error_code in self.auth_codes:
                        result.auth_failure = _(
                            "The provider refused the account's credentials (%(code)s): %(words)s") % {
                            "code": recipient.error_code, "words": recipient.error or _("authentication error")}
                        give_back = [c.id for c in chunk[index + 1:]]
                        break
        finally:
            self.batch.finish()  # before giving recipients back: their unsent messages are gone first
        if sends:
            elapsed = (time.time() - began) / sends
            self.seconds_per_send = elapsed if not self.seconds_per_send else (
                0.5 * self.seconds_per_send + 0.5 * elapsed)
        release(recipient_ids=give_back, worker_id=self.worker_id)
        record_outcomes(done)
        return result

    def _still_running(self) -> bool:
        """The mid-chunk control check: whether this worker may go on sending (the loop says why not)."""
        snap = _snapshot(self.campaign.pk)
        return snap is not None and snap.lets_send(self.generation)

    def _without_opted_out(self, chunk: list[Claimed]) -> list[Claimed]:
        """Skip recipients who opted out after the dry run (a "stop" reply mid-campaign).

        A re-claimed one may have been sent before its worker died: it keeps its
        message (linked by the batch's replay) instead of being skipped.
        """
        phones = {c.phone for c in chunk}
        stopped = set(
            Contact.objects.filter(client_id=self.campaign.client_id, wa_id__in=phones, opted_out=True)
            .values_list("wa_id", flat=True)
        ) | set(OptOut.objects.filter(client_id=self.campaign.client_id, phone__in=phones)
                .values_list("phone", flat=True))
        out = [c for c in chunk if c.phone in stopped]
        if not out:
            return chunk
        keys = {CampaignRecipient.idempotency_key(self.campaign.pk, c.id): c.id for c in out if c.attempts > 1}
        earlier = (Message.objects.filter(client_id=self.campaign.client_id, idempotency_key__in=list(keys))
                   if keys else [])
        words = _("This person asked not to receive messages (after the list was checked).")
        sent_before = set()
        for message in earlier:
            if message.status == MessageStatus.QUEUED:
                self.batch.abandon(message, words=words)
            else:
                sent_before.add(keys[message.idempotency_key])
        skipped = {c.id for c in out} - sent_before
        CampaignRecipient.objects.filter(pk__in=skipped).update(
            state=RecipientState.SKIPPED, skip_reason=SkipReason.OPTED_OUT, claimed_by="", lease_until=None,
            skip_detail=words)
        return [c for c in chunk if c.id not in skipped]

    def _send(self, claimed: Claimed, message: Message) -> RecipientOutcome | None:
        try:
            message = self.batch.send(message)
        except ApplicationError as exc:
            return self._failed(claimed, "refused", exc.message)
        except ProviderAuthError as exc:
            return self._failed(claimed, str(exc.status or "401"), exc.message)
        except ProviderError as exc:
            if exc.maybe_delivered:
                return self._finished(claimed, RecipientState.UNKNOWN, code=type(exc).__name__, error=exc.message)
            return self._failed(claimed, str(exc.status or exc.code or type(exc).__name__), exc.message)
        except Exception:
            logger.exception("campaign %s: sending to recipient %s failed unexpectedly", self.campaign.pk, claimed.id)
            return None
        return self._outcome_of(claimed, message)

    def _outcome_of(self, claimed: Claimed, message: Message) -> RecipientOutcome:
        return self._finished(claimed, tracking.state_for_message(message.status), message_id=message.pk,
                              code=message.error_code if message.status == MessageStatus.FAILED else "",
                              error=message.error_title if message.status == MessageStatus.FAILED else "")

    def _failed(self, claimed: Claimed, code: str, error: str) -> RecipientOutcome:
        return self._finished(claimed, RecipientState.FAILED, code=code, error=error)

    @staticmethod
    def _finished(claimed: Claimed, state: str, *, message_id=None, code: str = "", error: str = "") -> RecipientOutcome:
        return RecipientOutcome(id=claimed.id, state=state, finished_at=timezone.now(), message_id=message_id,
                                error_code=(code or "")[:32], error=error or "")

    # -- automatic stops --

    def _too_many_failures(self) -> bool:
        """Pause when more than RATIO of the last WINDOW outcomes failed (or got no answer)."""
        window = int(conf.setting("CAMPAIGN_FAILURE_WINDOW"))
        ratio = float(conf.setting("CAMPAIGN_FAILURE_RATIO"))
        recent = list(
            CampaignRecipient.objects.filter(campaign_id=self.campaign.pk, finished_at__isnull=False)
            .order_by("-finished_at").values_list("state", flat=True)[:window]
        )
        failures = sum(1 for state in recent if state in FAILED_STATES)
        if failures <= ratio * window:
            return False
        return auto_pause(
            campaign=self.campaign, kind=PauseKind.FAILURES,
            reason=_("%(failures)d of the last %(total)d messages failed or got no answer (the limit is "
                     "%(percent)d%%). Check the failure reasons, then resume.")
            % {"failures": failures, "total": len(recent), "percent": round(ratio * 100)},
        )


def campaign_work(*, campaign_id: int, generation: int, worker_id: str, budget_seconds: float | None = None
                  ) -> SliceOutcome:
    """Work on a campaign for about ``budget_seconds``; say whether to run again."""
    campaign = (
        Campaign.objects.select_related("client", "phone_number__client__provider_account", "template")
        .filter(pk=campaign_id).first()
    )
    if campaign is None:
        return SliceOutcome(again=False, reason="deleted")
    if campaign.generation != generation:
        return SliceOutcome(again=False, reason="superseded")
    budget = float(conf.setting("CAMPAIGN_SLICE_SECONDS")) if budget_seconds is None else budget_seconds
    worker = CampaignWorker(campaign=campaign, generation=generation, worker_id=worker_id)
    return worker.run(budget_seconds=budget)
