"""One place for outbound HTTP to providers: pooled sessions, timeouts, errors.

Every adapter subclasses :class:`BaseClient` and sends through
:meth:`BaseClient.request`, so every call has a timeout and every failure
becomes one of the :class:`ProviderError` family below. Each error knows
whether a retry is safe (``retryable``) and whether the provider may already
have acted on the request (``maybe_delivered``) -- a read timeout on a send
must never be retried blindly, because the message may be on its way.

This package imports no Django app; it speaks only plain Python types.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Mapping
from functools import cache, lru_cache
from typing import Any

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.models import Response
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers, get_environ_proxies

from providers.leave import POOL_CLASSES, leave_check

logger = logging.getLogger("providers")

DEFAULT_TIMEOUT = (5.0, 30.0)  # (connect, read) seconds


ERROR_KINDS = ("error", "auth", "rejected", "rate_limited", "unavailable", "timeout", "bad_response")


class ProviderError(Exception):
    """Base of every provider failure.

    ``message`` is the provider's own words when it gave any, ready for a user.
    ``status`` is the HTTP status (if any), ``code`` a provider-specific code
    (Contacto Virtual's return codes), ``body`` the parsed or raw response body.
    """

    #: What kind of failure this is, kept all the way to the UI (``Message.error_kind``, campaign
    #: outcomes): one word per subclass, so nothing downstream re-derives it from codes.
    kind = "error"
    retryable = False
    maybe_delivered = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | int | None = None,
        body: Any = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.body = body
        self.field = field

    def __str__(self) -> str:
        return self.message


class ProviderAuthError(ProviderError):
    """Credentials refused (HTTP 401, Contacto Virtual code 2). Fix the account; do not retry."""

    kind = "auth"


class ProviderRejected(ProviderError):
    """The provider understood the request and refused it (HTTP 400, CV codes 3-8)."""

    kind = "rejected"


class ProviderRateLimited(ProviderError):
    """HTTP 429: try again later."""

    retryable = True
    kind = "rate_limited"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ProviderUnavailable(ProviderError):
    """The provider could not be reached, or answered 5xx. Safe to retry."""

    retryable = True
    kind = "unavailable"


class ProviderTimeout(ProviderError):
    """The request was sent but no answer came in time: the outcome is unknown.

    Not retryable for sends: the provider may have accepted the message.
    """

    maybe_delivered = True
    kind = "timeout"


class ProviderBadResponse(ProviderError):
    """The provider answered something this adapter cannot read."""

    maybe_delivered = True
    kind = "bad_response"


class WebhookUnreadable(ValueError):
    """A webhook body the provider's parser cannot read at all (kept, never processed)."""


# --- pooled sessions --------------------------------------------------------


class ProviderHTTPAdapter(HTTPAdapter):
    """requests' pooled transport adapter, without two per-request costs a provider API never needs.

    - **The pool is looked up once per origin.** ``HTTPAdapter`` parses the
      URL, builds urllib3's pool key (a ``stat`` of the CA bundle path
      included) and looks the pool up under the pool manager's lock on every
      request; here the pool found for an origin, TLS verification and client
      certificate is remembered (a few origins per provider account) until
      :meth:`close`. Requests through a proxy take ``HTTPAdapter``'s own way.
    - **A deadline per request.** Its connections check the sending thread's
      deadline (:func:`providers.leave.leave_by`) right before a request's
      first byte, and do not send it when it has passed. Requests through a
      proxy are checked only in :meth:`BaseClient.request`.
    - **No cookie jar.** The providers authenticate in headers and forms and
      :meth:`BaseClient.request` sends no cookies, so responses are not run
      through ``http.cookiejar`` (``response.cookies`` stays empty).

    Sending is ``HTTPAdapter.send`` itself -- urllib3's pooling, timeouts and
    TLS -- so ``responses`` still intercepts it in tests. Measured on a
    template send to a local server: 0.47 -> 0.43 ms of CPU back to back,
    1.20 -> 1.12 ms with 20 ms between sends (a campaign's rhythm, caches cold).
    """

    MAX_REMEMBERED = 16

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pools: dict[tuple[Any, ...], Any] = {}

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        # Connections that check their sender's deadline before a request's first byte (providers.leave).
        self.poolmanager.pool_classes_by_scheme = dict(POOL_CLASSES)

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        if proxies:
            return super().get_connection_with_tls_context(request, verify, proxies=proxies, cert=cert)
        scheme, _empty, origin = request.url.split("/", 3)[:3]
        key = (scheme, origin, verify, cert if not isinstance(cert, list) else tuple(cert))
        pool = self._pools.get(key)
        if pool is None:
            pool = super().get_connection_with_tls_context(request, verify, proxies=proxies, cert=cert)
            if len(self._pools) >= self.MAX_REMEMBERED:
                self._pools.clear()
            self._pools[key] = pool
        return pool

    def build_response(self, req, resp) -> Response:
        response = Response()
        response.status_code = resp.status
        response.headers = CaseInsensitiveDict(resp.headers)
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = resp
        response.reason = resp.reason
        response.url = req.url.decode("utf-8") if isinstance(req.url, bytes) else req.url
        response.request = req
        response.connection = self
        return response

    def close(self) -> None:
        self._pools.clear()
        super().close()


_sessions: dict[str, requests.Session] = {}
_sessions_lock = threading.Lock()


def session_for(key: str, mounts: Mapping[str, BaseAdapter] | None = None) -> requests.Session:
    """The pooled session for ``key`` (one per provider account), created once.

    Credentials travel in each request's headers or form, never on the session,
    so a changed secret needs no new session. ``mounts`` routes URL prefixes to
    other transport adapters (the in-process sandbox in tests).
    """
    with _sessions_lock:
        session = _sessions.get(key)
        if session is None:
            session = requests.Session()
            adapter = ProviderHTTPAdapter(pool_connections=4, pool_maxsize=64, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            for prefix, transport in (mounts or {}).items():
                session.mount(prefix, transport)
            _sessions[key] = session
        return session


def sessions_clear() -> None:
    """Close and forget every pooled session (tests, settings changes)."""
    with _sessions_lock:
        for session in _sessions.values():
            session.close()
        _sessions.clear()


@cache
def _environment(base_url: str) -> tuple[dict[str, str], bool | str]:
    """The proxies (``no_proxy`` honoured) and the TLS verification requests would take from the
    environment for ``base_url`` -- read once: the environment does not change under a running process."""
    proxies = get_environ_proxies(base_url)
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    return proxies, bundle or True


@lru_cache(maxsize=1024)
def _prepared_url(url: str) -> str:
    """``url`` as requests prepares it (IDNA host, percent-encoding): the same for every call to an endpoint."""
    prepared = requests.PreparedRequest()
    prepared.prepare_url(url, None)
    return prepared.url


def _prepare(method: str, url: str, *, headers: Mapping[str, str], params: Mapping[str, Any] | None,
             json_body: Any, form: Mapping[str, Any] | None) -> requests.PreparedRequest:
    """The request ``requests.Request(...).prepare()`` would build, with the URL prepared once per endpoint.

    The steps are ``PreparedRequest``'s own (method, URL, headers, body, and
    basic auth when the URL carries credentials); cookies are left out, as
    everywhere in this module. A URL without query parameters -- every send --
    reuses its first preparation, which was a third of the preparing.
    """
    prepared = requests.PreparedRequest()
    prepared.prepare_method(method)
    if params:
        prepared.prepare_url(url, params)
    else:
        prepared.url = _prepared_url(url)
    prepared.prepare_headers(headers)
    prepared.prepare_body(form, None, json_body)
    if "@" in prepared.url:
        prepared.prepare_auth(None, prepared.url)
    return prepared


_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def json_loads_relaxed(text: str) -> Any:
    """``json.loads``, tolerating the trailing commas the providers' manuals show (``["x"],\\n}``).

    Used for responses and webhook bodies alike (seed 000's webhook examples
    carry them too: l.1870, l.1906, l.2063). Strict JSON is tried first; only a body
    that fails is relaxed. Raises ValueError when it is not JSON either way.
    """
    try:
        return json.loads(text)
    except ValueError as strict_error:
        relaxed = _TRAILING_COMMA.sub(r"\1", text)
        if relaxed == text:
            raise strict_error
    return json.loads(relaxed)


def parse_json(response: requests.Response) -> Any:
    """The body as JSON, or None when empty; ProviderBadResponse when not JSON (see :func:`json_loads_relaxed`)."""
    text = response.text
    if not text.strip():
        return None
    try:
        return json_loads_relaxed(text)
    except ValueError as exc:
        raise ProviderBadResponse(
            f"The provider answered with something that is not JSON (HTTP {response.status_code}).",
            status=response.status_code,
            body=text[:2000],
        ) from exc


def first_error(body: Any) -> str | None:
    """The first message of an ``{"errors": [...]}`` body, if that is what it is."""
    if isinstance(body, Mapping):
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            return str(errors[0]).strip()
        if isinstance(errors, str) and errors.strip():
            return errors.strip()
    return None


class BaseClient:
    """Base of the provider adapters: base URL, pooled session, timeouts, errors."""

    provider_name = "provider"

    def __init__(
        self,
        *,
        base_url: str,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.timeout = timeout

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    @property
    def over_the_network(self) -> bool:
        """Whether this client's requests leave the process through pooled HTTP, so that other threads may
        send them too. An in-process transport (the sandbox inside the portal) answers with the caller's
        own framework and database connection, in the calling thread. A transport adapter that touches
        neither (a test's fake provider) says so with a true ``thread_safe`` attribute."""
        adapter = self.session.get_adapter(self.url(""))
        return isinstance(adapter, HTTPAdapter) or bool(getattr(adapter, "thread_safe", False))

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        form: Mapping[str, Any] | None = None,
        timeout: tuple[float, float] | None = None,
    ) -> requests.Response:
        """Send one request; map transport failures and HTTP errors to ProviderError.

        A 2xx response is returned for the adapter to read. Errors get the
        provider's own words when the body carries any. A redirect is not
        followed (a provider API that redirects is misconfigured, and a POST
        would silently become a GET): it is an error naming the base URL.

        The request is prepared here and handed to the session's transport
        adapter (the pooled ``HTTPAdapter``, or whatever is mounted for the
        URL: the in-process sandbox, ``responses`` in tests), with what
        ``Session.request`` would read from the environment on every call
        (proxies, honouring ``no_proxy``, and a CA bundle) read once per base
        URL. At campaign speed the session layer's per-call work (environment,
        cookie jars, hooks, redirect handling) was as much CPU as the HTTP
        exchange itself. Session headers apply; cookies, hooks and netrc do
        not (the providers authenticate in headers and forms).
        """
        url = self.url(path)
        prepared = _prepare(method, url, headers={**self.session.headers, **(headers or {})}, params=params,
                            json_body=json_body, form=form)
        proxies, verify = _environment(self.base_url)
        leave_check()  # any transport; the pooled one checks again right before the first byte (providers.leave)
        try:
            response = self.session.get_adapter(url).send(
                prepared,
                stream=False,
                timeout=timeout or self.timeout,
                verify=verify if self.session.verify is True else self.session.verify,
                cert=self.session.cert,
                proxies=proxies,
            )
        except requests.exceptions.ConnectTimeout as exc:
            raise ProviderUnavailable(
                f"Could not connect to {self.provider_name} in time ({self.base_url})."
            ) from exc
        except requests.exceptions.ReadTimeout as exc:
            raise ProviderTimeout(
                f"{self.provider_name} did not answer in time; the request may or may not have been processed."
            ) from exc
        except requests.exceptions.ConnectionError as exc:
            raise ProviderUnavailable(f"Could not connect to {self.provider_name} ({self.base_url}).") from exc
        except requests.exceptions.RequestException as exc:
            raise ProviderUnavailable(f"Request to {self.provider_name} failed: {exc}") from exc

        logger.debug("%s %s -> %s", method, url, response.status_code)
        if response.status_code >= 400:
            self.raise_for_status(response)
        if response.is_redirect:
            raise ProviderRejected(
                f"{self.provider_name} answered with a redirect (HTTP {response.status_code} to "
                f"{response.headers.get('Location', '?')}) instead of an answer; check the account's base URL "
                f"({self.base_url}).",
                status=response.status_code,
            )
        return response

    def raise_for_status(self, response: requests.Response) -> None:
        """Turn an HTTP error into the matching ProviderError, with the provider's words."""
        status = response.status_code
        try:
            body = parse_json(response)
        except ProviderBadResponse:
            body = response.text[:2000]
        words = first_error(body)
        if status == 401 or status == 403:
            raise ProviderAuthError(
                words or f"{self.provider_name} refused the credentials (HTTP {status}).", status=status, body=body
            )
        if status == 429:
            retry_after = response.headers.get("Retry-After")
            try:
                seconds = float(retry_after) if retry_after else None
            except ValueError:
                seconds = None
            raise ProviderRateLimited(
                words or f"{self.provider_name} is rate limiting requests (HTTP 429).",
                status=status,
                body=body,
                retry_after=seconds,
            )
        if status >= 500:
            raise ProviderUnavailable(
                words or f"{self.provider_name} had an internal error (HTTP {status}).", status=status, body=body
            )
        raise ProviderRejected(
            words or f"{self.provider_name} rejected the request (HTTP {status}).", status=status, body=body
        )
