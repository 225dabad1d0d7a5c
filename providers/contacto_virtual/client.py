"""The Contacto Virtual API client (seed ``002``: the multiagent/designer API).

Every call is a form-encoded POST (``application/x-www-form-urlencoded``) with
the credentials in the form itself (``login``, ``token``), never in headers.
The provider answers HTTP 200 with a JSON body whose numeric ``code`` is the
truth: 1 is success, 2-8 are refusals (see :mod:`.codes`). Transport failures
and HTTP error statuses are mapped by :class:`~providers.base.BaseClient`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import requests

from providers.base import (
    DEFAULT_TIMEOUT,
    BaseClient,
    ProviderBadResponse,
    ProviderError,
    ProviderRejected,
    parse_json,
)
from providers.contract import ProviderClient
from providers.types import Balance, PreparedSend, SendRequest, SendResult, TemplateInfo, TemplateSend

from .codes import (
    DELIVERY_ERROR_CODES,
    PROVIDER_NAME,
    RETURN_CODES,
    TEMPLATES_NONE_CODE,
    describe_code,
    normalise_code,
)

#: Production base URL (seed 002). Kept configurable per account: the sandbox
#: or a proxy replaces it.
PRODUCTION_BASE_URL = "https://contacto-virtual.com/bot/chat_wa/ws/"

# Endpoint paths, relative to the base URL. The trailing slash is part of the
# documented endpoints (``.../ws/send/``); the server may not route without it.
SEND_PATH = "send/"
BALANCE_PATH = "balance/"
TEMPLATE_PATH = "template/"

#: The manual caps ``custom_field`` at 1.000 characters.
CUSTOM_FIELD_MAX_LENGTH = 1000

#: Contacto Virtual only sends to Colombia: 57 followed by 10 digits.
COLOMBIA_PREFIX = "57"
MOBILE_DIGITS = 12


def render_variables(values: Iterable[str]) -> str:
    """Template variables in the provider's wire shape: ``[Carlos] [$100] [miércoles]``.

    Each value goes inside square brackets, one space between them, as in the
    manual's example. The provider splits on the brackets and offers no escape,
    so a value containing ``[`` or ``]`` would silently shift every following
    variable: it is refused with a ValueError naming its 1-based position (the
    template's ``{n}`` placeholder).
    """
    if isinstance(values, str | bytes):
        raise TypeError("render_variables takes a sequence of values, not a single string.")
    parts: list[str] = []
    for position, value in enumerate(values, start=1):
        text = str(value)
        if "[" in text or "]" in text:
            raise ValueError(
                f"Template variable {position} (placeholder {{{position}}}) contains '[' or ']', which Contacto "
                f"Virtual uses to separate variables; remove the brackets from {text!r}."
            )
        parts.append(f"[{text}]")
    return " ".join(parts)


def mobile_problem(mobile: str) -> str | None:
    """Why ``mobile`` is not a number Contacto Virtual accepts, or None when it is.

    The manual's rule (return code 4): Colombian, starting with 57, 12 digits in
    all. Nothing is normalised here: the number is sent exactly as given, so a
    ``+`` or a space is a problem to report, not to fix silently.
    """
    if not isinstance(mobile, str) or not mobile.strip():
        return "The mobile number is empty; Contacto Virtual needs 57 followed by 10 digits, e.g. 573102111111."
    if not (mobile.isascii() and mobile.isdigit()):
        return f"The mobile number {mobile!r} must contain digits only (no '+', spaces or dashes), e.g. 573102111111."
    if not mobile.startswith(COLOMBIA_PREFIX):
        if len(mobile) == MOBILE_DIGITS - len(COLOMBIA_PREFIX):
            return (
                f"The mobile number {mobile} has no country code: put 57 in front of it "
                f"(57{mobile}); Contacto Virtual only sends to Colombian numbers."
            )
        return (
            f"The mobile number {mobile} does not start with 57: Contacto Virtual only sends to Colombian "
            "numbers (57 followed by 10 digits)."
        )
    if len(mobile) != MOBILE_DIGITS:
        return (
            f"The mobile number {mobile} has {len(mobile)} digits; a Colombian number is 57 followed by "
            "10 digits (12 digits in all)."
        )
    return None


def _text(value: Any) -> str:
    """A scalar from the provider's JSON as a stripped string ("" for None and containers)."""
    if value is None or isinstance(value, bool | dict | list):
        return ""
    return str(value).strip()


def _read_json(response: requests.Response) -> Any:
    """The answer's JSON, decoded as UTF-8 unless the server names a charset.

    The endpoints are PHP pages that may answer ``text/html`` without a charset;
    ``requests`` would then decode as ISO-8859-1 and turn "Asignación" into
    mojibake. JSON is UTF-8 by definition (RFC 8259).
    """
    if "charset" not in response.headers.get("Content-Type", "").lower():
        response.encoding = "utf-8"
    return parse_json(response)


#: What the stored copy of a ``send/`` form shows instead of the token.
TOKEN_MASK = "********"


class ContactoVirtualClient(BaseClient, ProviderClient):
    """Send templates, read the balance and list templates of one Contacto Virtual account.

    ``login`` is the platform user, ``token`` the API token (not the login
    password). Pass a pooled ``session`` (``providers.base.session_for``) in
    production; without one the client makes its own.
    """

    provider_name = PROVIDER_NAME

    def __init__(
        self,
        *,
        base_url: str = PRODUCTION_BASE_URL,
        login: str,
        token: str,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(base_url=base_url, session=session, timeout=timeout)
        self.login = login
        self.token = token

    def __repr__(self) -> str:
        # Never the token: reprs end up in logs and error reports.
        return f"<ContactoVirtualClient {self.base_url} login={self.login!r}>"

    # --- sending --------------------------------------------------------------

    def prepare(self, request: SendRequest) -> PreparedSend:
        """A ``send/`` request: the template's id_template, the mobile, the variables in placeholder order.

        The stored body is the form exactly as posted, built by this same code
        with the token masked, so it cannot drift from the wire. Raises
        ValueError before anything is sent for what :meth:`build_send_form` refuses.
        """
        ref = request.template
        if request.type != "template" or ref is None:
            raise ValueError(f"{PROVIDER_NAME} lines send only templates.")
        wire = TemplateSend(id_template=ref.provider_template_id, mobile=request.to, variables=ref.variables,
                            media=ref.media, custom_field=request.custom_field)
        stored = {**self.build_send_form(wire), "token": TOKEN_MASK}
        content: dict[str, Any] = {"id": ref.provider_template_id, "name": ref.name}
        if ref.components is not None:
            content["components"] = ref.components
        return PreparedSend(wire=wire, stored=stored, content=content)

    def build_send_form(self, request: TemplateSend) -> dict[str, str]:
        """The ``send/`` form for ``request``, credentials included (unmasked).

        Optional fields are left out when empty rather than sent blank, as in
        the manual's example. Raises ValueError, before anything is sent, for a
        variable containing brackets (the provider would split it wrongly) and
        for a ``custom_field`` over the manual's 1.000-character limit (what the
        provider does past it is undocumented).
        """
        form = {
            "login": self.login,
            "token": self.token,
            "id_template": str(request.id_template),
            "mobile": str(request.mobile),
        }
        if request.variables:
            form["template_variables"] = render_variables(request.variables)
        if request.media:
            form["media"] = request.media
        if request.custom_field:
            if len(request.custom_field) > CUSTOM_FIELD_MAX_LENGTH:
                raise ValueError(
                    f"custom_field is {len(request.custom_field)} characters long; Contacto Virtual accepts at "
                    f"most {CUSTOM_FIELD_MAX_LENGTH}."
                )
            form["custom_field"] = request.custom_field
        return form

    def send(self, request: TemplateSend) -> SendResult:
        """Send one template message; the result's ``message_id`` matches later webhooks."""
        body = self._post(SEND_PATH, self.build_send_form(request))
        if not isinstance(body, Mapping):
            raise ProviderBadResponse(
                f"{PROVIDER_NAME} answered the send with something other than a JSON object; the message may "
                "or may not have been sent.",
                body=body,
            )
        raw_code = body.get("code")
        code = normalise_code(raw_code)
        message_id = _text(body.get("messageId"))
        # A missing code with a messageId is read as success: the id is what the
        # provider only hands out for an accepted message.
        if code == 1 or (raw_code is None and message_id):
            if not message_id:
                raise ProviderBadResponse(
                    f"{PROVIDER_NAME} said the message was sent but gave no messageId, so its delivery "
                    "statuses cannot be matched.",
                    code=code,
                    body=dict(body),
                )
            return SendResult(message_id=message_id, raw=dict(body))
        if raw_code is None:
            raise ProviderBadResponse(
                f"{PROVIDER_NAME} answered the send without a code or a messageId; the message may or may not "
                "have been sent.",
                body=dict(body),
            )
        raise self._error_for(body, detail=self._send_detail(code, request))

    @staticmethod
    def _send_detail(code: int | None, request: TemplateSend) -> str:
        """What we know about the refused request that helps fix it."""
        if code == 4:
            return mobile_problem(request.mobile) or f"The mobile sent was {request.mobile}."
        if code == 7:
            return f"The template id sent was {request.id_template}."
        if code == 8:
            count = len(request.variables)
            return f"{count} variable{'' if count == 1 else 's'} {'was' if count == 1 else 'were'} sent."
        return ""

    # --- account --------------------------------------------------------------

    def balance(self) -> Balance:
        """The account's balance right now (``{"balance": "163", "status": "success"}``)."""
        body = self._post(BALANCE_PATH, self._credentials())
        if not isinstance(body, Mapping):
            raise ProviderBadResponse(f"{PROVIDER_NAME} answered the balance query with no JSON object.", body=body)
        if body.get("code") is not None and normalise_code(body.get("code")) != 1:
            raise self._error_for(body)
        amount_text = _text(body.get("balance"))
        try:
            amount = Decimal(amount_text)
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite():
            raise ProviderBadResponse(
                f"{PROVIDER_NAME} answered the balance query without a readable balance ({amount_text!r}).",
                body=dict(body),
            )
        return Balance(amount=amount, raw=dict(body))

    def templates_list(self, *, waba_id: str = "", limit: int = 1000) -> list[TemplateInfo]:
        """The account's templates (approved, pending or rejected), as the provider lists them.

        Code 4 ("without templates") is an empty listing, not an error. The
        listing carries no numeric template id: ``id_template`` for sending is
        the number shown in Contacto Virtual when the template was created.
        """
        body = self._post(TEMPLATE_PATH, self._credentials())
        # The listing is a JSON array; a refusal is expected as an object, but
        # tolerate it wrapped in a one-element array like the listing itself.
        if (
            isinstance(body, list)
            and len(body) == 1
            and isinstance(body[0], Mapping)
            and "code" in body[0]
            and "nombre_plantilla" not in body[0]
        ):
            body = body[0]
        if isinstance(body, Mapping):
            if "nombre_plantilla" in body:
                return [self._template_info(body)]
            if normalise_code(body.get("code")) == TEMPLATES_NONE_CODE:
                return []
            if body.get("code") is None:
                raise ProviderBadResponse(
                    f"{PROVIDER_NAME} answered the template listing with neither templates nor a code.",
                    body=dict(body),
                )
            raise self._error_for(body)
        if not isinstance(body, list):
            raise ProviderBadResponse(f"{PROVIDER_NAME} answered the template listing with no JSON list.", body=body)
        return [self._template_info(item) for item in body]

    @staticmethod
    def _template_info(item: Any) -> TemplateInfo:
        if not isinstance(item, Mapping) or not _text(item.get("nombre_plantilla")):
            raise ProviderBadResponse(
                f"{PROVIDER_NAME} listed a template without a name (nombre_plantilla).", body=item
            )
        return TemplateInfo(
            name=str(item["nombre_plantilla"]),
            text=str(item.get("plantilla_aprobada") or ""),
            status=str(item.get("status") or ""),
        )

    def check_connection(self, *, waba_id: str = "") -> str:
        """A short sentence proving the credentials work (it reads the balance)."""
        balance = self.balance()
        return f"Connected to {PROVIDER_NAME} as {self.login}; the balance is {balance.amount}."

    # --- plumbing -------------------------------------------------------------

    def _credentials(self) -> dict[str, str]:
        return {"login": self.login, "token": self.token}

    def _post(self, path: str, form: Mapping[str, str]) -> Any:
        """POST ``form`` url-encoded (``requests`` sets the Content-Type for a dict) and read the JSON."""
        return _read_json(self.request("POST", path, form=form))

    def raise_for_status(self, response: requests.Response) -> None:
        """Also read Contacto Virtual codes from 4xx bodies.

        The manual shows every refusal as HTTP 200 with a code; should the
        server pair a code with a 4xx status, the code's precise meaning beats
        the generic HTTP mapping. 5xx and 429 stay with the base class, which
        knows they are retryable.
        """
        status = response.status_code
        if status < 500 and status != 429:
            try:
                body = _read_json(response)
            except ProviderBadResponse:
                body = None
            if isinstance(body, Mapping):
                entry = RETURN_CODES.get(normalise_code(body.get("code")) or 0)
                if entry is not None and entry.error is not None:
                    raise self._error_for(body, status=status)
        super().raise_for_status(response)

    @staticmethod
    def _error_for(body: Mapping[str, Any], *, status: int | None = None, detail: str = "") -> ProviderError:
        """The ProviderError for a refusal body, keeping the provider's own ``status`` words."""
        raw_code = body.get("code")
        code = normalise_code(raw_code)
        words = _text(body.get("status"))
        entry = RETURN_CODES.get(code) if code is not None else None
        if entry is None and code is not None and str(code) in DELIVERY_ERROR_CODES:
            # Seed 002 l.67-78: send/ may answer a 1002-1011 code, stored in "status" ("sending error, return
            # balance"); its meaning, in the person's language, comes first, the provider's code and words after.
            said = f': "{words}"' if words else ""
            message = f"{describe_code(code)} ({PROVIDER_NAME} {code}{said})"
            return ProviderRejected(message, status=status, code=code, body=dict(body))
        if entry is None or entry.error is None:
            shown = code if code is not None else _text(raw_code)
            if words:
                message = f'{PROVIDER_NAME} refused the request (code {shown}): "{words}".'
            else:
                message = f"{PROVIDER_NAME} refused the request with code {shown}, which its manual does not describe."
            return ProviderRejected(message, status=status, code=code if code is not None else shown, body=dict(body))
        message = entry.message
        if detail:
            message = f"{message} {detail}"
        if words and words.lower() not in message.lower():
            message = f'{message} ({PROVIDER_NAME} said: "{words}")'
        return entry.error(message, status=status, code=code, body=dict(body), field=entry.field)
