"""The template builder form: one flat page a person fills, validated with WhatsApp's rules.

Examples are one input per body variable (``body_example_1`` for ``{{1}}`` …):
a labelled box beside each variable is easier to get right than a list to keep
in order. The inputs follow the body: the server renders one per variable of
the submitted (or initial) body, and ``builder.js`` adds and removes them as
the person types. Buttons are ten numbered rows (``button_3_text`` …): plain
fields that survive a failed submit with nothing lost, no formset management
form to get wrong; unused rows are left with no type.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from accounts.models import WhatsAppBusinessAccount
from providers.base import ProviderError
from templates_mgr.builder import (
    HEADER_NONE,
    HEADER_TEXT,
    BuilderData,
    components_from_form,
    example_slots,
    render_preview,
)
from templates_mgr.models import Template, TemplateCategory
from templates_mgr.presenters import create_error_words
from templates_mgr.validation import (
    BODY_MAX,
    BUTTON_TEXT_MAX,
    BUTTONS_MAX,
    FOOTER_MAX,
    HEADER_TEXT_MAX,
    NAME_MAX,
    PHONE_NUMBER,
    QUICK_REPLY,
    URL,
    WHATSAPP_LANGUAGES,
    Problem,
    template_problems,
)

BUTTON_FIELDS = ("type", "text", "url", "url_example", "phone_number")
HEADER_TYPE_CHOICES = [
    (HEADER_NONE, _("None")),
    (HEADER_TEXT, _("Text")),
    ("image", _("Image")),
    ("video", _("Video")),
    ("document", _("Document (PDF)")),
]
BUTTON_TYPE_CHOICES = [
    ("", _("— no button —")),
    (QUICK_REPLY, _("Quick reply")),
    (URL, _("Visit website (URL)")),
    (PHONE_NUMBER, _("Call phone number")),
]
BUTTONS_HELP = _("Up to 10 buttons: at most 2 website buttons and 1 phone number. Keep the quick replies together, "
                 "before or after the others. An address may end with {{1}}, filled in for each message.")
# Validation's field paths → the form field that shows the problem.
FIELD_FOR_PATH = {
    "waba": "waba",
    "name": "name",
    "language": "language",
    "category": "category",
    "header.format": "header_type",
    "header.text": "header_text",
    "body.text": "body_text",
    "body.example": "body_text",
    "footer.text": "footer_text",
}
BUTTON_FIELD_FOR_ATTR = {"type": "type", "text": "text", "url": "url", "example": "url_example",
                         "phone_number": "phone_number"}
BUTTON_PATH_RE = re.compile(r"^buttons\[(\d+)\]\.(\w+)$")
BODY_EXAMPLE_PATH_RE = re.compile(r"^body\.example\[(\d+)\]$")
# Character limits shown by the counters (and checked by validation).
LIMITS = {"name": NAME_MAX, "header_text": HEADER_TEXT_MAX, "body_text": BODY_MAX, "footer_text": FOOTER_MAX,
          "button_text": BUTTON_TEXT_MAX}


def example_field_name(number: int) -> str:
    return f"body_example_{number}"


def button_field_name(row: int, attr: str) -> str:
    return f"button_{row}_{attr}"


def initial_from_builder(data: BuilderData) -> dict[str, Any]:
    """Form ``initial`` for the builder's flat data (e.g. from ``form_initial_from_components``)."""
    initial: dict[str, Any] = {
        key: data.get(key, "")
        for key in ("category", "name", "language", "header_type", "header_text", "header_example",
                    "header_media_url", "body_text", "footer_text")
        if data.get(key)
    }
    for index, value in enumerate(data.get("body_examples") or [], start=1):
        initial[example_field_name(index)] = value
    for row, button in enumerate((data.get("buttons") or [])[:BUTTONS_MAX], start=1):
        for attr in BUTTON_FIELDS:
            if button.get(attr):
                initial[button_field_name(row, attr)] = button[attr]
    return initial


class TemplateBuilderForm(forms.Form):
    """Everything a template needs, flat; ``clean()`` builds the components and applies WhatsApp's rules.

    Django's own checks are kept to the minimum (the WABA, valid choices) so
    that every rule speaks once, in validation's words, on the field at fault.
    After a valid ``clean()``, ``cleaned_data["components"]`` is ready for
    ``templates_mgr.services.template_create``.
    """

    waba = forms.ModelChoiceField(
        queryset=WhatsAppBusinessAccount.objects.none(),
        label=capfirst(_("WhatsApp Business account")),  # the msgid is also the model's (lowercase) name
        help_text=_("Templates belong to a WABA; only WABAs you administer are listed."),
    )
    name = forms.CharField(
        label=_("Name"),
        required=False,
        help_text=_("Lowercase letters, digits and underscores, e.g. order_shipped."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "class": "vTextField"}),
    )
    language = forms.ChoiceField(label=_("Language"), required=False, initial="es")
    category = forms.ChoiceField(
        label=_("Category"),
        required=False,
        choices=[("", "---------"), *TemplateCategory.choices],
        help_text=_("Marketing: offers and news. Utility: about an order or account. Authentication: codes."),
    )
    header_type = forms.ChoiceField(label=_("Header"), choices=HEADER_TYPE_CHOICES, initial=HEADER_NONE,
                                    required=False)
    header_text = forms.CharField(
        label=_("Header text"),
        required=False,
        help_text=_("One line; at most one variable, {{1}}."),
        widget=forms.TextInput(attrs={"class": "vTextField"}),
    )
    header_example = forms.CharField(
        label=_("Example for {{1}} in the header"),
        required=False,
        widget=forms.TextInput(attrs={"class": "vTextField"}),
    )
    header_media_url = forms.CharField(
        label=_("Sample file link"),
        required=False,
        help_text=_("A public https:// link to a sample of the image, video or PDF; WhatsApp reviews it."),
        widget=forms.URLInput(attrs={"class": "vURLField", "placeholder": "https://"}),
    )
    body_text = forms.CharField(
        label=_("Body"),
        required=False,
        help_text=_("Variables are {{1}}, {{2}}… in order; not at the very start or end, not side by side. "
                    "*bold*, _italic_, ~strikethrough~."),
        widget=forms.Textarea(attrs={"rows": 7, "class": "vLargeTextField"}),
    )
    footer_text = forms.CharField(
        label=_("Footer"),
        required=False,
        help_text=_("Optional, shown in grey; no variables."),
        widget=forms.TextInput(attrs={"class": "vTextField"}),
    )

    def __init__(self, *args: Any, wabas: QuerySet[WhatsAppBusinessAccount], **kwargs: Any) -> None:
        # No colon after labels: builder.js writes the example labels it adds the same way.
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["waba"].queryset = wabas
        self.fields["language"].choices = sorted(
            ((code, f"{label} · {code}") for code, label in WHATSAPP_LANGUAGES.items()), key=lambda c: c[1].lower()
        )
        self.button_rows_used: list[int] = []
        body = self.data.get("body_text") if self.is_bound else self.initial.get("body_text")
        for number in range(1, example_slots(body) + 1):
            self.fields[example_field_name(number)] = forms.CharField(
                label=_("Example for {{%(number)d}}") % {"number": number},
                required=False,
                widget=forms.TextInput(attrs={"class": "vTextField wa-example-input", "data-variable": number}),
            )
        for row in range(1, BUTTONS_MAX + 1):
            self._add_button_fields(row)

    def _add_button_fields(self, row: int) -> None:
        """Ten rows of plain fields; labels carry the row number for screen readers (the table shows headings)."""
        number = {"number": row}
        self.fields[button_field_name(row, "type")] = forms.ChoiceField(
            label=_("Button %(number)d type") % number, choices=BUTTON_TYPE_CHOICES, required=False,
            widget=forms.Select(attrs={"class": "wa-button-type", "data-row": row}),
        )
        self.fields[button_field_name(row, "text")] = forms.CharField(
            label=_("Button %(number)d label") % number, required=False,
            widget=forms.TextInput(attrs={"class": "wa-button-text", "data-row": row}),
        )
        self.fields[button_field_name(row, "url")] = forms.CharField(
            label=_("Button %(number)d address") % number, required=False,
            widget=forms.URLInput(attrs={"class": "wa-button-url", "data-row": row,
                                         "placeholder": "https://example.com/orders/{{1}}"}),
        )
        self.fields[button_field_name(row, "url_example")] = forms.CharField(
            label=_("Button %(number)d example for {{1}}") % number, required=False,
            widget=forms.TextInput(attrs={"class": "wa-button-url-example", "data-row": row}),
        )
        self.fields[button_field_name(row, "phone_number")] = forms.CharField(
            label=_("Button %(number)d phone number") % number, required=False,
            widget=forms.TextInput(attrs={"class": "wa-button-phone", "data-row": row, "placeholder": "+57 …",
                                          "type": "tel"}),
        )

    # --- for the template ----------------------------------------------------------

    def example_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("body_example_")]

    def button_rows(self) -> list[dict[str, Any]]:
        """The ten rows, each ``{"row": n, "type": BoundField, "text": …, "used": bool}``."""
        rows = []
        for row in range(1, BUTTONS_MAX + 1):
            fields = {attr: self[button_field_name(row, attr)] for attr in BUTTON_FIELDS}
            rows.append({"row": row, **fields, "used": any(str(f.value() or "") for f in fields.values())})
        return rows

    def preview(self) -> dict[str, Any]:
        """The bubble for what is on the form now (submitted or initial), valid or not."""
        return render_preview(components_from_form(self.builder_data(raw=True)))

    # --- cleaning ----------------------------------------------------------------

    def builder_data(self, *, raw: bool = False) -> BuilderData:
        """The form as the builder's flat data; ``raw`` reads the submitted values instead of cleaned ones."""

        def value(name: str) -> str:
            if raw:
                return str(self[name].value() or "") if name in self.fields else ""
            return str(self.cleaned_data.get(name) or "")

        buttons = [
            {attr: value(button_field_name(row, attr)).strip() for attr in BUTTON_FIELDS}
            for row in self._rows_with_a_type(value)
        ]
        return {
            "category": value("category"),
            "name": value("name").strip(),
            "language": value("language"),
            "header_type": value("header_type") or HEADER_NONE,
            "header_text": value("header_text"),
            "header_example": value("header_example"),
            "header_media_url": value("header_media_url").strip(),
            "body_text": value("body_text").strip(),
            "body_examples": [value(f.name) for f in self.example_fields()],
            "footer_text": value("footer_text"),
            "buttons": buttons,
        }

    @staticmethod
    def _rows_with_a_type(value: Callable[[str], Any]) -> list[int]:
        """The button rows in use, in order: the i-th button of the components is in row ``rows[i]``."""
        return [row for row in range(1, BUTTONS_MAX + 1) if value(button_field_name(row, "type"))]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.button_rows_used = self._rows_with_a_type(lambda name: cleaned.get(name))
        for row in range(1, BUTTONS_MAX + 1):
            if cleaned.get(button_field_name(row, "type")):
                continue
            if any(cleaned.get(button_field_name(row, attr)) for attr in BUTTON_FIELDS[1:]):
                self.add_error(button_field_name(row, "type"), _("Choose the button's type, or clear its row."))
        data = self.builder_data()
        components = components_from_form(data)
        cleaned.update(name=data["name"], components=components)
        self.add_problems(template_problems(name=data["name"], language=data["language"], category=data["category"],
                                           components=components))
        return cleaned

    def submit(self, *, actor) -> Template | None:
        """After a valid ``clean()``: create at the provider through ``services.template_create``; on refusal, put
        the reason on the form (which keeps every input) and return None."""
        from templates_mgr import services
        from waportal.errors import ApplicationError

        data = self.cleaned_data
        try:
            return services.template_create(actor=actor, waba=data["waba"], name=data["name"],
                                            language=data["language"], category=data["category"],
                                            components=data["components"])
        except ApplicationError as exc:
            problems = exc.extra.get("problems")
            if problems:
                self.add_problems(problems)
            else:
                self.add_error(self.field_for(exc.field), exc.message)
        except ProviderError as exc:
            self.add_error(None, create_error_words(exc))
        return None

    def add_problems(self, problems: Iterable[Problem | dict[str, str]]) -> None:
        """Show each problem (from validation or from the service's ``ApplicationError``) on its field."""
        for problem in problems:
            if isinstance(problem, dict):
                problem = Problem(str(problem.get("field") or ""), str(problem.get("message") or ""))
            self.add_error(self.field_for(problem.field), problem.message)

    def field_for(self, path: str | None) -> str | None:
        """The form field for a validation path, or None (shown above the form)."""
        if not path:
            return None
        name: str | None = FIELD_FOR_PATH.get(path)
        if path == "header.example":
            header_type = str(self["header_type"].value() or "")
            name = "header_example" if header_type == HEADER_TEXT else "header_media_url"
        elif match := BODY_EXAMPLE_PATH_RE.match(path):
            name = example_field_name(int(match.group(1)) + 1)
            if name not in self.fields:
                name = "body_text"
        elif match := BUTTON_PATH_RE.match(path):
            index, attr = int(match.group(1)), match.group(2)
            if index < len(self.button_rows_used) and attr in BUTTON_FIELD_FOR_ATTR:
                name = button_field_name(self.button_rows_used[index], BUTTON_FIELD_FOR_ATTR[attr])
        return name if name in self.fields else None
