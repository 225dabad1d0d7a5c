"""The composer: one form for every message type, turned into a :func:`~messaging.sending.message_send` call.

Served by the Message admin at ``/admin/messaging/message/compose/``
(:meth:`~messaging.admin.messages_admin.MessageAdmin.compose_view`). A
template's inputs come from its one spec (:mod:`templates_mgr.spec`), the same
slots a campaign maps.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import PhoneNumber
from messaging.selectors import composer_numbers, composer_templates
from messaging.validation.common import MEDIA_TYPES
from templates_mgr.models import Template
from templates_mgr.spec import MEDIA, template_spec
from waportal.errors import ApplicationError

COMPOSER_TYPES = [
    ("text", _("Text")),
    ("template", _("Template")),
    ("image", _("Image")),
    ("video", _("Video")),
    ("audio", _("Audio")),
    ("document", _("Document")),
    ("sticker", _("Sticker")),
    ("location", _("Location")),
    ("contacts", _("Contacts")),
    ("interactive", _("Interactive (buttons, list, products)")),
]

INTERACTIVE_KINDS = [
    ("button", _("Reply buttons")),
    ("list", _("List")),
    ("product", _("Single product")),
    ("product_list", _("Product list")),
]

# Where a service refusal (its ``field``, a path in the send shape) is shown on the form.
# Longest prefix wins; anything unmatched becomes a form-wide error.
_FIELD_PREFIXES: list[tuple[str, str]] = [
    ("from", "phone_number"),
    ("to", "to"),
    ("type", "type"),
    ("context.message_id", "context_message_id"),
    ("preview_url", "preview_url"),
    ("text", "body"),
    ("location.latitude", "latitude"),
    ("location.longitude", "longitude"),
    ("location.name", "location_name"),
    ("location.address", "location_address"),
    ("location", "latitude"),
    ("contacts", "contacts"),
    ("interactive.type", "interactive_type"),
    ("interactive.header", "header_text"),
    ("interactive.body", "interactive_body"),
    ("interactive.footer", "footer_text"),
    ("interactive.action.buttons", "buttons"),
    ("interactive.action.button", "list_button"),
    ("interactive.action.catalog_id", "catalog_id"),
    ("interactive.action.product_retailer_id", "product_retailer_id"),
    ("interactive.action.sections", "list_rows"),
    ("interactive", "interactive_body"),
    ("template", "template"),
    ("custom_field", "custom_field"),
]
for _media in MEDIA_TYPES:
    _FIELD_PREFIXES += [
        (f"{_media}.link", "media_link"),
        (f"{_media}.caption", "media_caption"),
        (f"{_media}.filename", "media_filename"),
        (_media, "media_link"),
    ]
_FIELD_PREFIXES.sort(key=lambda item: len(item[0]), reverse=True)


def form_field_for(path: str | None, *, interactive_kind: str = "") -> str | None:
    """The composer field that shows a refusal for ``path`` (None: show it above the form)."""
    if not path:
        return None
    for prefix, name in _FIELD_PREFIXES:
        if path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "["):
            if name == "list_rows" and interactive_kind == "product_list":
                return "product_items"
            return name
    return None


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


def _sectioned(value: str) -> list[tuple[str, list[str]]]:
    """Lines grouped in sections: a line starting with ``#`` opens a section with that title."""
    sections: list[tuple[str, list[str]]] = []
    for line in _lines(value):
        if line.startswith("#"):
            sections.append((line.lstrip("#").strip(), []))
            continue
        if not sections:
            sections.append(("", []))
        sections[-1][1].append(line)
    return [section for section in sections if section[1]]



def template_inputs(template: Template | None, data: Any = None) -> list[dict[str, Any]]:
    """The inputs a template needs in the composer (the JS builds the same ones on pick).

    One required input per slot of the template's spec (``tpl_<slot key>``:
    the same values a campaign maps), and the optional extras a single send
    may add: a document header's file name, quick-reply payloads, a Contacto
    Virtual template's media file.
    """
    if template is None:
        return []
    data = data or {}
    spec = template_spec(template)
    slots = {slot.key: slot for slot in spec.slots}
    inputs: list[dict[str, Any]] = []

    def add(name: str, label: str, required: bool = True, kind: str = "text") -> None:
        inputs.append({"name": name, "label": label, "value": data.get(name, ""), "required": required,
                       "kind": kind})

    for slot in spec.slots:
        if slot.component == "button":
            continue
        add(f"tpl_{slot.key}", slot.label, kind="url" if slot.kind == MEDIA else "text")
        if slot.kind == MEDIA and slot.media_format == "document":
            add("tpl_header_filename", gettext("Document file name (PDF)"), required=False)
    for button in spec.buttons:
        slot = slots.get(f"button_{button.index}")
        if slot is not None:
            add(f"tpl_{slot.key}", slot.label)
        elif button.type == "QUICK_REPLY":
            add(f"tpl_button_{button.index}", gettext("Button “%(text)s”: payload (optional)") % {"text": button.text},
                required=False)
    if spec.positional:
        add("tpl_header_media", gettext("Media URL (optional: pdf, jpg, png, mp3, mp4, …)"), required=False,
            kind="url")
    return inputs


def template_data(template: Template) -> dict[str, Any]:
    """What the composer's JS needs to build a template's inputs and preview it."""
    spec = template_spec(template)
    return {
        "id": template.pk,
        "name": template.name,
        "language": template.language,
        "waba": template.waba_id,
        "client": template.client_id,
        "per_waba": template.capabilities.templates_per_waba,
        "positional": spec.positional,
        "placeholder": spec.placeholder.pattern,
        "header_format": spec.header_format,
        "header_text": spec.header_text,
        "body_text": spec.body_text,
        "footer_text": spec.footer_text,
        "inputs": template_inputs(template),
    }


class ComposeForm(forms.Form):
    """The composer: one form for every type; the JS shows the part the type needs."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=200)
    phone_number = forms.ModelChoiceField(queryset=PhoneNumber.objects.none(), label=_("From"))
    to = forms.CharField(
        label=_("To"), max_length=40, help_text=_("The customer's number with country code, e.g. 573001234567.")
    )
    type = forms.ChoiceField(choices=COMPOSER_TYPES, label=_("Type"), initial="text")
    context_message_id = forms.CharField(
        label=_("Reply to message id"), required=False, max_length=128,
        help_text=_("Optional: the id of the customer's message this answers (wamid…)."),
    )
    # text
    body = forms.CharField(label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 5}))
    preview_url = forms.BooleanField(label=_("Show a preview of the first link"), required=False)
    # media
    media_link = forms.CharField(label=_("File URL (https)"), required=False, max_length=2000)
    media_caption = forms.CharField(label=_("Caption"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    media_filename = forms.CharField(label=_("File name"), required=False, max_length=240)
    # location
    latitude = forms.FloatField(label=_("Latitude"), required=False)
    longitude = forms.FloatField(label=_("Longitude"), required=False)
    location_name = forms.CharField(label=_("Place name"), required=False)
    location_address = forms.CharField(label=_("Address"), required=False,
                                       help_text=_("Shown only together with a place name."))
    # contacts
    contacts = forms.CharField(
        label=_("Contacts"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One contact per line: the name, then one or more phone numbers, separated by commas."),
    )
    # interactive
    interactive_type = forms.ChoiceField(label=_("Kind"), choices=INTERACTIVE_KINDS, required=False,
                                         initial="button")
    header_text = forms.CharField(label=_("Header"), required=False)
    interactive_body = forms.CharField(label=_("Body"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    footer_text = forms.CharField(label=_("Footer"), required=False)
    buttons = forms.CharField(
        label=_("Buttons"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One button title per line, 1 to 3 buttons, at most 20 characters each."),
    )
    list_button = forms.CharField(label=_("List button text"), required=False,
                                  help_text=_("Opens the list; at most 20 characters."))
    list_rows = forms.CharField(
        label=_("Rows"), required=False, widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One row per line: title | description (optional). A line starting with # starts a section "
                    "with that title. At most 10 rows in all."),
    )
    catalog_id = forms.CharField(label=_("Catalog id"), required=False)
    product_retailer_id = forms.CharField(label=_("Product id"), required=False)
    product_items = forms.CharField(
        label=_("Products"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One product id per line; a line starting with # starts a section with that title."),
    )
    # template
    template = forms.ModelChoiceField(queryset=Template.objects.none(), label=_("Template"), required=False)
    custom_field = forms.CharField(
        label=_("Custom field"), required=False, max_length=1000,
        help_text=_("Contacto Virtual only: not shown to the customer, returned with their reply (at most 1000 "
                    "characters)."),
    )

    def __init__(self, *args: Any, user, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["phone_number"].queryset = composer_numbers(user)
        self.fields["template"].queryset = composer_templates(user)
        self.fields["phone_number"].label_from_instance = lambda number: (
            f"{number.display_phone_number or number.digits} · {number.verified_name or number.client}"
        )
        self.fields["template"].label_from_instance = lambda template: (
            f"{template.name} ({template.language})" if template.language else template.name
        )

    # --- turning the form into a send -------------------------------------------------

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        kind = cleaned.get("type")
        if kind == "template" and not cleaned.get("template"):
            self.add_error("template", gettext("Pick a template."))
        if kind == "location":
            for name in ("latitude", "longitude"):
                if cleaned.get(name) is None and name not in self.errors:
                    self.add_error(name, gettext("Required for a location."))
        return cleaned

    def send_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of :func:`message_send` this form asks for (after ``is_valid``)."""
        data = self.cleaned_data
        kind = data["type"]
        kwargs: dict[str, Any] = {
            "phone_number": data["phone_number"],
            "to": data["to"],
            "type": kind,
            "context_message_id": data.get("context_message_id", ""),
            "idempotency_key": data["idempotency_key"],
        }
        if kind == "text":
            kwargs["content"] = {"body": data.get("body", "")}
            kwargs["preview_url"] = True if data.get("preview_url") else None
        elif kind in MEDIA_TYPES:
            content: dict[str, Any] = {"link": data.get("media_link", "").strip()}
            if data.get("media_caption") and kind not in ("audio", "sticker"):
                content["caption"] = data["media_caption"]
            if data.get("media_filename") and kind == "document":
                content["filename"] = data["media_filename"]
            kwargs["content"] = content
        elif kind == "location":
            location: dict[str, Any] = {"latitude": data["latitude"], "longitude": data["longitude"]}
            if data.get("location_name"):
                location["name"] = data["location_name"]
            if data.get("location_address"):
                location["address"] = data["location_address"]
            kwargs["content"] = location
        elif kind == "contacts":
            kwargs["content"] = self._contacts()
        elif kind == "interactive":
            kwargs["content"] = self._interactive()
        else:
            kwargs["template"] = data["template"]
            kwargs["content"] = self._template_content(data["template"])
            kwargs["custom_field"] = data.get("custom_field", "")
        return kwargs

    def _contacts(self) -> list[dict[str, Any]]:
        cards = []
        for line in _lines(self.cleaned_data.get("contacts", "")):
            name, *phones = [part.strip() for part in line.split(",")]
            card: dict[str, Any] = {"name": {"formatted_name": name, "first_name": name.split(" ")[0] if name else ""},
                                    "phones": [{"phone": phone, "type": "CELL"} for phone in phones if phone]}
            cards.append(card)
        return cards

    def _interactive(self) -> dict[str, Any]:
        data = self.cleaned_data
        kind = data.get("interactive_type") or "button"
        content: dict[str, Any] = {"type": kind}
        if data.get("header_text"):
            content["header"] = {"type": "text", "text": data["header_text"]}
        if data.get("interactive_body") or kind != "product":
            content["body"] = {"text": data.get("interactive_body", "")}
        if data.get("footer_text"):
            content["footer"] = {"text": data["footer_text"]}
        if kind == "button":
            content["action"] = {"buttons": [
                {"type": "reply", "reply": {"id": f"btn{index}", "title": title}}
                for index, title in enumerate(_lines(data.get("buttons", "")), start=1)
            ]}
        elif kind == "list":
            sections = []
            number = 0
            for title, rows in _sectioned(data.get("list_rows", "")):
                section: dict[str, Any] = {"rows": []}
                if title:
                    section["title"] = title
                for row in rows:
                    number += 1
                    row_title, _sep, description = (part.strip() for part in row.partition("|"))
                    entry = {"id": f"row{number}", "title": row_title}
                    if description:
                        entry["description"] = description
                    section["rows"].append(entry)
                sections.append(section)
            content["action"] = {"button": data.get("list_button", ""), "sections": sections}
        elif kind == "product":
            content["action"] = {"catalog_id": data.get("catalog_id", ""),
                                 "product_retailer_id": data.get("product_retailer_id", "")}
        else:
            content["action"] = {
                "catalog_id": data.get("catalog_id", ""),
                "sections": [
                    {"title": title or gettext("Products"),
                     "product_items": [{"product_retailer_id": item} for item in items]}
                    for title, items in _sectioned(data.get("product_items", ""))
                ],
            }
        return content

    def _value(self, name: str) -> str:
        return str(self.data.get(name, "")).strip()

    def _template_content(self, template: Template) -> dict[str, Any]:
        """The template object in the send shape, from the variable inputs (``tpl_…``)."""
        spec = template_spec(template)
        components: list[dict[str, Any]] = []
        media = self._value("tpl_header_media")
        if spec.positional:
            if media:
                kind = "document" if media.lower().split("?")[0].endswith(".pdf") else "image"
                components.append({"type": "header", "parameters": [{"type": kind, kind: {"link": media}}]})
            if spec.body_variables:
                components.append({"type": "body", "parameters": [
                    {"type": "text", "text": self._value(f"tpl_body_{n}")} for n in range(1, spec.body_variables + 1)
                ]})
            return {"id": template.provider_template_id, "name": template.name, "components": components}
        if spec.header_format == "TEXT" and spec.header_variables:
            components.append({"type": "header", "parameters": [
                {"type": "text", "text": self._value(f"tpl_header_{n}")} for n in range(1, spec.header_variables + 1)
            ]})
        elif spec.header_format in ("IMAGE", "VIDEO", "DOCUMENT"):
            kind = spec.header_format.lower()
            media_object: dict[str, Any] = {"link": media}
            if kind == "document" and self._value("tpl_header_filename"):
                media_object["filename"] = self._value("tpl_header_filename")
            components.append({"type": "header", "parameters": [{"type": kind, kind: media_object}]})
        if spec.body_variables:
            components.append({"type": "body", "parameters": [
                {"type": "text", "text": self._value(f"tpl_body_{n}")} for n in range(1, spec.body_variables + 1)
            ]})
        for button in spec.buttons:
            value = self._value(f"tpl_button_{button.index}")
            if button.type == "URL" and (value or button.dynamic):
                components.append({"type": "button", "sub_type": "url", "index": str(button.index),
                                   "parameters": [{"type": "text", "text": value}]})
            elif button.type == "QUICK_REPLY" and value:
                components.append({"type": "button", "sub_type": "quick_reply", "index": str(button.index),
                                   "parameters": [{"type": "payload", "payload": value}]})
        return {"name": template.name, "language": {"policy": "deterministic", "code": template.language},
                "components": components}

    def add_service_error(self, error: ApplicationError) -> None:
        """Show a service refusal next to the input it is about, keeping everything typed."""
        name = form_field_for(error.field, interactive_kind=self.data.get("interactive_type", ""))
        if name is not None and name in self.fields:
            self.add_error(name, error.message)
        else:
            self.add_error(None, error.message)
