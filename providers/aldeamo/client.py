"""Aldeamo (tellit WA) HTTP client: sending, templates, ISV analytics and inventory.

The only module that knows Aldeamo's request and response shapes. Section
names in the comments refer to the Aldeamo WhatsApp-BSP manual v6 (April 2023,
``/work/shared/seeds/000_5112285de87a8c96.txt``).

Two credential sets exist and are never mixed: ``ApiKey``/``UserId`` headers
for sending and templates (a line's account), and the ISV ``token`` header for
analytics and inventory (getAnalytics, getWabaIdsByToken, getPhoneNumbers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import requests

from providers.base import (
    DEFAULT_TIMEOUT,
    BaseClient,
    ProviderAuthError,
    ProviderBadResponse,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
    first_error,
    parse_json,
)
from providers.contract import ProviderClient
from providers.types import (
    ClientWabas,
    ConversationPoint,
    OutboundMessage,
    PhoneNumberInfo,
    PreparedSend,
    SendRequest,
    SendResult,
    TemplateInfo,
)

# --- endpoints --------------------------------------------------------------

# §3.2 "Texto" / "Responder a un mensaje" / "Template" / "Envío de multimedia":
# POST {base}/v1/apikey/{SERVICE_NAME}/bsp/send
SEND_PATH = "v1/apikey/{service}/bsp/send"

# §"PLANTILLAS": GET getTemplates, POST createTemplate, DELETE deleteTemplate.
# Seed 000 l.2353 and l.2359: the PDF wrapped both list URLs, printing
# "ates https://…/template/getTempl" (test) and "s https://…/template/getTemplate"
# (production); the stray tails belong at the URLs' ends, so both read
# ".../template/getTemplates". Kept a constructor argument (an account field)
# in case a provider tells a customer otherwise.
TEMPLATES_PATH = "v1/apikey/template/{name}"
TEMPLATES_LIST_DEFAULT = "getTemplates"
TEMPLATE_CREATE = "createTemplate"
TEMPLATE_DELETE = "deleteTemplate"

# §"Analíticas de conversaciones" (ISV only).
ANALYTICS_PATH = "v1/analytics/getAnalytics"
# §"WABA's y ClientId con Token".
WABAS_BY_TOKEN_PATH = "v1/analytics/getWabaIdsByToken"
# §"API PhoneNumber".
PHONE_NUMBERS_PATH = "v1/analytics/getPhoneNumbers"

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

# §"Analíticas de conversaciones": "Formato (aaaa-mm-dd hh:mm:ss)", both ways.
ANALYTICS_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
GRANULARITIES = ("HALF_HOUR", "DAILY", "MONTHLY")
DEFAULT_DIMENSIONS = ("conversation_type", "conversation_direction", "phone", "country")

# getAnalytics answers HTTP 200 with this error when the search is empty.
_NO_DATA_PREFIX = "data not found"


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


def _words(body: Any) -> str | None:
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


def _analytics_time(value: Any) -> datetime:
    """``"2022-09-20 18:00:00"`` as a naive datetime; ValueError for anything else.

    ``fromisoformat`` is several times faster than ``strptime``, which matters
    for a 90-day half-hour sync (hundreds of thousands of points); the length
    and separator checks keep it as strict as the documented format.
    """
    text = str(value)
    if len(text) != 19 or text[10] != " ":
        return datetime.strptime(text, ANALYTICS_DATE_FORMAT)  # raises ValueError with the reason
    return datetime.fromisoformat(text)


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


class AldeamoClient(BaseClient, ProviderClient):
    """Client for one Aldeamo account (one set of credentials, one base URL).

    ``base_url`` is ``https://apitellitwatest.aldeamo.com`` (test),
    ``https://apitellitwa.aldeamo.com`` (production) or a sandbox/proxy.
    Pass ``session=providers.base.session_for(key)`` for the pooled session.
    """

    provider_name = "Aldeamo"

    service_for = staticmethod(service_for)
    build_send_body = staticmethod(build_send_body)

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str = "",
        user_id: str = "",
        analytics_token: str = "",
        session: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        templates_list_path: str = TEMPLATES_LIST_DEFAULT,
    ) -> None:
        super().__init__(base_url=base_url, session=session, timeout=timeout)
        self.api_key = api_key
        self.user_id = user_id
        self.analytics_token = analytics_token
        self.templates_list_path = templates_list_path.strip("/") or TEMPLATES_LIST_DEFAULT

    # --- headers ------------------------------------------------------------

    def _apikey_headers(self, *, json_body: bool = False) -> dict[str, str]:
        """§3.2 Headers: ``ApiKey`` and ``UserId`` (sending and templates)."""
        headers = {"ApiKey": self.api_key, "UserId": self.user_id}
        if json_body:
            headers["Content-Type"] = "application/json"
        return headers

    def _token_headers(self) -> dict[str, str]:
        """§"Analíticas": ``token`` and ``Content-Type: application/json`` (ISV endpoints)."""
        return {"token": self.analytics_token, "Content-Type": "application/json"}

    # --- sending ------------------------------------------------------------

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
            _words(answer) or "Aldeamo accepted the send but returned no message id.",
            status=response.status_code,
            body=answer,
        )

    # --- templates ----------------------------------------------------------

    def templates_list(self, *, waba_id: str, limit: int = 1000) -> list[TemplateInfo]:
        """The WABA's templates (§"Obtener plantillas"), components kept as Aldeamo gives them."""
        response = self.request(
            "GET",
            TEMPLATES_PATH.format(name=self.templates_list_path),
            headers=self._apikey_headers(),
            params={"limit": limit, "wabaid": waba_id},
        )
        answer = self._checked_body(response)
        data = answer.get("data") if isinstance(answer, Mapping) else None
        templates = data.get("templates") if isinstance(data, Mapping) else None
        if not isinstance(templates, list):
            raise ProviderBadResponse(
                "Aldeamo's template list has no data.templates list.", status=response.status_code, body=answer
            )
        return [self._template_info(item, answer, response.status_code) for item in templates]

    @staticmethod
    def _template_info(item: Any, answer: Any, status: int) -> TemplateInfo:
        if not isinstance(item, Mapping) or not item.get("name"):
            raise ProviderBadResponse("Aldeamo listed a template without a name.", status=status, body=answer)
        components = item.get("components") or ()
        if not isinstance(components, list | tuple) or not all(isinstance(c, Mapping) for c in components):
            raise ProviderBadResponse(
                f"Aldeamo listed template {item['name']!r} with unreadable components.", status=status, body=answer
            )
        return TemplateInfo(
            name=str(item["name"]),
            language=str(item.get("language") or ""),
            status=str(item.get("status") or ""),
            category=str(item.get("category") or ""),
            id=str(item.get("id") or ""),
            components=tuple(dict(c) for c in components),
            rejected_reason=str(item.get("rejected_reason") or ""),
        )

    def template_create(
        self,
        *,
        waba_id: str,
        name: str,
        language: str,
        category: str,
        components: list[dict[str, Any]],
    ) -> str:
        """Submit a template for approval (§"Creación de plantillas"); returns its new id."""
        body = {
            "category": category,
            "name": name,
            "components": components,
            "language": language,
            "wabaId": waba_id,
        }
        response = self.request(
            "POST",
            TEMPLATES_PATH.format(name=TEMPLATE_CREATE),
            headers=self._apikey_headers(json_body=True),
            json_body=body,
        )
        answer = self._checked_body(response)
        template_id = answer.get("id") if isinstance(answer, Mapping) else None
        if template_id is None or not str(template_id).strip():
            raise ProviderBadResponse(
                "Aldeamo accepted the template but returned no id.", status=response.status_code, body=answer
            )
        return str(template_id).strip()

    def template_delete(self, *, waba_id: str, name: str) -> None:
        """Delete a template by name (§"Eliminación de plantilla"); ``success: false`` is a refusal."""
        response = self.request(
            "DELETE",
            TEMPLATES_PATH.format(name=TEMPLATE_DELETE),
            headers=self._apikey_headers(),
            params={"nameTemplate": name, "wabaid": waba_id},
        )
        answer = self._checked_body(response)
        success = answer.get("success") if isinstance(answer, Mapping) else None
        if success is True:
            return
        if success is False:
            raise ProviderRejected(
                _words(answer) or f"Aldeamo did not delete template {name!r}.",
                status=response.status_code,
                body=answer,
            )
        raise ProviderBadResponse(
            "Aldeamo's answer to deleteTemplate has no success flag.", status=response.status_code, body=answer
        )

    def _checked_body(self, response: requests.Response) -> Any:
        """The JSON of a 2xx answer that may still report an error in its body.

        The template endpoints wrap answers as ``{"status": 200, "reason": "OK", ...}``;
        a ``status`` other than 2xx there, or an ``errors`` list, is the real answer.
        """
        answer = parse_json(response)
        if isinstance(answer, Mapping):
            status = answer.get("status")
            if isinstance(status, str) and status.strip().isdigit():
                status = int(status)
            if isinstance(status, int) and not isinstance(status, bool) and not 200 <= status < 300:
                raise self._error_for(status, _words(answer), answer)
            if first_error(answer):
                raise self._error_for(response.status_code, first_error(answer), answer)
        return answer

    def _error_for(self, status: int, words: str | None, body: Any) -> ProviderError:
        """The ProviderError for an error status reported inside a body (same mapping as BaseClient)."""
        if status in (401, 403):
            return ProviderAuthError(
                words or f"Aldeamo refused the credentials (status {status}).", status=status, body=body
            )
        if status == 429:
            return ProviderRateLimited(words or "Aldeamo is rate limiting requests.", status=status, body=body)
        if status >= 500:
            return ProviderUnavailable(
                words or f"Aldeamo had an internal error (status {status}).", status=status, body=body
            )
        return ProviderRejected(words or f"Aldeamo rejected the request (status {status}).", status=status, body=body)

    # --- ISV analytics and inventory ----------------------------------------

    def analytics(
        self,
        *,
        waba_id: str,
        client_id: str | int,
        start: datetime,
        end: datetime,
        granularity: str,
        phone_numbers: Sequence[str] = (),
        dimensions: Sequence[str] = DEFAULT_DIMENSIONS,
        country_codes: Sequence[str] = (),
        conversation_types: Sequence[str] = (),
        conversation_directions: Sequence[str] = (),
    ) -> list[ConversationPoint]:
        """Conversation counts of one WABA between ``start`` and ``end`` (§"Analíticas").

        Dates are sent as their wall-clock value ("yyyy-mm-dd hh:mm:ss", no
        zone: Aldeamo takes none), so pass them in the account's clock; the
        points come back naive, as Aldeamo writes them. An empty search is
        answered with HTTP 200 ``{"errors": ["Data not found for search
        criteria"]}``: that is an empty list here, not an error.
        """
        if granularity not in GRANULARITIES:
            raise ValueError(f"granularity must be one of {', '.join(GRANULARITIES)}, not {granularity!r}.")
        body = {
            "wabaId": str(waba_id),
            "clientId": str(client_id),
            "conversationAnalytics": {
                "conversationStart": start.strftime(ANALYTICS_DATE_FORMAT),
                "conversationEnd": end.strftime(ANALYTICS_DATE_FORMAT),
                "granularity": granularity,
                "phoneNumbers": list(phone_numbers),
                "dimensions": list(dimensions),
                "filters": {
                    "countryCodes": list(country_codes),
                    "conversationTypes": list(conversation_types),
                    "conversationDirections": list(conversation_directions),
                },
            },
        }
        response = self.request("POST", ANALYTICS_PATH, headers=self._token_headers(), json_body=body)
        answer = parse_json(response)
        words = first_error(answer)
        if words:
            if words.lower().startswith(_NO_DATA_PREFIX):
                return []
            raise ProviderRejected(words, status=response.status_code, body=answer)
        analytics = answer.get("conversation_analytics") if isinstance(answer, Mapping) else None
        data = analytics.get("data") if isinstance(analytics, Mapping) else None
        if not isinstance(data, list):
            raise ProviderBadResponse(
                "Aldeamo's analytics answer has no conversation_analytics.data list.",
                status=response.status_code,
                body=answer,
            )
        points: list[ConversationPoint] = []
        for block in data:
            raw_points = block.get("data_points") if isinstance(block, Mapping) else None
            if not isinstance(raw_points, list):
                raise ProviderBadResponse(
                    "Aldeamo's analytics answer has a block without data_points.",
                    status=response.status_code,
                    body=answer,
                )
            points.extend(self._conversation_point(point, answer, response.status_code) for point in raw_points)
        return points

    @staticmethod
    def _conversation_point(point: Any, answer: Any, status: int) -> ConversationPoint:
        """One data point; ``conversation`` is a count written as a string ("1")."""
        try:
            return ConversationPoint(
                start=_analytics_time(point["start"]),
                end=_analytics_time(point["end"]),
                conversations=int(str(point["conversation"]).strip()),
                country=str(point.get("country") or ""),
                phone_number=str(point.get("phone_number") or ""),
                conversation_type=str(point.get("conversation_type") or ""),
                conversation_direction=str(point.get("conversation_direction") or ""),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProviderBadResponse(
                f"Aldeamo returned an unreadable analytics data point: {point!r}.", status=status, body=answer
            ) from exc

    def wabas_by_token(self) -> list[ClientWabas]:
        """The clients and WABAs the ISV token can see (§"WABA's y ClientId con Token"); no body."""
        response = self.request("POST", WABAS_BY_TOKEN_PATH, headers=self._token_headers())
        answer = parse_json(response)
        if first_error(answer):
            raise ProviderRejected(first_error(answer) or "", status=response.status_code, body=answer)
        if not isinstance(answer, list):
            raise ProviderBadResponse(
                "Aldeamo's getWabaIdsByToken answer is not a list.", status=response.status_code, body=answer
            )
        result: list[ClientWabas] = []
        for item in answer:
            client_id = item.get("clientId") if isinstance(item, Mapping) else None
            waba_ids = item.get("wabaIds") if isinstance(item, Mapping) else None
            if client_id is None or not isinstance(waba_ids, list):
                raise ProviderBadResponse(
                    f"Aldeamo returned an unreadable client entry: {item!r}.",
                    status=response.status_code,
                    body=answer,
                )
            result.append(ClientWabas(client_id=str(client_id), waba_ids=tuple(str(w) for w in waba_ids)))
        return result

    def phone_numbers(self, *, client_id: str | int, waba_id: str) -> list[PhoneNumberInfo]:
        """The WABA's business numbers (§"API PhoneNumber").

        Credentials and selectors travel as headers ``Token``, ``ClientId`` and
        ``WabaId``. Aldeamo answers 400 with one sentence for two causes
        ("WabaId … does not belong to the client … or the token is not valid …"):
        that stays ProviderRejected, because the token usually just worked on
        getWabaIdsByToken and the likelier fault is the WABA/client pair. Only
        words that blame the token alone (no "does not belong") become
        ProviderAuthError; a 401 always does.
        """
        headers = {
            "Token": self.analytics_token,
            "ClientId": str(client_id),
            "WabaId": str(waba_id),
            "Content-Type": "application/json",
        }
        try:
            response = self.request("POST", PHONE_NUMBERS_PATH, headers=headers)
        except ProviderRejected as exc:
            lowered = exc.message.lower()
            if "token" in lowered and "does not belong" not in lowered:
                raise ProviderAuthError(exc.message, status=exc.status, body=exc.body) from exc
            raise
        answer = parse_json(response)
        if first_error(answer):
            raise ProviderRejected(first_error(answer) or "", status=response.status_code, body=answer)
        data = answer.get("data") if isinstance(answer, Mapping) else None
        if not isinstance(data, list):
            raise ProviderBadResponse(
                "Aldeamo's getPhoneNumbers answer has no data list.", status=response.status_code, body=answer
            )
        numbers: list[PhoneNumberInfo] = []
        for item in data:
            if not isinstance(item, Mapping) or not item.get("id") or not item.get("display_phone_number"):
                raise ProviderBadResponse(
                    f"Aldeamo returned an unreadable phone number: {item!r}.",
                    status=response.status_code,
                    body=answer,
                )
            numbers.append(
                PhoneNumberInfo(
                    id=str(item["id"]),
                    display_phone_number=str(item["display_phone_number"]),
                    verified_name=str(item.get("verified_name") or ""),
                    code_verification_status=str(item.get("code_verification_status") or ""),
                    quality_rating=str(item.get("quality_rating") or ""),
                )
            )
        return numbers

    # --- health -------------------------------------------------------------

    def check_connection(self, *, waba_id: str = "") -> str:
        """Prove the configured credentials work with read-only calls; a sentence for the operator.

        Aldeamo has no "who am I" call. The ISV token is checked with
        getWabaIdsByToken (no arguments needed). ApiKey/UserId can only be
        checked without sending a message by listing templates, which needs a
        WABA id: pass ``waba_id`` to include that check. With neither an
        analytics token nor a WABA id nothing can be proven, which raises a
        ProviderError naming the missing setting (no request is made).
        """
        sentences: list[str] = []
        if self.analytics_token:
            clients = self.wabas_by_token()
            wabas = sum(len(c.waba_ids) for c in clients)
            sentences.append(
                f"The analytics token works: it sees {_count(len(clients), 'client')} "
                f"with {_count(wabas, 'WhatsApp Business account')}."
            )
        if waba_id:
            templates = self.templates_list(waba_id=waba_id, limit=1)
            found = "at least one template" if templates else "no templates yet"
            sentences.append(f"The API key works: WABA {waba_id} lists {found}.")
        if not sentences:
            raise ProviderError(
                "Cannot check the Aldeamo connection: set the analytics token, or give a WABA id to check "
                "the API key with a template listing.",
                field="analytics_token",
            )
        return " ".join(sentences)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


__all__ = [
    "ANALYTICS_PATH",
    "PHONE_NUMBERS_PATH",
    "SEND_PATH",
    "SERVICES",
    "TEMPLATES_PATH",
    "WABAS_BY_TOKEN_PATH",
    "AldeamoClient",
    "build_send_body",
    "service_for",
]
