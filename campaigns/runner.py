"""The campaign worker: claim a chunk, keep the pace, send, record, check, repeat.

One call of :func:`campaign_work` is one *slice* of a background task (see
:mod:`campaigns.tasks`): it works for about ``CAMPAIGN_SLICE_SECONDS`` and says
whether the task should run again. Any number of slices may run at once, in
any number of ``db_worker`` processes; these rules keep that safe:

**Claims** (:mod:`campaigns.claims`). A chunk of recipients is claimed with one
UPDATE that marks rows ``claimed`` with this worker's id and a lease and
returns them. Only ``pending`` rows, or ``claimed`` rows whose lease has
expired (their worker died), can be claimed.

**Never twice.** Every send carries the key ``campaign:<id>:recipient:<id>``,
unique per client in the message table. A chunk goes through the send
service's batch (:class:`messaging.sending.TemplateBatch`): its messages are
stored ``queued`` in a few statements, each is marked ``sending`` (only while
still queued) just before its provider call, and a key already used returns
its first message. A recipient claimed again after its worker died is
therefore linked to the message that left, or sent now if its message never
did -- never sent twice.

**Pace** (:mod:`campaigns.pace`). ``Campaign.pace_next_slot`` is a token bucket shared by all workers:
a worker reserves slots with one atomic ``UPDATE … SET pace_next_slot =
max(pace_next_slot, now) + n/pace RETURNING``, about ``PACE_WINDOW_SECONDS``
of them at a time (:class:`PaceShare`), and sends message *i* of a
reservation at ``start + i/pace``. Slots never overlap, so the campaign's
rate never exceeds its pace; small reservations interleave the workers, so
together they hold a pace none of them could alone.

**Control** (:mod:`campaigns.stops`). Before each chunk, and every
``CAMPAIGN_CONTROL_SECONDS`` while sending one, the worker re-reads the campaign: a pause, a cancel, a newer
generation (a resume started fresh tasks) or a template that became PAUSED,
REJECTED or DISABLED stops it; the rest of its chunk is given back unsent.
Chunks are bigger than that interval (``CAMPAIGN_CHUNK_SECONDS``) because a
chunk's claim, store and record cost the same for 15 recipients as for 80.
A 401 from the provider or a failure ratio above the threshold pauses the
campaign with the reason.
"""

from __future__ import annotations

import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import rates
from accounts.audit import audit_record
from accounts.models import PhoneNumber
from campaigns import conf, hooks, screening, stops, throttles, tracking
from campaigns.claims import (
    LOST_IN_FLIGHT,
    Claimed,
    LeaseKeeper,
    RecipientOutcome,
    claim_chunk,
    extend_lease,
    in_flight_resolve,
    lost_in_flight_words,
    record_outcomes,
    release,
)
from campaigns.models import (
    OPEN_STATES,
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    PauseKind,
    RecipientState,
)
from campaigns.pace import SEND_AHEAD_SECONDS, Flight, Late, PaceShare
from campaigns.variables import ContentBuilder, template_slots
from messaging import sending
from messaging.models import Message, MessageStatus
from providers.base import ProviderError
from templates_mgr.models import Template
from waportal.errors import ApplicationError

logger = logging.getLogger(__name__)

HEARTBEAT_EVERY = 5.0
# Recipients in a worker's first chunk, before it has measured how long a send takes.
FIRST_CHUNK = 10
# Sends due within SEND_AHEAD_SECONDS are marked ``sending`` about this many seconds of slots at a time (one
# UPDATE for the group); a group whose first slot is closer than URGENT_SECONDS leaves at once.
GROUP_SECONDS = 0.1
URGENT_SECONDS = 0.05


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


@dataclass
class ChunkResult:
    sent: int = 0
    failures: int = 0
    auth_failure: str = ""


# --- the slice ------------------------------------------------------------------------


class CampaignWorker:
    """One slice of work on one campaign (objects loaded once, state re-read per chunk)."""

    def __init__(self, *, campaign: Campaign, generation: int, worker_id: str) -> None:
        self.campaign = campaign
        self.generation = generation
        self.worker_id = worker_id[:64]
        self.phone_number: PhoneNumber = campaign.phone_number
        self.template: Template = campaign.template
        self.builder = ContentBuilder(self.template, template_slots(self.template), campaign.variables)
        self.lease = float(conf.setting("CAMPAIGN_CLAIM_LEASE_SECONDS"))
        self.chunk_seconds = float(conf.setting("CAMPAIGN_CHUNK_SECONDS"))
        self.chunk_max = int(conf.setting("CAMPAIGN_CHUNK_MAX"))
        self.control_seconds = float(conf.setting("CAMPAIGN_CONTROL_SECONDS"))
        self.max_attempts = int(conf.setting("CAMPAIGN_MAX_ATTEMPTS"))
        self.batch = sending.TemplateBatch(phone_number=self.phone_number, template=self.template)
        self.batch.throttle_back = True  # a throttled send comes back to slow down and try later (_harvest)
        self.seconds_per_send = 0.0  # moving average, slot waits included: sizes chunks
        self.last_heartbeat = 0.0
        self.flight: Flight | None = None
        self.done: list[RecipientOutcome] = []  # outcomes of calls returned, recorded at the chunk's end
        self.gate: rates.NumberGate | None = None
        self.throttles = 0  # consecutive throttled answers: the backoff's exponent
        self.group: list[tuple[Claimed, Message, float]] = []  # due sends not yet marked (_begin_group)

    # -- the loop --

    def run(self, *, budget_seconds: float) -> SliceOutcome:
        # The keeper needs its own committed view of the rows: not inside a caller's transaction (tests).
        every = float(conf.setting("CAMPAIGN_LEASE_RENEW_SECONDS"))
        keeper = (LeaseKeeper(campaign_id=self.campaign.pk, worker_id=self.worker_id, lease_seconds=self.lease,
                              every=every)
                  if every > 0 and not connection.in_atomic_block else nullcontext())
        size = int(conf.setting("CAMPAIGN_SENDS_IN_FLIGHT"))
        self.flight = Flight(size if size > 1 and self.batch.concurrent else 1)
        with keeper:
            try:
                outcome = self._run(budget_seconds=budget_seconds)
            except Exception:
                self._drain()  # the answers already received are recorded; the rest is the leases' business
                raise
            except BaseException:  # the process is going away: no more database work
                self.flight.close(wait=False)
                raise
            self._drain()
            return outcome

    def _drain(self) -> None:
        """Wait for every call in flight and record it (the slice is ending)."""
        try:
            self._settle()
        finally:
            self.flight.close()

    def _settle(self) -> ChunkResult:
        """Wait for every call in flight; record the answers."""
        result = ChunkResult()
        while self.flight.running:
            self._harvest(result, timeout=0.5)
        self.batch.finish()
        self._record()
        return result


    def _record(self) -> None:
        done, self.done = self.done, []
        record_outcomes(done)

    def _run(self, *, budget_seconds: float) -> SliceOutcome:
        deadline = time.monotonic() + budget_seconds
        sent = 0
        while True:
            snap = stops.snapshot(self.campaign.pk)
            if snap is None:
                return SliceOutcome(again=False, reason="deleted", sent=sent)
            if snap.generation != self.generation:
                return SliceOutcome(again=False, reason="superseded", sent=sent)
            if snap.status == CampaignStatus.SCHEDULED:
                if snap.start_at and snap.start_at > timezone.now():
                    return SliceOutcome(again=True, reason="scheduled", sent=sent, run_after=snap.start_at)
                if self.campaign.transition(CampaignStatus.RUNNING, only_from=(CampaignStatus.SCHEDULED,),
                                            started_at=timezone.now()):
                    hooks.campaign_status_changed.fire(campaign=self.campaign, previous=CampaignStatus.SCHEDULED)
                continue
            if snap.status != CampaignStatus.RUNNING:
                return SliceOutcome(again=False, reason=snap.status, sent=sent)
            if snap.template_stops:
                stops.auto_pause(campaign=self.campaign, kind=PauseKind.TEMPLATE, reason=stops.template_stop_reason(
                    name=self.template.name, status=snap.template_status, deleted=snap.template_deleted))
                return SliceOutcome(again=False, reason="template", sent=sent)
            self.flight.stopping.clear()  # a stop seen mid-chunk was undone meanwhile (e.g. resumed): go on
            self._heartbeat()
            chunk = claim_chunk(campaign_id=self.campaign.pk, worker_id=self.worker_id,
                                size=self._chunk_size(snap.pace), lease_seconds=self.lease)
            if not chunk:
                if self.flight.running:  # this worker's own calls are the claims left: record them, look again
                    settled = self._settle()
                    sent += settled.sent
                    if settled.auth_failure:
                        stops.auto_pause(campaign=self.campaign, kind=PauseKind.AUTH, reason=settled.auth_failure)
                        return SliceOutcome(again=False, reason="auth", sent=sent)
                    continue
                return self._nothing_to_claim(sent)
            result = self._process(chunk, pace=snap.pace)
            sent += result.sent
            if result.auth_failure:
                stops.auto_pause(campaign=self.campaign, kind=PauseKind.AUTH, reason=result.auth_failure)
                return SliceOutcome(again=False, reason="auth", sent=sent)
            if result.failures and stops.too_many_failures(campaign=self.campaign):
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
                hooks.campaign_status_changed.fire(campaign=self.campaign, previous=CampaignStatus.RUNNING)
                audit_record(actor=None, action="campaign.complete", obj=self.campaign, client=self.campaign.client)
                tracking.campaigns_refresh(campaign_ids=[self.campaign.pk], force=True)
            return SliceOutcome(again=False, reason="completed", sent=sent)
        # Another worker holds claims: come back shortly (it usually completes the
        # campaign first), and no later than its lease, to take over if it died.
        soon = timezone.now() + timedelta(seconds=2)
        return SliceOutcome(again=True, reason="waiting", sent=sent, run_after=min(soon, held["lease"] or soon))

    # -- one chunk --

    def _process(self, chunk: list[Claimed], *, pace: int) -> ChunkResult:
        """Store the chunk's messages, hand them to the provider at this worker's slots, record the outcomes.

        Up to ``CAMPAIGN_SENDS_IN_FLIGHT`` calls wait for the provider at once
        (:class:`Flight`); each message is marked ``sending`` before its call,
        here, and its outcome is recorded here when the call returns. Calls
        still in flight when the chunk's last one is handed over carry on into
        the next chunk (the worker keeps its claims until they are recorded).
        """
        result = ChunkResult()
        self._harvest(result, timeout=0)  # answers that came in since the last chunk (or calls stopped there)
        chunk = screening.without_opted_out(chunk=chunk, campaign=self.campaign, batch=self.batch)
        chunk = screening.without_pair_limited(chunk=chunk, campaign=self.campaign, phone_number=self.phone_number,
                                               worker_id=self.worker_id)
        if not chunk:
            return result
        stored = self.batch.store([
            sending.BatchItem(to=c.phone, content=self.builder.content(c.variables),
                              idempotency_key=CampaignRecipient.idempotency_key(self.campaign.pk, c.id))
            for c in chunk
        ])
        give_back: list[int] = []
        share = PaceShare(campaign_id=self.campaign.pk, pace=pace)
        if self.gate is None or self.gate.pace != pace:
            self.gate = rates.NumberGate(phone_number_id=self.phone_number.pk, digits=self.phone_number.digits,
                                         pace=pace)
        began = time.time()
        cutoff = began + len(chunk) * max(share.interval, self.seconds_per_send) + self.chunk_seconds
        lease_renew_at = began + self.lease / 2
        control_at = began + self.control_seconds
        sends = 0
        try:
            for index, (claimed, entry) in enumerate(zip(chunk, stored, strict=True)):
                if isinstance(entry, ApplicationError):
                    self.done.append(self._failed(claimed, "refused", entry.message))
                    result.sent += 1
                    result.failures += 1
                    continue
                if entry.status == MessageStatus.SENDING:
                    # Handed to the provider by a worker that died before recording the answer:
                    # the provider may have it. Unknown, with "send again" offered; never resent blindly.
                    sending.messages_lost_in_flight(message_ids=[entry.pk], words=lost_in_flight_words())
                    self.done.append(self._finished(claimed, RecipientState.UNKNOWN, message_id=entry.pk,
                                                    code=LOST_IN_FLIGHT, error=lost_in_flight_words()))
                    result.sent += 1
                    continue
                if entry.status != MessageStatus.QUEUED:
                    self.done.append(self._outcome_of(claimed, entry))  # handed to the provider before: linked
                    continue
                if claimed.attempts > self.max_attempts:
                    words = _("Could not be sent after %(n)d attempts.") % {"n": self.max_attempts}
                    self.batch.abandon(entry, words=words)
                    self.done.append(self._finished(claimed, RecipientState.FAILED, message_id=entry.pk,
                                                    code="attempts", error=words))
                    result.failures += 1
                    continue
                while self.flight.full:
                    self._harvest(result, timeout=0.05)
                now = time.time()
                if result.auth_failure:
                    self.flight.stop()
                    give_back = self._ungroup() + [c.id for c in chunk[index:]]
                    break
                if now > cutoff:
                    self._begin_group(result)
                    give_back = [c.id for c in chunk[index:]]
                    break
                if now >= control_at:
                    if not self._still_running():
                        self.flight.stop()  # the calls waiting for their slot are not made
                        give_back = self._ungroup() + [c.id for c in chunk[index:]]
                        break
                    control_at = now + self.control_seconds
                if now > lease_renew_at:
                    flying = [item[0].id for item in self.flight.running.values()] + [
                        claimed.id for claimed, _message, _at in self.group]
                    extend_lease(recipient_ids=[c.id for c in chunk[index:]] + flying, worker_id=self.worker_id,
                                 lease_seconds=self.lease)
                    lease_renew_at = now + self.lease / 2
                # The campaign's own slot, then the number's at or after it: a number slot is never taken
                # for a send that waits for its campaign's turn.
                slot = self.gate.next(wanted=len(chunk) - index,
                                      not_before=share.next(wanted=len(chunk) - index))
                if slot - SEND_AHEAD_SECONDS > time.time():  # not due yet: the group due now leaves first
                    self._begin_group(result)
                    self._idle_until(slot - SEND_AHEAD_SECONDS + GROUP_SECONDS, result)
                sends += 1
                self.group.append((claimed, entry, slot))
                if (len(self.group) + len(self.flight.running) >= self.flight.size
                        or self.group[0][2] - time.time() < URGENT_SECONDS):
                    self._begin_group(result)
                self._harvest(result, timeout=0)
            else:
                self._begin_group(result)
        finally:
            self.group = []  # (an error: their messages, never marked, go with finish; their claims with the lease)
            self.batch.finish()  # before giving recipients back: their unsent messages are gone first
        if sends:
            elapsed = (time.time() - began) / sends
            self.seconds_per_send = elapsed if not self.seconds_per_send else (
                0.5 * self.seconds_per_send + 0.5 * elapsed)
        release(recipient_ids=give_back, worker_id=self.worker_id)
        self._record()
        return result

    def _idle_until(self, moment: float, result: ChunkResult) -> None:
        """Until ``moment`` (epoch seconds), taking in the answers that arrive meanwhile."""
        while (delay := moment - time.time()) > 0:
            self._harvest(result, timeout=delay)

    def _begin_group(self, result: ChunkResult) -> None:
        """Mark the grouped messages ``sending`` (one UPDATE) and put their calls in flight (or record why not).

        Messages join the group when their slot is within ``SEND_AHEAD_SECONDS``
        and leave it together, about ``GROUP_SECONDS`` of slots at a time (one
        statement for ~8 sends at 80/s instead of one each); one whose slot is
        closer than ``URGENT_SECONDS`` makes the group leave at once.
        """
        group, self.group = self.group, []
        if not group:
            return
        calls = self.batch.begin_many([message for _claimed, message, _at in group])
        for (claimed, message, at), call in zip(group, calls, strict=True):
            if isinstance(call, ApplicationError):
                self._count(self._failed(claimed, "refused", call.message), result)
            elif isinstance(call, Message):  # another worker took it meanwhile: linked, not sent again
                self.done.append(self._outcome_of(claimed, call))
            else:
                self.flight.submit(call, (claimed, message), at=at)

    def _ungroup(self) -> list[int]:
        """Forget the grouped sends (stopping: never marked, their calls never made); their recipients' ids."""
        group, self.group = self.group, []
        return [claimed.id for claimed, _message, _at in group]

    def _harvest(self, result: ChunkResult, *, timeout: float) -> None:
        """Record the calls that returned (waiting up to ``timeout`` for one): outcomes, or a throttle."""
        for (claimed, message), future in self.flight.finished(timeout):
            try:
                outcome = future.result()
            except Exception as exc:
                recipient = self._raised(claimed, message, exc)
                if recipient is not None:
                    self._count(recipient, result)
                continue
            if isinstance(outcome, Late):  # woke too late for its slot: never left; the number's next one
                self.flight.submit(outcome.call, (claimed, message), at=self.gate.next(wanted=1), tries=outcome.tries)
                continue
            if outcome is Flight.NOT_SENT:  # stopped before its slot: never left
                if self.batch.withdraw(message):
                    release(recipient_ids=[claimed.id], worker_id=self.worker_id)
                continue
            if outcome.status == sending.THROTTLED:
                self.throttles += 1
                throttles.answer_throttled(campaign_id=self.campaign.pk, phone_number_id=self.phone_number.pk,
                                           batch=self.batch, recipient_id=claimed.id, message=message,
                                           outcome=outcome, worker_id=self.worker_id, in_a_row=self.throttles)
                continue
            message = self.batch.complete(message, outcome)
            if message.status != MessageStatus.FAILED:
                self.throttles = 0
            self._count(self._outcome_of(claimed, message), result)

    def _raised(self, claimed: Claimed, message: Message, exc: Exception) -> RecipientOutcome | None:
        """A provider call that raised instead of returning its outcome: what the recipient's outcome is.

        None for an unexpected error: its message is recorded ``unknown`` (the
        request may have left) and the recipient stays claimed; whoever claims
        it after the lease finds that message and links it, never resending.
        """
        if isinstance(exc, ApplicationError):
            return self._failed(claimed, "refused", exc.message)
        if isinstance(exc, ProviderError):
            if exc.maybe_delivered:
                return self._finished(claimed, RecipientState.UNKNOWN, code=type(exc).__name__, error=exc.message,
                                      kind=exc.kind)
            return self._finished(claimed, RecipientState.FAILED, error=exc.message, kind=exc.kind,
                                  code=str(exc.status or exc.code or type(exc).__name__))
        logger.error("campaign %s: sending to recipient %s failed unexpectedly", self.campaign.pk, claimed.id,
                     exc_info=exc)
        self.batch.complete(message, None)
        return None

    def _count(self, recipient: RecipientOutcome, result: ChunkResult) -> None:
        self.done.append(recipient)
        result.sent += 1
        if recipient.state in stops.FAILED_STATES:
            result.failures += 1
            if recipient.error_kind == "auth":
                result.auth_failure = _(
                    "The provider refused the account's credentials (%(code)s): %(words)s") % {
                    "code": recipient.error_code, "words": recipient.error or _("authentication error")}

    def _still_running(self) -> bool:
        """The mid-chunk control check: whether this worker may go on sending (the loop says why not)."""
        snap = stops.snapshot(self.campaign.pk)
        return snap is not None and snap.lets_send(self.generation)

    def _outcome_of(self, claimed: Claimed, message: Message) -> RecipientOutcome:
        failed = message.status == MessageStatus.FAILED
        return self._finished(claimed, tracking.state_for_message(message.status), message_id=message.pk,
                              code=message.error_code if failed else "", error=message.error_title if failed else "",
                              kind=message.error_kind if failed else "")

    def _failed(self, claimed: Claimed, code: str, error: str) -> RecipientOutcome:
        return self._finished(claimed, RecipientState.FAILED, code=code, error=error)

    @staticmethod
    def _finished(claimed: Claimed, state: str, *, message_id=None, code: str = "", error: str = "",
                  kind: str = "") -> RecipientOutcome:
        return RecipientOutcome(id=claimed.id, state=state, finished_at=timezone.now(), message_id=message_id,
                                error_code=(code or "")[:32], error=error or "", error_kind=kind)

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
