"""Checks of an Aldeamo send body, as the API does before answering 200.

Pure functions: they raise :class:`BadRequest` for anything the real API
refuses synchronously with ``400 {"errors": ["Bad Request"]}`` (a missing or
malformed field, a type that does not match the service, text over 4096
characters). What WhatsApp only discovers later -- an unknown or paused
template, a wrong number of parameters -- is NOT checked here: the send is
accepted and a ``failed`` status follows, as with the real provider.
"""

from __future__ import annotations

import re
from typing import Any

# URL service → WhatsApp message type. "contacs" is the seed's own spelling.
SERVICE_TYPES: dict[str, str] = {
    "text": "text",
    "template": "template",
    "imagebyurl": "image",
    "audiobyurl": "audio",
    "videobyurl": "video",
    "docbyurl": "document",
    "stickerbyurl": "sticker",
    "location": "location",
    "contacts": "contacts",
    "contacs": "contacts",
    "interactive": "interactive",
}
# Services answered with {"messageId": uuid}; the rest with {"messages": [{"id": wa id}]}.
UUID_ANSWER_TYPES = frozenset({"text", "template"})

TEXT_MAX = 4096
CAPTION_MAX = 1024
_DIGITS = re.compile(r"^\d{7,15}$")
_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)


class BadRequest(ValueError):
    """The body is refused with 400 Bad Request; the message says why (for logs and tests)."""


def _require(condition: bool, why: str) -> None:
    if not condition:
        raise BadRequest(why)


def _nonempty_str(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def digits_of(value: Any) -> str:
    """A phone number as the API takes it: a string (or int) of digits only, else ''."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str) and _DIGITS.match(value.strip()):
        return value.strip()
    return ""


def _media(obj: Any, kind: str) -> None:
    _require(isinstance(obj, dict), f"{kind} object missing")
    _require(_nonempty_str(obj.get("link")) and bool(_URL.match(obj["link"].strip())), f"{kind}.link not a URL")
    caption = obj.get("caption")
    _require(caption is None or (isinstance(caption, str) and len(caption) <= CAPTION_MAX), f"{kind}.caption invalid")
    filename = obj.get("filename")
    _require(filename is None or isinstance(filename, str), f"{kind}.filename invalid")
    provider = obj.get("provider")
    _require(provider is None or isinstance(provider, dict), f"{kind}.provider invalid")


def _location(obj: Any) -> None:
    _require(isinstance(obj, dict), "location object missing")
    for key in ("longitude", "latitude"):
        value = obj.get(key)
        _require(isinstance(value, int | float) and not isinstance(value, bool), f"location.{key} not a number")
    _require(-90 <= obj["latitude"] <= 90 and -180 <= obj["longitude"] <= 180, "location out of range")
    for key in ("name", "address"):
        _require(obj.get(key) is None or isinstance(obj.get(key), str), f"location.{key} invalid")


def _contacts(obj: Any) -> None:
    _require(isinstance(obj, list) and bool(obj), "contacts list missing")
    for contact in obj:
        _require(isinstance(contact, dict), "contact not an object")
        name = contact.get("name")
        _require(isinstance(name, dict) and _nonempty_str(name.get("formatted_name")), "contact name.formatted_name")
        for key in ("addresses", "emails", "phones", "urls"):
            _require(contact.get(key) is None or isinstance(contact.get(key), list), f"contact.{key} not a list")


def _interactive(obj: Any) -> None:
    _require(isinstance(obj, dict), "interactive object missing")
    kind = obj.get("type")
    _require(kind in ("button", "list", "product", "product_list"), "interactive.type invalid")
    body = obj.get("body")
    if kind != "product":
        _require(isinstance(body, dict) and _nonempty_str(body.get("text")), "interactive.body.text missing")
    elif body is not None:
        _require(isinstance(body, dict) and isinstance(body.get("text"), str), "interactive.body invalid")
    for key in ("header", "footer"):
        _require(obj.get(key) is None or isinstance(obj.get(key), dict), f"interactive.{key} invalid")
    if kind == "product_list":
        _require(isinstance(obj.get("header"), dict), "product_list needs a header")
    action = obj.get("action")
    _require(isinstance(action, dict), "interactive.action missing")
    if kind == "button":
        buttons = action.get("buttons")
        _require(isinstance(buttons, list) and 1 <= len(buttons) <= 3, "1 to 3 buttons")
        for button in buttons:
            reply = button.get("reply") if isinstance(button, dict) else None
            _require(isinstance(reply, dict), "button.reply missing")
            _require(_nonempty_str(reply.get("id")) and _nonempty_str(reply.get("title")), "button id/title")
    elif kind == "list":
        _require(_nonempty_str(action.get("button")), "list action.button missing")
        sections = action.get("sections")
        _require(isinstance(sections, list) and 1 <= len(sections) <= 10, "list sections")
        for section in sections:
            rows = section.get("rows") if isinstance(section, dict) else None
            _require(isinstance(rows, list) and bool(rows), "list section rows")
            for row in rows:
                _require(isinstance(row, dict) and _nonempty_str(row.get("id")), "list row id")
                _require(_nonempty_str(row.get("title")), "list row title")
    elif kind == "product":
        _require(_nonempty_str(action.get("catalog_id")), "product catalog_id")
        _require(_nonempty_str(action.get("product_retailer_id")), "product_retailer_id")
    else:
        _require(_nonempty_str(action.get("catalog_id")), "product_list catalog_id")
        sections = action.get("sections")
        _require(isinstance(sections, list) and bool(sections), "product_list sections")
        for section in sections:
            items = section.get("product_items") if isinstance(section, dict) else None
            _require(isinstance(items, list) and bool(items), "product_items")
            for item in items:
                _require(isinstance(item, dict) and _nonempty_str(item.get("product_retailer_id")), "product id")


def _template(obj: Any) -> None:
    _require(isinstance(obj, dict), "template object missing")
    _require(_nonempty_str(obj.get("namespace")), "template.namespace missing")
    _require(_nonempty_str(obj.get("name")), "template.name missing")
    language = obj.get("language")
    _require(isinstance(language, dict) and _nonempty_str(language.get("code")), "template.language.code missing")
    _require(language.get("policy") in (None, "deterministic"), "template.language.policy must be deterministic")
    components = obj.get("components")
    if components is None:
        return
    _require(isinstance(components, list), "template.components not a list")
    for component in components:
        _require(isinstance(component, dict), "component not an object")
        kind = str(component.get("type", "")).lower()
        _require(kind in ("header", "body", "button"), "component.type invalid")
        if kind == "button":
            _require(component.get("sub_type") in ("quick_reply", "url"), "button sub_type")
            _require(str(component.get("index", "")).isdigit(), "button index")
        parameters = component.get("parameters")
        if parameters is None:
            continue
        _require(isinstance(parameters, list), "component.parameters not a list")
        for parameter in parameters:
            _require(isinstance(parameter, dict), "parameter not an object")
            ptype = parameter.get("type")
            _require(ptype in ("text", "currency", "date_time", "image", "document", "video", "payload"), "param type")
            if ptype == "text":
                _require(isinstance(parameter.get("text"), str), "text parameter")
            elif ptype == "payload":
                _require(isinstance(parameter.get("payload"), str), "payload parameter")
            elif ptype in ("currency", "date_time"):
                value = parameter.get(ptype)
                _require(isinstance(value, dict) and _nonempty_str(value.get("fallback_value")), f"{ptype} value")
            else:
                media = parameter.get(ptype)
                _require(
                    isinstance(media, dict) and (_nonempty_str(media.get("link")) or _nonempty_str(media.get("id"))),
                    f"{ptype} media",
                )


def validate_send(service: str, body: Any) -> str:
    """Check a send body for ``service``; return its WhatsApp type or raise :class:`BadRequest`.

    The business number (``from``) is only checked for shape here; whether it
    belongs to the account is the view's business, since it needs the database.
    """
    expected = SERVICE_TYPES.get(service)
    _require(expected is not None, "unknown service")
    _require(isinstance(body, dict), "body is not a JSON object")
    _require(bool(digits_of(body.get("from"))), "from missing or not digits")
    _require(bool(digits_of(body.get("to"))), "to missing or not digits")
    _require(body.get("type") == expected, "type missing or not the service's type")
    _require(body.get("recipient_type") in (None, "individual"), "recipient_type must be individual")
    _require(body.get("preview_url") is None or isinstance(body.get("preview_url"), bool), "preview_url not bool")
    context = body.get("context")
    if context is not None:
        _require(isinstance(context, dict) and _nonempty_str(context.get("message_id")), "context.message_id")

    if expected == "text":
        text = body.get("text")
        _require(isinstance(text, dict) and _nonempty_str(text.get("body")), "text.body missing")
        _require(len(text["body"]) <= TEXT_MAX, "text.body over 4096 characters")
    elif expected == "template":
        _template(body.get("template"))
    elif expected == "sticker":
        # The seed's own stickerbyurl example nests the sticker under "document"; the API takes both.
        _media(body.get("sticker") if body.get("sticker") is not None else body.get("document"), "sticker")
    elif expected in ("image", "audio", "video", "document"):
        _media(body.get(expected), expected)
    elif expected == "location":
        _location(body.get("location"))
    elif expected == "contacts":
        _contacts(body.get("contacts"))
    elif expected == "interactive":
        _interactive(body.get("interactive"))
    return expected


_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")


def placeholder_count(text: str | None) -> int:
    """Distinct ``{{n}}`` variables in a template text."""
    return len(set(_PLACEHOLDER.findall(text or "")))


def template_parameter_mismatch(stored_components: list[dict[str, Any]], sent_components: list[dict[str, Any]]) -> bool:
    """Whether the sent body/header text parameters disagree with the template's ``{{n}}`` count.

    WhatsApp answers such a send with error 132000 after accepting it.
    """
    for kind in ("BODY", "HEADER"):
        stored = next((c for c in stored_components if str(c.get("type", "")).upper() == kind), None)
        if stored is None or (kind == "HEADER" and str(stored.get("format", "TEXT")).upper() != "TEXT"):
            expected = 0
        else:
            expected = placeholder_count(stored.get("text"))
        sent = next((c for c in sent_components if str(c.get("type", "")).lower() == kind.lower()), None)
        given = len(
            [p for p in (sent or {}).get("parameters") or [] if p.get("type") in ("text", "currency", "date_time")]
        )
        if expected != given:
            return True
    return False


# --- createTemplate ----------------------------------------------------------------------

_TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")
_HEADER_FORMATS = ("TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION")
_BUTTON_TYPES = ("QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE", "OTP")


def validate_template_create(body: Any) -> None:
    """Check a createTemplate body (seed: category, name, components, language, wabaId) or raise BadRequest.

    The rules are WhatsApp's own: lowercase names with underscores, a BODY
    with text, known header formats and button types, a footer of at most 60
    characters.
    """
    _require(isinstance(body, dict), "body is not a JSON object")
    _require(_nonempty_str(body.get("category")), "category missing")
    _require(isinstance(body.get("name"), str) and bool(_TEMPLATE_NAME.match(body["name"])), "name invalid")
    _require(isinstance(body.get("language"), str) and bool(_LANGUAGE.match(body["language"])), "language invalid")
    _require(isinstance(body.get("wabaId"), str | int) and str(body.get("wabaId")).strip() != "", "wabaId missing")
    components = body.get("components")
    _require(isinstance(components, list) and bool(components), "components missing")
    kinds = []
    for component in components:
        _require(isinstance(component, dict), "component not an object")
        kind = str(component.get("type", "")).upper()
        _require(kind in ("HEADER", "BODY", "FOOTER", "BUTTONS"), "component type invalid")
        _require(kind not in kinds, "component repeated")
        kinds.append(kind)
        if kind == "BODY":
            _require(_nonempty_str(component.get("text")) and len(component["text"]) <= 1024, "BODY text")
        elif kind == "HEADER":
            header_format = str(component.get("format", "")).upper()
            _require(header_format in _HEADER_FORMATS, "HEADER format")
            if header_format == "TEXT":
                _require(_nonempty_str(component.get("text")) and len(component["text"]) <= 60, "HEADER text")
        elif kind == "FOOTER":
            _require(_nonempty_str(component.get("text")) and len(component["text"]) <= 60, "FOOTER text")
        else:
            buttons = component.get("buttons")
            _require(isinstance(buttons, list) and 1 <= len(buttons) <= 10, "BUTTONS list")
            for button in buttons:
                _require(isinstance(button, dict), "button not an object")
                _require(str(button.get("type", "")).upper() in _BUTTON_TYPES, "button type")
                _require(_nonempty_str(button.get("text")), "button text")
    _require("BODY" in kinds, "BODY missing")
