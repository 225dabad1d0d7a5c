"""Aldeamo's API, simulated: sends, templates, ISV analytics and inventory.

Paths, methods, headers, bodies and answers are the seed's (``000_…``).
Checks run in the real API's order: authentication (401), then the injected
faults of the identified account, then the body (400). Bodies of errors are
exactly the seed's; the reason for a 400 travels in an ``X-Sandbox-Reason``
header only, so the wire format stays faithful while a developer can still
see what was wrong.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, tzinfo
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import selectors, services_sends, services_templates
from .faults import apply_faults
from .models import SandboxAccount, SandboxClient, SandboxPhoneNumber, SandboxTemplate, SandboxWaba
from .validation import SERVICE_TYPES, UUID_ANSWER_TYPES, BadRequest, digits_of, validate_send, validate_template_create

logger = logging.getLogger("sandbox")

DEFAULT_TEMPLATE_LIMIT = 100


def _json(data: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": False})


def authentication_error() -> JsonResponse:
    return _json({"errors": ["Authentication Error"]}, status=401)


def bad_request(reason: str) -> JsonResponse:
    logger.info("sandbox aldeamo: 400 Bad Request (%s)", reason)
    response = _json({"errors": ["Bad Request"]}, status=400)
    response["X-Sandbox-Reason"] = reason[:200].encode("ascii", "replace").decode()
    return response


def not_found() -> JsonResponse:
    return _json({"errors": ["Not Found"]}, status=404)


def _apikey_account(request: HttpRequest) -> SandboxAccount | None:
    """The account of the ``ApiKey`` and ``UserId`` headers (both must match)."""
    api_key = request.headers.get("ApiKey", "").strip()
    user_id = request.headers.get("UserId", "").strip()
    if not api_key or not user_id:
        return None
    return SandboxAccount.objects.filter(aldeamo_api_key=api_key, aldeamo_user_id=user_id).first()


def _token_account(request: HttpRequest) -> tuple[SandboxAccount | None, str]:
    """The account of the ISV ``token`` header (any case: the seed writes ``Token`` and ``token``)."""
    token = request.headers.get("Token", "").strip()
    if not token:
        return None, token
    return SandboxAccount.objects.filter(aldeamo_token=token).first(), token


def _body(request: HttpRequest) -> Any:
    """The JSON body, or raise BadRequest."""
    try:
        return json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("body is not JSON")


def _account_waba(account: SandboxAccount, waba_id: Any) -> SandboxWaba | None:
    if not isinstance(waba_id, str | int) or not str(waba_id).strip():
        return None
    return SandboxWaba.objects.filter(waba_id=str(waba_id).strip(), client__account=account).first()


# --- sending -----------------------------------------------------------------------------


@csrf_exempt
@require_POST
def send(request: HttpRequest, service: str) -> JsonResponse:
    """``POST v1/apikey/{service}/bsp/send``: every message type, two answer shapes.

    text and template answer ``{"messageId": uuid}``; the other services
    ``{"messages": [{"id": wa id}]}``, as the seed shows for each.
    """
    if service not in SERVICE_TYPES:
        return not_found()
    account = _apikey_account(request)
    if account is None:
        return authentication_error()
    if fault := apply_faults(account, protocol="aldeamo"):
        return fault
    try:
        body = _body(request)
        wire_type = validate_send(service, body)
    except BadRequest as exc:
        return bad_request(str(exc))
    phone = (
        SandboxPhoneNumber.objects.select_related("waba")
        .filter(number=digits_of(body["from"]), waba__client__account=account)
        .first()
    )
    if phone is None:
        return bad_request("from is not one of the account's numbers")
    message = services_sends.aldeamo_send_accept(
        account=account, phone=phone, service=service, wire_type=wire_type, body=body
    )
    if wire_type in UUID_ANSWER_TYPES:
        return _json({"messageId": message.message_id})
    return _json({"messages": [{"id": message.message_id}]})


# --- templates ---------------------------------------------------------------------------


@csrf_exempt
@require_GET
def get_templates(request: HttpRequest) -> JsonResponse:
    """``GET v1/apikey/template/getTemplates?limit=N&wabaid=W`` (seed 000 l.2353/2359; no singular path)."""
    account = _apikey_account(request)
    if account is None:
        return authentication_error()
    if fault := apply_faults(account, protocol="aldeamo"):
        return fault
    waba = _account_waba(account, request.GET.get("wabaid", ""))
    if waba is None:
        return bad_request("wabaid missing or not the account's")
    raw_limit = request.GET.get("limit", "").strip()
    if raw_limit and not raw_limit.isdigit():
        return bad_request("limit is not a number")
    limit = int(raw_limit) if raw_limit else DEFAULT_TEMPLATE_LIMIT
    services_templates.sandbox_templates_review_due(wabas=[waba])
    return _json(selectors.template_list_wire(waba=waba, limit=limit))


@csrf_exempt
@require_POST
def create_template(request: HttpRequest) -> JsonResponse:
    """``POST v1/apikey/template/createTemplate`` → ``{"id": "<template id>"}``, the template PENDING."""
    account = _apikey_account(request)
    if account is None:
        return authentication_error()
    if fault := apply_faults(account, protocol="aldeamo"):
        return fault
    try:
        body = _body(request)
        validate_template_create(body)
    except BadRequest as exc:
        return bad_request(str(exc))
    waba = _account_waba(account, body["wabaId"])
    if waba is None:
        return bad_request("wabaId is not the account's")
    if SandboxTemplate.objects.filter(waba=waba, name=body["name"], language=body["language"]).exists():
        return bad_request("a template with this name and language exists")
    template = services_templates.sandbox_template_create(
        waba=waba,
        name=body["name"],
        language=body["language"],
        category=body["category"],
        components=body["components"],
    )
    return _json({"id": template.template_id})


@csrf_exempt
@require_http_methods(["DELETE"])
def delete_template(request: HttpRequest) -> JsonResponse:
    """``DELETE v1/apikey/template/deleteTemplate?nameTemplate=NAME&wabaid=W`` → ``{"success": true}``."""
    account = _apikey_account(request)
    if account is None:
        return authentication_error()
    if fault := apply_faults(account, protocol="aldeamo"):
        return fault
    waba = _account_waba(account, request.GET.get("wabaid", ""))
    name = request.GET.get("nameTemplate", "").strip()
    if waba is None or not name:
        return bad_request("wabaid or nameTemplate missing")
    if not services_templates.sandbox_template_delete(waba=waba, name=name):
        return bad_request("no template with this name")
    return _json({"success": True})


# --- ISV analytics and inventory -----------------------------------------------------------


def token_invalid(token: str) -> JsonResponse:
    return _json({"errors": [f"Token {token} is not valid "]}, status=401)


def _parse_date(value: Any, tz: tzinfo) -> datetime:
    """``yyyy-mm-dd hh:mm:ss`` on the analytics wall clock; BadRequest carrying the seed's message otherwise."""
    try:
        return datetime.strptime(str(value), selectors.DATE_FORMAT).replace(tzinfo=tz)
    except ValueError:
        raise BadRequest(f"Unparseable date: {value}")


def _str_list(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise BadRequest(f"{name} is not a list")
    return [str(v).strip() for v in value]


@csrf_exempt
@require_POST
def get_analytics(request: HttpRequest) -> JsonResponse:
    """``POST v1/analytics/getAnalytics``: conversation counts by period and dimensions.

    Answers: 200 with data points; 400 ``Unparseable date: …``; 401
    ``WabaId … does not belong to the client …``; and 200
    ``{"errors": ["Data not found for search criteria"]}`` when nothing matches.
    """
    account, token = _token_account(request)
    if account is None:
        return token_invalid(token)
    if fault := apply_faults(account, protocol="aldeamo"):
        return fault
    try:
        body = _body(request)
        if not isinstance(body, dict):
            raise BadRequest("body is not an object")
        waba_id, client_id = body.get("wabaId"), body.get("clientId")
        query = body.get("conversationAnalytics")
        if waba_id in (None, "") or client_id in (None, "") or not isinstance(query, dict):
            raise BadRequest("wabaId, clientId or conversationAnalytics missing")
        tz = selectors.analytics_time_zone()
        start = _parse_date(query.get("conversationStart"), tz)
        end = _parse_date(query.get("conversationEnd"), tz)
        granularity = str(query.get("granularity", "")).upper()
        if granularity not in selectors.GRANULARITIES:
            raise BadRequest("granularity invalid")
        dimensions = _str_list(query.get("dimensions"), "dimensions")
        if "dimensions" not in query or any(d.lower() not in selectors.DIMENSIONS for d in dimensions):
            raise BadRequest("dimensions missing or unknown")
        filters = query.get("filters") or {}
        if not isinstance(filters, dict):
            raise BadRequest("filters is not an object")
        phone_numbers = _str_list(query.get("phoneNumbers"), "phoneNumbers")
        country_codes = _str_list(filters.get("countryCodes"), "countryCodes")
        conversation_types = _str_list(filters.get("conversationTypes"), "conversationTypes")
        conversation_directions = _str_list(filters.get("conversationDirections"), "conversationDirections")
    except BadRequest as exc:
        if str(exc).startswith("Unparseable date"):
            return _json({"errors": [str(exc)]}, status=400)
        return bad_request(str(exc))

    waba = SandboxWaba.objects.filter(
        waba_id=str(waba_id).strip(), client__client_id=_int_or_none(client_id), client__account=account
    ).first()
    if waba is None:
        return _json({"errors": [f"WabaId {waba_id} does not belong to the client {client_id} "]}, status=401)
    points = selectors.analytics_points(
        waba=waba,
        start=start,
        end=end,
        granularity=granularity,
        dimensions=dimensions,
        phone_numbers=phone_numbers,
        country_codes=country_codes,
        conversation_types=conversation_types,
        conversation_directions=conversation_directions,
        tz=tz,
    )
    if not points:
        return _json({"errors": ["Data not found for search criteria"]})
    return _json({"id": waba.waba_id, "conversation_analytics": {"data": [{"data_points": points}]}})


def _int_or_none(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None


@csrf_exempt
@require_POST
def get_waba_ids_by_token(request: HttpRequest) -> JsonResponse:
    """``POST v1/analytics/getWabaIdsByToken`` → ``[{"wabaIds": [...], "clientId": 942}, …]``."""
    account, token = _token_account(request)
    if account is None:
        return token_invalid(token)
    if fault := apply_faults(account, protocol="aldeamo"):
        return fault
    clients = SandboxClient.objects.filter(account=account).prefetch_related("wabas").order_by("client_id")
    return _json(
        [
            {"wabaIds": [w.waba_id for w in client.wabas.order_by("id")], "clientId": client.client_id}
            for client in clients
        ]
    )


@csrf_exempt
@require_POST
def get_phone_numbers(request: HttpRequest) -> JsonResponse:
    """``POST v1/analytics/getPhoneNumbers`` with headers Token, ClientId, WabaId → ``{"data": [...]}``.

    A bad token and a WABA that is not the client's get the same 400, as in the seed.
    """
    account, token = _token_account(request)
    client_id = request.headers.get("ClientId", "").strip()
    waba_id = request.headers.get("WabaId", "").strip()
    waba = None
    if account is not None:
        if fault := apply_faults(account, protocol="aldeamo"):
            return fault
        waba = SandboxWaba.objects.filter(
            waba_id=waba_id, client__client_id=_int_or_none(client_id), client__account=account
        ).first()
    if waba is None:
        return _json(
            {
                "errors": [
                    f"WabaId {waba_id} does not belong to the client {client_id} or the token is not valid {token}"
                ]
            },
            status=400,
        )
    return _json(
        {
            "data": [
                {
                    "verified_name": phone.verified_name,
                    "code_verification_status": phone.code_verification_status,
                    "display_phone_number": phone.display_phone_number,
                    "quality_rating": phone.quality_rating,
                    "id": phone.phone_number_id,
                }
                for phone in waba.phone_numbers.order_by("number")
            ]
        }
    )
