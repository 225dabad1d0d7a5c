"""The thread's contact panel: who the customer is (tags, typed attributes, language, consent), their other
conversations and the last campaigns they received. Reads only, in a fixed number of queries whatever the
number of tags, attributes or campaigns (the thread's query budget). The contact page's selectors are reused.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import formats
from django.utils.translation import get_language_info

from contacts.models import AttributeKind, Tag
from contacts.services import definitions_for
from messaging.models import Conversation
from workspace import selectors

CAMPAIGNS_SHOWN = 5


def attribute_text(kind: str, value: Any) -> str:
    """A stored attribute value as a person reads it in the active language: a date in its format, a number with
    its separators; a choice is stored as its label and shown as it is."""
    if value is None or value == "":
        return "—"
    if kind == AttributeKind.DATE:
        try:
            return formats.date_format(dt.date.fromisoformat(str(value)[:10]), "SHORT_DATE_FORMAT")
        except ValueError:
            return str(value)
    if kind == AttributeKind.NUMBER and not isinstance(value, bool):
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return str(value)
        if number.is_finite():
            return formats.number_format(number, use_l10n=True, force_grouping=True)
    return str(value)


def attribute_rows(client_id: int, attributes: dict | None) -> list[dict[str, str]]:
    """The contact's attributes by their definitions' labels (one query); a key no longer defined shows as text."""
    if not attributes:
        return []
    definitions = definitions_for(client_id)
    rows = []
    for key, value in attributes.items():
        definition = definitions.get(key)
        rows.append({"key": key, "label": definition.label if definition else key,
                     "kind": definition.kind if definition else AttributeKind.TEXT,
                     "text": attribute_text(definition.kind if definition else AttributeKind.TEXT, value)})
    return sorted(rows, key=lambda row: row["label"].lower())


def language_name(code: str) -> str:
    if not code:
        return ""
    for candidate in (code, code.replace("_", "-").lower(), code.split("_")[0].split("-")[0].lower()):
        try:
            return str(get_language_info(candidate)["name_translated"])
        except KeyError:
            continue
    return code


def contact_panel(conversation: Conversation, *, can_act: bool, error: str = "") -> dict[str, Any]:
    """The panel's context for ``conversation`` (its contact already read with it)."""
    contact = conversation.contact
    received = []
    for recipient in selectors.contact_campaigns(contact, limit=CAMPAIGNS_SHOWN):
        received.append({"campaign": recipient.campaign, "outcome": recipient.get_state_display(),
                         "when": recipient.finished_at or recipient.campaign.started_at
                         or recipient.campaign.created_at})
    return {
        "contact": contact,
        "can_tag": can_act,
        "contact_tags": list(Tag.objects.filter(client_id=contact.client_id, contacts=contact)
                             .order_by("name").values_list("name", flat=True)),
        "contact_attributes": attribute_rows(contact.client_id, contact.attributes),
        "contact_language": language_name(contact.language),
        "received": received,
        "past": selectors.past_conversations(conversation),
        "contact_error": error,
    }
