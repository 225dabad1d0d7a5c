"""Aldeamo as a registered provider: what it is, what it can do, and its side of the one contract."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from django.utils.translation import gettext_lazy as _

from providers import registry, whatsapp
from providers.base import WebhookUnreadable, json_loads_relaxed
from providers.contract import Capabilities, CredentialField, ProviderSpec
from providers.types import WebhookEvent

from .client import AldeamoClient
from .webhooks import parse_webhook


class AldeamoProvider(ProviderSpec):
    id = "aldeamo"
    name = _("Aldeamo")
    webhook_slug = "aldeamo"
    # Seed 000 §3.1: the test and production hosts.
    base_urls = {"test": "https://apitellitwatest.aldeamo.com", "production": "https://apitellitwa.aldeamo.com"}
    credential_fields = (
        CredentialField("api_key", missing=_("Aldeamo needs the API key (the ApiKey header).")),
        CredentialField("user_id", missing=_("Aldeamo needs the user id (the UserId header).")),
        CredentialField("analytics_token", required=False),
        CredentialField("templates_list_path", required=False),
    )
    capabilities = Capabilities(
        free_form_sends=True,
        replies_in_context=True,
        templates_per_waba=True,
        template_ids_by_hand=False,
        template_write=True,
        template_parameters="components",
        balance=False,
        analytics=True,
        inventory="isv",
        manual_inventory=True,
    )

    def client(self, *, base_url: str, credentials: Mapping[str, str], session: Any = None,
               timeout: Any = None) -> AldeamoClient:
        options = {"timeout": tuple(timeout)} if timeout else {}
        return AldeamoClient(
            base_url=base_url,
            api_key=credentials.get("api_key", ""),
            user_id=credentials.get("user_id", ""),
            analytics_token=credentials.get("analytics_token", ""),
            templates_list_path=credentials.get("templates_list_path") or "getTemplates",
            session=session,
            **options,
        )

    def code_words(self, code: str | int | None) -> str:
        """Aldeamo relays WhatsApp's own error codes."""
        return whatsapp.error_words(code)

    def parse_webhook(self, body: bytes | str, content_type: str = "") -> list[WebhookEvent]:
        """Aldeamo posts JSON (its manual's examples carry trailing commas); a form body is decoded into a
        mapping so the parser can say what it lacks."""
        text = body.decode("utf-8") if isinstance(body, bytes | bytearray) else body
        try:
            payload = json_loads_relaxed(text)
        except ValueError as exc:
            if "=" in text and "{" not in text:
                pairs = parse_qsl(text, keep_blank_values=True)
                if pairs:
                    return parse_webhook(dict(pairs))
            raise WebhookUnreadable(f"The body is not JSON ({exc}).") from None
        return parse_webhook(payload)


registry.register(AldeamoProvider)
