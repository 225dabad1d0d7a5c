"""The endpoints providers call: ``POST /webhooks/<provider>/<secret>/``.

The request path is kept to the minimum issue 9 measures against a bare
one-INSERT view: find the account by its secret (a short in-process cache in
front of one indexed query), read the body up to a limit, one INSERT, answer
``{"status": "ok"}``. Parsing and applying happen later, in a worker
(:mod:`messaging.webhooks.process`). Every stored body is answered 200 — even one the
portal will not understand — because any other answer only makes the provider
send the same body again; a database failure propagates as a 5xx precisely so
that it does.
"""

from __future__ import annotations

import threading
import time
import uuid

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.models import ProviderAccount
from messaging import conf
from messaging.tasks import webhook_processing_schedule
from messaging.webhooks.record import webhook_record
from providers import registry

#: Headers kept with each event (lower-case): enough to trace a delivery, nothing that is a credential.
KEPT_HEADERS = {
    "CONTENT_TYPE": "content-type",
    "CONTENT_LENGTH": "content-length",
    "HTTP_USER_AGENT": "user-agent",
    "HTTP_X_FORWARDED_FOR": "x-forwarded-for",
    "HTTP_X_REAL_IP": "x-real-ip",
    "HTTP_X_REQUEST_ID": "x-request-id",
    "REMOTE_ADDR": "remote-addr",
}

# secret → (account id, provider, expires at). Only hits are cached, so random
# secrets cannot grow it; an account whose secret changes or that is deleted is
# forgotten within the TTL.
_ACCOUNT_CACHE_TTL = 30.0
_account_cache: dict[str, tuple[int, str, float]] = {}
_account_cache_lock = threading.Lock()

_OK = b'{"status": "ok"}'


def max_body_bytes() -> int:
    return int(conf.setting("WEBHOOK_MAX_BODY_BYTES"))


def account_for_secret(secret: str) -> tuple[int, str] | None:
    """(account id, provider) of the account whose webhook secret is ``secret``, or None.

    Inactive accounts still receive: statuses of messages sent before the
    account was switched off are still true and worth keeping.
    """
    now = time.monotonic()
    hit = _account_cache.get(secret)
    if hit is not None and hit[2] > now:
        return hit[0], hit[1]
    row = ProviderAccount.objects.filter(webhook_secret=secret).values_list("pk", "provider").first()
    if row is None:
        # A secret rotated away still works until its grace period ends (accounts.services).
        row = (
            ProviderAccount.objects.filter(previous_webhook_secret=secret,
                                           previous_webhook_secret_until__gt=timezone.now())
            .exclude(previous_webhook_secret="")
            .values_list("pk", "provider")
            .first()
        )
    if row is None:
        return None
    with _account_cache_lock:
        if len(_account_cache) > 10_000:  # accounts are few; this only guards against surprises
            _account_cache.clear()
        _account_cache[secret] = (row[0], row[1], now + _ACCOUNT_CACHE_TTL)
    return row


def account_cache_clear() -> None:
    """Forget cached secrets (tests, and after rotating a secret in a shell)."""
    with _account_cache_lock:
        _account_cache.clear()


def _too_large(limit: int) -> JsonResponse:
    detail = gettext("The body is larger than %(limit)d bytes.") % {"limit": limit}
    return JsonResponse({"status": "error", "detail": detail}, status=413)


def _headers(request: HttpRequest) -> dict[str, str]:
    meta = request.META
    return {name: str(meta[key])[:500] for key, name in KEPT_HEADERS.items() if meta.get(key)}


@csrf_exempt
@require_POST
def webhook_receive(request: HttpRequest, provider: str, secret: str) -> HttpResponse:
    """Store one callback as received and answer at once; a worker processes it."""
    spec = registry.by_webhook_slug(provider)
    found = account_for_secret(secret) if spec is not None else None
    if found is None or found[1] != spec.id:
        raise Http404(gettext("No webhook here."))
    limit = max_body_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _too_large(limit)
    # Read the stream directly: request.body would apply DATA_UPLOAD_MAX_MEMORY_SIZE
    # instead of this endpoint's own limit.
    body = request.read(limit + 1)
    if len(body) > limit:
        return _too_large(limit)
    receipt = uuid.uuid4().hex if spec.needs_receipt(body) else ""
    webhook_record(account_id=found[0], body=body, content_type=request.META.get("CONTENT_TYPE", ""),
                   headers=_headers(request), receipt=receipt)
    transaction.on_commit(webhook_processing_schedule)
    return HttpResponse(_OK, content_type="application/json")
