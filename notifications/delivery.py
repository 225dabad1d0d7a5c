"""Delivering outgoing webhooks: one endpoint at a time, by the task workers.

A run holds the endpoint's lease (one run per endpoint), walks its pending deliveries oldest first and POSTs
each due one: JSON envelope, signed (:mod:`notifications.signing`), explicit timeouts, pooled session, no
redirects. Per ordering key (a conversation, a campaign) nothing is sent while an older delivery of the same
key is still pending, so events arrive in order. A failure schedules that delivery again with capped
exponential backoff and jitter; three failures in a row put the whole endpoint to rest until its own backoff
ends (a receiver that is down is not hammered, and its events keep their order). A delivery still failing
``OUTGOING_WEBHOOKS_RETRY_HOURS`` after its event is given up; an endpoint without a success for
``OUTGOING_WEBHOOKS_DISABLE_AFTER_HOURS`` is disabled and its client alerted.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import F, Min, Q
from requests.adapters import HTTPAdapter

from notifications import clock, conf, signing, ssrf
from notifications.events import outbox_fan_out
from notifications.models import Delivery, DeliveryAttempt, WebhookEndpoint
from waportal.errors import ApplicationError

logger = logging.getLogger("notifications.delivery")

USER_AGENT = "waportal-webhooks/1"
STOP_AFTER_FAILURES = 3  # failures in a row within one run: the endpoint rests until its backoff ends

_session: requests.Session | None = None
# A URL's addresses are checked again before a delivery when the last check is older than this (one DNS lookup
# per endpoint and interval, not one per event).
SSRF_CHECK_SECONDS = 30.0
_checked: dict[tuple[str, bool], float] = {}


def session() -> requests.Session:
    """One pooled session per process for every endpoint (connections kept alive per host)."""
    global _session
    if _session is None:
        _session = requests.Session()
        adapter = HTTPAdapter(pool_connections=32, pool_maxsize=32, max_retries=0)
        _session.mount("https://", adapter)
        _session.mount("http://", adapter)
    return _session


def backoff(attempts: int) -> timedelta:
    """Delay after the ``attempts``-th failure: base·2^(n-1), capped, the upper half jittered."""
    delay = min(float(conf.setting("OUTGOING_WEBHOOKS_BACKOFF_CAP")),
                float(conf.setting("OUTGOING_WEBHOOKS_BACKOFF_BASE")) * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=delay / 2 + random.uniform(0, delay / 2))


def envelope(delivery: Delivery) -> bytes:
    return json.dumps({
        "id": str(delivery.event_id), "type": delivery.type, "created_at": delivery.created_at.isoformat(),
        "client": delivery.client_id, "data": delivery.data,
    }, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass
class Outcome:
    success: bool
    status_code: int | None = None
    latency_ms: int = 0
    excerpt: str = ""
    error: str = ""


def post(endpoint: WebhookEndpoint, delivery: Delivery, *, at: datetime) -> Outcome:
    """One signed POST of ``delivery`` to ``endpoint``; never raises."""
    check = (endpoint.url, endpoint.allow_private_network)
    if _checked.get(check, 0.0) < time.monotonic():
        try:
            ssrf.url_check(endpoint.url, allow_private_network=endpoint.allow_private_network, strict_dns=True)
        except ApplicationError as exc:
            _checked.pop(check, None)
            return Outcome(success=False, error=str(exc.message))
        _checked[check] = time.monotonic() + SSRF_CHECK_SECONDS
    body = envelope(delivery)
    stamp = int(at.timestamp())
    secrets = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > at:
        secrets.append(endpoint.previous_secret)
    headers = {
        "Content-Type": "application/json", "User-Agent": USER_AGENT,
        signing.HEADER: signing.signature_header(secrets, stamp, body),
        "Waportal-Event-Id": str(delivery.event_id), "Waportal-Event-Type": delivery.type,
    }
    started = time.monotonic()
    try:
        response = session().post(endpoint.url, data=body, headers=headers,
                                  timeout=tuple(conf.setting("OUTGOING_WEBHOOKS_TIMEOUT")), allow_redirects=False)
    except requests.RequestException as exc:
        return Outcome(success=False, latency_ms=int((time.monotonic() - started) * 1000),
                       error=f"{type(exc).__name__}: {str(exc)[:300]}")
    latency = int((time.monotonic() - started) * 1000)
    excerpt = response.text[: int(conf.setting("OUTGOING_WEBHOOKS_EXCERPT_CHARS"))]
    return Outcome(success=200 <= response.status_code < 300, status_code=response.status_code,
                   latency_ms=latency, excerpt=excerpt)


def _log(delivery: Delivery, outcome: Outcome, *, at: datetime, manual: bool = False) -> None:
    DeliveryAttempt.objects.create(delivery=delivery, at=at, status_code=outcome.status_code,
                                   latency_ms=outcome.latency_ms, response_excerpt=outcome.excerpt,
                                   error=outcome.error, success=outcome.success, manual=manual)


def _succeeded(endpoint: WebhookEndpoint, delivery: Delivery, outcome: Outcome, at: datetime) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        state=Delivery.State.DELIVERED, attempts=delivery.attempts + 1, delivered_at=at,
        last_status_code=outcome.status_code, last_error="")
    if endpoint.failures or endpoint.failing_since or endpoint.retry_at:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failures=0, failing_since=None, retry_at=None)
        endpoint.failures, endpoint.failing_since, endpoint.retry_at = 0, None, None


def _failed(endpoint: WebhookEndpoint, delivery: Delivery, outcome: Outcome, at: datetime) -> None:
    attempts = delivery.attempts + 1
    expired = delivery.created_at < at - timedelta(hours=float(conf.setting("OUTGOING_WEBHOOKS_RETRY_HOURS")))
    error = outcome.error or (f"HTTP {outcome.status_code}" if outcome.status_code else "")
    Delivery.objects.filter(pk=delivery.pk).update(
        state=Delivery.State.GIVEN_UP if expired else Delivery.State.PENDING, attempts=attempts,
        next_attempt_at=at + backoff(attempts), last_status_code=outcome.status_code, last_error=error[:1000])
    endpoint.failures += 1
    endpoint.failing_since = endpoint.failing_since or at
    endpoint.retry_at = at + backoff(endpoint.failures) if endpoint.failures >= STOP_AFTER_FAILURES else None
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failures=endpoint.failures, failing_since=endpoint.failing_since, retry_at=endpoint.retry_at)
    limit = timedelta(hours=float(conf.setting("OUTGOING_WEBHOOKS_DISABLE_AFTER_HOURS")))
    if endpoint.failing_since < at - limit:
        from notifications.services import webhook_endpoint_disable_failing

        webhook_endpoint_disable_failing(endpoint=endpoint, at=at)


@dataclass
class RunResult:
    sent: int = 0
    failed: int = 0
    busy: bool = False  # another run holds the endpoint
    more: bool = False  # the slice ended with due deliveries left
    wake_at: datetime | None = None  # when pending deliveries become due (None: nothing pending)


def endpoint_deliver(*, endpoint_id: int) -> RunResult:
    """Deliver what is due for one endpoint, within a time slice; says when to come back."""
    slice_seconds = float(conf.setting("OUTGOING_WEBHOOKS_SLICE_SECONDS"))
    now = clock.now()
    read_timeout = float(conf.setting("OUTGOING_WEBHOOKS_TIMEOUT")[-1])
    lease = now + timedelta(seconds=slice_seconds + read_timeout + 10)
    if not WebhookEndpoint.objects.filter(pk=endpoint_id).filter(
            Q(lease_until__isnull=True) | Q(lease_until__lt=now)).update(lease_until=lease):
        return RunResult(busy=True)
    result = RunResult()
    try:
        outbox_fan_out(current_endpoint_id=endpoint_id)
        _run(endpoint_id, result, deadline=time.monotonic() + slice_seconds)
    finally:
        WebhookEndpoint.objects.filter(pk=endpoint_id).update(lease_until=None)
    result.wake_at = clock.now() if result.more else next_due(endpoint_id=endpoint_id, after=clock.now())
    return result


class _Writes:
    """Successful deliveries and their log rows, written together (two statements per batch, not two per event)."""

    def __init__(self) -> None:
        self.attempts: list[DeliveryAttempt] = []
        self.delivered: dict[int, list[int]] = {}  # status code -> delivery ids
        self.at: datetime | None = None

    def success(self, delivery: Delivery, outcome: Outcome, at: datetime) -> None:
        self.attempts.append(DeliveryAttempt(delivery_id=delivery.pk, at=at, status_code=outcome.status_code,
                                             latency_ms=outcome.latency_ms, response_excerpt=outcome.excerpt,
                                             success=True))
        self.delivered.setdefault(outcome.status_code or 200, []).append(delivery.pk)
        self.at = at

    def flush(self) -> None:
        if self.attempts:
            DeliveryAttempt.objects.bulk_create(self.attempts)
        for code, ids in self.delivered.items():
            Delivery.objects.filter(pk__in=ids).update(state=Delivery.State.DELIVERED, attempts=F("attempts") + 1,
                                                       delivered_at=self.at, last_status_code=code, last_error="")
        self.attempts, self.delivered = [], {}


def _run(endpoint_id: int, result: RunResult, *, deadline: float) -> None:
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None or not endpoint.is_active:
        return
    writes = _Writes()
    try:
        _walk(endpoint, result, writes, deadline=deadline)
    finally:
        writes.flush()


def _walk(endpoint: WebhookEndpoint, result: RunResult, writes: _Writes, *, deadline: float) -> None:
    batch = int(conf.setting("OUTGOING_WEBHOOKS_BATCH"))
    in_a_row = 0
    while time.monotonic() < deadline:
        now = clock.now()
        if endpoint.retry_at and endpoint.retry_at > now:
            return
        pending = list(Delivery.objects.filter(endpoint_id=endpoint.pk, state=Delivery.State.PENDING)
                       .order_by("id")[:batch])
        blocked: set[str] = set()
        progressed = False
        for delivery in pending:
            key = delivery.ordering_key
            if key and key in blocked:
                continue
            if delivery.next_attempt_at > now:
                if key:
                    blocked.add(key)
                continue
            outcome = post(endpoint, delivery, at=now)
            if outcome.success:
                writes.success(delivery, outcome, now)
                if endpoint.failures or endpoint.failing_since or endpoint.retry_at:
                    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failures=0, failing_since=None,
                                                                          retry_at=None)
                    endpoint.failures, endpoint.failing_since, endpoint.retry_at = 0, None, None
                result.sent += 1
                in_a_row = 0
                progressed = True
            else:
                _log(delivery, outcome, at=now)
                _failed(endpoint, delivery, outcome, now)
                result.failed += 1
                in_a_row += 1
                if key:
                    blocked.add(key)
                if not endpoint.is_active or in_a_row >= STOP_AFTER_FAILURES:
                    return
            if time.monotonic() >= deadline:
                result.more = True
                return
            now = clock.now()
        writes.flush()
        if not progressed or len(pending) < batch:
            return
    result.more = True


def next_due(*, endpoint_id: int, after: datetime) -> datetime | None:
    """When this endpoint next has something to try after a run at ``after``, or None.

    Deliveries due now were tried or wait behind an older one of their key, which waits for a later
    ``next_attempt_at``: so the earliest later time (or the end of the endpoint's rest) is the next wake-up.
    """
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, is_active=True).values("retry_at").first()
    if endpoint is None:
        return None
    pending = Delivery.objects.filter(endpoint_id=endpoint_id, state=Delivery.State.PENDING)
    if endpoint["retry_at"] and endpoint["retry_at"] > after:
        return endpoint["retry_at"] if pending.exists() else None
    return pending.filter(next_attempt_at__gt=after).aggregate(at=Min("next_attempt_at"))["at"]


def delivery_redeliver(*, delivery: Delivery) -> Outcome:
    """Send one delivery again now (manual redelivery: the person sees the answer); logged."""
    endpoint = delivery.endpoint
    at = clock.now()
    outcome = post(endpoint, delivery, at=at)
    _log(delivery, outcome, at=at, manual=True)
    if outcome.success:
        _succeeded(endpoint, delivery, outcome, at)
    else:
        Delivery.objects.filter(pk=delivery.pk).update(last_status_code=outcome.status_code,
                                                       last_error=(outcome.error or "")[:1000])
    return outcome


def host_of(url: str) -> str:
    return urlsplit(url).hostname or ""
