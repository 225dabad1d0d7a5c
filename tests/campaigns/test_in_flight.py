"""Many sends in flight per worker (issue 21): the real batch and runner, a provider client that answers slowly
from any thread. Each recipient is handed to the provider once; a throttled send is slowed down and retried,
never failed or doubled; a stop seen mid-chunk makes no call that was still waiting for its slot."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

import pytest

from accounts.models import NumberRate
from campaigns import pace, runner, services
from campaigns.models import Campaign, CampaignRecipient, CampaignStatus, RecipientState
from messaging.models import Message, MessageStatus
from messaging.sending import delivery
from providers import leave
from providers.base import ProviderRateLimited, ProviderRejected, ProviderUnavailable
from providers.types import SendResult
from tests.campaigns.test_runner import states, work

pytestmark = pytest.mark.django_db


class SlowClient:
    """A provider client safe to call from many threads: answers after ``delay``, records concurrency."""

    over_the_network = True

    def __init__(self, delay: float = 0.03) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()  # recipient -> calls that reached the "provider"
        self.accepted: Counter[str] = Counter()
        self.now = 0
        self.most = 0
        self.threads: set[str] = set()
        self.refuse = lambda to, attempt: None  # an exception to raise instead of answering

    def send(self, wire):
        with self.lock:
            self.calls[wire.to] += 1
            attempt = self.calls[wire.to]
            self.now += 1
            self.most = max(self.most, self.now)
            self.threads.add(threading.current_thread().name)
        try:
            time.sleep(self.delay)
            problem = self.refuse(wire.to, attempt)
            if problem is not None:
                raise problem
            with self.lock:
                self.accepted[wire.to] += 1
            return SendResult(message_id=str(uuid.uuid4()))
        finally:
            with self.lock:
                self.now -= 1


@pytest.fixture
def slow(monkeypatch, settings):
    client = SlowClient()
    monkeypatch.setattr(delivery, "provider_client", lambda account: client)
    settings.CAMPAIGN_SENDS_IN_FLIGHT = 8
    return client


def finish(campaign: Campaign, *, slices: int = 40) -> None:
    for _slice in range(slices):
        outcome = work(campaign)
        if not outcome.again:
            return
        time.sleep(0.02)
    raise AssertionError("the campaign did not finish")


def test_one_worker_keeps_many_sends_in_flight_and_sends_each_recipient_once(make_campaign, slow):
    campaign = make_campaign(60)
    began = time.monotonic()
    finish(campaign)
    elapsed = time.monotonic() - began
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED
    assert states(campaign) == {RecipientState.SENT: 60}
    assert set(slow.calls.values()) == {1} and len(slow.calls) == 60
    # Calls overlapped, in pool threads, never more than the setting allows.
    assert 2 <= slow.most <= 8
    assert all(name.startswith("campaign-send") for name in slow.threads)
    assert elapsed < 60 * slow.delay  # sequential sends would take at least this long
    messages = Message.objects.filter(campaign_recipient__campaign=campaign)
    assert set(messages.values_list("status", flat=True)) == {MessageStatus.SENT}
    assert messages.exclude(provider_message_id="").count() == 60


def test_a_client_that_must_stay_in_the_calling_thread_is_called_one_at_a_time(make_campaign, slow):
    slow.over_the_network = False  # the in-process sandbox: it uses the caller's database connection
    campaign = make_campaign(10)
    finish(campaign)
    assert slow.most == 1 and slow.threads == {threading.current_thread().name}
    assert states(campaign) == {RecipientState.SENT: 10}


def test_throttled_sends_slow_the_number_down_and_are_sent_later_never_failed_or_twice(make_campaign, slow, settings):
    settings.CAMPAIGN_FAILURE_WINDOW = 10
    settings.CAMPAIGN_FAILURE_RATIO = 0.1  # a throttle counted as a failure would pause the campaign at once
    campaign = make_campaign(30)
    throttled = {to for i, to in enumerate(campaign.recipients.order_by("id").values_list("phone", flat=True))
                 if i % 3 == 0}

    def too_fast(to, attempt):
        if to in throttled and attempt <= 2:
            return ProviderRateLimited("Too many requests", status=429, retry_after=0.05)
        return None

    slow.refuse = too_fast
    finish(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED and not campaign.pause_kind
    assert states(campaign) == {RecipientState.SENT: 30}
    assert set(slow.accepted.values()) == {1} and len(slow.accepted) == 30  # none twice
    assert all(slow.calls[to] == 3 for to in throttled)  # refused twice, then taken
    messages = Message.objects.filter(campaign_recipient__campaign=campaign)
    assert messages.count() == 30 and set(messages.values_list("status", flat=True)) == {MessageStatus.SENT}
    rate = NumberRate.objects.get(phone_number=campaign.phone_number_id)
    assert rate.throttled_until > time.time()  # the page says "throttled by the provider" for a while
    assert CampaignRecipient.objects.filter(campaign=campaign, attempts__gt=1).count() == 0  # not counted


def test_whatsapp_pair_rate_error_waits_for_that_recipient_only(make_campaign, slow, settings):
    settings.CAMPAIGN_PAIR_SECONDS = 0.1
    campaign = make_campaign(6)
    first = campaign.recipients.order_by("id").values_list("phone", flat=True).first()

    def pair_rate(to, attempt):
        if to == first and attempt == 1:
            return ProviderRejected("(#131056) (Business Account, Consumer Account) pair rate limit hit",
                                    status=400, code="131056")
        return None

    slow.refuse = pair_rate
    finish(campaign)
    assert states(campaign) == {RecipientState.SENT: 6}
    assert slow.calls[first] == 2 and slow.accepted[first] == 1
    assert not NumberRate.objects.filter(phone_number=campaign.phone_number_id,
                                         throttled_until__gt=time.time()).exists()


def test_a_pause_mid_chunk_makes_no_call_still_waiting_for_its_slot(make_campaign, slow, settings, monkeypatch,
                                                                     agent):
    settings.CAMPAIGN_CHUNK_MAX = 40
    settings.CAMPAIGN_CONTROL_SECONDS = 0
    campaign = make_campaign(40, pace=20)  # a slot every 50 ms: calls wait in their threads for theirs
    seen = []
    still_running = runner.CampaignWorker._still_running

    def paused_at_the_fifth_check(self):
        seen.append(1)
        if len(seen) == 5:
            services.campaign_pause(actor=agent, campaign=Campaign.objects.get(pk=campaign.pk))
        return still_running(self)

    monkeypatch.setattr(runner.CampaignWorker, "_still_running", paused_at_the_fifth_check)
    began = time.monotonic()
    assert work(campaign).reason == CampaignStatus.PAUSED
    assert time.monotonic() - began < 1.0  # the calls waiting for their slot returned at once
    made = sum(slow.calls.values())
    assert 1 <= made <= 4 + int(pace.SEND_AHEAD_SECONDS * 20) + 1
    assert set(slow.calls.values()) == {1}
    counted = states(campaign)
    assert counted == {RecipientState.SENT: made, RecipientState.PENDING: 40 - made}
    # The calls stopped before their slot never left: their messages are gone, nothing is left in flight.
    messages = Message.objects.filter(idempotency_key__startswith=f"campaign:{campaign.pk}:")
    assert messages.count() == made
    assert not messages.exclude(status=MessageStatus.SENT).exists()
    assert not CampaignRecipient.objects.filter(campaign=campaign, state=RecipientState.CLAIMED).exists()


def test_throttling_reported_after_the_send_never_counts_towards_the_automatic_pause(make_campaign, fake_send,
                                                                                     settings):
    settings.CAMPAIGN_FAILURE_WINDOW = 10
    settings.CAMPAIGN_FAILURE_RATIO = 0.2
    # A status webhook said 130429 / 131056 for these (the provider took them, WhatsApp then refused).
    fake_send.outcome = lambda to: (MessageStatus.FAILED, "130429" if to.endswith(("0", "2", "4")) else "131056",
                                    "Throttled")
    campaign = make_campaign(20)
    assert work(campaign).reason == "completed"
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED and not campaign.pause_kind


def test_a_recipient_written_to_too_often_just_now_waits_without_holding_up_the_others(make_campaign, slow,
                                                                                      settings, number):
    settings.CAMPAIGN_PAIR_BURST = 2
    settings.CAMPAIGN_PAIR_SECONDS = 0.5
    campaign = make_campaign(5)
    busy = campaign.recipients.order_by("id").values_list("phone", flat=True).first()
    for _ in range(2):  # two API messages to them from the same number a moment ago
        Message.objects.create(client_id=number.client_id, phone_number=number, direction="out", type="text",
                               from_number=number.digits, to_number=busy, content={"body": "Hola"},
                               status=MessageStatus.SENT)
    outcome = work(campaign)
    assert outcome.reason == "waiting"  # the others were sent; that one is held back for the pair rate
    assert busy not in slow.calls and len(slow.calls) == 4
    assert CampaignRecipient.objects.get(campaign=campaign, phone=busy).attempts == 0
    time.sleep(0.6)
    finish(campaign)
    assert states(campaign) == {RecipientState.SENT: 5} and slow.calls[busy] == 1


def test_a_call_whose_thread_woke_too_late_for_its_slot_is_not_made_there():
    flight = runner.Flight(2)
    made: list[int] = []
    try:
        flight.submit(lambda: made.append(1), "late", at=time.time() - 1)
        flight.submit(lambda: made.append(2) or "sent", "on time", at=time.time() + 0.01)
        results = {}
        while len(results) < 2:
            results.update({item: future.result() for item, future in flight.finished(1.0)})
    finally:
        flight.close()
    assert isinstance(results["late"], runner.Late) and results["on time"] == "sent"
    assert made == [2]


def test_sends_woken_too_late_get_a_new_slot_and_are_sent_once(make_campaign, slow, monkeypatch):
    at = runner.Flight._at
    seen: set[int] = set()

    def late_first(self, call, slot, tries=0):  # every call's thread wakes too late the first time
        if id(call) not in seen:
            seen.add(id(call))
            return runner.Late(call, tries + 1)
        return at(self, call, slot, tries)

    monkeypatch.setattr(runner.Flight, "_at", late_first)
    campaign = make_campaign(20)
    finish(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED
    assert states(campaign) == {RecipientState.SENT: 20}
    assert set(slow.calls.values()) == {1} and len(slow.calls) == 20


def test_a_call_late_every_time_leaves_after_giving_up_a_few_slots_rather_never():
    flight = runner.Flight(2)
    try:
        for tries in range(pace.LATE_RETRIES):
            flight.submit(lambda: "sent", "late", at=time.time() - 1, tries=tries)
            [(_item, future)] = flight.finished(1.0)
            assert isinstance(future.result(), runner.Late) and future.result().tries == tries + 1
        flight.submit(lambda: "sent", "late", at=time.time() - 1, tries=pace.LATE_RETRIES)
        [(_item, future)] = flight.finished(1.0)
        assert future.result() == "sent"
    finally:
        flight.close()


def test_a_call_held_up_inside_the_http_stack_past_its_slot_is_not_made_there():
    """The thread woke on time, then lost the interpreter lock in the HTTP stack: the connection's check
    (providers.leave) stops the request before its first byte and the call comes back Late."""
    made: list[str] = []

    def held_up():
        time.sleep(0.05)
        leave.leave_check()  # what the connection does right before the request's first byte
        made.append("sent")
        return "sent"

    flight = runner.Flight(2)
    try:
        flight.submit(held_up, "held up", at=time.time() + 0.01)
        [(_item, future)] = flight.finished(2.0)
        assert isinstance(future.result(), runner.Late) and future.result().tries == 1
        assert made == []
        flight.submit(held_up, "last try", at=time.time() + 0.01, tries=pace.LATE_RETRIES)
        [(_item, future)] = flight.finished(2.0)
        assert future.result() == "sent"  # after a few slots given up it leaves, however late
    finally:
        flight.close()


def test_a_send_retried_in_place_after_a_5xx_is_not_stopped_by_its_slots_deadline(make_campaign, slow, monkeypatch):
    """The send thread retries a 5xx after its backoff, past the slot's deadline: the retry goes (it has no slot
    of its own), so a provider failing every time gets MAX_ATTEMPTS calls per recipient, not more."""
    send = slow.send

    def transport(wire):
        leave.leave_check()  # what the pooled connection does before writing
        return send(wire)

    slow.send = transport
    slow.refuse = lambda to, attempt: ProviderUnavailable("503 Service Unavailable", status=503)
    monkeypatch.setattr(delivery, "sleep", lambda seconds: time.sleep(0.03))  # a backoff longer than the margin
    campaign = make_campaign(3)
    work(campaign)
    assert slow.calls and set(slow.calls.values()) == {delivery.MAX_ATTEMPTS}
    assert states(campaign) == {RecipientState.FAILED: 3}
