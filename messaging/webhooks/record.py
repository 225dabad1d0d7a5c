"""Receiving: one callback body stored as received, once per (account, body), in the request."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping

from django.db import connection
from django.utils import timezone

from messaging.models import WebhookEvent
from waportal.input_policy import text_sanitize

RECEIPT_HEADER = "x-waportal-receipt"


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


# A JSON escape for NUL, or for a surrogate, after an even number of backslashes (an odd
# number escapes the backslash itself): a pair is kept, a lone one is replaced.
_ESCAPES = re.compile(
    r"(?<!\\)((?:\\\\)*)(?:(\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|\\u0000|\\u[dD][89a-fA-F][0-9a-fA-F]{2})"
)


_FORM_NUL = re.compile("%00")
# Provider payloads nest a handful of levels; a body deeper than this is kept unprocessed, never parsed.
WEBHOOK_MAX_JSON_DEPTH = 64


def body_text_sanitize(text: str) -> tuple[str, int]:
    """A callback body with what PostgreSQL text cannot hold replaced by U+FFFD, and how many were.

    Raw NUL characters, and the JSON escapes ``\\u0000`` and unpaired
    ``\\ud800``-``\\udfff``, which decode into characters no text column takes:
    the customer's message is kept (with a replacement character where those
    were) and can be processed; the count is recorded with the event.
    """
    text, count = text_sanitize(text)

    def swap(match: re.Match) -> str:
        nonlocal count
        if match.group(2):
            return match.group(0)
        count += 1
        return match.group(1) + "\\ufffd"

    if "\\u" in text:
        text = _ESCAPES.sub(swap, text)
    if "%00" in text and not text.lstrip().startswith(("{", "[")):  # a form body (Contacto Virtual may post one)
        text, forms = _FORM_NUL.subn("%EF%BF%BD", text)
        count += forms
    return text, count


def webhook_record(*, account_id: int, body: bytes, content_type: str = "", headers: Mapping[str, str] | None = None,
                   receipt: str = "") -> None:
    """Store one callback body as received, once per (account, body): a single INSERT, no transaction.

    One plain ``INSERT … ON CONFLICT DO NOTHING`` (valid on PostgreSQL and
    SQLite), written once as SQL rather than compiled by the ORM per request:
    the receiver is the hottest path of the portal and its benchmark compares it
    with a bare view doing one INSERT. In autocommit that is one round trip, and
    a duplicate — sequential or concurrent — is a no-op the database arbitrates.
    Database errors propagate, so the view answers 5xx and the provider retries.

    The body is kept as text: UTF-8 when it is, Latin-1 otherwise (recorded in
    ``headers["x-waportal-body-encoding"]``), so nothing a provider sends is
    refused for its encoding. The hash is of the raw bytes.

    ``receipt`` (a per-request nonce) makes this delivery distinct from every
    other with the same body: the key is then the hash of body and receipt,
    and the receipt is kept in ``headers["x-waportal-receipt"]``. The view
    passes one for Contacto Virtual customer replies (see
    :func:`providers.contacto_virtual.webhooks.is_customer_reply_body`).
    """
    stored_headers = dict(headers or {})
    key = body_sha256(body)
    if receipt:
        stored_headers[RECEIPT_HEADER] = receipt
        key = body_sha256(body + b"\n" + receipt.encode("ascii"))
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("latin-1")
        stored_headers["x-waportal-body-encoding"] = "latin-1"
    text, replaced = body_text_sanitize(text)
    if replaced:
        stored_headers["x-waportal-replaced-characters"] = str(replaced)
    with connection.cursor() as cursor:
        cursor.execute(
            _RECORD_SQL,
            [account_id, timezone.now(), key, text, content_type[:120], json.dumps(stored_headers),
             WebhookEvent.State.PENDING],
        )


_RECORD_SQL = (
    f'INSERT INTO "{WebhookEvent._meta.db_table}" '
    '("provider_account_id", "received_at", "body_sha256", "body", "content_type", "headers", "state", '
    '"reason", "attempts") '
    "VALUES (%s, %s, %s, %s, %s, %s, %s, '', 0) "
    'ON CONFLICT ("provider_account_id", "body_sha256") DO NOTHING'
)
