"""Per-account randomness and fault injection.

Every random choice the sandbox makes for an account (a fault, a failed
message, a duplicated callback, the customer's answer) comes from
:func:`account_rng`. With ``random_seed`` set, the n-th draw of an account is
always the same, so a test or a benchmark replays exactly; without it, choices
are truly random.

Faults are decided with ONE draw per request, split into intervals
(timeout | 5xx | 429 | normal), so the shares add up the way an operator
expects and a seeded sequence stays stable when a share changes to zero.
"""

from __future__ import annotations

import random
import time

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, JsonResponse

from .models import SandboxAccount


def account_rng(account: SandboxAccount) -> random.Random:
    """A random generator for the account's next decision.

    Seeded accounts get ``Random(f"{seed}:{n}")`` for their n-th draw (the
    counter lives in the database, so it survives processes); unseeded ones a
    fresh, OS-seeded generator and no database write.
    """
    if account.random_seed is None:
        return random.Random()
    with transaction.atomic():
        locked = SandboxAccount.objects.select_for_update().only("random_draws").get(pk=account.pk)
        draw = locked.random_draws
        SandboxAccount.objects.filter(pk=account.pk).update(random_draws=draw + 1)
    account.random_draws = draw + 1
    return random.Random(f"{account.random_seed}:{draw}")


def timeout_seconds(account: SandboxAccount) -> float:
    """How long a simulated timeout stalls: configured, or past the portal's read timeout."""
    if account.timeout_seconds is not None:
        return max(0.0, account.timeout_seconds)
    read_timeout = settings.PROVIDER_TIMEOUT[1]
    return float(read_timeout) + 1.0


def decide_fault(account: SandboxAccount) -> str:
    """``"timeout"``, ``"5xx"``, ``"429"`` or ``""`` for this request (one draw)."""
    if not (account.error_share or account.rate_limit_share or account.timeout_share):
        return ""
    roll = account_rng(account).random()
    edge = account.timeout_share
    if roll < edge:
        return "timeout"
    edge += account.error_share
    if roll < edge:
        return "5xx"
    edge += account.rate_limit_share
    if roll < edge:
        return "429"
    return ""


def apply_faults(account: SandboxAccount, *, protocol: str) -> HttpResponse | None:
    """Delay the request and maybe answer with an injected failure instead of the real answer.

    A timeout stalls and then lets the request proceed normally: past the
    client's read timeout it never sees the answer, yet the message is sent --
    exactly the ambiguity a real timeout leaves (``ProviderTimeout.maybe_delivered``).
    5xx and 429 answer at once without acting on the request. Bodies follow
    each protocol's error style: Aldeamo's ``{"errors": [...]}``, Contacto
    Virtual's ``{"code", "status"}``.
    """
    if not account.has_faults:
        return None
    if account.latency_ms:
        time.sleep(account.latency_ms / 1000.0)
    fault = decide_fault(account)
    if fault == "timeout":
        time.sleep(timeout_seconds(account))
        return None
    if fault == "5xx":
        if protocol == "aldeamo":
            return JsonResponse({"errors": ["Service Unavailable"]}, status=503)
        return JsonResponse({"code": 503, "status": "service unavailable"}, status=503)
    if fault == "429":
        if protocol == "aldeamo":
            response = JsonResponse({"errors": ["Too Many Requests"]}, status=429)
        else:
            response = JsonResponse({"code": 429, "status": "too many requests"}, status=429)
        response["Retry-After"] = "1"
        return response
    return None
