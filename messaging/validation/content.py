"""The free-form message types (text, media, location, contacts, interactive), checked against WhatsApp's limits."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from messaging.validation.common import (
    BUTTON_ID_MAX,
    BUTTON_TITLE_MAX,
    BUTTONS_MAX,
    CAPTION_MAX,
    FILENAME_MAX,
    INTERACTIVE_BODY_MAX,
    INTERACTIVE_FOOTER_MAX,
    INTERACTIVE_HEADER_TEXT_MAX,
    INTERACTIVE_TYPES,
    LIST_BUTTON_MAX,
    LIST_ROWS_MAX,
    LIST_SECTIONS_MAX,
    LOCATION_TEXT_MAX,
    MEDIA_TYPES,
    PRODUCT_ITEMS_MAX,
    ROW_DESCRIPTION_MAX,
    ROW_ID_MAX,
    ROW_TITLE_MAX,
    SECTION_TITLE_MAX,
    SENDABLE_TYPES,
    TEXT_BODY_MAX,
    as_list,
    as_object,
    as_text,
    https_link,
    known_keys,
    refuse,
)

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
    text = as_object(content, "text", _("{\"body\": \"…\"}"))
    known_keys(text, ("body",), "text")
    as_text(text.get("body"), "text.body", limit=TEXT_BODY_MAX)


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
    media = as_object(content, type, _("{\"link\": \"https://…\"}"))
    if "id" in media:
        raise refuse(
            _("%(field)s: media is sent by link (an https:// URL); uploaded media ids are not supported.")
            % {"field": f"{type}.id"},
            f"{type}.id",
        )
    known_keys(media, _MEDIA_KEYS[type], type)
    https_link(media.get("link"), f"{type}.link")
    as_text(media.get("caption"), f"{type}.caption", limit=CAPTION_MAX, required=False)
    as_text(media.get("filename"), f"{type}.filename", limit=FILENAME_MAX, required=False)
    media_provider(media.get("provider"), f"{type}.provider")


def media_provider(value: Any, path: str) -> None:
    if value is None:
        return
    provider = as_object(value, path, _("{\"name\": \"…\"}"))
    as_text(provider.get("name"), f"{path}.name", limit=200)


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
    location = as_object(content, "location", _("{\"latitude\": …, \"longitude\": …}"))
    known_keys(location, ("latitude", "longitude", "name", "address"), "location")
    _number(location.get("latitude"), "location.latitude", -90, 90)
    _number(location.get("longitude"), "location.longitude", -180, 180)
    name = as_text(location.get("name"), "location.name", limit=LOCATION_TEXT_MAX, required=False)
    address = as_text(location.get("address"), "location.address", limit=LOCATION_TEXT_MAX, required=False)
    if address and not name.strip():
        raise refuse(
            _("location.address is only shown together with a name: add location.name or remove the address."),
            "location.address",
        )


def _validate_contacts(content: Any) -> None:
    contacts = as_list(content, "contacts")
    if not contacts:
        raise refuse(_("contacts needs at least one contact."), "contacts")
    for index, item in enumerate(contacts):
        path = f"contacts[{index}]"
        contact = as_object(item, path, _("a contact card"))
        name = as_object(contact.get("name"), f"{path}.name", _("{\"formatted_name\": \"…\"}"))
        as_text(name.get("formatted_name"), f"{path}.name.formatted_name", limit=LOCATION_TEXT_MAX)
        phones = contact.get("phones")
        if not isinstance(phones, list) or not phones:
            raise refuse(
                _("%(field)s needs at least one phone number.") % {"field": f"{path}.phones"}, f"{path}.phones"
            )
        for position, phone in enumerate(phones):
            phone_path = f"{path}.phones[{position}]"
            entry = as_object(phone, phone_path, _("{\"phone\": \"…\"}"))
            as_text(entry.get("phone"), f"{phone_path}.phone", limit=40)


# --- interactive ------------------------------------------------------------------------


def _validate_interactive(content: Any) -> None:
    interactive = as_object(content, "interactive", _("{\"type\": \"button|list|product|product_list\", …}"))
    known_keys(interactive, ("type", "header", "body", "footer", "action"), "interactive")
    kind = interactive.get("type")
    if kind not in INTERACTIVE_TYPES:
        raise refuse(
            _("interactive.type must be one of: %(types)s.") % {"types": ", ".join(INTERACTIVE_TYPES)},
            "interactive.type",
        )
    _interactive_header(interactive.get("header"), kind)
    if interactive.get("body") is not None or kind != "product":
        body = as_object(interactive.get("body"), "interactive.body", _("{\"text\": \"…\"}"))
        as_text(body.get("text"), "interactive.body.text", limit=INTERACTIVE_BODY_MAX)
    if interactive.get("footer") is not None:
        footer = as_object(interactive.get("footer"), "interactive.footer", _("{\"text\": \"…\"}"))
        as_text(footer.get("text"), "interactive.footer.text", limit=INTERACTIVE_FOOTER_MAX)
    action = as_object(interactive.get("action"), "interactive.action", _("the buttons, list or products"))
    if kind == "button":
        _interactive_buttons(action)
    elif kind == "list":
        _interactive_list(action)
    elif kind == "product":
        as_text(action.get("catalog_id"), "interactive.action.catalog_id", limit=200)
        as_text(action.get("product_retailer_id"), "interactive.action.product_retailer_id", limit=200)
    else:
        _interactive_product_list(action)


def _interactive_header(value: Any, kind: str) -> None:
    if value is None:
        if kind == "product_list":
            raise refuse(_("interactive.header is required for a product list (a text header)."), "interactive.header")
        return
    header = as_object(value, "interactive.header", _("{\"type\": \"text\", \"text\": \"…\"}"))
    header_type = header.get("type")
    allowed = ("text", "image", "video", "document") if kind == "button" else ("text",)
    if header_type not in allowed:
        raise refuse(
            _("interactive.header.type must be %(allowed)s for a %(kind)s message.")
            % {"allowed": " / ".join(allowed), "kind": kind},
            "interactive.header.type",
        )
    if header_type == "text":
        as_text(header.get("text"), "interactive.header.text", limit=INTERACTIVE_HEADER_TEXT_MAX)
    else:
        media = as_object(header.get(header_type), f"interactive.header.{header_type}", _("{\"link\": \"https://…\"}"))
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
        button = as_object(item, path, _("{\"type\": \"reply\", \"reply\": {\"id\", \"title\"}}"))
        if button.get("type") != "reply":
            raise refuse(_("%(field)s must be \"reply\".") % {"field": f"{path}.type"}, f"{path}.type")
        reply = as_object(button.get("reply"), f"{path}.reply", _("{\"id\": \"…\", \"title\": \"…\"}"))
        button_id = as_text(reply.get("id"), f"{path}.reply.id", limit=BUTTON_ID_MAX)
        as_text(reply.get("title"), f"{path}.reply.title", limit=BUTTON_TITLE_MAX)
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
    as_text(action.get("button"), "interactive.action.button", limit=LIST_BUTTON_MAX)
    sections = _sections(action, _("rows"))
    total = 0
    seen: set[str] = set()
    for index, item in enumerate(sections):
        path = f"interactive.action.sections[{index}]"
        section = as_object(item, path, _("{\"title\": \"…\", \"rows\": […]}"))
        as_text(section.get("title"), f"{path}.title", limit=SECTION_TITLE_MAX, required=len(sections) > 1)
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
            row = as_object(row_item, row_path, _("{\"id\": \"…\", \"title\": \"…\"}"))
            row_id = as_text(row.get("id"), f"{row_path}.id", limit=ROW_ID_MAX)
            as_text(row.get("title"), f"{row_path}.title", limit=ROW_TITLE_MAX)
            as_text(row.get("description"), f"{row_path}.description", limit=ROW_DESCRIPTION_MAX, required=False)
            if row_id in seen:
                raise refuse(
                    _("%(field)s repeats the id %(id)s; each row needs its own id.")
                    % {"field": f"{row_path}.id", "id": row_id},
                    f"{row_path}.id",
                )
            seen.add(row_id)


def _interactive_product_list(action: dict[str, Any]) -> None:
    as_text(action.get("catalog_id"), "interactive.action.catalog_id", limit=200)
    sections = _sections(action, _("products"))
    total = 0
    for index, item in enumerate(sections):
        path = f"interactive.action.sections[{index}]"
        section = as_object(item, path, _("{\"title\": \"…\", \"product_items\": […]}"))
        as_text(section.get("title"), f"{path}.title", limit=SECTION_TITLE_MAX)
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
            entry = as_object(product, product_path, _("{\"product_retailer_id\": \"…\"}"))
            as_text(entry.get("product_retailer_id"), f"{product_path}.product_retailer_id", limit=200)
