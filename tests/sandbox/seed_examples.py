"""The request and payload examples of the seeds (``/work/shared/seeds``), as data.

Requests are copied from the manuals with their placeholders (``57300XXXXXXX``,
``{{Origin-WA-ID}}``, ``<Link to Image, https>``, comments) replaced by values
of the provisioned sandbox world; everything else is kept as written.
Callback examples are kept verbatim, to compare shapes with what the sandbox posts.
"""

from __future__ import annotations

from typing import Any

from .conftest import BUSINESS, CUSTOMER

NAMESPACE = "f29c496f_9a16_408b_bff7_379e57d1c8d5"
WAMID = "wamid.HBgMNTczMTQyMDU4MzA0FQIAEhgUM0VCMDgwOEVGMDY5NURGQkJBNjEA"


def _base(kind: str, **extra: Any) -> dict[str, Any]:
    return {"from": BUSINESS, "to": CUSTOMER, "type": kind, "recipient_type": "individual", **extra}


# --- Aldeamo sends: (service, body, answer shape) ----------------------------------------------

TEXT = {
    "from": BUSINESS,
    "to": CUSTOMER,
    "type": "text",
    "recipient_type": "individual",
    "preview_url": True,
    "text": {"body": "testing!!"},
}
TEXT_001 = {
    "from": BUSINESS,
    "to": CUSTOMER,
    "type": "text",
    "recipient_type": "individual",
    "text": {"body": "testing!!"},
}
REPLY_TEXT = {
    "from": BUSINESS,
    "to": CUSTOMER,
    "context": {"message_id": "wamid.HBgMNTczMTQyMDU4MzA0FQIAEhgUMVCMEFN0Y5OTRDQzERjY1Q0IA"},
    "type": "text",
    "recipient_type": "individual",
    "text": {"body": "testing!!"},
}
REPLY_LOCATION = _base(
    "location",
    context={"message_id": WAMID},
    location={
        "longitude": -74.052984,
        "latitude": 4.69212,
        "name": "Nombre de la ubicación",
        "address": "Dirección de la ubicación. Solo se muestra si name está presente",
    },
)
REPLY_DOCUMENT = _base(
    "document",
    context={"message_id": WAMID},
    document={"caption": "test", "link": "http://africau.edu/images/default/sample.pdf", "filename": "doc.pdf"},
)
REPLY_STICKER = _base(
    "sticker",
    context={"message_id": WAMID},
    sticker={"caption": "test", "link": "http://www.buildquickbots.com/whatsapp/stickers/SampleSticker01.webp"},
)
REPLY_AUDIO = _base(
    "audio",
    context={"message_id": WAMID},
    audio={"caption": "test", "link": "https://www.buildquickbots.com/whatsapp/media/sample/audio/sample01.mp3"},
)
REPLY_VIDEO = _base(
    "video",
    context={"message_id": WAMID},
    video={
        "caption": "test",
        "link": "http://comondatastorage.googleapis.com/gtv-videos-bucket/sample/ForBiggerFun.mp4",
    },
)
REPLY_IMAGE = _base(
    "image",
    context={"message_id": WAMID},
    image={"link": "https://www.aldeamo.com/wp-content/uploads/2021/07/1.Logo-tell-IT-20.png"},
)

_CONTACT = {
    "addresses": [
        {
            "street": "Carrera 30, avenida quite",
            "city": "Bogotá",
            "state": "CUN",
            "zip": "Código postal",
            "country": "Colombia",
            "country_code": "CO",
            "type": "WORK",
        }
    ],
    "birthday": "1991-12-31",
    "emails": [{"email": "work@test.com", "type": "WORK"}, {"email": "home@home.com", "type": "HOME"}],
    "name": {
        "formatted_name": "Carlos Andres",
        "first_name": "Carlos",
        "last_name": "Lopez",
        "middle_name": "Andres",
        "suffix": "CAR",
        "prefix": "CAR",
    },
    "org": {"company": "Aldeamo", "department": "Comunicacion", "title": "Aldeamo Colombia"},
    "phones": [
        {"phone": "573205550000", "type": "HOME"},
        {"phone": "573195550000", "type": "WORK", "wa_id": "Identificación de WhatsApp"},
    ],
    "urls": [
        {"url": "https://work.com/es/index.html", "type": "WORK"},
        {"url": "https://www.home.com", "type": "HOME"},
    ],
}
REPLY_CONTACTS = {
    "from": BUSINESS,
    "to": CUSTOMER,
    "type": "contacts",
    "context": {"message_id": "wamid.HBgMNTczMTQyMDU4MzA0FQIAEhgUM0VCMDgwOEVGMDY5NURGQkJBNjEA"},
    "contacts": [_CONTACT],
}
CONTACTS = {
    "from": BUSINESS,
    "to": CUSTOMER,
    "type": "contacts",
    "contacts": [_CONTACT, {**_CONTACT, "birthday": "AAAA-MM-DD"}],
}

_HEADER = {"type": "text", "text": "Titulo"}
REPLY_BUTTONS = {
    "from": BUSINESS,
    "to": CUSTOMER,
    "context": {"message_id": "wamid.HBgMNTczMTQyMDU4MzA0FQIAEhgUM0VCMDgwGMDY5NURGQkJBNjEA"},
    "recipient_type": "individual",
    "type": "interactive",
    "interactive": {
        "type": "button",
        "header": _HEADER,
        "body": {"text": "Body Text"},
        "footer": {"text": "Footer Text"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "btn1", "title": "Button 1"}},
                {"type": "reply", "reply": {"id": "btn2", "title": "Button 2"}},
            ]
        },
    },
}
BUTTONS = {
    "from": BUSINESS,
    "to": CUSTOMER,
    "recipient_type": "individual",
    "type": "interactive",
    "interactive": {
        "type": "button",
        "header": _HEADER,
        "body": {"text": "Body Text"},
        "footer": {"text": "Footer Text"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "btn1", "title": "Button 1"}},
                {"type": "reply", "reply": {"id": "btn2", "title": "Button 2"}},
                {"type": "reply", "reply": {"id": "btn3", "title": "Button 3"}},
            ]
        },
    },
}
_SECTIONS = [
    {
        "title": "<Section 1>",
        "rows": [
            {"id": "<ID 1.1>", "title": "<Title 1.1>", "description": "<Description 1.1>"},
            {"id": "<ID 1.2>", "title": "<Title 1.2>", "description": "<Description 1.2>"},
        ],
    },
    {
        "title": "Section 2>",
        "rows": [
            {"id": "<ID 2.1>", "title": "<Title 2.1>", "description": "<Description 2.1>"},
            {"id": "<ID 2.2>", "title": "<Title 2.2>", "description": "<Description 2.2>"},
        ],
    },
]
LIST = {
    "from": BUSINESS,
    "to": CUSTOMER,
    "recipient_type": "individual",
    "type": "interactive",
    "interactive": {
        "type": "list",
        "header": _HEADER,
        "body": {"text": "Body Text"},
        "footer": {"text": "Footer Text"},
        "action": {"button": "Send", "sections": _SECTIONS},
    },
}
REPLY_LIST = {**LIST, "context": {"message_id": "wamid.HBgMNTczMTQyMDU4MzA0FQIAEhgUM0VCMDgwOEVGMGQkJBNjEA"}}
PRODUCT = {
    "from": BUSINESS,
    "to": CUSTOMER,
    "recipient_type": "individual",
    "type": "interactive",
    "interactive": {
        "type": "product",
        "body": {"text": "Body Text"},
        "footer": {"text": "Footer Text"},
        "action": {"catalog_id": "Catalog id", "product_retailer_id": "Product id"},
    },
}
PRODUCT_LIST = {
    "from": BUSINESS,
    "to": CUSTOMER,
    "context": {"message_id": "wamid.HBgMNTczMTQyMDU4MzA0FQIAEhgUM0VCMDgVGMDY5NURGQk4BNjEA"},
    "type": "interactive",
    "recipient_type": "individual",
    "interactive": {
        "type": "product_list",
        "header": {"type": "text", "text": "Rojos del Municipal"},
        "body": {"text": "Conoce los productos de los Rojos del Municipal"},
        "footer": {"text": "Adquiere el producto en tiendarojos.com"},
        "action": {
            "catalog_id": "2773436916296956",
            "sections": [
                {
                    "title": "the-section-title",
                    "product_items": [{"product_retailer_id": "q15qn1bxkd"}, {"product_retailer_id": "9ajd3r1oh0"}],
                }
            ],
        },
    },
}

_PROVIDER = {"name": "<Provider Name from Media Provider API, optional>"}
IMAGE = _base("image", image={"provider": _PROVIDER, "link": "https://example.com/a.png", "caption": "<Media Caption>"})
AUDIO = _base("audio", audio={"provider": _PROVIDER, "link": "https://example.com/a.mp3"})
VIDEO = _base(
    "video", video={"provider": _PROVIDER, "caption": "<Message Caption>", "link": "https://example.com/a.mp4"}
)
DOCUMENT = _base(
    "document",
    document={
        "provider": _PROVIDER,
        "caption": "<Message Caption>",
        "link": "https://example.com/a.pdf",
        "filename": "<Filename>",
    },
)
# The seed's stickerbyurl example, nesting the sticker under "document" as written.
STICKER_AS_DOCUMENT = _base("sticker", document={"provider": _PROVIDER, "link": "https://example.com/a.webp"})
LOCATION = {
    "from": BUSINESS,
    "to": CUSTOMER,
    "type": "location",
    "location": {
        "longitude": -74.052984,
        "latitude": 4.69212,
        "name": "Nombre de la ubicación",
        "address": "Dirección de la ubicación. Solo se muestra si name está presente",
    },
}

TEMPLATE_QUICK_REPLY = {
    "from": BUSINESS,
    "to": CUSTOMER,
    "type": "template",
    "template": {
        "namespace": NAMESPACE,
        "language": {"policy": "deterministic", "code": "es"},
        "name": "aldeamo_botones_autorespuesta",
        "components": [
            {"type": "body", "sub_type": None, "index": None, "parameters": [{"type": "text", "text": "William"}]},
            *[
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": str(i),
                    "parameters": [{"type": "payload", "payload": f"{i + 1}. Confirmar-Button-Payload"}],
                }
                for i in range(3)
            ],
        ],
    },
}
TEMPLATE_CALL_TO_ACTION = {
    "from": BUSINESS,
    "to": CUSTOMER,
    "type": "template",
    "template": {
        "namespace": NAMESPACE,
        "language": {"policy": "deterministic", "code": "es"},
        "name": "botones_accion_urldinamica",
        "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "William"}]},
            {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "sms"}]},
        ],
    },
}
# The seed's general template example (header document by link, body text/currency/date_time).
TEMPLATE_MEDIA = {
    "from": BUSINESS,
    "to": CUSTOMER,
    "type": "template",
    "template": {
        "namespace": NAMESPACE,
        "language": {"policy": "deterministic", "code": "es"},
        "name": "factura_pdf",
        "components": [
            {
                "type": "header",
                "parameters": [
                    {
                        "type": "document",
                        "document": {
                            "link": "https://example.com/factura.pdf",
                            "provider": {"name": "provider-name"},
                            "filename": "your-document-filename",
                        },
                    }
                ],
            },
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "replacement_text"},
                    {
                        "type": "currency",
                        "currency": {"fallback_value": "$100.99", "code": "USD", "amount_1000": 100990},
                    },
                    {
                        "type": "date_time",
                        "date_time": {
                            "fallback_value": "February 25, 1977",
                            "day_of_week": 5,
                            "day_of_month": 25,
                            "year": 1977,
                            "month": 2,
                            "hour": 15,
                            "minute": 33,
                        },
                    },
                ],
            },
        ],
    },
}

# (service in the URL, body, answer key) for every send example of the seeds.
SENDS: list[tuple[str, dict[str, Any], str]] = [
    ("text", TEXT, "messageId"),
    ("text", TEXT_001, "messageId"),
    ("text", REPLY_TEXT, "messageId"),
    ("template", TEMPLATE_QUICK_REPLY, "messageId"),
    ("template", TEMPLATE_CALL_TO_ACTION, "messageId"),
    ("template", TEMPLATE_MEDIA, "messageId"),
    ("location", REPLY_LOCATION, "messages"),
    ("location", LOCATION, "messages"),
    ("docbyurl", REPLY_DOCUMENT, "messages"),
    ("docbyurl", DOCUMENT, "messages"),
    ("stickerbyurl", REPLY_STICKER, "messages"),
    ("stickerbyurl", STICKER_AS_DOCUMENT, "messages"),
    ("audiobyurl", REPLY_AUDIO, "messages"),
    ("audiobyurl", AUDIO, "messages"),
    ("videobyurl", REPLY_VIDEO, "messages"),
    ("videobyurl", VIDEO, "messages"),
    ("imagebyurl", REPLY_IMAGE, "messages"),
    ("imagebyurl", IMAGE, "messages"),
    ("contacts", REPLY_CONTACTS, "messages"),
    ("contacts", CONTACTS, "messages"),
    ("contacs", CONTACTS, "messages"),
    ("interactive", REPLY_BUTTONS, "messages"),
    ("interactive", BUTTONS, "messages"),
    ("interactive", LIST, "messages"),
    ("interactive", REPLY_LIST, "messages"),
    ("interactive", PRODUCT, "messages"),
    ("interactive", PRODUCT_LIST, "messages"),
]

# --- templates and analytics ------------------------------------------------------------------

CREATE_TEMPLATE = {
    "category": "ISSUE_RESOLUTION",
    "name": "delete_test_14",
    "components": [
        {
            "type": "BODY",
            "text": "body-text {{1}} {{2}} {{3}}",
            "example": {"body_text": [["body-example-1", "body-example-2", "body-example-3"]]},
        },
        {
            "type": "HEADER",
            "format": "TEXT",
            "text": "header-text {{1}}",
            "example": {"header_text": ["header-example"]},
        },
    ],
    "language": "en_US",
    "wabaId": "236928178367012",
}

GET_TEMPLATE_ANSWER = {
    "status": 200,
    "reason": "OK",
    "data": {
        "templates": [
            {
                "name": "actualiza_botones",
                "components": [
                    {
                        "type": "BODY",
                        "text": "Buen dia {{1}}, este es un mensaje de Aldeamo con botones de acción.",
                        "format": None,
                        "url": None,
                        "buttons": None,
                        "example": {"body_text": [["José"]]},
                    },
                    {
                        "type": "BUTTONS",
                        "text": None,
                        "format": None,
                        "url": None,
                        "buttons": [
                            {"type": "PHONE_NUMBER", "text": "Llamar a Lacayo", "phone_number": "+50499319999"},
                            {"type": "URL", "text": "Visitar Aldeamo", "phone_number": None},
                        ],
                        "example": None,
                    },
                ],
                "language": "es",
                "status": "APPROVED",
                "category": "ACCOUNT_UPDATE",
                "id": "736609717637531",
            }
        ]
    },
}

ANALYTICS = {
    "wabaId": "236928178367012",
    "clientId": "942",
    "conversationAnalytics": {
        "conversationStart": "2022-09-20 00:00:00",
        "conversationEnd": "2022-09-20 23:59:00",
        "granularity": "HALF_HOUR",
        "phoneNumbers": ["573188888060", "573195679433"],
        "dimensions": ["conversation_type", "conversation_direction", "phone", "country"],
        "filters": {
            "countryCodes": [],
            "conversationTypes": ["UNKNOWN", "FREE_ENTRY_POINT", "FREE_TIER", "REGULAR"],
            "conversationDirections": ["UNKNOWN", "USER_INITIATED", "BUSINESS_INITIATED"],
        },
    },
}
ANALYTICS_POINT = {
    "start": "2022-09-20 18:00:00",
    "end": "2022-09-20 18:30:00",
    "conversation": "1",
    "country": "CO",
    "phone_number": "57319XXXXXXX",
    "conversation_type": "REGULAR",
    "conversation_direction": "USER_INITIATED",
}
PHONE_NUMBER = {
    "verified_name": "Aldeamo Pruebas Col",
    "code_verification_status": "NOT_VERIFIED",
    "display_phone_number": "+57 324XXXXXXX",
    "quality_rating": "UNKNOWN",
    "id": "22548916321987987",
}

# --- callbacks, verbatim ------------------------------------------------------------------------

STATUS_EVENT = {
    "contacts": None,
    "messages": None,
    "statuses": [
        {
            "id": "gBEGVzE3AEU1AgnP3gFWMWGEWDg",
            "timestamp": "1636642666",
            "errors": None,
            "recipient_id": "57313XXXXXXX",
            "status": "delivered",
            "conversation": {
                "expiration_timestamp": 1645303920,
                "id": "916e1719bcf72051838b9076864c5c9d",
                "origin": {"type": "business_initiated"},
            },
            "pricing": {"billable": True, "category": "business_initiated", "pricing_model": "CBP"},
        }
    ],
    "origin_number": "57323XXXXXXX",
}
TEMPLATE_CATEGORY_EVENT = {
    "field": "template_category_update",
    "value": {
        "message_template_id": 12345678,
        "message_template_name": "my_message_template",
        "message_template_language": "en-US",
        "previous_category": "SHIPPING_UPDATE",
        "new_category": "UTILITY",
    },
}
TEMPLATE_STATUS_EVENT = {
    "field": "message_template_status_update",
    "value": {
        "event": "APPROVED",
        "message_template_id": 12345678,
        "message_template_name": "my_message_template",
        "message_template_language": "pt-BR",
        "reason": None,
    },
}
TEMPLATE_PERFORMANCE_EVENT = {
    "field": "template_performance_metrics",
    "value": {
        "templates_performance_metrics": [
            {
                "template_id": "11111",
                "template_name": "template_1",
                "template_language": "en_US",
                "top_block_reason": "NO_LONGER_NEEDED",
            },
            {
                "template_id": "33333",
                "template_name": "template_3",
                "template_language": "en_US",
                "messages_sent_7d": 2000,
                "messages_opened_7d": 1001,
                "top_block_reason": "SPAM",
            },
        ]
    },
}
INBOUND_TEXT_WITH_CONTEXT = {
    "contacts": [{"profile": {"name": "William G."}, "wa_id": "57313XXXXXXX"}],
    "messages": [
        {
            "context": {
                "from": "57323XXXXXXX",
                "id": "gBEGVzE3AEU1AgnP3gFWMWGEWDg",
                "mentions": None,
                "forwarded": False,
                "frequently_forwarded": None,
            },
            "from": "573137004535",
            "id": "ABEGVzE3AEU1AhB4Lf6k-JIKQ9PcG7VwSeeA",
            "timestamp": "1636642802",
            "type": "text",
            "text": {"body": "Hi"},
            "audio": None,
            "document": None,
            "image": None,
            "location": None,
            "video": None,
            "voice": None,
        }
    ],
    "statuses": None,
    "originNumber": "57323XXXXXXX",
}
INBOUND_MEDIA_OBJECT = {
    "file": None,
    "id": "7b396b28-7667-4be3-851e-f295a46674d1",
    "link": "https://docs.aldeamo.com/getFiles/7b396b28-7667-4be3-851e-f295a46674d1GU10508T11117Rs50yPwhatsappmedia.jpg",
    "sha256": "2dfb4521bf1d06d3eb5379bfed48e820eb96785e7d491409ff358bf38848e70d",
    "caption": None,
    "mime_type": "image/jpeg",
}
INBOUND_MESSAGE_KEYS = {
    "context", "from", "id", "timestamp", "type", "text", "audio", "document", "image", "location", "video",
    "voice", "sticker", "contacts", "interactive", "button", "referral", "order",
}  # fmt: skip
INBOUND_REFERRAL_KEYS = {"headline", "body", "image", "video", "source_type", "source_id", "source_url"}
INBOUND_ORDER_ITEM_KEYS = {"currency", "quantity", "item_price", "product_retailer_id"}
INBOUND_CONTACT_KEYS = {"addresses", "emails", "ims", "name", "org", "phones", "urls"}

CV_SEND = {
    "mobile": "573102334455",
    "id_template": "990",
    "template_variables": "[Carlos] [$100] [miércoles] [Davivienda] [bancolombia]",
    "custom_field": "1234-5678-912554",
}
CV_FAILED_EVENT = {"type": "message-event", "type2": "failed", "code": "xxxx", "reason": "xxxxx", "messageId": "xxxx"}
CV_SENT_EVENT = {
    "type": "message-event",
    "type2": " sent",
    "messageId_whatsapp": "xxxx",
    "fecha_envio_por_whatsapp": "xxxxx",
    "&messageId": "xxxx",
}
CV_DELIVERED_EVENT = {**CV_SENT_EVENT, "type2": " delivered"}
CV_READ_EVENT = {
    "type": "message-event",
    "type2": " read",
    "messageId_whatsapp": "xxxx",
    "fecha_lectura_usuario": "xxxxx",
    "&messageId": "xxxx",
}
CV_REPLY = {
    "mobile": "57300222222",
    "message": "Hola, respondiendo mensaje desde el whatsapp",
    "custom_field": "1020-3040-5060-7089",
}
