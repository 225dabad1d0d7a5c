"""The template builder's flat form, Aldeamo's components, and the preview bubble.

A person thinks in "header type, header text, body, an example per variable,
buttons"; the provider wants ``createTemplate`` components. These helpers go
both ways (so a stored template can be copied back into the builder) and
render what WhatsApp would show, with the examples in place of ``{{n}}``.
The browser preview (``static/templates_mgr/builder.js``) follows the same
rules, so the builder and the detail page show the same bubble.

Pure: no database, no network.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from templates_mgr.validation import (
    MEDIA_FORMATS,
    PHONE_NUMBER,
    QUICK_REPLY,
    TEXT_FORMAT,
    URL,
    VARIABLE_RE,
    placeholders,
)

HEADER_NONE = "none"
HEADER_TEXT = "text"
HEADER_TYPES = (HEADER_NONE, HEADER_TEXT, "image", "video", "document")
# A typo such as {{500}} must not grow 500 example inputs; real bodies have a handful.
MAX_EXAMPLE_SLOTS = 100
# The glyph WhatsApp draws before each kind of button (builder.js uses the same).
BUTTON_ICONS = {QUICK_REPLY: "↩", URL: "↗", PHONE_NUMBER: "✆"}


class ButtonData(TypedDict, total=False):
    type: str  # QUICK_REPLY, URL or PHONE_NUMBER ("" for an unused row)
    text: str
    url: str
    url_example: str
    phone_number: str


class BuilderData(TypedDict, total=False):
    category: str
    name: str
    language: str
    header_type: str  # one of HEADER_TYPES
    header_text: str
    header_example: str
    header_media_url: str
    body_text: str
    body_examples: list[str]  # one per variable: body_examples[0] is the example of {{1}}
    footer_text: str
    buttons: list[ButtonData]


def example_slots(text: str | None) -> int:
    """How many examples ``text`` asks for: its highest variable number (capped).

    The highest number rather than the count of distinct variables, so that a
    body written with a gap (``{{1}} … {{3}}``) still has an input for each
    number while validation explains the gap.
    """
    numbers = placeholders(text)
    return min(max(numbers), MAX_EXAMPLE_SLOTS) if numbers else 0


# --- form → components -----------------------------------------------------------


def components_from_form(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``createTemplate`` components for the builder's flat ``data`` (a :class:`BuilderData`).

    Emits what was given, even when it breaks a rule, so that validation can
    name the problem; examples are shaped to the variables the text has.
    Components come in WhatsApp's reading order: header, body, footer, buttons.
    """
    components: list[dict[str, Any]] = []
    header = _header_component(data)
    if header is not None:
        components.append(header)
    body_text = data.get("body_text") or ""
    body: dict[str, Any] = {"type": "BODY", "text": body_text}
    slots = example_slots(body_text)
    if slots:
        examples = [str(value or "") for value in (data.get("body_examples") or [])][:slots]
        examples += [""] * (slots - len(examples))
        body["example"] = {"body_text": [examples]}
    components.append(body)
    footer = data.get("footer_text") or ""
    if footer.strip():
        components.append({"type": "FOOTER", "text": footer})
    buttons = [_button_component(button) for button in data.get("buttons") or () if button.get("type")]
    if buttons:
        components.append({"type": "BUTTONS", "buttons": buttons})
    return components


def _header_component(data: Mapping[str, Any]) -> dict[str, Any] | None:
    kind = (data.get("header_type") or HEADER_NONE).lower()
    if kind == HEADER_TEXT:
        text = data.get("header_text") or ""
        header: dict[str, Any] = {"type": "HEADER", "format": TEXT_FORMAT, "text": text}
        if placeholders(text):
            header["example"] = {"header_text": [data.get("header_example") or ""]}
        return header
    if kind.upper() in MEDIA_FORMATS:
        url = (data.get("header_media_url") or "").strip()
        return {"type": "HEADER", "format": kind.upper(), "example": {"header_handle": [url] if url else []}}
    return None


def _button_component(button: Mapping[str, Any]) -> dict[str, Any]:
    kind = (button.get("type") or "").upper()
    component: dict[str, Any] = {"type": kind, "text": button.get("text") or ""}
    if kind == URL:
        url = button.get("url") or ""
        component["url"] = url
        if placeholders(url):
            component["example"] = [button.get("url_example") or ""]
    elif kind == PHONE_NUMBER:
        component["phone_number"] = button.get("phone_number") or ""
    return component


# --- components → form -----------------------------------------------------------


def form_initial_from_components(
    components: Sequence[Mapping[str, Any]] | None, *, name: str = "", language: str = "", category: str = ""
) -> BuilderData:
    """The builder's flat data for stored components (to copy a template into the builder).

    Reads what the provider lists as well as what the builder wrote: types in
    any case, ``null`` fields, a ``BUTTONS`` component without ``buttons``.
    """
    data: BuilderData = {
        "category": category,
        "name": name,
        "language": language,
        "header_type": HEADER_NONE,
        "header_text": "",
        "header_example": "",
        "header_media_url": "",
        "body_text": "",
        "body_examples": [],
        "footer_text": "",
        "buttons": [],
    }
    for component in components or ():
        if not isinstance(component, Mapping):
            continue
        kind = str(component.get("type") or "").upper()
        if kind == "HEADER":
            fmt = str(component.get("format") or TEXT_FORMAT).upper()
            if fmt in MEDIA_FORMATS:
                data["header_type"] = fmt.lower()
                handles = _example(component, "header_handle")
                data["header_media_url"] = str(handles[0]) if handles else ""
            else:
                data["header_type"] = HEADER_TEXT
                data["header_text"] = component.get("text") or ""
                examples = _example(component, "header_text")
                data["header_example"] = str(examples[0]) if examples else ""
        elif kind == "BODY":
            data["body_text"] = component.get("text") or ""
            rows = _example(component, "body_text")
            row = rows[0] if rows and isinstance(rows[0], list) else []
            data["body_examples"] = [str(value) for value in row]
        elif kind == "FOOTER":
            data["footer_text"] = component.get("text") or ""
        elif kind == "BUTTONS":
            data["buttons"] = [_button_data(b) for b in component.get("buttons") or () if isinstance(b, Mapping)]
    return data


def _example(component: Mapping[str, Any], key: str) -> list:
    example = component.get("example")
    values = example.get(key) if isinstance(example, Mapping) else None
    return values if isinstance(values, list) else []


def _button_data(button: Mapping[str, Any]) -> ButtonData:
    example = button.get("example")
    return {
        "type": str(button.get("type") or "").upper(),
        "text": button.get("text") or "",
        "url": button.get("url") or "",
        "url_example": str(example[0]) if isinstance(example, list) and example else "",
        "phone_number": button.get("phone_number") or "",
    }


def components_from_plain_text(text: str) -> list[dict[str, Any]]:
    """A body component for Contacto Virtual's approved text, whose variables are written ``{1}``."""
    return [{"type": "BODY", "text": re.sub(r"(?<!\{)\{([1-9][0-9]*)\}(?!\})", r"{{\1}}", text or "")}]


# --- preview ---------------------------------------------------------------------

# Private-use characters mark variables while the text is escaped and formatted,
# so that neither step can touch them; they become <span>s at the end.
_MISSING = ("\ue000", "\ue001")
_GIVEN = ("\ue002", "\ue003")
_MARKS_RE = re.compile("[\ue000-\ue003]")
_FORMATS = (
    (re.compile(r"```(.+?)```", re.DOTALL), "code"),
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), "strong"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])"), "em"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])"), "s"),
)


def fill(text: str | None, values: Mapping[int, str]) -> str:
    """``text`` with each ``{{n}}`` replaced by ``values[n]`` when there is one (plain text)."""

    def replace(match: re.Match) -> str:
        value = values.get(int(match.group(1)))
        return value if value else match.group(0)

    return VARIABLE_RE.sub(replace, text or "")


def whatsapp_html(text: str | None, values: Mapping[int, str] | None = None, *, formatting: bool = True) -> SafeString:
    """``text`` as WhatsApp shows it, as safe HTML.

    ``*bold*``, ``_italic_``, ``~strike~`` and triple-backtick monospace are
    rendered; examples replace their variables (marked ``wa-example``), and a
    variable without an example stays visible as ``{{n}}`` (marked ``wa-var``).
    """
    values = values or {}

    def mark(match: re.Match) -> str:
        number = int(match.group(1))
        start, end = _GIVEN if values.get(number) else _MISSING
        return f"{start}{number}{end}"

    html = str(escape(VARIABLE_RE.sub(mark, _MARKS_RE.sub("", text or ""))))
    if formatting:
        for pattern, tag in _FORMATS:
            html = pattern.sub(rf"<{tag}>\1</{tag}>", html)
    html = re.sub(
        f"{_MISSING[0]}([0-9]+){_MISSING[1]}",
        lambda m: f'<span class="wa-var">{{{{{m.group(1)}}}}}</span>',
        html,
    )
    html = re.sub(
        f"{_GIVEN[0]}([0-9]+){_GIVEN[1]}",
        lambda m: f'<span class="wa-example" title="{{{{{m.group(1)}}}}}">{escape(values[int(m.group(1))])}</span>',
        html,
    )
    return mark_safe(html.replace("\n", "<br>"))


def render_preview(components: Sequence[Mapping[str, Any]] | None, examples: bool = True) -> dict[str, Any]:
    """What the WhatsApp bubble shows for ``components``.

    Returns ``{"header": None | {"format", "text", "html", "media_url"},
    "body": {"text", "html"}, "footer": str, "buttons": [{"type", "text",
    "url", "phone_number", "icon"}], "variables": int}``: ``text`` values are plain
    text with the examples in place of ``{{n}}`` (when ``examples``), ``html``
    values are safe HTML for the bubble.
    """
    data = form_initial_from_components(components)
    header_values: dict[int, str] = {}
    body_values: dict[int, str] = {}
    if examples:
        if data["header_example"]:
            header_values[1] = data["header_example"]
        body_values = {index + 1: value for index, value in enumerate(data["body_examples"]) if value}
    header = None
    if data["header_type"] == HEADER_TEXT:
        header = {
            "format": TEXT_FORMAT,
            "text": fill(data["header_text"], header_values),
            "html": whatsapp_html(data["header_text"], header_values, formatting=False),
            "media_url": "",
        }
    elif data["header_type"] != HEADER_NONE:
        header = {"format": data["header_type"].upper(), "text": "", "html": mark_safe(""),
                  "media_url": data["header_media_url"]}
    buttons = []
    for button in data["buttons"]:
        url = button.get("url", "")
        example = button.get("url_example", "")
        if examples and url and example and placeholders(url):
            url = example if re.match(r"^https?://", example, re.IGNORECASE) else fill(url, {1: example})
        kind = button.get("type", "")
        buttons.append({"type": kind, "text": button.get("text", ""), "url": url,
                        "phone_number": button.get("phone_number", ""), "icon": BUTTON_ICONS.get(kind, "")})
    return {
        "header": header,
        "body": {"text": fill(data["body_text"], body_values), "html": whatsapp_html(data["body_text"], body_values)},
        "footer": data["footer_text"],
        "buttons": buttons,
        "variables": len(set(placeholders(data["body_text"]))),
    }

