"""Contacto Virtual as a registered provider: what it is, what it can do, and its side of the one contract."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from providers import registry
from providers.contract import Capabilities, CredentialField, ProviderSpec
from providers.types import WebhookEvent

from .client import PRODUCTION_BASE_URL, ContactoVirtualClient, mobile_problem
from .codes import short_words
from .webhooks import is_customer_reply_body, parse_webhook

# The template listing carries a free-text status; its example shows "success" beside the approved text
# (``plantilla_aprobada``), so that reads as approved (seed 002, template/).
TEMPLATE_STATUSES = {
    "success": "APPROVED",
    "approved": "APPROVED",
    "aprobada": "APPROVED",
    "pending": "PENDING",
    "pendiente": "PENDING",
    "rejected": "REJECTED",
    "rechazada": "REJECTED",
}


class ContactoVirtualProvider(ProviderSpec):
    id = "contacto_virtual"
    name = _("Contacto Virtual")
    webhook_slug = "contacto-virtual"
    # Seed 002: one host for both environments.
    base_urls = {"test": PRODUCTION_BASE_URL, "production": PRODUCTION_BASE_URL}
    credential_fields = (
        CredentialField("login", missing=_("Contacto Virtual needs the platform login.")),
        CredentialField("token",
                        missing=_("Contacto Virtual needs the API token (not the login password).")),
        CredentialField("line_number", required=False),
    )
    errors_worded = True  # codes.py words each return code for a person
    capabilities = Capabilities(
        free_form_sends=False,
        replies_in_context=False,
        templates_per_waba=False,
        template_ids_by_hand=True,
        template_write=False,
        template_parameters="positional",
        # Seed 002: variables are written {1}, {2} in the template's text and sent between brackets.
        template_placeholder=r"\{(\d+)\}",
        variable_forbidden="[]",
        # Seed 002: "Pdf, jpg, mp3, txt, docx, xlsx, zip, mp4, pptx, png, jpeg".
        template_media_extensions=("pdf", "jpg", "jpeg", "png", "mp3", "mp4", "txt", "docx", "xlsx", "pptx", "zip"),
        variable_whitespace_rule=False,
        balance=True,
        analytics=False,
        inventory="single_line",
        manual_inventory=False,
        custom_field=True,
        # Seed 002, return code 4: Colombian mobiles, 57 and 10 digits.
        recipient_prefix="57",
        recipient_length=12,
        recipient_rule=_("Contacto Virtual sends only to Colombian mobiles (57 and 10 digits)."),
    )

    def client(self, *, base_url: str, credentials: Mapping[str, str], session: Any = None,
               timeout: Any = None) -> ContactoVirtualClient:
        options = {"timeout": tuple(timeout)} if timeout else {}
        return ContactoVirtualClient(base_url=base_url, login=credentials.get("login", ""),
                                     token=credentials.get("token", ""), session=session, **options)

    def parse_webhook(self, body: bytes | str, content_type: str = "") -> list[WebhookEvent]:
        """The parser reads raw text itself: JSON first, then a form, which this provider may post."""
        return parse_webhook(body)

    def needs_receipt(self, body: bytes) -> bool:
        """A customer reply carries no id of its own (seed 002): one receipt per POST tells two apart."""
        return is_customer_reply_body(body)

    def template_status(self, word: str) -> str:
        return TEMPLATE_STATUSES.get((word or "").strip().lower(), "UNKNOWN")

    def credential_problems(self, values: Mapping[str, str]) -> dict[str, str]:
        problems = super().credential_problems(values)
        line = values.get("line_number") or ""
        if line and not (line.isdigit() and len(line) == 12 and line.startswith("57")):
            problems["line_number"] = str(_("Write the line as 57 followed by the 10-digit number (12 digits)."))
        return problems

    def code_words(self, code: str | int | None) -> str:
        return short_words(code)

    def recipient_problem(self, digits: str) -> str | None:
        return mobile_problem(digits)


registry.register(ContactoVirtualProvider)
