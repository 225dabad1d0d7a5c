"""The demo world the sandbox is provisioned with: clients, WABAs, numbers and templates of both providers.

Data only; :func:`sandbox.services.sandbox_provision` stores what is missing.
"""

from __future__ import annotations

from typing import Any

from .models import CVTemplateStatus

WORLD: list[dict[str, Any]] = [
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


def demo_templates() -> dict[str, list[dict[str, Any]]]:
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
CV_TEMPLATES = [
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
