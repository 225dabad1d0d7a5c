"""Rate limits that hold across processes and machines, keyed on an address a client cannot forge.

- Counters live in one database table (``accounts.RateCounter``, one upsert
  per check) that every gunicorn process and machine shares, not in each
  process's memory: with DRF's default per-process cache, N processes allowed
  N times the limit. (Django's database cache would cost three statements per
  check, one a COUNT(*) of the whole table.)
- The client's address is ``REMOTE_ADDR``, or, behind ``TRUSTED_PROXY_COUNT``
  proxies, the address the outermost trusted proxy saw (counted from the right
  of ``X-Forwarded-For``). Anything a client writes further left is ignored, so
  a rotating ``X-Forwarded-For`` does not make a new client. django-axes uses
  the same address (``AXES_CLIENT_IP_CALLABLE``).
- Logins (the API token endpoint and the admin login) are limited per address
  and per username, on top of axes' lockout after repeated failures.
"""

from __future__ import annotations

import time
import zlib
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.http import HttpRequest
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from accounts import conf
from accounts.models import RateCounter


def client_ip(request: HttpRequest) -> str:
    """The caller's address, trusting ``X-Forwarded-For`` only as far as ``TRUSTED_PROXY_COUNT`` proxies."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = conf.setting("TRUSTED_PROXY_COUNT")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if not hops:
        return remote
    # Each trusted proxy appended the address it saw: the client is proxies-from-the-right.
    return hops[-min(proxies, len(hops))]


def _counter_hit(key: str, duration: int, now: float) -> tuple[int, float]:
    """Count one hit on ``key``'s current window: (hits in it, when it ends). One statement.

    A fixed window per key, restarted in the same row once it has ended, so a
    key costs one row however long it lives.
    """
    table = connection.ops.quote_name(RateCounter._meta.db_table)
    start = datetime.fromtimestamp(now, tz=UTC)
    ends = start + timedelta(seconds=duration)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, hits, expires_at) VALUES (%s, 1, %s) "
            f"ON CONFLICT (key) DO UPDATE SET "
            f"hits = CASE WHEN {table}.expires_at <= %s THEN 1 ELSE {table}.hits + 1 END, "
            f"expires_at = CASE WHEN {table}.expires_at <= %s THEN excluded.expires_at ELSE {table}.expires_at END "
            f"RETURNING hits, expires_at",
            [key, ends, start, start],
        )
        hits, expires_at = cursor.fetchone()
        if hits == 1 and zlib.crc32(key.encode()) % 100 == 0:
            # Now and then (a deterministic 1 % of new windows) drop rows whose window ended an hour ago.
            cursor.execute(f"DELETE FROM {table} WHERE expires_at < %s", [start - timedelta(hours=1)])
    if isinstance(expires_at, str):  # SQLite returns the stored text
        expires_at = datetime.fromisoformat(expires_at)
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    return hits, expires_at.timestamp()


class SharedRateThrottle(BaseThrottle):
    """DRF throttle with its counter in the database: every process and machine counts together."""

    scope = ""

    def __init__(self) -> None:
        self.rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        self.num_requests, self.duration = SimpleRateThrottle.parse_rate(self, self.rate)
        self._wait: float | None = None

    def get_ident(self, request) -> str:
        return client_ip(request)

    def get_cache_key(self, request, view) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = time.time()
        hits, ends = _counter_hit(f"{self.scope}:{key}"[:255], self.duration, now)
        if hits <= self.num_requests:
            return True
        self._wait = max(ends - now, 0.0)
        return False

    def wait(self) -> float | None:
        return self._wait


class AnonThrottle(SharedRateThrottle):
    """Anonymous requests per client address."""

    scope = "anon"

    def get_cache_key(self, request, view) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.get_ident(request)


class UserThrottle(SharedRateThrottle):
    """Authenticated requests per user."""

    scope = "user"

    def get_cache_key(self, request, view) -> str | None:
        if request.user and request.user.is_authenticated:
            return str(request.user.pk)
        return None


class LoginAddressThrottle(SharedRateThrottle):
    """Login attempts per client address (successful or not)."""

    scope = "login_ip"

    def get_cache_key(self, request, view) -> str | None:
        return self.get_ident(request)


class LoginUsernameThrottle(SharedRateThrottle):
    """Login attempts per username, from any number of addresses."""

    scope = "login_user"

    def get_cache_key(self, request, view) -> str | None:
        return login_username(request) or None


def login_username(request) -> str:
    data = getattr(request, "data", None)
    if data is None:  # a plain Django request (the admin login form)
        data = request.POST
    value = data.get("username", "") if hasattr(data, "get") else ""
    return value.strip().lower()[:150] if isinstance(value, str) else ""


def login_wait(request) -> float | None:
    """Seconds to wait when a login attempt goes over its address or username limit, else None (counted)."""
    waits = []
    for throttle_class in (LoginAddressThrottle, LoginUsernameThrottle):
        throttle = throttle_class()
        if not throttle.allow_request(request, None):
            waits.append(throttle.wait() or 1.0)
    return max(waits) if waits else None
