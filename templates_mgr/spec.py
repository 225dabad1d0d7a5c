"""What a synced template takes when it is sent: its slots, read once for every consumer.

A *slot* is one value each send must supply: ``header_1`` … for a text
header's variables, ``header_media`` for the link of an image/video/document
header, ``body_1`` … for the body's variables, ``button_<index>`` for the
suffix of a URL button whose URL ends in a placeholder. The composer asks for
exactly these (``tpl_<key>``), campaigns map a column or a fixed value to each,
and the send validation counts the parameters against the same reading.

Placeholders are read with the pattern the template's provider declares
(``Capabilities.template_placeholder``): ``{{n}}`` in WhatsApp's components,
``{n}`` in a Contacto Virtual template's text. A provider whose templates take
positional values (``template_parameters == "positional"``) is read from the
template's text; the others from its components.

Pure: no database, no network.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext as _

#: WhatsApp's placeholder in components (headers, bodies, URL buttons).
WHATSAPP_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")

# Slot kinds.
TEXT = "text"
MEDIA = "media"
URL_SUFFIX = "url_suffix"

# WhatsApp's limits on a filled value (positional variables take as much as a body's).
HEADER_MAX = 60
BODY_MAX = 1024
URL_MAX = 2000
POSITIONAL_VARIABLE_MAX = 1024

#: Header formats whose value is a media link.
MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")


@dataclass(frozen=True)
class TemplateButton:
    index: int
    type: str  # QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE, …
    text: str = ""
    dynamic: bool | None = None  # URL buttons: whether the URL ends in {{1}}; None when the listing does not say


@dataclass(frozen=True)
class Slot:
    """One value every send of the template must supply."""

    key: str
    label: str
    kind: str  # TEXT, MEDIA or URL_SUFFIX
    max_length: int
    component: str  # "header", "body" or "button"
    position: int  # the variable's number, or the button's index
    media_format: str = ""  # for a MEDIA slot: image, video or document


@dataclass(frozen=True)
class TemplateSpec:
    """What a synced template expects when sent: read from its components, or from its text (positional)."""

    name: str
    positional: bool = False
    placeholder: re.Pattern = WHATSAPP_PLACEHOLDER
    header_format: str = ""  # "", TEXT, IMAGE, VIDEO, DOCUMENT, LOCATION
    header_variables: int = 0
    header_text: str = ""
    body_variables: int = 0
    body_text: str = ""
    footer_text: str = ""
    buttons: tuple[TemplateButton, ...] = field(default_factory=tuple)
    slots: tuple[Slot, ...] = field(default_factory=tuple)

@lru_cache(maxsize=32)
def _pattern(expression: str) -> re.Pattern:
    return re.compile(expression)


def placeholder_pattern(template: Any) -> re.Pattern:
    """The pattern ``template``'s provider marks variables with."""
    return _pattern(template.capabilities.template_placeholder)


def placeholder_numbers(text: str | None, pattern: re.Pattern = WHATSAPP_PLACEHOLDER) -> list[int]:
    """The distinct variable numbers of ``text``, sorted."""
    return sorted({int(number) for number in pattern.findall(text or "")})


def count_variables(text: str | None, pattern: re.Pattern = WHATSAPP_PLACEHOLDER) -> int:
    """How many distinct placeholders a template text has (``{{1}}`` unless another pattern is given)."""
    return len(placeholder_numbers(text, pattern))


def template_spec(template: Any) -> TemplateSpec:
    """What ``template`` takes when sent, from its stored components (or, positional, its text)."""
    if template.capabilities.template_parameters == "positional":
        text = template.text or ""
        pattern = placeholder_pattern(template)
        numbers = placeholder_numbers(text, pattern)
        slots = tuple(Slot(f"body_{n}", _("Variable {%(n)d}") % {"n": n}, TEXT, POSITIONAL_VARIABLE_MAX, "body", n)
                      for n in numbers)
        return TemplateSpec(name=template.name, positional=True, placeholder=pattern, body_text=text,
                            body_variables=len(numbers), slots=slots)
    header_format = header_text = body_text = footer_text = ""
    header_numbers: list[int] = []
    body_numbers: list[int] = []
    buttons: list[TemplateButton] = []
    for component in template.components or []:
        if not isinstance(component, Mapping):
            continue
        kind = str(component.get("type") or "").upper()
        text = component.get("text") if isinstance(component.get("text"), str) else ""
        if kind == "HEADER":
            header_format = str(component.get("format") or "TEXT").upper()
            header_text = text
            header_numbers = placeholder_numbers(text) if header_format == "TEXT" else []
        elif kind == "BODY":
            body_text = text
            body_numbers = placeholder_numbers(text)
        elif kind == "FOOTER":
            footer_text = text
        elif kind == "BUTTONS":
            for index, button in enumerate(component.get("buttons") or []):
                if not isinstance(button, Mapping):
                    continue
                url = button.get("url")
                dynamic = bool(WHATSAPP_PLACEHOLDER.search(url)) if isinstance(url, str) and url else None
                buttons.append(TemplateButton(index=index, type=str(button.get("type") or "").upper(),
                                              text=str(button.get("text") or ""), dynamic=dynamic))
    slots = [Slot(f"header_{n}", _("Header {{%(n)d}}") % {"n": n}, TEXT, HEADER_MAX, "header", n)
             for n in header_numbers]
    if header_format in MEDIA_FORMATS:
        media = header_format.lower()
        slots.append(Slot("header_media", _("Header %(format)s (link)") % {"format": media}, MEDIA, URL_MAX,
                          "header", 0, media_format=media))
    slots += [Slot(f"body_{n}", _("Body {{%(n)d}}") % {"n": n}, TEXT, BODY_MAX, "body", n) for n in body_numbers]
    slots += [Slot(f"button_{button.index}", _("Button %(n)d link ending") % {"n": button.index + 1}, URL_SUFFIX,
                   URL_MAX, "button", button.index)
              for button in buttons if button.type == "URL" and button.dynamic]
    return TemplateSpec(
        name=template.name,
        header_format=header_format,
        header_variables=len(header_numbers),
        header_text=header_text,
        body_variables=len(body_numbers),
        body_text=body_text,
        footer_text=footer_text,
        buttons=tuple(buttons),
        slots=tuple(slots),
    )


def template_parameters(content: Any, component_type: str) -> list[str]:
    """The text parameters a send's content gives one component ("header", "body"), in order."""
    data = content if isinstance(content, Mapping) else {}
    for component in data.get("components") or []:
        if isinstance(component, Mapping) and str(component.get("type", "")).lower() == component_type:
            return [str(parameter.get("text", "")) for parameter in component.get("parameters") or []
                    if isinstance(parameter, Mapping) and parameter.get("type") == "text"]
    return []


def spec_filled(spec: TemplateSpec, *, header: list[str], body: list[str]) -> dict[str, str]:
    """A template's header, body and footer with the given values in place (a missing one stays ``{{n}}``)."""
    def filled(text: str, values: list[str]) -> str:
        def value(match) -> str:
            index = int(match.group(1)) - 1
            return values[index] if 0 <= index < len(values) and values[index] else match.group(0)

        return spec.placeholder.sub(value, text or "")

    return {
        "header": filled(spec.header_text, header) if spec.header_format in ("", "TEXT") else "",
        "body": filled(spec.body_text, body),
        "footer": spec.footer_text,
    }


def spec_sent(spec: TemplateSpec, content: Any) -> dict[str, str]:
    """A template send as the customer read it: :func:`spec_filled` with the send's own parameters."""
    return spec_filled(spec, header=template_parameters(content, "header"), body=template_parameters(content, "body"))
