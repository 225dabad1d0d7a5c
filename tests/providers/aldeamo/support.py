"""Constants and helpers of the Aldeamo adapter tests (the manual's own example values)."""

from __future__ import annotations

from typing import Any

from providers.types import OutboundMessage
from tests.fixtures import load_fixture

# Values shown in the manual's header examples (§3.2 "Ejemplo de Headers", §"Analíticas").
BASE_URL = "https://apitellitwatest.aldeamo.com"
API_KEY = "KMzg2MSyxYTU6Z3Eynf154VMTNu2ksn"
USER_ID = "3777"
TOKEN = "6f7267fb-9134-11ed-b25b-00155d601935"

APIKEY_HEADERS = {"ApiKey": API_KEY, "UserId": USER_ID}
JSON_APIKEY_HEADERS = {**APIKEY_HEADERS, "Content-Type": "application/json"}
TOKEN_HEADERS = {"token": TOKEN, "Content-Type": "application/json"}


def fixture(name: str) -> Any:
    """A parsed fixture of ``tests/fixtures/aldeamo/``."""
    return load_fixture("aldeamo", name)


def message_from_seed_body(body: dict[str, Any]) -> OutboundMessage:
    """The OutboundMessage a caller would build to send the manual's example ``body``."""
    context = body.get("context") or {}
    return OutboundMessage(
        from_number=body["from"],
        to=body["to"],
        type=body["type"],
        content=body[body["type"]] if body["type"] in body else body["document"],
        context_message_id=context.get("message_id", ""),
        recipient_type=body.get("recipient_type", ""),
        preview_url=body.get("preview_url"),
    )
