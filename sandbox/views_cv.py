"""Contacto Virtual's API, simulated: ``send/``, ``balance/``, ``template/`` (seed ``002_…``).

Form-encoded POSTs with ``login`` and ``token``; the answer is always HTTP
200 with a return code, checked in the seed's table order (2 → 8). The seed
shows only the success bodies, so errors are ``{"code": N, "status": "<the
table's English concept>"}``.
"""

from __future__ import annotations

import re

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import services_sends
from .faults import apply_faults
from .models import CVTemplateStatus, SandboxAccount, SandboxCVTemplate

CODES: dict[int, str] = {
    1: "mensaje enviado",
    2: "authentication error",
    3: "user without multiagent/chatbot",
    4: "error in the cell phone number to send",
    5: "no balance or inactive chatbot/multiagent",
    6: "empty message",
    7: "id_template does not correspond to the project",
    8: "the number of variables received does not correspond to the number of variables created in the template",
}
TEMPLATE_CODE_4 = "without templates"
COLOMBIAN_MOBILE = re.compile(r"^57\d{10}$")


def _json(data: object) -> JsonResponse:
    return JsonResponse(data, safe=False, json_dumps_params={"ensure_ascii": False})


def code(number: int, status: str | None = None) -> JsonResponse:
    return _json({"code": number, "status": status or CODES[number]})


def _account(request: HttpRequest) -> SandboxAccount | None:
    login = request.POST.get("login", "").strip()
    token = request.POST.get("token", "").strip()
    if not login or not token:
        return None
    return SandboxAccount.objects.filter(cv_login=login, cv_token=token).first()


@csrf_exempt
@require_POST
def send(request: HttpRequest) -> JsonResponse:
    """``send/``: one template message; costs one unit of balance.

    Codes: 2 bad login/token, 3 no multiagent, 4 mobile not ``57`` + 10
    digits, 5 balance 0 or account inactive, 6 no ``id_template``, 7 template
    not in the project (only approved templates are usable), 8 the number of
    ``[…]`` variables differs from the template's ``{n}`` placeholders.
    """
    account = _account(request)
    if account is None:
        return code(2)
    if fault := apply_faults(account, protocol="contacto_virtual"):
        return fault
    if not account.cv_multiagent:
        return code(3)
    mobile = request.POST.get("mobile", "").strip()
    if not COLOMBIAN_MOBILE.match(mobile):
        return code(4)
    account.refresh_from_db(fields=["cv_balance", "cv_active"])
    if account.cv_balance <= 0 or not account.cv_active:
        return code(5)
    raw_id = request.POST.get("id_template", "").strip()
    if not raw_id:
        return code(6)
    template = None
    if raw_id.isdigit():
        template = SandboxCVTemplate.objects.filter(
            account=account, id_template=int(raw_id), status=CVTemplateStatus.APPROVED
        ).first()
    if template is None:
        return code(7)
    variables = services_sends.cv_variables(request.POST.get("template_variables", ""))
    if len(variables) != services_sends.cv_placeholder_count(template.text):
        return code(8)
    message = services_sends.cv_send_accept(
        account=account,
        template=template,
        mobile=mobile,
        variables=variables,
        media=request.POST.get("media", "").strip(),
        custom_field=request.POST.get("custom_field", ""),
    )
    return _json({"code": 1, "status": CODES[1], "messageId": message.message_id})


@csrf_exempt
@require_POST
def balance(request: HttpRequest) -> JsonResponse:
    """``balance/`` → ``{"balance": "163", "status": "success"}`` (the amount as a string, as the seed)."""
    account = _account(request)
    if account is None:
        return code(2)
    if fault := apply_faults(account, protocol="contacto_virtual"):
        return fault
    if not account.cv_multiagent:
        return code(3)
    return _json({"balance": str(account.cv_balance), "status": "success"})


@csrf_exempt
@require_POST
def templates(request: HttpRequest) -> JsonResponse:
    """``template/`` → the approved templates ``[{nombre_plantilla, plantilla_aprobada, status}]``; code 4 if none."""
    account = _account(request)
    if account is None:
        return code(2)
    if fault := apply_faults(account, protocol="contacto_virtual"):
        return fault
    if not account.cv_multiagent:
        return code(3)
    approved = SandboxCVTemplate.objects.filter(account=account, status=CVTemplateStatus.APPROVED).order_by(
        "id_template"
    )
    if not approved:
        return code(4, TEMPLATE_CODE_4)
    return _json([{"nombre_plantilla": t.name, "plantilla_aprobada": t.text, "status": "success"} for t in approved])
