"""Accepted sends of the sandbox, per provider: record the message, plan its callbacks.

The views call these after checking the wire format and the credentials.
Keyword-only arguments, transactions owned here, no HTTP: the message's
statuses are only *scheduled* (``callbacks.py``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import callbacks, payloads
from .ids import new_inbound_id, new_uuid, new_whatsapp_id
from .models import (
    Direction,
    Provider,
    SandboxAccount,
    SandboxCVTemplate,
    SandboxMessage,
    SandboxPhoneNumber,
    SandboxTemplate,
    TemplateStatus,
)
from .services_templates import sandbox_templates_review_due
from .validation import template_parameter_mismatch


def _template_failure(phone: SandboxPhoneNumber, template_body: dict[str, Any]) -> tuple[int, str] | None:
    """What WhatsApp would fail a template send with, after accepting it (or None when fine)."""
    language = (template_body.get("language") or {}).get("code", "")
    if template_body.get("namespace") != phone.waba.namespace:
        return payloads.TEMPLATE_ERRORS["missing"]
    template = SandboxTemplate.objects.filter(
        waba=phone.waba, name=template_body.get("name"), language=language
    ).first()
    if template is None:
        return payloads.TEMPLATE_ERRORS["missing"]
    if template.status == TemplateStatus.PENDING and template.review_due_at and template.review_due_at <= timezone.now():
        # Its review time has passed and no worker applied the decision yet (the lazy path).
        sandbox_templates_review_due(wabas=[phone.waba])
        template.refresh_from_db()
    if template.status != TemplateStatus.APPROVED:
        return payloads.TEMPLATE_ERRORS[template.status]
    if template_parameter_mismatch(template.components, template_body.get("components") or []):
        return payloads.TEMPLATE_ERRORS["params"]
    return None


@transaction.atomic
def aldeamo_send_accept(
    *,
    account: SandboxAccount,
    phone: SandboxPhoneNumber,
    service: str,
    wire_type: str,
    body: dict[str, Any],
    now: datetime | None = None,
) -> SandboxMessage:
    """Record an accepted Aldeamo send and plan its statuses; the view answers with its id."""
    whatsapp_id = new_whatsapp_id()
    message_id = new_uuid() if wire_type in ("text", "template") else whatsapp_id
    template_body = body.get("template") or {}
    message = SandboxMessage.objects.create(
        account=account,
        provider=Provider.ALDEAMO,
        direction=Direction.OUTBOUND,
        message_id=message_id,
        whatsapp_id=whatsapp_id,
        service=service,
        type=wire_type,
        from_number=phone.number,
        to_number=str(body["to"]).strip(),
        body=body,
        template_name=template_body.get("name", "") if wire_type == "template" else "",
        context_message_id=(body.get("context") or {}).get("message_id", ""),
    )
    failure = _template_failure(phone, template_body) if wire_type == "template" else None
    callbacks.schedule_aldeamo_lifecycle(message=message, failure=failure, now=now)
    return message


CV_MEDIA_EXTENSIONS = ("pdf", "jpg", "jpeg", "png", "mp3", "mp4", "txt", "docx", "xlsx", "pptx", "zip")
_CV_PLACEHOLDER = re.compile(r"\{(\d+)\}")
_CV_VARIABLE = re.compile(r"\[([^\]]*)\]")


def cv_placeholder_count(text: str) -> int:
    """Distinct ``{n}`` variables of a Contacto Virtual template."""
    return len(set(_CV_PLACEHOLDER.findall(text)))


def cv_variables(raw: str) -> list[str]:
    """``[Carlos] [$100] [miércoles]`` → ``["Carlos", "$100", "miércoles"]``."""
    return _CV_VARIABLE.findall(raw or "")


def cv_media_valid(url: str) -> bool:
    path = url.split("?", 1)[0].lower()
    return path.startswith(("http://", "https://")) and path.rsplit(".", 1)[-1] in CV_MEDIA_EXTENSIONS


@transaction.atomic
def cv_send_accept(
    *,
    account: SandboxAccount,
    template: SandboxCVTemplate,
    mobile: str,
    variables: list[str],
    media: str = "",
    custom_field: str = "",
    now: datetime | None = None,
) -> SandboxMessage:
    """Charge one unit, record the send and plan its events.

    An unusable media URL is accepted and then fails with 1010 (the unit is
    refunded), as the seed's "sending error, return balance" codes describe.
    """
    SandboxAccount.objects.filter(pk=account.pk).update(cv_balance=F("cv_balance") - 1)
    text = template.text
    for index, value in enumerate(variables, start=1):
        text = text.replace(f"{{{index}}}", value)
    message = SandboxMessage.objects.create(
        account=account,
        provider=Provider.CONTACTO_VIRTUAL,
        direction=Direction.OUTBOUND,
        message_id=new_uuid(),
        whatsapp_id=new_inbound_id(),
        service="send",
        type="template",
        from_number="",
        to_number=mobile,
        body={"id_template": template.id_template, "variables": variables, "media": media, "text": text},
        template_name=template.name,
        custom_field=custom_field[:1000],
    )
    failure = None
    if media and not cv_media_valid(media):
        failure = ("1010", payloads.CV_FAILURE_CODES["1010"])
    callbacks.schedule_cv_lifecycle(message=message, failure=failure, now=now)
    return message
