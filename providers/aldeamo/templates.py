"""Aldeamo templates (§"PLANTILLAS": list, create, delete) and the reading of answers that report an error
inside a 2xx body (mixed into :class:`providers.aldeamo.client.AldeamoClient`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from providers.base import (
    ProviderAuthError,
    ProviderBadResponse,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
    first_error,
    parse_json,
)
from providers.types import TemplateInfo

from .sending import answer_words

# §"PLANTILLAS": GET getTemplates, POST createTemplate, DELETE deleteTemplate.
# Seed 000 l.2353 and l.2359: the PDF wrapped both list URLs, printing
# "ates https://…/template/getTempl" (test) and "s https://…/template/getTemplate"
# (production); the stray tails belong at the URLs' ends, so both read
# ".../template/getTemplates". Kept a constructor argument (an account field)
# in case a provider tells a customer otherwise.
TEMPLATES_PATH = "v1/apikey/template/{name}"
TEMPLATES_LIST_DEFAULT = "getTemplates"
TEMPLATE_CREATE = "createTemplate"
TEMPLATE_DELETE = "deleteTemplate"


class TemplatesMixin:
    """The template calls; needs ``request`` (BaseClient), ``_apikey_headers`` and ``templates_list_path``
    (AldeamoClient)."""

    def templates_list(self, *, waba_id: str, limit: int = 1000) -> list[TemplateInfo]:
        """The WABA's templates (§"Obtener plantillas"), components kept as Aldeamo gives them."""
        response = self.request(
            "GET",
            TEMPLATES_PATH.format(name=self.templates_list_path),
            headers=self._apikey_headers(),
            params={"limit": limit, "wabaid": waba_id},
        )
        answer = self._checked_body(response)
        data = answer.get("data") if isinstance(answer, Mapping) else None
        templates = data.get("templates") if isinstance(data, Mapping) else None
        if not isinstance(templates, list):
            raise ProviderBadResponse(
                "Aldeamo's template list has no data.templates list.", status=response.status_code, body=answer
            )
        return [self._template_info(item, answer, response.status_code) for item in templates]

    @staticmethod
    def _template_info(item: Any, answer: Any, status: int) -> TemplateInfo:
        if not isinstance(item, Mapping) or not item.get("name"):
            raise ProviderBadResponse("Aldeamo listed a template without a name.", status=status, body=answer)
        components = item.get("components") or ()
        if not isinstance(components, list | tuple) or not all(isinstance(c, Mapping) for c in components):
            raise ProviderBadResponse(
                f"Aldeamo listed template {item['name']!r} with unreadable components.", status=status, body=answer
            )
        return TemplateInfo(
            name=str(item["name"]),
            language=str(item.get("language") or ""),
            status=str(item.get("status") or ""),
            category=str(item.get("category") or ""),
            id=str(item.get("id") or ""),
            components=tuple(dict(c) for c in components),
            rejected_reason=str(item.get("rejected_reason") or ""),
        )

    def template_create(
        self,
        *,
        waba_id: str,
        name: str,
        language: str,
        category: str,
        components: list[dict[str, Any]],
    ) -> str:
        """Submit a template for approval (§"Creación de plantillas"); returns its new id."""
        body = {
            "category": category,
            "name": name,
            "components": components,
            "language": language,
            "wabaId": waba_id,
        }
        response = self.request(
            "POST",
            TEMPLATES_PATH.format(name=TEMPLATE_CREATE),
            headers=self._apikey_headers(json_body=True),
            json_body=body,
        )
        answer = self._checked_body(response)
        template_id = answer.get("id") if isinstance(answer, Mapping) else None
        if template_id is None or not str(template_id).strip():
            raise ProviderBadResponse(
                "Aldeamo accepted the template but returned no id.", status=response.status_code, body=answer
            )
        return str(template_id).strip()

    def template_delete(self, *, waba_id: str, name: str) -> None:
        """Delete a template by name (§"Eliminación de plantilla"); ``success: false`` is a refusal."""
        response = self.request(
            "DELETE",
            TEMPLATES_PATH.format(name=TEMPLATE_DELETE),
            headers=self._apikey_headers(),
            params={"nameTemplate": name, "wabaid": waba_id},
        )
        answer = self._checked_body(response)
        success = answer.get("success") if isinstance(answer, Mapping) else None
        if success is True:
            return
        if success is False:
            raise ProviderRejected(
                answer_words(answer) or f"Aldeamo did not delete template {name!r}.",
                status=response.status_code,
                body=answer,
            )
        raise ProviderBadResponse(
            "Aldeamo's answer to deleteTemplate has no success flag.", status=response.status_code, body=answer
        )

    def _checked_body(self, response: requests.Response) -> Any:
        """The JSON of a 2xx answer that may still report an error in its body.

        The template endpoints wrap answers as ``{"status": 200, "reason": "OK", ...}``;
        a ``status`` other than 2xx there, or an ``errors`` list, is the real answer.
        """
        answer = parse_json(response)
        if isinstance(answer, Mapping):
            status = answer.get("status")
            if isinstance(status, str) and status.strip().isdigit():
                status = int(status)
            if isinstance(status, int) and not isinstance(status, bool) and not 200 <= status < 300:
                raise self._error_for(status, answer_words(answer), answer)
            if first_error(answer):
                raise self._error_for(response.status_code, first_error(answer), answer)
        return answer

    def _error_for(self, status: int, words: str | None, body: Any) -> ProviderError:
        """The ProviderError for an error status reported inside a body (same mapping as BaseClient)."""
        if status in (401, 403):
            return ProviderAuthError(
                words or f"Aldeamo refused the credentials (status {status}).", status=status, body=body
            )
        if status == 429:
            return ProviderRateLimited(words or "Aldeamo is rate limiting requests.", status=status, body=body)
        if status >= 500:
            return ProviderUnavailable(
                words or f"Aldeamo had an internal error (status {status}).", status=status, body=body
            )
        return ProviderRejected(words or f"Aldeamo rejected the request (status {status}).", status=status, body=body)
