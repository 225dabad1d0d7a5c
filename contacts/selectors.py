"""Reads on contacts: the filters lists and segments share, and a segment's contacts.

A filter is a JSON object (what ``Segment.filters`` stores and the contact list's query parameters carry):

- ``tags``: list of tag names, the contact has every one; ``any_tags``: at least one of them;
- ``attributes``: ``{key: value}`` equal, or ``{key: {"gte": x, "lte": y}}`` / ``{"in": [..]}`` / ``{"contains": t}``;
- ``consent``: ``"opted_in"`` or ``"opted_out"``;
- ``country``: an ISO region (``"CO"``) or a calling code (``"57"``);
- ``inbound_within_days`` / ``no_inbound_for_days``: the contact's last message to the client;
- ``outbound_within_days``: the client sent them something in that many days;
- ``received_campaign``: the contact received a campaign: its id (``12`` or ``{"campaign": 12}``), or any campaign
  in the last days (``{"days": 30}``); ``replied_to_campaign``: the same, and they wrote in after receiving it (the
  conditions come from the campaigns app through ``contacts.hooks.campaign_condition``);
- ``search``: part of the name or the number.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import phonenumbers
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.tenancy import scope
from contacts.hooks import campaign_condition
from messaging.models import Contact, Conversation, Direction, Message
from waportal.errors import ApplicationError

FILTER_KEYS = {"tags", "any_tags", "attributes", "consent", "country", "inbound_within_days", "no_inbound_for_days",
               "outbound_within_days", "received_campaign", "replied_to_campaign", "search"}
CAMPAIGN_FILTERS = {"received_campaign": "received", "replied_to_campaign": "replied"}
ATTRIBUTE_OPS = {"gte", "lte", "gt", "lt", "in", "contains"}


def _days(filters: dict, key: str) -> timedelta:
    try:
        days = int(filters[key])
    except (TypeError, ValueError):
        raise ApplicationError(_("%(key)s must be a whole number of days.") % {"key": key}, field=f"filters.{key}")
    if not 0 <= days <= 3650:
        raise ApplicationError(_("%(key)s must be between 0 and 3650 days.") % {"key": key}, field=f"filters.{key}")
    return timedelta(days=days)


def _names(filters: dict, key: str) -> list[str]:
    value = filters[key]
    if isinstance(value, str):
        value = [v for v in value.split(",")]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApplicationError(_("%(key)s must be a list of tag names.") % {"key": key}, field=f"filters.{key}")
    return [v.strip() for v in value if v.strip()]


def _calling_code(country: str) -> str:
    value = str(country).strip().lstrip("+")
    if value.isdigit() and 0 < len(value) <= 3:
        return value
    code = phonenumbers.country_code_for_region(value.upper())
    if not code:
        raise ApplicationError(_("%(value)s is not a country (use a code such as CO or 57).") % {"value": value[:10]},
                               field="filters.country")
    return str(code)


def _equals(key: str, wanted: Any) -> Q:
    """``attributes[key] == wanted``; a number written as text (a query parameter) also matches the number."""
    condition = Q(**{f"attributes__{key}": wanted})
    if isinstance(wanted, str):
        try:
            number = float(wanted.replace(",", "."))
        except ValueError:
            return condition
        if abs(number) < 2**53:  # also refuses nan and inf; a larger number is no id or count anyone typed
            condition |= Q(**{f"attributes__{key}": int(number) if number.is_integer() else number})
    return condition


def _campaign_value(filters: dict, key: str) -> tuple[int | None, int | None]:
    """``(campaign id, None)`` or ``(None, days)`` from ``12``, ``"12"``, ``{"campaign": 12}`` or ``{"days": 30}``."""
    value = filters[key]
    if isinstance(value, dict) and set(value) == {"days"}:
        return None, _days(value, "days").days
    if isinstance(value, dict) and set(value) == {"campaign"}:
        value = value["campaign"]
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit() \
            or not 0 < int(value) < 2**63:
        raise ApplicationError(_("%(key)s must be a campaign id or {\"days\": N}.") % {"key": key},
                               field=f"filters.{key}")
    return int(value), None


def filters_clean(filters: Any) -> dict:
    """``filters`` checked (unknown keys and wrong shapes refused by name), without empty entries."""
    if not isinstance(filters, dict):
        raise ApplicationError(_("Filters must be an object."), field="filters")
    unknown = sorted(set(filters) - FILTER_KEYS)
    if unknown:
        raise ApplicationError(_("Unknown filter: %(keys)s.") % {"keys": ", ".join(unknown)}, field="filters")
    cleaned = {k: v for k, v in filters.items() if v not in (None, "", [], {})}
    contacts_filter(Contact.objects.none(), cleaned)  # raises on a bad value
    return cleaned


def contacts_filter(queryset: QuerySet, filters: dict) -> QuerySet:
    """``queryset`` (of contacts) narrowed by ``filters`` (see the module's doc)."""
    now = timezone.now()
    if filters.get("tags"):
        for name in _names(filters, "tags"):
            queryset = queryset.filter(tags__name=name)
    if filters.get("any_tags"):
        queryset = queryset.filter(tags__name__in=_names(filters, "any_tags")).distinct()
    attributes = filters.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise ApplicationError(_("attributes must be an object of key: value."), field="filters.attributes")
    for key, wanted in attributes.items():
        if not str(key).replace("-", "").replace("_", "").isalnum():
            raise ApplicationError(_("%(key)s is not an attribute key.") % {"key": str(key)[:50]},
                                   field="filters.attributes")
        if isinstance(wanted, dict):
            bad = sorted(set(wanted) - ATTRIBUTE_OPS)
            if bad:
                raise ApplicationError(_("Unknown comparison: %(ops)s.") % {"ops": ", ".join(bad)},
                                       field=f"filters.attributes.{key}")
            for op, value in wanted.items():
                lookup = "icontains" if op == "contains" else op
                queryset = queryset.filter(**{f"attributes__{key}__{lookup}": value})
        else:
            queryset = queryset.filter(_equals(key, wanted))
    consent = filters.get("consent")
    if consent:
        if consent not in ("opted_in", "opted_out"):
            raise ApplicationError(_("consent must be opted_in or opted_out."), field="filters.consent")
        queryset = queryset.filter(opted_out=consent == "opted_out")
    if filters.get("country"):
        queryset = queryset.filter(wa_id__startswith=_calling_code(filters["country"]))
    if filters.get("inbound_within_days") not in (None, ""):
        since = now - _days(filters, "inbound_within_days")
        queryset = queryset.filter(Exists(Conversation.objects.filter(contact=OuterRef("pk"),
                                                                      last_inbound_at__gte=since)))
    if filters.get("no_inbound_for_days") not in (None, ""):
        since = now - _days(filters, "no_inbound_for_days")
        queryset = queryset.exclude(Exists(Conversation.objects.filter(contact=OuterRef("pk"),
                                                                       last_inbound_at__gte=since)))
    if filters.get("outbound_within_days") not in (None, ""):
        since = now - _days(filters, "outbound_within_days")
        queryset = queryset.filter(Exists(Message.objects.filter(
            client_id=OuterRef("client_id"), to_number=OuterRef("wa_id"), direction=Direction.OUTBOUND,
            created_at__gte=since)))
    for key, kind in CAMPAIGN_FILTERS.items():
        if filters.get(key) in (None, "", {}):
            continue
        campaign_id, days = _campaign_value(filters, key)
        since = now - timedelta(days=days) if days is not None else None
        conditions = [c for c in campaign_condition.collect(kind=kind, campaign_id=campaign_id, since=since) if c]
        queryset = queryset.none() if not conditions else queryset
        for condition in conditions:
            queryset = queryset.filter(condition)
    search = str(filters.get("search") or "").strip()
    if search:
        queryset = queryset.filter(Q(profile_name__icontains=search) | Q(wa_id__contains=search.lstrip("+")))
    return queryset


def contacts_visible(user, min_role: str | None = None) -> QuerySet:
    queryset = Contact.objects.all()
    return scope(queryset, user, "client", min_role) if min_role else scope(queryset, user, "client")


def segment_contacts(segment) -> QuerySet:
    """The contacts a segment matches now (the client's, filtered)."""
    return contacts_filter(Contact.objects.filter(client_id=segment.client_id), segment.filters or {})
