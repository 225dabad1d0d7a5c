"""A template's variable slots, the checks on their values, and the send content.

A *slot* is one value a recipient row must supply, as the template's one
spec reads it (:mod:`templates_mgr.spec`: ``body_1`` … for the body's
variables, ``header_1`` for a text header's, ``header_media`` for a media
header's link, ``button_<index>`` for a dynamic URL button's suffix). A CSV
column or a fixed value (shared by every row) fills each slot.

The checks mirror what WhatsApp refuses at send time, so the dry run reports
them per row instead of the provider failing them one by one: a filled body
over 1,024 characters, a filled header over 60, a text parameter with a line
break, a tab or more than four spaces in a row (Meta error 132018), a media
link that is not http(s), a Contacto Virtual value with square brackets (its
``[a] [b]`` variable format cannot carry them).

Pure: no database, no network.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from campaigns.models import SkipReason
from templates_mgr.spec import (
    BODY_MAX,
    HEADER_MAX,
    MEDIA,
    TEXT,
    WHATSAPP_PLACEHOLDER,
    Slot,
    template_spec,
)

# Meta refuses text parameters with new lines, tabs or more than four consecutive spaces.
BAD_WHITESPACE_RE = re.compile(r"[\n\r\t]| {5,}")


@dataclass(frozen=True)
class Problem:
    reason: str  # a SkipReason value
    detail: str


def template_slots(template) -> list[Slot]:
    """The values each recipient must supply for ``template``, in send order (:func:`templates_mgr.spec.template_spec`)."""
    return list(template_spec(template).slots)


def _fill(regex: re.Pattern, text: str, values: Mapping[int, str]) -> str:
    return regex.sub(lambda match: values.get(int(match.group(1)), match.group(0)), text)


class RowChecker:
    """Checks one row's values against a template's slots (built once per campaign)."""

    def __init__(self, template, slots: list[Slot]) -> None:
        capabilities = template.capabilities
        self.forbidden = capabilities.variable_forbidden
        self.whitespace_rule = capabilities.variable_whitespace_rule
        self.provider_name = template.client.provider_account.get_provider_display()
        self.slots = slots
        spec = template_spec(template)
        self.placeholder = spec.placeholder
        self.body_text = spec.body_text
        self.header_text = spec.header_text if spec.header_format == "TEXT" else ""

    def problem(self, values: Mapping[str, str]) -> Problem | None:
        """The first reason this row cannot be sent, or None."""
        for slot in self.slots:
            value = values.get(slot.key, "")
            if not value.strip():
                return Problem(SkipReason.MISSING_VARIABLE, _("%(slot)s is empty.") % {"slot": slot.label})
            if len(value) > slot.max_length:
                return Problem(
                    SkipReason.TOO_LONG,
                    _("%(slot)s has %(length)d characters; the limit is %(max)d.")
                    % {"slot": slot.label, "length": len(value), "max": slot.max_length},
                )
            if slot.kind == TEXT and self.whitespace_rule and BAD_WHITESPACE_RE.search(value):
                return Problem(
                    SkipReason.INVALID_VALUE,
                    _("%(slot)s has a line break, a tab or more than four spaces in a row; WhatsApp refuses them.")
                    % {"slot": slot.label},
                )
            if self.forbidden and any(char in value for char in self.forbidden):
                return Problem(
                    SkipReason.INVALID_VALUE,
                    _("%(slot)s contains one of %(chars)s, which %(provider)s cannot send.")
                    % {"slot": slot.label, "chars": " ".join(self.forbidden), "provider": self.provider_name},
                )
            if slot.kind == MEDIA and not value.lower().startswith(("https://", "http://")):
                return Problem(SkipReason.INVALID_VALUE,
                               _("%(slot)s must be a link starting with https://.") % {"slot": slot.label})
        return self._filled_length_problem(values)

    def _filled_length_problem(self, values: Mapping[str, str]) -> Problem | None:
        body_values = {slot.position: values.get(slot.key, "") for slot in self.slots if slot.component == "body"}
        if body_values:
            length = len(_fill(self.placeholder, self.body_text, body_values))
            if length > BODY_MAX:
                return Problem(
                    SkipReason.TOO_LONG,
                    _("The message would have %(length)d characters; WhatsApp allows %(max)d.")
                    % {"length": length, "max": BODY_MAX},
                )
        header_values = {slot.position: values.get(slot.key, "") for slot in self.slots
                         if slot.component == "header" and slot.kind == TEXT}
        if header_values and self.header_text:
            length = len(_fill(WHATSAPP_PLACEHOLDER, self.header_text, header_values))
            if length > HEADER_MAX:
                return Problem(
                    SkipReason.TOO_LONG,
                    _("The header would have %(length)d characters; WhatsApp allows %(max)d.")
                    % {"length": length, "max": HEADER_MAX},
                )
        return None


class ContentBuilder:
    """Builds the send service's template ``content`` for a row (built once per worker slice).

    Templates per WABA (Aldeamo): ``{"name", "language": {"policy": "deterministic", "code"}, "components"}``
    (the send service adds the namespace). Templates per account (Contacto
    Virtual): the same shape with the template's ``id`` (its provider id) or,
    when none is known, its ``name``; positional providers take the body
    parameters as the variables.
    """

    def __init__(self, template, slots: list[Slot], fixed: Mapping[str, str] | None = None) -> None:
        self.template = template
        self.slots = slots
        self.fixed = dict(fixed or {})
        self.per_waba = template.capabilities.templates_per_waba

    def content(self, values: Mapping[str, str]) -> dict[str, Any]:
        merged = {**self.fixed, **values}
        header: list[dict[str, Any]] = []
        body: list[dict[str, Any]] = []
        buttons: list[dict[str, Any]] = []
        for slot in self.slots:
            value = merged.get(slot.key, "")
            if slot.component == "body":
                body.append({"type": "text", "text": value})
            elif slot.component == "header" and slot.kind == MEDIA:
                header.append({"type": slot.media_format, slot.media_format: {"link": value}})
            elif slot.component == "header":
                header.append({"type": "text", "text": value})
            else:
                buttons.append({"type": "button", "sub_type": "url", "index": str(slot.position),
                                "parameters": [{"type": "text", "text": value}]})
        components: list[dict[str, Any]] = []
        if header:
            components.append({"type": "header", "parameters": header})
        if body:
            components.append({"type": "body", "parameters": body})
        components += buttons
        if not self.per_waba:
            identity = ({"id": self.template.provider_template_id} if self.template.provider_template_id
                        else {"name": self.template.name})
            return {**identity, "components": components}
        return {
            "name": self.template.name,
            "language": {"policy": "deterministic", "code": self.template.language},
            "components": components,
        }


def suggest_column(slot_key: str, columns: list[str]) -> str:
    """The column whose header names ``slot_key`` (``body_1``, ``1``, ``{{1}}``, ``var1``), or ""."""
    number = slot_key.rsplit("_", 1)[-1]
    wanted = {slot_key.lower(), slot_key.replace("_", " ").lower()}
    if slot_key.startswith("body_"):
        wanted |= {number, f"{{{{{number}}}}}", f"{{{number}}}", f"var{number}", f"variable{number}",
                   f"variable {number}", f"var {number}", f"variable_{number}", f"var_{number}"}
    for column in columns:
        if column.strip().lower() in wanted:
            return column
    return ""
