"""Relay's client, webhook parser and registration: the whole provider, in one package."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from providers import registry
from providers.base import BaseClient, ProviderBadResponse, WebhookUnreadable, parse_json
from providers.contract import Capabilities, CredentialField, ProviderClient, ProviderSpec
from providers.types import (
    InboundMessage,
    PreparedSend,
    SendRequest,
    SendResult,
    StatusUpdate,
    TemplateInfo,
    UnknownEvent,
    WebhookEvent,
)

BASE_URL = "https://relay.example/api/"
STATES = {"ok": "APPROVED", "waiting": "PENDING", "no": "REJECTED"}


class RelayClient(BaseClient, ProviderClient):
    provider_name = "Relay"

    def __init__(self, *, base_url: str, login: str, token: str, session=None, **options: Any) -> None:
        super().__init__(base_url=base_url, session=session, **options)
        self.login, self.token = login, token

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "X-Login": self.login}

    def prepare(self, request: SendRequest) -> PreparedSend:
        wire: dict[str, Any] = {"from": request.from_number, "to": request.to}
        if request.type == "template" and request.template is not None:
            wire.update(template=request.template.provider_template_id, params=list(request.template.variables))
            content: Any = {"id": request.template.provider_template_id, "name": request.template.name}
        elif request.type == "text":
            wire["text"] = request.content["body"]
            content = request.content
        else:
            raise ValueError("Relay sends text and templates only.")
        return PreparedSend(wire=wire, stored=dict(wire), content=content)

    def send(self, wire: dict[str, Any]) -> SendResult:
        answer = parse_json(self.request("POST", "messages", headers=self._headers(), json_body=wire))
        if not isinstance(answer, Mapping) or not answer.get("id"):
            raise ProviderBadResponse("Relay answered without a message id.", body=answer)
        return SendResult(message_id=str(answer["id"]), raw=dict(answer))

    def templates_list(self, *, waba_id: str = "", limit: int = 1000) -> list[TemplateInfo]:
        answer = parse_json(self.request("GET", "templates", headers=self._headers()))
        return [TemplateInfo(name=item["name"], id=str(item["id"]), status=item.get("state", ""),
                             text=item.get("body", ""), language="") for item in answer]

    def check_connection(self, *, waba_id: str = "") -> str:
        answer = parse_json(self.request("GET", "me", headers=self._headers()))
        return f"Connected as {answer.get('login')}."


class RelayProvider(ProviderSpec):
    id = "relay"
    name = "Relay"
    webhook_slug = "relay"
    base_urls = {"test": BASE_URL, "production": BASE_URL}
    credential_fields = (
        CredentialField("login", missing="Relay needs the login."),
        CredentialField("token", missing="Relay needs the token."),
        CredentialField("line_number", required=False),
    )
    capabilities = Capabilities(
        free_form_sends=True, replies_in_context=False, templates_per_waba=False, template_ids_by_hand=False,
        template_write=False, template_parameters="positional", balance=False, analytics=False,
        inventory="single_line", manual_inventory=False,
    )

    def client(self, *, base_url: str, credentials: Mapping[str, str], session: Any = None,
               timeout: Any = None) -> RelayClient:
        options = {"timeout": tuple(timeout)} if timeout else {}
        return RelayClient(base_url=base_url, login=credentials.get("login", ""),
                           token=credentials.get("token", ""), session=session, **options)

    def template_status(self, word: str) -> str:
        return STATES.get(word, "UNKNOWN")

    def parse_webhook(self, body: bytes | str, content_type: str = "") -> list[WebhookEvent]:
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise WebhookUnreadable(f"The body is not JSON ({exc}).") from None
        if payload.get("event") == "status":
            return [StatusUpdate(message_id=str(payload["id"]), status=payload["state"])]
        if payload.get("event") == "message":
            return [InboundMessage(message_id=str(payload["id"]), from_number=payload["from"], type="text",
                                   content={"body": payload["text"]}, business_number=payload.get("to", ""))]
        return [UnknownEvent(reason="Not a Relay event.", payload=payload)]


registry.register(RelayProvider)
