"""The filters of a sync or a chart (phone numbers, countries, conversation types and directions) and the
granularity, checked and written in the provider's spelling; ``ApplicationError`` names the field at fault."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from analytics.models import DIRECTION_ALIASES, ConversationDirection, ConversationType, Granularity
from waportal.errors import ApplicationError


def _clean_list(values: Iterable[Any] | str | None) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = values.replace(";", ",").replace(" ", ",").split(",")
    return [str(v).strip() for v in values if str(v).strip()]


@dataclass(frozen=True)
class PointFilters:
    """The dimension filters of a sync or a chart, validated and in the provider's spelling.

    Empty means "all", as in getAnalytics.
    """

    phone_numbers: tuple[str, ...] = ()
    country_codes: tuple[str, ...] = ()
    conversation_types: tuple[str, ...] = ()
    conversation_directions: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "phone_numbers": list(self.phone_numbers),
            "country_codes": list(self.country_codes),
            "conversation_types": list(self.conversation_types),
            "conversation_directions": list(self.conversation_directions),
        }

    def apply(self, queryset):
        """``queryset`` of points narrowed to these filters."""
        if self.phone_numbers:
            queryset = queryset.filter(phone_number__in=self.phone_numbers)
        if self.country_codes:
            queryset = queryset.filter(country__in=self.country_codes)
        if self.conversation_types:
            queryset = queryset.filter(conversation_type__in=self.conversation_types)
        if self.conversation_directions:
            queryset = queryset.filter(conversation_direction__in=self.conversation_directions)
        return queryset


def point_filters(
    *,
    phone_numbers: Iterable[Any] | str | None = (),
    country_codes: Iterable[Any] | str | None = (),
    conversation_types: Iterable[Any] | str | None = (),
    conversation_directions: Iterable[Any] | str | None = (),
) -> PointFilters:
    """Validate filter values (lists or comma-separated text); ApplicationError names the bad field.

    Phone numbers are digits (a leading ``+`` and spaces are dropped),
    countries ISO 3166 alpha-2 codes, types and directions the manual's
    values (``USER_BUSINESS`` is read as ``BUSINESS_INITIATED``).
    """
    numbers: list[str] = []
    for raw in _clean_list(phone_numbers):
        digits = raw.lstrip("+").replace("-", "")
        if not digits.isdigit() or not 6 <= len(digits) <= 20:
            raise ApplicationError(
                _("“%(value)s” is not a phone number: write the digits with the country code, e.g. 573245550101.")
                % {"value": raw},
                field="phone_numbers",
            )
        numbers.append(digits)
    countries: list[str] = []
    for raw in _clean_list(country_codes):
        code = raw.upper()
        if len(code) != 2 or not code.isalpha() or not code.isascii():
            raise ApplicationError(
                _("“%(value)s” is not a country code: use two letters (ISO 3166), e.g. CO, PE, MX.") % {"value": raw},
                field="country_codes",
            )
        countries.append(code)
    types: list[str] = []
    for raw in _clean_list(conversation_types):
        value = raw.upper()
        if value not in ConversationType.values:
            raise ApplicationError(
                _("“%(value)s” is not a conversation type: use %(choices)s.")
                % {"value": raw, "choices": ", ".join(ConversationType.values)},
                field="conversation_types",
            )
        types.append(value)
    directions: list[str] = []
    for raw in _clean_list(conversation_directions):
        value = DIRECTION_ALIASES.get(raw.upper(), raw.upper())
        if value not in ConversationDirection.values:
            raise ApplicationError(
                _("“%(value)s” is not a conversation direction: use %(choices)s.")
                % {"value": raw, "choices": ", ".join(ConversationDirection.values)},
                field="conversation_directions",
            )
        directions.append(value)
    return PointFilters(
        phone_numbers=tuple(dict.fromkeys(numbers)),
        country_codes=tuple(dict.fromkeys(countries)),
        conversation_types=tuple(dict.fromkeys(types)),
        conversation_directions=tuple(dict.fromkeys(directions)),
    )


def checked_granularity(granularity: str) -> str:
    value = str(granularity or "").upper()
    if value not in Granularity.values:
        raise ApplicationError(
            _("Granularity must be one of %(choices)s.") % {"choices": ", ".join(Granularity.values)},
            field="granularity",
        )
    return value
