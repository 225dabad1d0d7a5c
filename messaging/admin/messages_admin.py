"""Admin for messages and the composer.

Messages are read-only here: they are created only by sending (the composer,
the API, the inbox, campaigns all go through :func:`messaging.sending.message_send`).
The composer is a view of the Message admin served at ``/admin/messaging/message/compose/``
(URL name ``admin:messaging_message_compose``); each message page
shows its status history and follows it without a reload (``status/``, polled
by ``messaging/message_status.js``). "Send again" exists for messages whose
outcome is unknown or failed, behind a confirmation that says the customer may
get the message twice.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import PhoneNumber, Provider, Role
from accounts.tenancy import client_ids_for, has_role, scope
from messaging import sending
from messaging.models import Direction, Message, MessageStatus
from messaging.sending import RESENDABLE
from messaging.validation import MEDIA_TYPES, template_spec
from templates_mgr.models import Template, TemplateStatus
from waportal.admin_base import TenantAdminMixin, badge
from waportal.errors import ApplicationError

STATUS_TONES = {
    MessageStatus.QUEUED: "grey",
    MessageStatus.SENDING: "grey",
    MessageStatus.UNKNOWN: "yellow",
    MessageStatus.SENT: "blue",
    MessageStatus.DELIVERED: "blue",
    MessageStatus.READ: "green",
    MessageStatus.FAILED: "red",
    MessageStatus.RECEIVED: "green",
}

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


def composer_numbers(user) -> Any:
    """The business numbers ``user`` may send from: active, in clients where they are agent or admin."""
    return scope(
        PhoneNumber.objects.filter(is_active=True).select_related("client__provider_account", "waba"),
        user,
        "client",
        Role.AGENT,
    ).order_by("client__name", "digits")


def composer_templates(user) -> Any:
    """Approved, not deleted templates of the user's clients (agent role or above)."""
    return scope(
        Template.objects.filter(status=TemplateStatus.APPROVED, deleted_at__isnull=True).select_related("waba"),
        user,
        "client",
        Role.AGENT,
    ).order_by("name", "language")


def template_inputs(template: Template | None, data: Any = None) -> list[dict[str, Any]]:
    """The inputs a template's variables need in the composer (the JS builds the same ones on pick)."""
    if template is None:
        return []
    data = data or {}
    spec = template_spec(template)
    inputs: list[dict[str, Any]] = []

    def add(name: str, label: str, required: bool = True, kind: str = "text") -> None:
        inputs.append({"name": name, "label": label, "value": data.get(name, ""), "required": required,
                       "kind": kind})

    if template.waba_id is None:
        for number in range(1, spec.body_variables + 1):
            add(f"tpl_body_{number}", gettext("Variable {%(n)d}") % {"n": number})
        add("tpl_header_media", gettext("Media URL (optional: pdf, jpg, png, mp3, mp4, …)"), required=False,
            kind="url")
        return inputs
    if spec.header_format == "TEXT":
        for number in range(1, spec.header_variables + 1):
            add(f"tpl_header_{number}", gettext("Header {{%(n)d}}") % {"n": number})
    elif spec.header_format in ("IMAGE", "VIDEO", "DOCUMENT"):
        add("tpl_header_media", gettext("Header %(format)s URL (https)") % {"format": spec.header_format.lower()},
            kind="url")
        if spec.header_format == "DOCUMENT":
            add("tpl_header_filename", gettext("Document file name (PDF)"), required=False)
    for number in range(1, spec.body_variables + 1):
        add(f"tpl_body_{number}", gettext("Body {{%(n)d}}") % {"n": number})
    for button in spec.buttons:
        if button.type == "URL" and button.dynamic is not False:
            add(f"tpl_button_{button.index}", gettext("Button “%(text)s”: URL suffix") % {"text": button.text},
                required=bool(button.dynamic))
        elif button.type == "QUICK_REPLY":
            add(f"tpl_button_{button.index}", gettext("Button “%(text)s”: payload (optional)") % {"text": button.text},
                required=False)
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
        "cv": template.waba_id is None,
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
        if template.waba_id is None:
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


class PhoneNumberFilter(admin.RelatedFieldListFilter):
    """The business numbers the user may see, read from their own table.

    ``RelatedOnlyFieldListFilter`` would ask for the DISTINCT numbers of every
    message the user can see: a read of the whole message table on each page
    (issue 9 measured 50-270 ms with a million messages).
    """

    def field_choices(self, field, request, model_admin):
        numbers = scope(PhoneNumber.objects.order_by("digits"), request.user, "client")
        return [(number.pk, str(number)) for number in numbers]


@admin.register(Message)
class MessageAdmin(TenantAdminMixin, admin.ModelAdmin):
    """Sent and received messages: read-only; created only by sending."""

    change_role = None
    list_display = ["created_at", "direction", "type", "from_number", "to_number", "status_badge", "error_short"]
    list_display_links = ["created_at"]
    list_filter = ["direction", "status", "type", ("phone_number", PhoneNumberFilter)]
    search_fields = ["to_number", "from_number", "provider_message_id", "whatsapp_id"]
    list_select_related = ["phone_number"]
    # One COUNT per page, not two: the unfiltered total of a million-row table costs as much again.
    show_full_result_count = False
    ordering = ["-created_at"]
    actions = ["action_send_again"]
    change_form_template = "admin/messaging/message/change_form.html"
    change_list_template = "admin/messaging/message/change_list.html"
    fieldsets = [
        # The current status and error are shown live above these (change_form.html, message_status.js).
        (None, {"fields": [("direction", "type"), ("from_number", "to_number"), "phone_number", "template",
                           "context_id", "reply_to"]}),
        (_("Provider"), {"fields": ["provider_message_id", "whatsapp_id", "custom_field", "idempotency_key"]}),
        (_("Content"), {"fields": ["content_display", "request_body_display"]}),
        (_("Times"), {"fields": ["created_by", "created_at", "sent_at", "delivered_at", "read_at", "failed_at"]}),
    ]
    readonly_fields = ["content_display", "request_body_display"]

    # --- read-only ------------------------------------------------------------------------

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # --- columns ----------------------------------------------------------------------------

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj: Message) -> str:
        return badge(obj.get_status_display(), STATUS_TONES.get(obj.status, "grey"))

    @admin.display(description=_("error"))
    def error_short(self, obj: Message) -> str:
        if not obj.error_title and not obj.error_code:
            return ""
        text = obj.error_title or obj.error_code
        return text if len(text) <= 90 else text[:89] + "…"

    @admin.display(description=_("content"))
    def content_display(self, obj: Message) -> str:
        return format_html("<pre class=\"wa-json\">{}</pre>", json.dumps(obj.content, indent=2, ensure_ascii=False))

    @admin.display(description=_("request as sent"))
    def request_body_display(self, obj: Message) -> str:
        if obj.request_body is None:
            return "—"
        return format_html("<pre class=\"wa-json\">{}</pre>",
                           json.dumps(obj.request_body, indent=2, ensure_ascii=False))

    # --- pages --------------------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("compose/", wrap(self.compose_view), name="messaging_message_compose"),
            path("<uuid:pk>/status/", wrap(self.status_view), name="messaging_message_status"),
            path("<uuid:pk>/resend/", wrap(self.resend_view), name="messaging_message_resend"),
        ] + super().get_urls()

    def can_compose(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff and (
            request.user.is_superuser or bool(client_ids_for(request.user, Role.AGENT))
        )

    def can_resend(self, request: HttpRequest, message: Message) -> bool:
        return (
            message.direction == Direction.OUTBOUND
            and message.status in RESENDABLE
            and has_role(request.user, message.client_id, Role.AGENT)
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_compose": self.can_compose(request)}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        message = self.get_object(request, object_id)
        extra_context = dict(extra_context or {})
        if message is not None:
            extra_context.update(
                status_events=list(message.status_events.order_by("timestamp", "id")),
                status_tone=STATUS_TONES.get(message.status, "grey"),
                status_url=reverse("admin:messaging_message_status", args=[message.pk]),
                resend_url=(reverse("admin:messaging_message_resend", args=[message.pk])
                            if self.can_resend(request, message) else ""),
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def status_view(self, request: HttpRequest, pk) -> JsonResponse:
        """The message's current status and history, polled by the message page every 2 seconds."""
        message = get_object_or_404(self.get_queryset(request), pk=pk)
        events = message.status_events.order_by("timestamp", "id")
        return JsonResponse({
            "id": str(message.pk),
            "status": message.status,
            "status_display": str(message.get_status_display()),
            "tone": STATUS_TONES.get(message.status, "grey"),
            "error_code": message.error_code,
            "error_title": message.error_title,
            "provider_message_id": message.provider_message_id,
            "whatsapp_id": message.whatsapp_id,
            "history": [
                {
                    "status": event.status,
                    "status_display": event.status_display,
                    "timestamp": event.timestamp.isoformat() if event.timestamp else None,
                    # Formatted like the server-rendered rows: the user's time zone and locale.
                    "timestamp_display": formats.localize(timezone.localtime(event.timestamp)) if event.timestamp
                    else "",
                    "error_code": event.error_code,
                    "error_title": event.error_title,
                }
                for event in events
            ],
        })

    # --- composing -------------------------------------------------------------------------------

    def compose_view(self, request: HttpRequest):
        """Compose and send one message; redirect to its page, where its status follows live."""
        if not self.can_compose(request):
            raise PermissionDenied
        needs_template = False
        if request.method == "POST":
            form = ComposeForm(request.POST, user=request.user)
            if form.is_valid():
                try:
                    message = sending.message_send(actor=request.user, **form.send_kwargs())
                except ApplicationError as error:
                    form.add_service_error(error)
                    needs_template = error.extra.get("code") == "window_closed"
                else:
                    self._announce(request, message)
                    return HttpResponseRedirect(reverse("admin:messaging_message_change", args=[message.pk]))
        else:
            form = ComposeForm(initial=self._compose_initial(request), user=request.user)
        selected = self._selected_template(form)
        templates = list(form.fields["template"].queryset)
        numbers = list(form.fields["phone_number"].queryset)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Compose a message"),
            "opts": self.model._meta,
            "form": form,
            "needs_template": needs_template,
            "template_inputs": template_inputs(selected, form.data if form.is_bound else None),
            "selected_template": selected.pk if selected else "",
            "composer_data": {
                "numbers": {
                    str(number.pk): {
                        "waba": number.waba_id,
                        "client": number.client_id,
                        "provider": number.client.provider_account.provider,
                        "digits": number.digits,
                        "name": number.verified_name,
                    }
                    for number in numbers
                },
                "templates": {str(template.pk): template_data(template) for template in templates},
                "contacto_virtual": Provider.CONTACTO_VIRTUAL,
            },
        }
        return TemplateResponse(request, "admin/messaging/compose.html", context)

    def _compose_initial(self, request: HttpRequest) -> dict[str, Any]:
        """Preselection from the query: ``?template=<id>``, ``?to=<digits>&from=<phone number id>``."""
        initial: dict[str, Any] = {"idempotency_key": uuid.uuid4().hex, "type": "text"}
        numbers = composer_numbers(request.user)
        template_id = request.GET.get("template", "")
        if template_id.isdigit():
            template = composer_templates(request.user).filter(pk=int(template_id)).first()
            if template is not None:
                initial["template"] = template.pk
                initial["type"] = "template"
                number = (numbers.filter(waba_id=template.waba_id) if template.waba_id
                          else numbers.filter(client_id=template.client_id, waba__isnull=True)).first()
                if number is not None:
                    initial["phone_number"] = number.pk
        if "phone_number" not in initial:
            only = list(numbers[:2])
            if len(only) == 1:  # one line: nothing to choose
                initial["phone_number"] = only[0].pk
        from_id = request.GET.get("from", "")
        if from_id.isdigit() and numbers.filter(pk=int(from_id)).exists():
            initial["phone_number"] = int(from_id)
        if request.GET.get("to"):
            initial["to"] = "".join(ch for ch in request.GET["to"] if ch.isdigit() or ch == "+")[:40]
        if request.GET.get("context"):
            initial["context_message_id"] = request.GET["context"][:128]
        return initial

    @staticmethod
    def _selected_template(form: ComposeForm) -> Template | None:
        raw = form.data.get("template") if form.is_bound else form.initial.get("template")
        if not raw or not str(raw).isdigit():
            return None
        return form.fields["template"].queryset.filter(pk=int(raw)).first()

    def _announce(self, request: HttpRequest, message: Message) -> None:
        if getattr(message, "replayed", False):
            self.message_user(request, gettext("This message was already sent from this form; nothing was sent "
                                               "again."), messages.INFO)
        elif message.status == MessageStatus.FAILED:
            self.message_user(request, gettext("The message was not sent: %(error)s") % {"error": message.error_title},
                              messages.ERROR)
        elif message.status == MessageStatus.UNKNOWN:
            self.message_user(request, message.error_title, messages.WARNING)
        else:
            self.message_user(request, gettext("Sent to +%(to)s. Its status updates below as it moves.")
                              % {"to": message.to_number}, messages.SUCCESS)

    # --- send again ------------------------------------------------------------------------------------

    def _resend(self, request: HttpRequest, message: Message) -> Message | None:
        try:
            new = sending.message_resend(actor=request.user, message=message)
        except ApplicationError as error:
            self.message_user(request, gettext("+%(to)s: not sent again: %(error)s")
                              % {"to": message.to_number, "error": error.message}, messages.ERROR)
            return None
        self._announce(request, new)
        return new

    def _confirmation(self, request: HttpRequest, queryset, *, action: str = "") -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Send again?"),
            "opts": self.model._meta,
            "messages_to_resend": list(queryset),
            "action_name": action,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/messaging/message/resend_confirmation.html", context)

    def resend_view(self, request: HttpRequest, pk):
        message = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.can_resend(request, message):
            raise PermissionDenied
        if request.method == "POST":
            new = self._resend(request, message)
            target = new.pk if new is not None else message.pk
            return HttpResponseRedirect(reverse("admin:messaging_message_change", args=[target]))
        return self._confirmation(request, [message])

    @admin.action(description=_("Send again (unknown or failed messages)"))
    def action_send_again(self, request: HttpRequest, queryset):
        eligible = [message for message in queryset.select_related("phone_number__client__provider_account",
                                                                    "phone_number__waba", "template")
                    if self.can_resend(request, message)]
        confirmed = request.POST.get("post") == "yes"
        skipped = queryset.count() - len(eligible)
        if skipped and (confirmed or not eligible):
            self.message_user(request, gettext("%(count)d selected message(s) were skipped: only messages we sent "
                                               "whose outcome is unknown or failed can be sent again, by an agent.")
                              % {"count": skipped}, messages.WARNING)
        if not eligible:
            return None
        if not confirmed:
            return self._confirmation(request, eligible, action="action_send_again")
        for message in eligible:
            self._resend(request, message)
        return None
