"""The signature of an outgoing webhook, Stripe's scheme.

Header ``Waportal-Signature: t=<unix seconds>,v1=<hex>``: ``v1`` is HMAC-SHA256, keyed with the endpoint's
signing secret, over ``"<t>.<raw body>"``. During a secret rotation a second ``v1`` is signed with the
previous secret. Receivers recompute it, compare in constant time and refuse old timestamps (replays).
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "Waportal-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_header(secrets: list[str], timestamp: int, body: bytes) -> str:
    return ",".join([f"t={timestamp}", *(f"v1={sign(secret, timestamp, body)}" for secret in secrets if secret)])


def verify(header: str, body: bytes, secret: str, *, now: float, tolerance: int = 300) -> bool:
    """What a receiver does (the README's snippet, in Python): True when one v1 matches a fresh timestamp."""
    parts = [part.split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [value for key, value in parts if key == "t"]
    if len(timestamps) != 1 or not timestamps[0].isdigit() or abs(now - int(timestamps[0])) > tolerance:
        return False
    expected = sign(secret, int(timestamps[0]), body)
    return any(hmac.compare_digest(expected, value) for key, value in parts if key == "v1")
