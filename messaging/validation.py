"""What a message may contain, checked before anything is stored or sent.

Every refusal is an :class:`~waportal.errors.ApplicationError` whose ``field``
is the path of the offending input in the API's send shape
(``text.body``, ``interactive.action.buttons[3]``,
``template.components[1].parameters``), and whose message names the limit, so
the API, the composer and campaigns can all show it next to the right input.

The limits are WhatsApp's (the Aldeamo manual quotes the 4096-character text
limit; the interactive limits are Meta's, which Aldeamo relays): checking them
here turns a provider's bare ``Bad Request`` into a sentence a person can act
on, and keeps a refused message from ever being stored. Each check accepts a
value *at* the limit and refuses one past it.

Pure functions over plain data and a :class:`~templates_mgr.models.Template`;
the send service (:mod:`messaging.sending`) does the database look-ups.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

from waportal.errors import ApplicationError

# --- what can be sent ---------------------------------------------------------

SENDABLE_TYPES = (
    "text",
    "template",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
)
MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
INTERACTIVE_TYPES = ("button", "list", "product", "product_list")

# --- limits -------------------------------------------------------------------

TEXT_BODY_MAX = 4096  # Aldeamo manual §3.1 "Restricciones"
CAPTION_MAX = 1024
FILENAME_MAX = 240
CONTEXT_ID_MAX = 128  # Message.context_id
CUSTOM_FIELD_MAX = 1000  # Contacto Virtual manual: "Máximo 1.000 caracteres"
LOCATION_TEXT_MAX = 1000

INTERACTIVE_BODY_MAX = 1024
INTERACTIVE_HEADER_TEXT_MAX = 60
INTERACTIVE_FOOTER_MAX = 60
BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
LIST_BUTTON_MAX = 20
LIST_SECTIONS_MAX = 10
LIST_ROWS_MAX = 10  # in all sections together
ROW_ID_MAX = 200
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
SECTION_TITLE_MAX = 24
PRODUCT_ITEMS_MAX = 30  # in all sections together

TEMPLATE_HEADER_PARAM_MAX = 60
TEMPLATE_BODY_PARAM_MAX = 1024
TEMPLATE_BUTTON_PARAM_MAX = 2000

#: Contacto Virtual's manual: "Pdf, jpg, mp3, txt, docx, xlsx, zip, mp4, pptx, png, jpeg".
CV_MEDIA_EXTENSIONS = ("pdf", "jpg", "jpeg", "png", "mp3", "mp4", "txt", "docx", "xlsx", "pptx", "zip")

_https = URLValidator(schemes=["https"])
_ALDEAMO_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
_CV_PLACEHOLDER = re.compile(r"\{\s*(\d+)\s*\}")
_SEPARATORS = re.compile(r"[\s\-().]")


def refuse(message: str, field: str | None, **extra: Any) -> ApplicationError:
    """The ApplicationError for a refused input (raise it)."""
    return ApplicationError(message, field=field, extra=extra or None)


# --- small checks ---------------------------------------------------------------


def _object(value: Any, path: str, what: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise refuse(_("%(field)s must be an object (%(what)s).") % {"field": path, "what": what}, path)
    return dict(value)


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise refuse(_("%(field)s must be a list.") % {"field": path}, path)
    return value


def _text(value: Any, path: str, *, limit: int | None = None, required: bool = True) -> str:
    """A string input: present (when required) and not longer than ``limit`` characters."""
    if value is None or value == "":
        if required:
            raise refuse(_("%(field)s is required.") % {"field": path}, path)
        return ""
    if not isinstance(value, str):
        raise refuse(_("%(field)s must be text.") % {"field": path}, path)
    if required and not value.strip():
        raise refuse(_("%(field)s is empty.") % {"field": path}, path)
    if limit is not None and len(value) > limit:
        raise refuse(
            _("%(field)s is %(length)d characters long; WhatsApp allows at most %(limit)d.")
            % {"field": path, "length": len(value), "limit": limit},
            path,
        )
    return value


def _known_keys(obj: Mapping[str, Any], allowed: tuple[str, ...], path: str) -> None:
    """Refuse keys we do not send: a typo (``caption`` as ``captoin``) would otherwise vanish silently."""
    for key in obj:
        if key not in allowed:
            raise refuse(
                _("%(field)s is not a field of %(parent)s; allowed: %(allowed)s.")
                % {"field": f"{path}.{key}", "parent": path, "allowed": ", ".join(allowed)},
                f"{path}.{key}",
            )


def https_link(value: Any, path: str) -> str:
    """An absolute https URL (the provider fetches the media from it)."""
    link = _text(value, path)
    try:
        _https(link)
    except ValidationError:
        raise refuse(
            _("%(field)s must be an https:// link to the file, e.g. https://example.com/photo.jpg; got %(value)s.")
            % {"field": path, "value": link[:200]},
            path,
        )
    return link


def link_extension(link: str) -> str:
    """The lowercase file extension of a link's path ("" when it has none)."""
    return PurePosixPath(urlsplit(link).path).suffix.lower().lstrip(".")


def recipient_digits(value: Any, *, field: str = "to") -> str:
    """The recipient as WhatsApp wants it: country code and number, digits only.

    Accepts what people paste (``+57 300 123 4567``, ``(57) 300-123-4567``,
    ``0057…``): separators and the ``+``/``00`` prefix go, the digits stay as
    typed. ``phonenumbers`` then checks them; anything that is not a possible
    number with its country code (a local number, a placeholder) is refused.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise refuse(
            _("%(field)s is required: the recipient's number with country code, e.g. 573001234567.") % {"field": field},
            field,
        )
    cleaned = _SEPARATORS.sub("", value.strip())
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    digits = cleaned[1:] if cleaned.startswith("+") else cleaned
    if not (digits.isascii() and digits.isdigit()) or not 6 <= len(digits) <= 15:
        raise refuse(
            _("%(field)s must be a phone number with country code, digits only, e.g. 573001234567; got %(value)s.")
            % {"field": field, "value": value[:40]},
            field,
        )
    try:
        parsed = phonenumbers.parse("+" + digits)
    except phonenumbers.NumberParseException:
        parsed = None
    # The digits are never changed, only checked: read as international, a local number such as
    # 3102334455 is "+31 0233…", which phonenumbers would quietly turn into a Dutch number without
    # its 0. Any difference between what was typed and the number's own form is refused.
    if (
        parsed is None
        or not phonenumbers.is_possible_number(parsed)
        or phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) != "+" + digits
    ):
        raise refuse(
            _("%(field)s: %(value)s is not a complete international number; write the country code first, "
              "e.g. 573001234567.") % {"field": field, "value": value[:40]},
            field,
        )
    return digits


def context_message_id(value: Any) -> str:
    """The id of the message a reply answers: a ``wamid…`` or an id the provider gave us."""
    if value is None or value == "":
        return ""
    text = _text(value, "context.message_id", limit=CONTEXT_ID_MAX)
    return text.strip()


def custom_field(value: Any) -> str:
    if value is None or value == "":
        return ""
    text = _text(value, "custom_field", required=False)
    if len(text) > CUSTOM_FIELD_MAX:
        raise refuse(
            _("custom_field is %(length)d characters long; Contacto Virtual accepts at most %(limit)d.")
            % {"length": len(text), "limit": CUSTOM_FIELD_MAX},
            "custom_field",
        )
    return text


# --- every non-template type ---------------------------------------------------------


def validate_content(*, type: str, content: Any, preview_url: bool | None = None) -> Any:
    """Check the type's object (as it goes on the wire); returns it unchanged when acceptable.

    Templates are checked by :func:`check_template_components` against the
    synced template instead.
    """
    if type not in SENDABLE_TYPES or type == "template":
        raise refuse(
            _("type must be one of: %(types)s.") % {"types": ", ".join(SENDABLE_TYPES)},
            "type",
        )
    if preview_url is not None:
        if type != "text":
            raise refuse(_("preview_url applies only to text messages."), "preview_url")
        if not isinstance(preview_url, bool):
            raise refuse(_("preview_url must be true or false."), "preview_url")
    if type == "text":
        _validate_text(content)
    elif type in MEDIA_TYPES:
        _validate_media(type, content)
    elif type == "location":
        _validate_location(content)
    elif type == "contacts":
        _validate_contacts(content)
    else:
        _validate_interactive(content)
    return content


def _validate_text(content: Any) -> None:
    text = _object(content, "text", _("{\"body\": \"…\"}"))
    _known_keys(text, ("body",), "text")
    _text(text.get("body"), "text.body", limit=TEXT_BODY_MAX)


# Keys of the *byurl objects. Audio and sticker carry a caption in the manual's
# reply examples; WhatsApp does not show it, but the request is valid.
_MEDIA_KEYS = {
    "image": ("link", "caption", "provider"),
    "video": ("link", "caption", "provider"),
    "document": ("link", "caption", "filename", "provider"),
    "audio": ("link", "caption", "provider"),
    "sticker": ("link", "caption", "provider"),
}


def _validate_media(type: str, content: Any) -> None:
    media = _object(content, type, _("{\"link\": \"https://…\"}"))
    if "id" in media:
        raise refuse(
            _("%(field)s: media is sent by link (an https:// URL); uploaded media ids are not supported.")
            % {"field": f"{type}.id"},
            f"{type}.id",
        )
    _known_keys(media, _MEDIA_KEYS[type], type)
    https_link(media.get("link"), f"{type}.link")
    _text(media.get("caption"), f"{type}.caption", limit=CAPTION_MAX, required=False)
    _text(media.get("filename"), f"{type}.filename", limit=FILENAME_MAX, required=False)
    _media_provider(media.get("provider"), f"{type}.provider")


def _media_provider(value: Any, path: str) -> None:
    if value is None:
        return
    provider = _object(value, path, _("{\"name\": \"…\"}"))
    _text(provider.get("name"), f"{path}.name", limit=200)


def _number(value: Any, path: str, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise refuse(_("%(field)s must be a number.") % {"field": path}, path)
    if not low <= value <= high:
        raise refuse(
            _("%(field)s must be between %(low)s and %(high)s; got %(value)s.")
            % {"field": path, "low": low, "high": high, "value": value},
            path,
        )


def _validate_location(content: Any) -> None:
    location = _object(content, "location", _("{\"latitude\": …, \"longitude\": …}"))
    _known_keys(location, ("latitude", "longitude", "name", "address"), "location")
    _number(location.get("latitude"), "location.latitude", -90, 90)
    _number(location.get("longitude"), "location.longitude", -180, 180)
    name = _text(location.get("name"), "location.name", limit=LOCATION_TEXT_MAX, required=False)
    address = _text(location.get("address"), "location.address", limit=LOCATION_TEXT_MAX, required=False)
    if address and not name.strip():
        raise refuse(
            _("location.address is only shown together with a name: add location.name or remove the address."),
            "location.address",
        )


def _validate_contacts(content: Any) -> None:
    contacts = _list(content, "contacts")
    if not contacts:
        raise refuse(_("contacts needs at least one contact."), "contacts")
    for index, item in enumerate(contacts):
        path = f"contacts[{index}]"
        contact = _object(item, path, _("a contact card"))
        name = _object(contact.get("name"), f"{path}.name", _("{\"formatted_name\": \"…\"}"))
        _text(name.get("formatted_name"), f"{path}.name.formatted_name", limit=LOCATION_TEXT_MAX)
        phones = contact.get("phones")
        if not isinstance(phones, list) or not phones:
            raise refuse(
                _("%(field)s needs at least one phone number.") % {"field": f"{path}.phones"}, f"{path}.phones"
            )
        for position, phone in enumerate(phones):
            phone_path = f"{path}.phones[{position}]"
            entry = _object(phone, phone_path, _("{\"phone\": \"…\"}"))
            _text(entry.get("phone"), f"{phone_path}.phone", limit=40)


# --- interactive ------------------------------------------------------------------------


def _validate_interactive(content: Any) -> None:
    interactive = _object(content, "interactive", _("{\"type\": \"button|list|product|product_list\", …}"))
    _known_keys(interactive, ("type", "header", "body", "footer", "action"), "interactive")
    kind = interactive.get("type")
    if kind not in INTERACTIVE_TYPES:
        raise refuse(
            _("interactive.type must be one of: %(types)s.") % {"types": ", ".join(INTERACTIVE_TYPES)},
            "interactive.type",
        )
    _interactive_header(interactive.get("header"), kind)
    if interactive.get("body") is not None or kind != "product":
        body = _object(interactive.get("body"), "interactive.body", _("{\"text\": \"…\"}"))
        _text(body.get("text"), "interactive.body.text", limit=INTERACTIVE_BODY_MAX)
    if interactive.get("footer") is not None:
        footer = _object(interactive.get("footer"), "interactive.footer", _("{\"text\": \"…\"}"))
        _text(footer.get("text"), "interactive.footer.text", limit=INTERACTIVE_FOOTER_MAX)
    action = _object(interactive.get("action"), "interactive.action", _("the buttons, list or products"))
    if kind == "button":
        _interactive_buttons(action)
    elif kind == "list":
        _interactive_list(action)
    elif kind == "product":
        _text(action.get("catalog_id"), "interactive.action.catalog_id", limit=200)
        _text(action.get("product_retailer_id"), "interactive.action.product_retailer_id", limit=200)
    else:
        _interactive_product_list(action)


def _interactive_header(value: Any, kind: str) -> None:
    if value is None:
        if kind == "product_list":
            raise refuse(_("interactive.header is required for a product list (a text header)."), "interactive.header")
        return
    header = _object(value, "interactive.header", _("{\"type\": \"text\", \"text\": \"…\"}"))
    header_type = header.get("type")
    allowed = ("text", "image", "video", "document") if kind == "button" else ("text",)
    if header_type not in allowed:
        raise refuse(
            _("interactive.header.type must be %(allowed)s for a %(kind)s message.")
            % {"allowed": " / ".join(allowed), "kind": kind},
            "interactive.header.type",
        )
    if header_type == "text":
        _text(header.get("text"), "interactive.header.text", limit=INTERACTIVE_HEADER_TEXT_MAX)
    else:
        media = _object(header.get(header_type), f"interactive.header.{header_type}", _("{\"link\": \"https://…\"}"))
        https_link(media.get("link"), f"interactive.header.{header_type}.link")


def _interactive_buttons(action: dict[str, Any]) -> None:
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not buttons:
        raise refuse(
            _("interactive.action.buttons needs 1 to %(max)d buttons.") % {"max": BUTTONS_MAX},
            "interactive.action.buttons",
        )
    if len(buttons) > BUTTONS_MAX:
        raise refuse(
            _("interactive.action.buttons has %(count)d buttons; WhatsApp allows at most %(max)d.")
            % {"count": len(buttons), "max": BUTTONS_MAX},
            f"interactive.action.buttons[{BUTTONS_MAX}]",
        )
    seen: set[str] = set()
    for index, item in enumerate(buttons):
        path = f"interactive.action.buttons[{index}]"
        button = _object(item, path, _("{\"type\": \"reply\", \"reply\": {\"id\", \"title\"}}"))
        if button.get("type") != "reply":
            raise refuse(_("%(field)s must be \"reply\".") % {"field": f"{path}.type"}, f"{path}.type")
        reply = _object(button.get("reply"), f"{path}.reply", _("{\"id\": \"…\", \"title\": \"…\"}"))
        button_id = _text(reply.get("id"), f"{path}.reply.id", limit=BUTTON_ID_MAX)
        _text(reply.get("title"), f"{path}.reply.title", limit=BUTTON_TITLE_MAX)
        if button_id in seen:
            raise refuse(
                _("%(field)s repeats the id %(id)s; each button needs its own id.")
                % {"field": f"{path}.reply.id", "id": button_id},
                f"{path}.reply.id",
            )
        seen.add(button_id)


def _sections(action: dict[str, Any], what: str) -> list[Any]:
    sections = action.get("sections")
    if not isinstance(sections, list) or not sections:
        raise refuse(
            _("interactive.action.sections needs at least one section of %(what)s.") % {"what": what},
            "interactive.action.sections",
        )
    if len(sections) > LIST_SECTIONS_MAX:
        raise refuse(
            _("interactive.action.sections has %(count)d sections; WhatsApp allows at most %(max)d.")
            % {"count": len(sections), "max": LIST_SECTIONS_MAX},
            "interactive.action.sections",
        )
    return sections


def _interactive_list(action: dict[str, Any]) -> None:
    _text(action.get("button"), "interactive.action.button", limit=LIST_BUTTON_MAX)
    sections = _sections(action, _("rows"))
    total = 0
    seen: set[str] = set()
    for index, item in enumerate(sections):
        path = f"interactive.action.sections[{index}]"
        section = _object(item, path, _("{\"title\": \"…\", \"rows\": […]}"))
        _text(section.get("title"), f"{path}.title", limit=SECTION_TITLE_MAX, required=len(sections) > 1)
        rows = section.get("rows")
        if not isinstance(rows, list) or not rows:
            raise refuse(_("%(field)s needs at least one row.") % {"field": f"{path}.rows"}, f"{path}.rows")
        for position, row_item in enumerate(rows):
            row_path = f"{path}.rows[{position}]"
            total += 1
            if total > LIST_ROWS_MAX:
                raise refuse(
                    _("The list has more than %(max)d rows in all; WhatsApp allows at most %(max)d (%(field)s is "
                      "one too many).") % {"max": LIST_ROWS_MAX, "field": row_path},
                    row_path,
                )
            row = _object(row_item, row_path, _("{\"id\": \"…\", \"title\": \"…\"}"))
            row_id = _text(row.get("id"), f"{row_path}.id", limit=ROW_ID_MAX)
            _text(row.get("title"), f"{row_path}.title", limit=ROW_TITLE_MAX)
            _text(row.get("description"), f"{row_path}.description", limit=ROW_DESCRIPTION_MAX, required=False)
            if row_id in seen:
                raise refuse(
                    _("%(field)s repeats the id %(id)s; each row needs its own id.")
                    % {"field": f"{row_path}.id", "id": row_id},
                    f"{row_path}.id",
                )
            seen.add(row_id)


def _interactive_product_list(action: dict[str, Any]) -> None:
    _text(action.get("catalog_id"), "interactive.action.catalog_id", limit=200)
    sections = _sections(action, _("products"))
    total = 0
    for index, item in enumerate(sections):
        path = f"interactive.action.sections[{index}]"
        section = _object(item, path, _("{\"title\": \"…\", \"product_items\": […]}"))
        _text(section.get("title"), f"{path}.title", limit=SECTION_TITLE_MAX)
        products = section.get("product_items")
        if not isinstance(products, list) or not products:
            raise refuse(
                _("%(field)s needs at least one product.") % {"field": f"{path}.product_items"},
                f"{path}.product_items",
            )
        for position, product in enumerate(products):
            product_path = f"{path}.product_items[{position}]"
            total += 1
            if total > PRODUCT_ITEMS_MAX:
                raise refuse(
                    _("The product list has more than %(max)d products in all; WhatsApp allows at most %(max)d.")
                    % {"max": PRODUCT_ITEMS_MAX},
                    product_path,
                )
            entry = _object(product, product_path, _("{\"product_retailer_id\": \"…\"}"))
            _text(entry.get("product_retailer_id"), f"{product_path}.product_retailer_id", limit=200)


# --- templates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateButton:
    index: int
    type: str  # QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE, …
    text: str = ""
    dynamic: bool | None = None  # URL buttons: whether the URL ends in {{1}}; None when the listing does not say


@dataclass(frozen=True)
class TemplateSpec:
    """What a synced template expects when sent: read from getTemplates' components or CV's text."""

    name: str
    header_format: str = ""  # "", TEXT, IMAGE, VIDEO, DOCUMENT, LOCATION
    header_variables: int = 0
    header_text: str = ""
    body_variables: int = 0
    body_text: str = ""
    footer_text: str = ""
    buttons: tuple[TemplateButton, ...] = field(default_factory=tuple)


def count_variables(text: str, *, contacto_virtual: bool = False) -> int:
    """How many distinct placeholders a template text has: ``{{1}}`` (Aldeamo) or ``{1}`` (Contacto Virtual)."""
    pattern = _CV_PLACEHOLDER if contacto_virtual else _ALDEAMO_PLACEHOLDER
    return len(set(pattern.findall(text or "")))


def template_spec(template: Any) -> TemplateSpec:
    """The parameters ``template`` needs, from its stored components (or, for Contacto Virtual, its text)."""
    if template.waba_id is None:
        text = template.text or ""
        return TemplateSpec(name=template.name, body_text=text, body_variables=count_variables(text,
                                                                                                contacto_virtual=True))
    header_format = header_text = body_text = footer_text = ""
    header_variables = body_variables = 0
    buttons: list[TemplateButton] = []
    for component in template.components or []:
        if not isinstance(component, Mapping):
            continue
        kind = str(component.get("type") or "").upper()
        text = component.get("text") if isinstance(component.get("text"), str) else ""
        if kind == "HEADER":
            header_format = str(component.get("format") or "TEXT").upper()
            header_text = text
            header_variables = count_variables(text) if header_format == "TEXT" else 0
        elif kind == "BODY":
            body_text = text
            body_variables = count_variables(text)
        elif kind == "FOOTER":
            footer_text = text
        elif kind == "BUTTONS":
            for index, button in enumerate(component.get("buttons") or []):
                if not isinstance(button, Mapping):
                    continue
                button_type = str(button.get("type") or "").upper()
                url = button.get("url")
                dynamic = bool(_ALDEAMO_PLACEHOLDER.search(url)) if isinstance(url, str) and url else None
                buttons.append(TemplateButton(index=index, type=button_type, text=str(button.get("text") or ""),
                                              dynamic=dynamic))
    return TemplateSpec(
        name=template.name,
        header_format=header_format,
        header_variables=header_variables,
        header_text=header_text,
        body_variables=body_variables,
        body_text=body_text,
        footer_text=footer_text,
        buttons=tuple(buttons),
    )


def _plural_parameters(count: int) -> str:
    return _("%(count)d parameter was given") % {"count": count} if count == 1 else (
        _("%(count)d parameters were given") % {"count": count})


def _count_mismatch(name: str, part: str, expected: int, given: int, path: str) -> ApplicationError:
    return refuse(
        _("The template '%(name)s' %(part)s has %(expected)d variables; %(given)s.")
        % {"name": name, "part": part, "expected": expected, "given": _plural_parameters(given)},
        path,
    )


def _text_parameter(parameter: dict[str, Any], path: str, limit: int) -> None:
    _text(parameter.get("text"), f"{path}.text", limit=limit)


def _body_parameter(parameter: Any, path: str) -> None:
    param = _object(parameter, path, _("a text, currency or date_time parameter"))
    kind = param.get("type")
    if kind == "text":
        _text_parameter(param, path, TEMPLATE_BODY_PARAM_MAX)
    elif kind == "currency":
        currency = _object(param.get("currency"), f"{path}.currency",
                           _("{\"fallback_value\", \"code\", \"amount_1000\"}"))
        _text(currency.get("fallback_value"), f"{path}.currency.fallback_value", limit=200)
        code = _text(currency.get("code"), f"{path}.currency.code", limit=3)
        if len(code) != 3 or not code.isalpha():
            raise refuse(
                _("%(field)s must be a 3-letter ISO 4217 currency code, e.g. USD or COP.")
                % {"field": f"{path}.currency.code"},
                f"{path}.currency.code",
            )
        amount = currency.get("amount_1000")
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise refuse(
                _("%(field)s must be a whole number: the amount times 1000 (100990 for 100.99).")
                % {"field": f"{path}.currency.amount_1000"},
                f"{path}.currency.amount_1000",
            )
    elif kind == "date_time":
        moment = _object(param.get("date_time"), f"{path}.date_time", _("{\"fallback_value\": \"…\", …}"))
        _text(moment.get("fallback_value"), f"{path}.date_time.fallback_value", limit=200)
    else:
        raise refuse(
            _("%(field)s must be text, currency or date_time.") % {"field": f"{path}.type"}, f"{path}.type"
        )


def _media_parameter(parameter: Any, path: str, media_type: str) -> None:
    param = _object(parameter, path, _("a %(type)s parameter") % {"type": media_type})
    if param.get("type") != media_type:
        raise refuse(
            _("%(field)s must be %(type)s: the template's header is a %(type)s.")
            % {"field": f"{path}.type", "type": media_type},
            f"{path}.type",
        )
    media = _object(param.get(media_type), f"{path}.{media_type}", _("{\"link\": \"https://…\"} or {\"id\": \"…\"}"))
    has_link, has_id = bool(media.get("link")), bool(media.get("id"))
    if has_link == has_id:
        raise refuse(
            _("%(field)s needs either a link (https://…) or a media id, not both.") % {"field": f"{path}.{media_type}"},
            f"{path}.{media_type}",
        )
    if has_link:
        https_link(media.get("link"), f"{path}.{media_type}.link")
    else:
        _text(media.get("id"), f"{path}.{media_type}.id", limit=200)
    filename = _text(media.get("filename"), f"{path}.{media_type}.filename", limit=FILENAME_MAX, required=False)
    _media_provider(media.get("provider"), f"{path}.{media_type}.provider")
    if media_type == "document":
        # WhatsApp takes only PDF documents in templates. A link or file name
        # without an extension cannot be judged and is let through.
        for value, where in ((filename, "filename"), (media.get("link") or "", "link")):
            extension = PurePosixPath(value).suffix.lower().lstrip(".") if where == "filename" else (
                link_extension(value))
            if value and extension and extension != "pdf":
                raise refuse(
                    _("%(field)s: only PDF documents can be sent in templates (got a .%(ext)s file).")
                    % {"field": f"{path}.document.{where}", "ext": extension},
                    f"{path}.document.{where}",
                )


def check_template_components(*, template: Any, components: Any) -> None:
    """Check the send components against the synced template's: counts, header format, buttons.

    ``components`` is Aldeamo's send format, ``[{type: header|body|button,
    sub_type?, index?, parameters: [...]}]``; the template's are getTemplates'.
    A refusal names the component (``template.components[1].parameters``)
    and says what the template expects.
    """
    spec = template_spec(template)
    name = spec.name
    if components is None:
        components = []
    components = _list(components, "template.components")
    seen_header = seen_body = False
    seen_buttons: set[int] = set()
    for index, item in enumerate(components):
        path = f"template.components[{index}]"
        component = _object(item, path, _("{\"type\": \"header|body|button\", \"parameters\": […]}"))
        kind = str(component.get("type") or "").lower()
        parameters = component.get("parameters")
        if parameters is None:
            parameters = []
        parameters = _list(parameters, f"{path}.parameters")
        if kind == "header":
            if seen_header:
                raise refuse(_("%(field)s: only one header component may be given.") % {"field": path}, path)
            seen_header = True
            _check_header(spec, parameters, path)
        elif kind == "body":
            if seen_body:
                raise refuse(_("%(field)s: only one body component may be given.") % {"field": path}, path)
            seen_body = True
            if len(parameters) != spec.body_variables:
                raise _count_mismatch(name, _("body"), spec.body_variables, len(parameters), f"{path}.parameters")
            for position, parameter in enumerate(parameters):
                _body_parameter(parameter, f"{path}.parameters[{position}]")
        elif kind == "button":
            button_index = _check_button(spec, component, parameters, path)
            if button_index in seen_buttons:
                raise refuse(
                    _("%(field)s: button %(index)d is given twice.") % {"field": path, "index": button_index},
                    f"{path}.index",
                )
            seen_buttons.add(button_index)
        else:
            raise refuse(
                _("%(field)s must be header, body or button.") % {"field": f"{path}.type"}, f"{path}.type"
            )
    if spec.body_variables and not seen_body:
        raise refuse(
            _("The template '%(name)s' body has %(count)d variables; add a body component with %(count)d parameters.")
            % {"name": name, "count": spec.body_variables},
            "template.components",
        )
    if spec.header_format in ("IMAGE", "VIDEO", "DOCUMENT", "LOCATION") and not seen_header:
        raise refuse(
            _("The template '%(name)s' has a %(format)s header; add a header component with its %(type)s.")
            % {"name": name, "format": spec.header_format, "type": spec.header_format.lower()},
            "template.components",
        )
    if spec.header_variables and not seen_header:
        raise refuse(
            _("The template '%(name)s' header has %(count)d variables; add a header component with %(count)d "
              "parameters.") % {"name": name, "count": spec.header_variables},
            "template.components",
        )
    for button in spec.buttons:
        if button.type == "URL" and button.dynamic and button.index not in seen_buttons:
            raise refuse(
                _("The template '%(name)s' button %(index)d has a dynamic URL; add a button component "
                  "(sub_type url, index %(index)d) with the URL suffix.") % {"name": name, "index": button.index},
                "template.components",
            )


def _check_header(spec: TemplateSpec, parameters: list[Any], path: str) -> None:
    if not spec.header_format:
        raise refuse(
            _("The template '%(name)s' has no header; remove the header component.") % {"name": spec.name},
            path,
        )
    if spec.header_format == "TEXT":
        if len(parameters) != spec.header_variables:
            raise _count_mismatch(spec.name, _("header"), spec.header_variables, len(parameters),
                                  f"{path}.parameters")
        for position, parameter in enumerate(parameters):
            param_path = f"{path}.parameters[{position}]"
            param = _object(parameter, param_path, _("a text parameter"))
            if param.get("type") != "text":
                raise refuse(
                    _("%(field)s must be text: the template's header is text.") % {"field": f"{param_path}.type"},
                    f"{param_path}.type",
                )
            _text_parameter(param, param_path, TEMPLATE_HEADER_PARAM_MAX)
        return
    media_type = spec.header_format.lower()
    if len(parameters) != 1:
        raise refuse(
            _("The template '%(name)s' has a %(format)s header, which takes exactly 1 parameter (the %(type)s); "
              "%(given)s.") % {"name": spec.name, "format": spec.header_format, "type": media_type,
                                "given": _plural_parameters(len(parameters))},
            f"{path}.parameters",
        )
    if media_type == "location":
        param = _object(parameters[0], f"{path}.parameters[0]", _("a location parameter"))
        if param.get("type") != "location":
            raise refuse(
                _("%(field)s must be location: the template's header is a location.")
                % {"field": f"{path}.parameters[0].type"},
                f"{path}.parameters[0].type",
            )
        return
    _media_parameter(parameters[0], f"{path}.parameters[0]", media_type)


def _check_button(spec: TemplateSpec, component: dict[str, Any], parameters: list[Any], path: str) -> int:
    sub_type = component.get("sub_type")
    if sub_type not in ("quick_reply", "url"):
        raise refuse(_("%(field)s must be quick_reply or url.") % {"field": f"{path}.sub_type"}, f"{path}.sub_type")
    raw_index = component.get("index")
    try:
        index = int(str(raw_index).strip())
    except ValueError:
        index = -1
    if isinstance(raw_index, bool) or index < 0:
        raise refuse(
            _("%(field)s must be the button's position, counting from \"0\".") % {"field": f"{path}.index"},
            f"{path}.index",
        )
    if not spec.buttons:
        raise refuse(
            _("The template '%(name)s' has no buttons; remove the button component.") % {"name": spec.name}, path
        )
    if index >= len(spec.buttons):
        raise refuse(
            _("The template '%(name)s' has %(count)d buttons; %(field)s refers to button %(index)d, which does not "
              "exist.") % {"name": spec.name, "count": len(spec.buttons), "field": f"{path}.index", "index": index},
            f"{path}.index",
        )
    button = spec.buttons[index]
    expected_type = "QUICK_REPLY" if sub_type == "quick_reply" else "URL"
    if button.type != expected_type:
        raise refuse(
            _("The template '%(name)s' button %(index)d is a %(actual)s button, not %(sub_type)s.")
            % {"name": spec.name, "index": index, "actual": button.type, "sub_type": sub_type},
            f"{path}.sub_type",
        )
    if sub_type == "url" and button.dynamic is False:
        raise refuse(
            _("The template '%(name)s' button %(index)d has a fixed URL; it takes no parameter, remove this "
              "component.") % {"name": spec.name, "index": index},
            path,
        )
    if len(parameters) != 1:
        raise refuse(
            _("%(field)s: a %(sub_type)s button takes exactly 1 parameter; %(given)s.")
            % {"field": f"{path}.parameters", "sub_type": sub_type, "given": _plural_parameters(len(parameters))},
            f"{path}.parameters",
        )
    param_path = f"{path}.parameters[0]"
    param = _object(parameters[0], param_path, _("a button parameter"))
    if sub_type == "quick_reply":
        if param.get("type") != "payload":
            raise refuse(
                _("%(field)s must be payload for a quick-reply button.") % {"field": f"{param_path}.type"},
                f"{param_path}.type",
            )
        _text(param.get("payload"), f"{param_path}.payload", limit=TEMPLATE_BUTTON_PARAM_MAX)
    else:
        if param.get("type") != "text":
            raise refuse(
                _("%(field)s must be text (the URL suffix) for a URL button.") % {"field": f"{param_path}.type"},
                f"{param_path}.type",
            )
        _text(param.get("text"), f"{param_path}.text", limit=TEMPLATE_BUTTON_PARAM_MAX)
    return index


# --- Contacto Virtual templates ---------------------------------------------------------------------


def contacto_virtual_parameters(*, template: Any, components: Any) -> tuple[tuple[str, ...], str]:
    """The variables and media link of a Contacto Virtual send, from the components of the send shape.

    Body parameters (text) become the template variables, in order; the
    header's media parameter link becomes ``media``. Values containing ``[`` or
    ``]`` are refused (the provider separates variables with brackets and has no
    escape); the variable count must match the template text's ``{n}``
    placeholders when the text is known.
    """
    if components is None:
        components = []
    components = _list(components, "template.components")
    variables: list[str] = []
    media = ""
    for index, item in enumerate(components):
        path = f"template.components[{index}]"
        component = _object(item, path, _("{\"type\": \"header|body\", \"parameters\": […]}"))
        kind = str(component.get("type") or "").lower()
        parameters = component.get("parameters")
        parameters = _list([] if parameters is None else parameters, f"{path}.parameters")
        if kind == "body":
            spec = template_spec(template)
            if template.text and len(parameters) != spec.body_variables:
                raise _count_mismatch(template.name, _("text"), spec.body_variables, len(parameters),
                                      f"{path}.parameters")
            for position, parameter in enumerate(parameters):
                param_path = f"{path}.parameters[{position}]"
                param = _object(parameter, param_path, _("a text parameter"))
                if param.get("type") != "text":
                    raise refuse(
                        _("%(field)s must be text: Contacto Virtual template variables are text.")
                        % {"field": f"{param_path}.type"},
                        f"{param_path}.type",
                    )
                value = _text(param.get("text"), f"{param_path}.text", limit=TEMPLATE_BODY_PARAM_MAX)
                if "[" in value or "]" in value:
                    raise refuse(
                        _("%(field)s contains '[' or ']', which Contacto Virtual uses to separate variables; "
                          "remove the brackets (variable {%(position)d}).")
                        % {"field": f"{param_path}.text", "position": position + 1},
                        f"{param_path}.text",
                    )
                variables.append(value)
        elif kind == "header":
            if len(parameters) != 1:
                raise refuse(
                    _("%(field)s: the header takes exactly 1 media parameter (image, video or document with a "
                      "link); %(given)s.") % {"field": f"{path}.parameters", "given": _plural_parameters(
                        len(parameters))},
                    f"{path}.parameters",
                )
            param_path = f"{path}.parameters[0]"
            param = _object(parameters[0], param_path, _("a media parameter"))
            media_type = param.get("type")
            if media_type not in ("image", "video", "document", "audio"):
                raise refuse(
                    _("%(field)s must be image, video, document or audio: Contacto Virtual sends one media file by "
                      "link.") % {"field": f"{param_path}.type"},
                    f"{param_path}.type",
                )
            obj = _object(param.get(media_type), f"{param_path}.{media_type}", _("{\"link\": \"https://…\"}"))
            media = https_link(obj.get("link"), f"{param_path}.{media_type}.link")
            extension = link_extension(media)
            if extension not in CV_MEDIA_EXTENSIONS:
                raise refuse(
                    _("%(field)s must link to a file Contacto Virtual can send (%(types)s); this link ends in "
                      "'%(ext)s'.") % {"field": f"{param_path}.{media_type}.link", "types": ", ".join(
                        CV_MEDIA_EXTENSIONS), "ext": extension or _("no extension")},
                    f"{param_path}.{media_type}.link",
                )
        else:
            raise refuse(
                _("%(field)s must be body or header: Contacto Virtual templates take variables and one media file.")
                % {"field": f"{path}.type"},
                f"{path}.type",
            )
    spec = template_spec(template)
    if template.text and spec.body_variables and not variables:
        raise refuse(
            _("The template '%(name)s' text has %(count)d variables; add a body component with %(count)d "
              "parameters.") % {"name": template.name, "count": spec.body_variables},
            "template.components",
        )
    return tuple(variables), media
