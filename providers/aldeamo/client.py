"""Aldeamo (tellit WA) HTTP client: sending, templates, ISV analytics and inventory.

With its sibling modules, the only code that knows Aldeamo's request and
response shapes. Section names in the comments refer to the Aldeamo WhatsApp-BSP manual v6 (April 2023,
``/work/shared/seeds/000_5112285de87a8c96.txt``).

Two credential sets exist and are never mixed: ``ApiKey``/``UserId`` headers
for sending and templates (a line's account), and the ISV ``token`` header for
analytics and inventory (getAnalytics, getWabaIdsByToken, getPhoneNumbers).

The wire shapes live in sibling modules, one per part of the manual: ``sending`` (send URL and body),
``templates`` (template calls and errors inside 2xx bodies) and ``isv`` (analytics and inventory); each gives
``AldeamoClient`` its methods as a mixin, so the client stays one class with one set of credentials.
"""

from __future__ import annotations

import requests

from providers.base import DEFAULT_TIMEOUT, BaseClient, ProviderError
from providers.contract import ProviderClient

from .isv import IsvMixin
from .sending import SendingMixin
from .templates import TEMPLATES_LIST_DEFAULT, TemplatesMixin


class AldeamoClient(SendingMixin, TemplatesMixin, IsvMixin, BaseClient, ProviderClient):
    """Client for one Aldeamo account (one set of credentials, one base URL).

    ``base_url`` is ``https://apitellitwatest.aldeamo.com`` (test),
    ``https://apitellitwa.aldeamo.com`` (production) or a sandbox/proxy.
    Pass ``session=providers.base.session_for(key)`` for the pooled session.
    """

    provider_name = "Aldeamo"

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str = "",
        user_id: str = "",
        analytics_token: str = "",
        session: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        templates_list_path: str = TEMPLATES_LIST_DEFAULT,
    ) -> None:
        super().__init__(base_url=base_url, session=session, timeout=timeout)
        self.api_key = api_key
        self.user_id = user_id
        self.analytics_token = analytics_token
        self.templates_list_path = templates_list_path.strip("/") or TEMPLATES_LIST_DEFAULT

    # --- headers ------------------------------------------------------------

    def _apikey_headers(self, *, json_body: bool = False) -> dict[str, str]:
        """§3.2 Headers: ``ApiKey`` and ``UserId`` (sending and templates)."""
        headers = {"ApiKey": self.api_key, "UserId": self.user_id}
        if json_body:
            headers["Content-Type"] = "application/json"
        return headers

    def _token_headers(self) -> dict[str, str]:
        """§"Analíticas": ``token`` and ``Content-Type: application/json`` (ISV endpoints)."""
        return {"token": self.analytics_token, "Content-Type": "application/json"}

    # --- health -------------------------------------------------------------

    def check_connection(self, *, waba_id: str = "") -> str:
        """Prove the configured credentials work with read-only calls; a sentence for the operator.

        Aldeamo has no "who am I" call. The ISV token is checked with
        getWabaIdsByToken (no arguments needed). ApiKey/UserId can only be
        checked without sending a message by listing templates, which needs a
        WABA id: pass ``waba_id`` to include that check. With neither an
        analytics token nor a WABA id nothing can be proven, which raises a
        ProviderError naming the missing setting (no request is made).
        """
        sentences: list[str] = []
        if self.analytics_token:
            clients = self.wabas_by_token()
            wabas = sum(len(c.waba_ids) for c in clients)
            sentences.append(
                f"The analytics token works: it sees {_count(len(clients), 'client')} "
                f"with {_count(wabas, 'WhatsApp Business account')}."
            )
        if waba_id:
            templates = self.templates_list(waba_id=waba_id, limit=1)
            found = "at least one template" if templates else "no templates yet"
            sentences.append(f"The API key works: WABA {waba_id} lists {found}.")
        if not sentences:
            raise ProviderError(
                "Cannot check the Aldeamo connection: set the analytics token, or give a WABA id to check "
                "the API key with a template listing.",
                field="analytics_token",
            )
        return " ".join(sentences)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


__all__ = ["AldeamoClient"]
