"""Writes of the sandbox: provisioning the demo world, templates, accepted sends, analytics history.

The views call these after checking the wire format; the admin calls them
for its actions; ``make demo`` calls :func:`sandbox_provision`. Keyword-only
arguments, transactions owned here, no HTTP: callbacks are only *scheduled*
(see ``callbacks.py``).

Template review rule (documented for demos and tests): a template created
through ``createTemplate`` is ``PENDING`` for the account's
``template_review_seconds``; then it becomes ``REJECTED`` with reason
``INVALID_FORMAT`` if its name contains ``reject``, otherwise ``APPROVED``.
The decision is applied lazily when templates are read and by the
``message_template_status_update`` callback, whichever comes first. An
approved template created with a legacy category (``ACCOUNT_UPDATE``,
``ISSUE_RESOLUTION``, …) is then moved to the matching current one with a
``template_category_update`` event, as WhatsApp did in 2023.
"""

from __future__ import annotations

import math
import random
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone

from . import callbacks, payloads
from .models import (
    CallbackKind,
    CodeVerificationStatus,
    ConversationDirection,
    ConversationType,
    CVTemplateStatus,
    Direction,
    MessageStatus,
    Provider,
    QualityRating,
    SandboxAccount,
    SandboxAnalyticsPoint,
    SandboxCallback,
    SandboxClient,
    SandboxCVTemplate,
    SandboxMessage,
    SandboxPhoneNumber,
    SandboxTemplate,
    SandboxWaba,
    TemplateStatus,
)
from .validation import template_parameter_mismatch

DEMO_ACCOUNT_NAME = "demo"
REJECT_MARKER = "reject"
REJECT_REASON = "INVALID_FORMAT"

# Categories WhatsApp retired in 2023, and what each became.
LEGACY_CATEGORIES: dict[str, str] = {
    "ACCOUNT_UPDATE": "UTILITY",
    "ALERT_UPDATE": "UTILITY",
    "APPOINTMENT_UPDATE": "UTILITY",
    "AUTO_REPLY": "UTILITY",
    "ISSUE_RESOLUTION": "UTILITY",
    "PAYMENT_UPDATE": "UTILITY",
    "PERSONAL_FINANCE_UPDATE": "UTILITY",
    "RESERVATION_UPDATE": "UTILITY",
    "SHIPPING_UPDATE": "UTILITY",
    "TICKET_UPDATE": "UTILITY",
    "TRANSPORTATION_UPDATE": "UTILITY",
    "TRANSACTIONAL": "UTILITY",
    "OTP": "AUTHENTICATION",
}
CURRENT_CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")


@dataclass(frozen=True)
class SandboxCredentials:
    """What the portal needs to talk to the sandbox as if it were the two BSPs."""

    aldeamo_api_key: str
    aldeamo_user_id: str
    aldeamo_token: str
    cv_login: str
    cv_token: str


def credentials_of(account: SandboxAccount) -> SandboxCredentials:
    return SandboxCredentials(
        aldeamo_api_key=account.aldeamo_api_key,
        aldeamo_user_id=account.aldeamo_user_id,
        aldeamo_token=account.aldeamo_token,
        cv_login=account.cv_login,
        cv_token=account.cv_token,
    )


def new_template_id() -> str:
    """A numeric template id like the seed's ``736609717637531``."""
    return str(secrets.randbelow(9 * 10**14) + 10**15)


# --- the demo world ----------------------------------------------------------------

_WORLD: list[dict[str, Any]] = [
    {
        "client_id": 942,
        "name": "Comercial Andina S.A.S.",
        "wabas": [
            {
                "waba_id": "236928178367012",
                "namespace": "f29c496f_9a16_408b_bff7_379e57d1c8d5",
                "name": "Comercial Andina",
                "phones": [
                    ("107655329012345", "+57 324 555 0101", "Comercial Andina", "VERIFIED", "GREEN"),
                    ("107655329012346", "+57 324 555 0102", "Comercial Andina", "VERIFIED", "YELLOW"),
                ],
            },
            {
                "waba_id": "246351444217940",
                "namespace": "a7c3e2d1_4b5f_4c8e_9d2a_1f6b8e3c7a90",
                "name": "Andina Cobranzas",
                "phones": [
                    ("108812340056781", "+57 318 555 0103", "Andina Cobranzas", "VERIFIED", "RED"),
                    ("108812340056782", "+57 319 555 0104", "Andina Cobranzas", "NOT_VERIFIED", "UNKNOWN"),
                ],
            },
        ],
    },
    {
        "client_id": 2437,
        "name": "Salud Integral IPS",
        "wabas": [
            {
                "waba_id": "3453453453535355",
                "namespace": "5d0e9b7c_2a61_4f3e_8b9d_c4e2a1f07b36",
                "name": "Salud Integral",
                "phones": [
                    ("109934567001234", "+57 310 555 0105", "Salud Integral IPS", "VERIFIED", "GREEN"),
                ],
            },
        ],
    },
]


def _body(text: str, *examples: str) -> dict[str, Any]:
    component: dict[str, Any] = {"type": "BODY", "text": text}
    if examples:
        component["example"] = {"body_text": [list(examples)]}
    return component


def _demo_templates() -> dict[str, list[dict[str, Any]]]:
    """~10 templates over every status and component kind, by WABA id."""
    return {
        "236928178367012": [
            {
                # The seed's getTemplates example, verbatim.
                "template_id": "736609717637531",
                "name": "actualiza_botones",
                "language": "es",
                "category": "ACCOUNT_UPDATE",
                "status": "APPROVED",
                "components": [
                    _body("Buen dia {{1}}, este es un mensaje de Aldeamo con botones de acción.", "José"),
                    {
                        "type": "BUTTONS",
                        "buttons": [
                            {"type": "PHONE_NUMBER", "text": "Llamar a Lacayo", "phone_number": "+50499319999"},
                            {"type": "URL", "text": "Visitar Aldeamo", "url": "https://www.aldeamo.com/"},
                        ],
                    },
                ],
            },
            {
                # The seed's quick-reply send example uses this name and three payloads.
                "template_id": "736609717637532",
                "name": "aldeamo_botones_autorespuesta",
                "language": "es",
                "category": "MARKETING",
                "status": "APPROVED",
                "components": [
                    {"type": "HEADER", "format": "TEXT", "text": "Confirmación de asistencia"},
                    _body("{{1}}, ¿confirmas tu asistencia al evento de este sábado?", "William"),
                    {"type": "FOOTER", "text": "Responde con un botón"},
                    {
                        "type": "BUTTONS",
                        "buttons": [
                            {"type": "QUICK_REPLY", "text": "Opción # 1"},
                            {"type": "QUICK_REPLY", "text": "Opción # 2"},
                            {"type": "QUICK_REPLY", "text": "Opción # 3"},
                        ],
                    },
                ],
            },
            {
                # The seed's call-to-action send example (dynamic URL button).
                "template_id": "736609717637533",
                "name": "botones_accion_urldinamica",
                "language": "es",
                "category": "UTILITY",
                "status": "APPROVED",
                "components": [
                    _body("Hola {{1}}, consulta el estado de tu pedido en el enlace.", "William"),
                    {
                        "type": "BUTTONS",
                        "buttons": [
                            {
                                "type": "URL",
                                "text": "Ver pedido",
                                "url": "https://tienda.example.com/pedido/{{1}}",
                                "example": ["https://tienda.example.com/pedido/sms"],
                            }
                        ],
                    },
                ],
            },
            {
                "template_id": "736609717637534",
                "name": "factura_pdf",
                "language": "es",
                "category": "UTILITY",
                "status": "APPROVED",
                "components": [
                    {
                        "type": "HEADER",
                        "format": "DOCUMENT",
                        "example": {"header_handle": ["https://www.example.com/facturas/muestra.pdf"]},
                    },
                    _body("Hola {{1}}, adjuntamos tu factura {{2}} por {{3}}.", "Carlos", "FE-1029", "$150.000"),
                    {"type": "FOOTER", "text": "Comercial Andina S.A.S."},
                ],
            },
            {
                "template_id": "736609717637535",
                "name": "promo_imagen",
                "language": "es",
                "category": "MARKETING",
                "status": "PENDING",
                "components": [
                    {
                        "type": "HEADER",
                        "format": "IMAGE",
                        "example": {"header_handle": ["https://www.example.com/promos/temporada.jpg"]},
                    },
                    _body("¡{{1}}, llegó la temporada de descuentos! Hasta {{2}} en toda la tienda.", "Ana", "40%"),
                    {"type": "FOOTER", "text": "Aplican términos y condiciones"},
                    {
                        "type": "BUTTONS",
                        "buttons": [
                            {"type": "URL", "text": "Ver ofertas", "url": "https://tienda.example.com/ofertas"}
                        ],
                    },
                ],
            },
            {
                "template_id": "736609717637536",
                "name": "oferta_relampago",
                "language": "es",
                "category": "UTILITY",
                "status": "REJECTED",
                "rejected_reason": "TAG_CONTENT_MISMATCH",
                "components": [_body("Solo hoy: {{1}} con {{2}} de descuento.", "Televisor", "50%")],
            },
            {
                "template_id": "736609717637537",
                "name": "order_update",
                "language": "en_US",
                "category": "UTILITY",
                "status": "APPROVED",
                "components": [
                    _body("Hi {{1}}, your order {{2}} has shipped.", "Anna", "#1042"),
                    {"type": "FOOTER", "text": "Comercial Andina"},
                ],
            },
        ],
        "246351444217940": [
            {
                "template_id": "736609717637538",
                "name": "recordatorio_pago",
                "language": "es",
                "category": "UTILITY",
                "status": "PAUSED",
                "components": [
                    _body("{{1}}, tu cuota de {{2}} vence el {{3}}.", "Pedro", "$89.000", "15 de marzo"),
                    {
                        "type": "BUTTONS",
                        "buttons": [{"type": "PHONE_NUMBER", "text": "Llamar", "phone_number": "+576015550100"}],
                    },
                ],
            },
            {
                "template_id": "736609717637539",
                "name": "encuesta_antigua",
                "language": "es",
                "category": "MARKETING",
                "status": "DISABLED",
                "components": [_body("¿Cómo calificarías nuestro servicio, {{1}}?", "Luis")],
            },
        ],
        "3453453453535355": [
            {
                "template_id": "736609717637540",
                "name": "cita_confirmacion",
                "language": "es",
                "category": "UTILITY",
                "status": "APPROVED",
                "components": [
                    {
                        "type": "HEADER",
                        "format": "TEXT",
                        "text": "Cita para {{1}}",
                        "example": {"header_text": ["Marta"]},
                    },
                    _body(
                        "Hola {{1}}, tu cita con {{2}} es el {{3}}. ¿Asistirás?",
                        "Marta",
                        "Dr. Pérez",
                        "lunes 10:00",
                    ),
                    {
                        "type": "BUTTONS",
                        "buttons": [
                            {"type": "QUICK_REPLY", "text": "Sí, asistiré"},
                            {"type": "QUICK_REPLY", "text": "Reprogramar"},
                        ],
                    },
                ],
            },
        ],
    }


# The seed's send example (id_template 990 with five variables) must succeed as shown.
_CV_TEMPLATES = [
    (
        990,
        "Recordatorio de pago",
        "Hola {1}, tienes un pago de {2} que vence el {3}. Puedes pagar en {4} o en {5}.",
        CVTemplateStatus.APPROVED,
    ),
    (
        991,
        "Asignación de cita",
        "¡Hola *{1}*! A continuación, le presentamos información de su cita *asignada* en modalidad *presencial* "
        "con el profesional *{2}*\n\nFecha y hora: *{3}*",
        CVTemplateStatus.APPROVED,
    ),
    (
        992,
        "Modificación de cita",
        "Hola *{1}*! A continuación, le presentamos información de su cita *modificada* en modalidad *presencial* "
        "con el profesional *{2}*\n\nFecha y hora: *{3}*",
        CVTemplateStatus.PENDING,
    ),
]


@transaction.atomic
def _world(account: SandboxAccount) -> list[SandboxWaba]:
    """Create whatever part of the demo world is missing; never duplicate or overwrite.

    Existing rows are looked up in bulk and only the missing ones are
    inserted, so a fresh world costs a dozen queries (tests build it often).
    """
    wabas: list[SandboxWaba] = []
    phones: list[SandboxPhoneNumber] = []
    for client_data in _WORLD:
        client, _ = SandboxClient.objects.get_or_create(
            account=account, client_id=client_data["client_id"], defaults={"name": client_data["name"]}
        )
        for waba_data in client_data["wabas"]:
            waba, _ = SandboxWaba.objects.get_or_create(
                waba_id=waba_data["waba_id"],
                defaults={"client": client, "namespace": waba_data["namespace"], "name": waba_data["name"]},
            )
            wabas.append(waba)
            for phone_id, display, verified_name, verification, quality in waba_data["phones"]:
                phones.append(
                    SandboxPhoneNumber(
                        waba=waba,
                        phone_number_id=phone_id,
                        number="".join(ch for ch in display if ch.isdigit()),
                        display_phone_number=display,
                        verified_name=verified_name,
                        code_verification_status=CodeVerificationStatus(verification),
                        quality_rating=QualityRating(quality),
                    )
                )
    existing_phones = set(
        SandboxPhoneNumber.objects.filter(phone_number_id__in=[p.phone_number_id for p in phones]).values_list(
            "phone_number_id", flat=True
        )
    )
    SandboxPhoneNumber.objects.bulk_create([p for p in phones if p.phone_number_id not in existing_phones])

    templates = _demo_templates()
    existing_templates = set(
        SandboxTemplate.objects.filter(waba__in=wabas).values_list("waba__waba_id", "name", "language")
    )
    SandboxTemplate.objects.bulk_create(
        [
            SandboxTemplate(
                waba=waba,
                template_id=data["template_id"],
                name=data["name"],
                language=data["language"],
                category=data["category"],
                status=data["status"],
                components=data["components"],
                rejected_reason=data.get("rejected_reason", ""),
            )
            for waba in wabas
            for data in templates.get(waba.waba_id, [])
            if (waba.waba_id, data["name"], data["language"]) not in existing_templates
        ]
    )
    existing_cv = set(SandboxCVTemplate.objects.filter(account=account).values_list("id_template", flat=True))
    SandboxCVTemplate.objects.bulk_create(
        [
            SandboxCVTemplate(account=account, id_template=id_template, name=name, text=text, status=status)
            for id_template, name, text, status in _CV_TEMPLATES
            if id_template not in existing_cv
        ]
    )
    return wabas


def sandbox_provision(
    *, webhook_url: str = "", cv_webhook_url: str = "", seed_history_days: int = 120, now: datetime | None = None
) -> SandboxCredentials:
    """Create (or complete) the demo world and return its credentials.

    Idempotent: the second call finds the ``demo`` account and returns the
    same credentials; missing pieces are added, nothing is duplicated, and
    existing state (balances, template decisions) is left alone. Non-empty
    webhook URLs replace the stored ones. Analytics history is topped up to
    ``seed_history_days`` back from now, so a demo restarted days later has
    no gap.
    """
    with transaction.atomic():
        account = SandboxAccount.objects.filter(name=DEMO_ACCOUNT_NAME).first()
        if account is None:
            account = SandboxAccount.objects.create(
                name=DEMO_ACCOUNT_NAME,
                aldeamo_api_key=secrets.token_urlsafe(24),
                aldeamo_user_id="3777",
                aldeamo_token=str(uuid.uuid4()),
                cv_login="demo@sandbox.waportal.local",
                cv_token=secrets.token_hex(20),
                cv_balance=163,
                reply_share=0.3,
            )
        changed = []
        if webhook_url and account.webhook_url != webhook_url:
            account.webhook_url = webhook_url
            changed.append("webhook_url")
        if cv_webhook_url and account.cv_webhook_url != cv_webhook_url:
            account.cv_webhook_url = cv_webhook_url
            changed.append("cv_webhook_url")
        if changed:
            account.save(update_fields=[*changed, "updated_at"])
    wabas = _world(account)
    for waba in wabas:
        sandbox_analytics_generate(waba=waba, days=seed_history_days, now=now)
    return credentials_of(account)


def sandbox_demo_account() -> SandboxAccount | None:
    """The account :func:`sandbox_provision` made, if any."""
    return SandboxAccount.objects.filter(name=DEMO_ACCOUNT_NAME).first()


def sandbox_account_update_webhook(
    *, webhook_url: str | None = None, cv_webhook_url: str | None = None, account: SandboxAccount | None = None
) -> SandboxAccount:
    """Point the account's callbacks at the portal (``None`` leaves a URL as it is, ``""`` clears it).

    The portal only knows its webhook URLs (they embed a per-account secret)
    after its provider accounts exist, hence a separate step from provisioning.
    """
    account = account or sandbox_demo_account()
    if account is None:
        raise SandboxAccount.DoesNotExist("No sandbox account: run sandbox_provision() first.")
    fields = []
    if webhook_url is not None:
        account.webhook_url = webhook_url
        fields.append("webhook_url")
    if cv_webhook_url is not None:
        account.cv_webhook_url = cv_webhook_url
        fields.append("cv_webhook_url")
    if fields:
        account.save(update_fields=[*fields, "updated_at"])
    return account


# --- templates ------------------------------------------------------------------------


def template_review_decision(*, name: str) -> tuple[str, str]:
    """The automatic review's (status, reason) for a template named ``name`` (see the module doc)."""
    if REJECT_MARKER in name.lower():
        return TemplateStatus.REJECTED, REJECT_REASON
    return TemplateStatus.APPROVED, ""


def _recategorized(category: str) -> str | None:
    return LEGACY_CATEGORIES.get(category.upper())


@transaction.atomic
def sandbox_template_create(
    *,
    waba: SandboxWaba,
    name: str,
    language: str,
    category: str,
    components: list[dict[str, Any]],
    now: datetime | None = None,
) -> SandboxTemplate:
    """Store a PENDING template and schedule its automatic review (status and maybe category events)."""
    now = now or timezone.now()
    account = waba.client.account
    due = now + timedelta(seconds=max(0.0, account.template_review_seconds))
    template = SandboxTemplate.objects.create(
        waba=waba,
        template_id=new_template_id(),
        name=name,
        language=language,
        category=category.upper(),
        components=components,
        status=TemplateStatus.PENDING,
        review_due_at=due,
    )
    status, reason = template_review_decision(name=name)
    callbacks.schedule_template_status(template=template, status=status, reason=reason or None, due_at=due)
    new_category = _recategorized(template.category)
    if status == TemplateStatus.APPROVED and new_category:
        callbacks.schedule_template_category(
            template=template,
            previous_category=template.category,
            new_category=new_category,
            due_at=due + timedelta(seconds=1),
        )
    return template


def sandbox_templates_review_due(*, wabas: Any = None, now: datetime | None = None) -> int:
    """Apply the automatic decision to PENDING templates whose review time has passed (lazy path).

    Called before templates are listed or used, so a reader never sees a
    template still pending after its review time even if no worker delivered
    the event yet. Returns how many templates were decided.
    """
    now = now or timezone.now()
    due = SandboxTemplate.objects.filter(status=TemplateStatus.PENDING, review_due_at__lte=now)
    if wabas is not None:
        due = due.filter(waba__in=wabas)
    decided = 0
    for template in due:
        status, reason = template_review_decision(name=template.name)
        fields = {"status": status, "rejected_reason": reason, "updated_at": now}
        new_category = _recategorized(template.category)
        if status == TemplateStatus.APPROVED and new_category:
            fields["category"] = new_category
        decided += SandboxTemplate.objects.filter(pk=template.pk, status=TemplateStatus.PENDING).update(**fields)
    return decided


@transaction.atomic
def sandbox_template_set_status(
    *, template: SandboxTemplate, status: str, reason: str = "", now: datetime | None = None
) -> SandboxTemplate:
    """A person's decision (admin): set the status now and post the matching status event.

    Any automatic review still pending for the template is cancelled, so the
    portal hears exactly one decision.
    """
    if status not in TemplateStatus.values:
        raise ValueError(f"Unknown template status {status!r}.")
    now = now or timezone.now()
    callbacks.cancel_template_events(template)
    template.status = status
    template.rejected_reason = reason if status == TemplateStatus.REJECTED else ""
    template.review_due_at = None
    template.save(update_fields=["status", "rejected_reason", "review_due_at", "updated_at"])
    callbacks.schedule_template_status(template=template, status=status, reason=reason or None, due_at=now, apply=False)
    return template


def sandbox_template_recategorize(
    *, template: SandboxTemplate, new_category: str, now: datetime | None = None
) -> SandboxCallback:
    """Move a template to another category, the way WhatsApp does: through a category-update event."""
    now = now or timezone.now()
    return callbacks.schedule_template_category(
        template=template, previous_category=template.category, new_category=new_category.upper(), due_at=now
    )


@transaction.atomic
def sandbox_template_delete(*, waba: SandboxWaba, name: str) -> int:
    """Delete every language of the named template; returns how many were deleted."""
    deleted, _ = SandboxTemplate.objects.filter(waba=waba, name=name).delete()
    return deleted


def sandbox_template_performance(*, account: SandboxAccount, now: datetime | None = None) -> SandboxCallback | None:
    """Post ``template_performance_metrics`` for the account's templates, from the last 7 days of sends."""
    now = now or timezone.now()
    since = now - timedelta(days=7)
    templates = list(SandboxTemplate.objects.filter(waba__client__account=account).exclude(status="PENDING"))
    if not templates:
        return None
    counts = {
        row["template_name"]: row
        for row in SandboxMessage.objects.filter(
            account=account, provider=Provider.ALDEAMO, type="template", created_at__gte=since
        )
        .values("template_name")
        .annotate(sent=Count("id"), opened=Count("id", filter=Q(status=MessageStatus.READ)))
    }
    entries = []
    for template in templates:
        row = counts.get(template.name, {})
        block = {"PAUSED": "SPAM", "DISABLED": "NO_LONGER_NEEDED"}.get(template.status)
        entries.append(
            payloads.template_performance_entry(
                template_id=template.template_id,
                name=template.name,
                language=template.language,
                messages_sent_7d=row.get("sent", 0),
                messages_opened_7d=row.get("opened", 0),
                top_block_reason=block,
            )
        )
    return callbacks.schedule(
        account=account,
        provider=Provider.ALDEAMO,
        kind=CallbackKind.TEMPLATE_PERFORMANCE,
        payload=payloads.template_performance_metrics(entries),
        due_at=now,
    )


# --- sends ----------------------------------------------------------------------------


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
    whatsapp_id = callbacks.new_whatsapp_id()
    message_id = callbacks.new_uuid() if wire_type in ("text", "template") else whatsapp_id
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
        message_id=callbacks.new_uuid(),
        whatsapp_id=callbacks.new_inbound_id(),
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


# --- analytics history ---------------------------------------------------------------

HALF_HOUR = timedelta(minutes=30)
_COUNTRIES = (("CO", 72), ("PE", 8), ("EC", 6), ("VE", 5), ("MX", 5), ("GT", 4))
_DIRECTIONS = (
    (ConversationDirection.BUSINESS_INITIATED.value, 55),
    (ConversationDirection.USER_INITIATED.value, 42),
    (ConversationDirection.UNKNOWN.value, 3),
)
_TYPES = (
    (ConversationType.REGULAR.value, 80),
    (ConversationType.FREE_TIER.value, 12),
    (ConversationType.FREE_ENTRY_POINT.value, 6),
    (ConversationType.UNKNOWN.value, 2),
)
# Activity by local (Bogotá, UTC-5) hour: quiet nights, morning and afternoon peaks.
_HOURLY = (
    0.04,
    0.03,
    0.02,
    0.02,
    0.03,
    0.06,
    0.15,
    0.35,
    0.65,
    0.9,
    1.0,
    1.0,
    0.8,
    0.7,
    0.85,
    0.95,
    0.9,
    0.75,
    0.6,
    0.5,
    0.4,
    0.3,
    0.15,
    0.08,
)
_WEEKDAY = (1.0, 1.0, 1.0, 1.0, 0.95, 0.45, 0.3)
_PEAK_PER_SLOT = 4.0


def _poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method; fine for the small rates of one phone's half hour."""
    limit = math.exp(-lam)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _slot_points(
    *, waba: SandboxWaba, phone: str, start: datetime, scale: float, history_start: datetime, total: timedelta
) -> list[SandboxAnalyticsPoint]:
    """The points of one phone's half hour: deterministic for (phone, slot), so top-ups never differ."""
    rng = random.Random(f"{phone}:{int(start.timestamp())}")
    local = start - timedelta(hours=5)
    growth = 0.8 + 0.4 * ((start - history_start) / total if total else 1.0)
    lam = _PEAK_PER_SLOT * scale * _HOURLY[local.hour] * _WEEKDAY[local.weekday()] * growth
    count = _poisson(rng, lam)
    if not count:
        return []
    countries = rng.choices([c for c, _ in _COUNTRIES], [w for _, w in _COUNTRIES], k=count)
    directions = rng.choices([d for d, _ in _DIRECTIONS], [w for _, w in _DIRECTIONS], k=count)
    types = rng.choices([t for t, _ in _TYPES], [w for _, w in _TYPES], k=count)
    grouped: dict[tuple[str, str, str], int] = {}
    for key in zip(countries, types, directions, strict=True):
        grouped[key] = grouped.get(key, 0) + 1
    return [
        SandboxAnalyticsPoint(
            waba=waba,
            phone_number=phone,
            start=start,
            country=country,
            conversation_type=ctype,
            conversation_direction=direction,
            conversations=n,
        )
        for (country, ctype, direction), n in grouped.items()
    ]


def sandbox_analytics_generate(*, waba: SandboxWaba, days: int, now: datetime | None = None) -> int:
    """Fill ``days`` of half-hour history for each of the WABA's numbers; return how many points were added.

    Only slots outside the range already stored are generated, and each slot
    is drawn from its own seed, so calling this again (even days later, or
    with more days) extends the history without duplicating or changing it.
    """
    now = now or timezone.now()
    end = now.astimezone(UTC).replace(minute=0 if now.minute < 30 else 30, second=0, microsecond=0)
    history_start = (end - timedelta(days=max(0, days))).replace(minute=0)
    total = end - history_start
    phones = list(waba.phone_numbers.order_by("number").values_list("number", flat=True))
    created = 0
    for index, phone in enumerate(phones):
        scale = 1.2 - 0.25 * index
        bounds = SandboxAnalyticsPoint.objects.filter(waba=waba, phone_number=phone).aggregate(
            first=Min("start"), last=Max("start")
        )
        ranges = []
        if bounds["first"] is None:
            ranges.append((history_start, end))
        else:
            ranges.append((history_start, bounds["first"]))
            ranges.append((bounds["last"] + HALF_HOUR, end))
        batch: list[SandboxAnalyticsPoint] = []
        for range_start, range_end in ranges:
            slot = range_start
            while slot < range_end:
                batch += _slot_points(
                    waba=waba, phone=phone, start=slot, scale=max(0.3, scale), history_start=history_start, total=total
                )
                slot += HALF_HOUR
        SandboxAnalyticsPoint.objects.bulk_create(batch, batch_size=2000)
        created += len(batch)
    return created
