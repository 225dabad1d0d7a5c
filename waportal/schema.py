"""OpenAPI schema post-processing: every operation documents the error answers it can give, with their shape.

Every error the API answers is JSON (see :mod:`waportal.api` and :mod:`waportal.input_policy`): an object
with ``detail`` (words a person can act on) and, for bad input, one key per field at fault holding a list of
reasons (DRF's validation shape); a few carry more keys (``limit``, ``provider_error``, ``retryable``...).
A validation error raised without a field is a JSON list of reasons. This hook adds those answers to every
operation -- without replacing what a view documents itself (e.g. the messages API's 422/502 with the
stored message).
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = "Error"

ALWAYS = {
    "400": "Bad input: a field, query parameter or body the API refuses (each named, with the reason).",
    "401": "No valid credentials (Authorization: Token <key>, or a session).",
    "403": "The user may not do this.",
    "404": "Not found, or not visible to this user (another tenant's object); also a page out of range.",
    "429": "Too many requests; Retry-After says when to try again.",
    "500": "Server error (logged); the request may be retried later.",
}
WRITES = {
    "409": "Conflict with the object's state (e.g. deleting an account with history: deactivate it instead).",
    "413": "The body is larger than the limit (named in the answer).",
    "415": "The body's content type is not accepted.",
    "502": "The provider refused or failed the request (its words, and whether a retry may help).",
    "503": "The provider is rate-limiting or unavailable.",
    "504": "The provider did not answer in time.",
}
WRITE_METHODS = {"post", "put", "patch", "delete"}


def error_component() -> dict[str, Any]:
    return {
        "description": "An error: `detail` in words, and each field at fault with its reasons.",
        "oneOf": [
            {
                "type": "object",
                "properties": {"detail": {"type": "string"}},
                "additionalProperties": True,
            },
            {"type": "array", "items": {"type": "string"}},
        ],
    }


def error_responses(result: dict[str, Any], generator: Any, request: Any, public: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook (``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``)."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_SCHEMA] = error_component()
    ref = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete", "head", "options"}:
                continue
            responses = operation.setdefault("responses", {})
            wanted = dict(ALWAYS)
            if method in WRITE_METHODS:
                wanted.update(WRITES)
            for code, words in wanted.items():
                responses.setdefault(code, {"description": words, "content": {"application/json": {"schema": ref}}})
    return result
