"""Aldeamo sending (§3.2 of the manual): the send URL per message type, the wire body, and the client's
``prepare`` and ``send`` (mixed into :class:`providers.aldeamo.client.AldeamoClient`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.base import ProviderBadResponse, first_error, parse_json
from providers.types import OutboundMessage, PreparedSend, SendRequest, SendResult

# §3.2 "Texto" / "Responder a un mensaje" / "Template" / "Envío de multimedia":
# POST {base}/v1/apikey/{SERVICE_NAME}/bsp/send
SEND_PATH = "v1/apikey/{service}/bsp/send"


# §"Responder a un mensaje" (service names) and each type's example endpoint.
# Contacts: seed 000 l.338 lists the service as "contacs"; the endpoint's own
# example (l.1445) is v1/apikey/contacts/bsp/send, which is what we call (the
# sandbox accepts both).
SERVICES: Mapping[str, str] = {
    "text": "text",
    "template": "template",
    "image": "imagebyurl",
    "audio": "audiobyurl",
    "video": "videobyurl",
    "document": "docbyurl",
    "sticker": "stickerbyurl",
    "location": "location",
    "contacts": "contacts",
    "interactive": "interactive",
}

# Seed 000 l.1191-1200: the stickerbyurl example sends type "sticker" with the
# object under "document" (l.387 writes "sticker"); the endpoint's example wins.
CONTENT_KEYS: Mapping[str, str] = {"sticker": "document"}


def service_for(message_type: str) -> str:
    """The SERVICE_NAME of the send URL for a WhatsApp message type.

    Raises ValueError for a type Aldeamo cannot send: that is a bug in the
    caller, not a provider answer.
    """
    try:
        return SERVICES[message_type]
    except KeyError:
        allowed = ", ".join(SERVICES)
        raise ValueError(f"Aldeamo cannot send messages of type {message_type!r}; use one of: {allowed}.")


def build_send_body(message: OutboundMessage) -> dict[str, Any]:
    """The exact JSON body POSTed for ``message`` (callers store it with the message).

    The type's object goes under its own key, except the sticker: seed 000
    l.387 (the general example) has it under ``sticker``, but the
    ``stickerbyurl`` endpoint's own example (l.1191-1200) nests it under
    ``document``; we send what the endpoint's example shows (the sandbox
    accepts both, and so does our inbound parser).
    ``preview_url`` is a top-level field of text messages only; ``context``
    makes the message a reply.
    """
    service_for(message.type)  # validates the type
    body: dict[str, Any] = {"from": message.from_number, "to": message.to, "type": message.type}
    if message.recipient_type:
        body["recipient_type"] = message.recipient_type
    if message.context_message_id:
        body["context"] = {"message_id": message.context_message_id}
    if message.type == "text" and message.preview_url is not None:
        body["preview_url"] = message.preview_url
    body[CONTENT_KEYS.get(message.type, message.type)] = message.content
    return body


def answer_words(body: Any) -> str | None:
    """The provider's own words in an error-ish body: ``errors[0]``, else ``reason``/``message``."""
    words = first_error(body)
    if words:
        return words
    if isinstance(body, Mapping):
        for key in ("reason", "message", "error"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None


def template_object(request: SendRequest) -> dict[str, Any]:
    """The ``template`` object of a template send (§3.2 "Template"): the WABA's namespace, the language with
    the deterministic policy, the name, and the components when any were given."""
    ref = request.template
    if ref is None:
        raise ValueError("A template send needs its template.")
    wire: dict[str, Any] = {
        "namespace": ref.namespace,
        "language": {"policy": "deterministic", "code": ref.language},
        "name": ref.name,
    }
    if ref.components is not None:
        wire["components"] = ref.components
    return wire


class SendingMixin:
    """``prepare`` and ``send``; needs ``request`` (BaseClient) and ``_apikey_headers`` (AldeamoClient)."""

    service_for = staticmethod(service_for)
    build_send_body = staticmethod(build_send_body)

    def prepare(self, request: SendRequest) -> PreparedSend:
        """The send in Aldeamo's shape; the stored body is the wire body itself (the credentials go in headers)."""
        content = template_object(request) if request.type == "template" else request.content
        wire = OutboundMessage(
            from_number=request.from_number,
            to=request.to,
            type=request.type,
            content=content,
            context_message_id=request.context_message_id,
            recipient_type="individual",
            preview_url=request.preview_url if request.type == "text" else None,
        )
        return PreparedSend(wire=wire, stored=build_send_body(wire), content=content)

    def send(self, message: OutboundMessage) -> SendResult:
        """Send one message; the id in the result is the one statuses will carry.

        Text and template sends answer ``{"messageId": uuid}`` (Aldeamo's id);
        media, interactive, location and contacts answer
        ``{"messages": [{"id": wa_id}]}`` (the WhatsApp id). Anything else on a
        200 is ProviderBadResponse, which keeps ``maybe_delivered``: the message
        may be on its way, so it must not be re-sent blindly.
        """
        body = build_send_body(message)
        response = self.request(
            "POST",
            SEND_PATH.format(service=service_for(message.type)),
            headers=self._apikey_headers(json_body=True),
            json_body=body,
        )
        answer = parse_json(response)
        if isinstance(answer, Mapping):
            message_id = answer.get("messageId")
            if isinstance(message_id, str | int) and str(message_id).strip():
                return SendResult(message_id=str(message_id).strip(), id_kind="provider", raw=dict(answer))
            messages = answer.get("messages")
            if isinstance(messages, list) and messages and isinstance(messages[0], Mapping):
                wa_id = messages[0].get("id")
                if isinstance(wa_id, str | int) and str(wa_id).strip():
                    return SendResult(message_id=str(wa_id).strip(), id_kind="whatsapp", raw=dict(answer))
        raise ProviderBadResponse(
            answer_words(answer) or "Aldeamo accepted the send but returned no message id.",
            status=response.status_code,
            body=answer,
        )
