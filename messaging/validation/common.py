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
the send service (:mod:`messaging.sending`) does the database look-ups. By
message type: :mod:`~messaging.validation.content` (every free-form type),
:mod:`~messaging.validation.templates` (a template's components against its
spec), :mod:`~messaging.validation.positional` (a positional (Contacto Virtual)
template's variables and media); this module holds what they share.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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


_https = URLValidator(schemes=["https"])
_SEPARATORS = re.compile(r"[\s\-().]")


def refuse(message: str, field: str | None, **extra: Any) -> ApplicationError:
    """The ApplicationError for a refused input (raise it)."""
    return ApplicationError(message, field=field, extra=extra or None)


# --- small checks ---------------------------------------------------------------


def as_object(value: Any, path: str, what: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise refuse(_("%(field)s must be an object (%(what)s).") % {"field": path, "what": what}, path)
    return dict(value)


def as_list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise refuse(_("%(field)s must be a list.") % {"field": path}, path)
    return value


def as_text(value: Any, path: str, *, limit: int | None = None, required: bool = True) -> str:
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


def known_keys(obj: Mapping[str, Any], allowed: tuple[str, ...], path: str) -> None:
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
    link = as_text(value, path)
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
    text = as_text(value, "context.message_id", limit=CONTEXT_ID_MAX)
    return text.strip()


def custom_field(value: Any) -> str:
    if value is None or value == "":
        return ""
    text = as_text(value, "custom_field", required=False)
    if len(text) > CUSTOM_FIELD_MAX:
        raise refuse(
            _("custom_field is %(length)d characters long; Contacto Virtual accepts at most %(limit)d.")
            % {"length": len(text), "limit": CUSTOM_FIELD_MAX},
            "custom_field",
        )
    return text


def plural_parameters(count: int) -> str:
    return _("%(count)d parameter was given") % {"count": count} if count == 1 else (
        _("%(count)d parameters were given") % {"count": count})


def count_mismatch(name: str, part: str, expected: int, given: int, path: str) -> ApplicationError:
    return refuse(
        _("The template '%(name)s' %(part)s has %(expected)d variables; %(given)s.")
        % {"name": name, "part": part, "expected": expected, "given": plural_parameters(given)},
        path,
    )
