"""Aldeamo's ISV endpoints, read with the analytics ``token`` (never the ApiKey): conversation analytics
(getAnalytics) and inventory (getWabaIdsByToken, getPhoneNumbers), mixed into
:class:`providers.aldeamo.client.AldeamoClient`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from providers.base import ProviderAuthError, ProviderBadResponse, ProviderRejected, first_error, parse_json
from providers.types import ClientWabas, ConversationPoint, PhoneNumberInfo

# §"Analíticas de conversaciones" (ISV only).
ANALYTICS_PATH = "v1/analytics/getAnalytics"
# §"WABA's y ClientId con Token".
WABAS_BY_TOKEN_PATH = "v1/analytics/getWabaIdsByToken"
# §"API PhoneNumber".
PHONE_NUMBERS_PATH = "v1/analytics/getPhoneNumbers"

# §"Analíticas de conversaciones": "Formato (aaaa-mm-dd hh:mm:ss)", both ways.
ANALYTICS_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
GRANULARITIES = ("HALF_HOUR", "DAILY", "MONTHLY")
DEFAULT_DIMENSIONS = ("conversation_type", "conversation_direction", "phone", "country")

# getAnalytics answers HTTP 200 with this error when the search is empty.
_NO_DATA_PREFIX = "data not found"


def _analytics_time(value: Any) -> datetime:
    """``"2022-09-20 18:00:00"`` as a naive datetime; ValueError for anything else.

    ``fromisoformat`` is several times faster than ``strptime``, which matters
    for a 90-day half-hour sync (hundreds of thousands of points); the length
    and separator checks keep it as strict as the documented format.
    """
    text = str(value)
    if len(text) != 19 or text[10] != " ":
        return datetime.strptime(text, ANALYTICS_DATE_FORMAT)  # raises ValueError with the reason
    return datetime.fromisoformat(text)


class IsvMixin:
    """Analytics and inventory; needs ``request`` (BaseClient), ``_token_headers`` and ``analytics_token``
    (AldeamoClient)."""

    def analytics(
        self,
        *,
        waba_id: str,
        client_id: str | int,
        start: datetime,
        end: datetime,
        granularity: str,
        phone_numbers: Sequence[str] = (),
        dimensions: Sequence[str] = DEFAULT_DIMENSIONS,
        country_codes: Sequence[str] = (),
        conversation_types: Sequence[str] = (),
        conversation_directions: Sequence[str] = (),
    ) -> list[ConversationPoint]:
        """Conversation counts of one WABA between ``start`` and ``end`` (§"Analíticas").

        Dates are sent as their wall-clock value ("yyyy-mm-dd hh:mm:ss", no
        zone: Aldeamo takes none), so pass them in the account's clock; the
        points come back naive, as Aldeamo writes them. An empty search is
        answered with HTTP 200 ``{"errors": ["Data not found for search
        criteria"]}``: that is an empty list here, not an error.
        """
        if granularity not in GRANULARITIES:
            raise ValueError(f"granularity must be one of {', '.join(GRANULARITIES)}, not {granularity!r}.")
        body = {
            "wabaId": str(waba_id),
            "clientId": str(client_id),
            "conversationAnalytics": {
                "conversationStart": start.strftime(ANALYTICS_DATE_FORMAT),
                "conversationEnd": end.strftime(ANALYTICS_DATE_FORMAT),
                "granularity": granularity,
                "phoneNumbers": list(phone_numbers),
                "dimensions": list(dimensions),
                "filters": {
                    "countryCodes": list(country_codes),
                    "conversationTypes": list(conversation_types),
                    "conversationDirections": list(conversation_directions),
                },
            },
        }
        response = self.request("POST", ANALYTICS_PATH, headers=self._token_headers(), json_body=body)
        answer = parse_json(response)
        words = first_error(answer)
        if words:
            if words.lower().startswith(_NO_DATA_PREFIX):
                return []
            raise ProviderRejected(words, status=response.status_code, body=answer)
        analytics = answer.get("conversation_analytics") if isinstance(answer, Mapping) else None
        data = analytics.get("data") if isinstance(analytics, Mapping) else None
        if not isinstance(data, list):
            raise ProviderBadResponse(
                "Aldeamo's analytics answer has no conversation_analytics.data list.",
                status=response.status_code,
                body=answer,
            )
        points: list[ConversationPoint] = []
        for block in data:
            raw_points = block.get("data_points") if isinstance(block, Mapping) else None
            if not isinstance(raw_points, list):
                raise ProviderBadResponse(
                    "Aldeamo's analytics answer has a block without data_points.",
                    status=response.status_code,
                    body=answer,
                )
            points.extend(self._conversation_point(point, answer, response.status_code) for point in raw_points)
        return points

    @staticmethod
    def _conversation_point(point: Any, answer: Any, status: int) -> ConversationPoint:
        """One data point; ``conversation`` is a count written as a string ("1")."""
        try:
            return ConversationPoint(
                start=_analytics_time(point["start"]),
                end=_analytics_time(point["end"]),
                conversations=int(str(point["conversation"]).strip()),
                country=str(point.get("country") or ""),
                phone_number=str(point.get("phone_number") or ""),
                conversation_type=str(point.get("conversation_type") or ""),
                conversation_direction=str(point.get("conversation_direction") or ""),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProviderBadResponse(
                f"Aldeamo returned an unreadable analytics data point: {point!r}.", status=status, body=answer
            ) from exc

    def wabas_by_token(self) -> list[ClientWabas]:
        """The clients and WABAs the ISV token can see (§"WABA's y ClientId con Token"); no body."""
        response = self.request("POST", WABAS_BY_TOKEN_PATH, headers=self._token_headers())
        answer = parse_json(response)
        if first_error(answer):
            raise ProviderRejected(first_error(answer) or "", status=response.status_code, body=answer)
        if not isinstance(answer, list):
            raise ProviderBadResponse(
                "Aldeamo's getWabaIdsByToken answer is not a list.", status=response.status_code, body=answer
            )
        result: list[ClientWabas] = []
        for item in answer:
            client_id = item.get("clientId") if isinstance(item, Mapping) else None
            waba_ids = item.get("wabaIds") if isinstance(item, Mapping) else None
            if client_id is None or not isinstance(waba_ids, list):
                raise ProviderBadResponse(
                    f"Aldeamo returned an unreadable client entry: {item!r}.",
                    status=response.status_code,
                    body=answer,
                )
            result.append(ClientWabas(client_id=str(client_id), waba_ids=tuple(str(w) for w in waba_ids)))
        return result

    def phone_numbers(self, *, client_id: str | int, waba_id: str) -> list[PhoneNumberInfo]:
        """The WABA's business numbers (§"API PhoneNumber").

        Credentials and selectors travel as headers ``Token``, ``ClientId`` and
        ``WabaId``. Aldeamo answers 400 with one sentence for two causes
        ("WabaId … does not belong to the client … or the token is not valid …"):
        that stays ProviderRejected, because the token usually just worked on
        getWabaIdsByToken and the likelier fault is the WABA/client pair. Only
        words that blame the token alone (no "does not belong") become
        ProviderAuthError; a 401 always does.
        """
        headers = {
            "Token": self.analytics_token,
            "ClientId": str(client_id),
            "WabaId": str(waba_id),
            "Content-Type": "application/json",
        }
        try:
            response = self.request("POST", PHONE_NUMBERS_PATH, headers=headers)
        except ProviderRejected as exc:
            lowered = exc.message.lower()
            if "token" in lowered and "does not belong" not in lowered:
                raise ProviderAuthError(exc.message, status=exc.status, body=exc.body) from exc
            raise
        answer = parse_json(response)
        if first_error(answer):
            raise ProviderRejected(first_error(answer) or "", status=response.status_code, body=answer)
        data = answer.get("data") if isinstance(answer, Mapping) else None
        if not isinstance(data, list):
            raise ProviderBadResponse(
                "Aldeamo's getPhoneNumbers answer has no data list.", status=response.status_code, body=answer
            )
        numbers: list[PhoneNumberInfo] = []
        for item in data:
            if not isinstance(item, Mapping) or not item.get("id") or not item.get("display_phone_number"):
                raise ProviderBadResponse(
                    f"Aldeamo returned an unreadable phone number: {item!r}.",
                    status=response.status_code,
                    body=answer,
                )
            numbers.append(
                PhoneNumberInfo(
                    id=str(item["id"]),
                    display_phone_number=str(item["display_phone_number"]),
                    verified_name=str(item.get("verified_name") or ""),
                    code_verification_status=str(item.get("code_verification_status") or ""),
                    quality_rating=str(item.get("quality_rating") or ""),
                )
            )
        return numbers
