"""The one input policy at the edges: what a request body may be before anything parses it.

Every request under ``/api/`` goes through :class:`InputPolicyMiddleware`, first
in the stack:

- **Size.** A JSON or form body is read here, at most ``API_MAX_BODY_BYTES``
  bytes: more (counted on the bytes actually read, whatever ``Content-Length``
  claims) is a 413. Multipart uploads keep Django's own limits (files go to
  disk; the CSV reader bounds its cells).
- **Depth.** A JSON body nested deeper than ``API_MAX_JSON_DEPTH`` is a 400,
  found by counting brackets outside strings -- without recursion, so a body
  nested a million deep costs a scan, never a ``RecursionError``.
- **Characters.** A NUL or an unpaired surrogate in a JSON string, a form
  value or a query parameter is a 400 naming the field (PostgreSQL text can
  hold neither; no user needs them).
- **JSON answers.** Every 4xx or 5xx under ``/api/`` is JSON, whatever
  produced it (Django's 404 for an unknown URL, a production 500, a CSRF
  refusal) and whatever ``DEBUG`` says.

Provider webhooks take the other half of the policy: they keep what the customer
wrote and replace those characters (:func:`text_sanitize`), see
:func:`messaging.ingest.webhook_record`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from io import BytesIO
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _

from waportal import conf

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"

# Characters no text field may hold: NUL and the surrogate range (paired
# surrogates never survive decoding to str; any left is unpaired).
BAD_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
_JSON_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(rb"[^\[\]{}]")


def max_body_bytes() -> int:
    return int(conf.setting("API_MAX_BODY_BYTES"))


def max_json_depth() -> int:
    return int(conf.setting("API_MAX_JSON_DEPTH"))


class InputRefused(Exception):
    def __init__(self, status: int, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.detail, self.field, self.extra = status, detail, field, extra

    def response(self) -> JsonResponse:
        data: dict[str, Any] = {"detail": self.detail, **self.extra}
        if self.field:
            data[self.field] = [self.detail]
        return JsonResponse(data, status=self.status)


def json_depth_exceeds(body: bytes, limit: int) -> bool:
    """Whether ``body`` (JSON) nests arrays/objects deeper than ``limit``; no recursion, stops early."""
    brackets = _NOT_BRACKETS.sub(b"", _JSON_STRINGS.sub(b'""', body))
    depth = 0
    for byte in brackets:
        if byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def bad_character_path(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string (key or value) holding NUL or an unpaired surrogate."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if BAD_CHARACTERS.search(item):
                return where or "non_field_errors"
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{where}.{key}" if where else str(key)
                if isinstance(key, str) and BAD_CHARACTERS.search(key):
                    return where or "non_field_errors"
                stack.append((child, child_path))
        elif isinstance(item, list):
            stack.extend((child, f"{where}.{index}" if where else str(index)) for index, child in enumerate(item))
    return None


def text_sanitize(text: str) -> tuple[str, int]:
    """``text`` with NUL and unpaired surrogates replaced by U+FFFD, and how many were replaced."""
    return BAD_CHARACTERS.subn("\ufffd", text)


def _bad_character(field: str) -> InputRefused:
    return InputRefused(400, _("The field %(field)s contains a NUL character or an unpaired surrogate, which "
                               "text cannot hold. Remove it and send again.") % {"field": field}, field=field)


def _read_body(request: HttpRequest, limit: int) -> bytes:
    """Read the body, at most ``limit`` bytes actually received (not what Content-Length claims)."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = request.read(min(65536, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise _too_large(limit)
    body = b"".join(chunks)
    request._body = body  # what HttpRequest.body does: later readers (DRF) get the same bytes
    request._stream = BytesIO(body)
    return body


def _too_large(limit: int) -> InputRefused:
    return InputRefused(413, _("The request body is larger than %(limit)d bytes.") % {"limit": limit},
                        limit=limit)


def _query_items(request: HttpRequest) -> Iterator[tuple[str, str]]:
    for key, values in request.GET.lists():
        for value in values:
            yield key, value


def request_check(request: HttpRequest) -> None:
    """Apply the policy to one API request; raise :class:`InputRefused` when it breaks it."""
    for key, value in _query_items(request):
        if BAD_CHARACTERS.search(key) or BAD_CHARACTERS.search(value):
            raise _bad_character(key if not BAD_CHARACTERS.search(key) else "query")
    if request.method in ("GET", "HEAD", "OPTIONS", "DELETE") and not request.META.get("CONTENT_LENGTH"):
        return
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if content_type.startswith("multipart/"):
        return
    limit = max_body_bytes()
    body = _read_body(request, limit)
    if not body:
        return
    if content_type == "application/x-www-form-urlencoded":
        from django.http import QueryDict

        for key, values in QueryDict(body, encoding=request.encoding).lists():
            for value in values:
                if BAD_CHARACTERS.search(key) or BAD_CHARACTERS.search(value):
                    raise _bad_character(key)
        return
    if not (content_type == "application/json" or content_type.endswith("+json")):
        return
    depth = max_json_depth()
    if json_depth_exceeds(body, depth):
        raise InputRefused(400, _("The JSON body is nested deeper than %(limit)d levels.") % {"limit": depth},
                           limit=depth)
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return  # the parser's own error (400, JSON) says what is wrong
    field = bad_character_path(data)
    if field is not None:
        raise _bad_character(field)


def _json_error(response: HttpResponse) -> JsonResponse:
    reason = response.reason_phrase or ""
    if response.status_code == 404:
        detail = _("Not found.")
    elif response.status_code >= 500:
        detail = _("Server error: the request could not be completed. It was logged; try again later.")
    else:
        detail = reason
    replaced = JsonResponse({"detail": detail}, status=response.status_code)
    for header in ("Retry-After", "Allow", "WWW-Authenticate", "Location"):
        if header in response:
            replaced[header] = response[header]
    return replaced


class InputPolicyMiddleware:
    """First in the stack: refuses what breaks the input policy, and answers errors under /api/ as JSON."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        try:
            request_check(request)
        except InputRefused as refused:
            return refused.response()
        except MultiPartParserError:
            return InputRefused(400, _("The request body could not be read.")).response()
        response = self.get_response(request)
        if response.status_code >= 400 and "json" not in response.get("Content-Type", ""):
            return _json_error(response)
        return response
