"""Campaigns to a saved contact segment: the segment's contacts become the recipient list.

The list is a snapshot taken when the campaign is created and checked (the dry run): who matched then, each
with the variables their attributes fill. Whoever is left out is in the dry-run report with the reason (opted out
for this template's category, an attribute missing for a slot, a number the provider does not serve); a contact
who opts out between the snapshot and the send is still skipped by the runner's re-check.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from campaigns import services
from campaigns.models import Campaign
from campaigns.variables import template_slots
from contacts.models import AttributeDefinition, Segment
from contacts.selectors import segment_contacts
from waportal.errors import ApplicationError

#: Contact fields a slot may take besides the client's attributes.
CONTACT_FIELDS = {"name": "profile_name", "number": "wa_id", "language": "language"}


def _mapping_clean(*, segment: Segment, template, mapping: Mapping[str, str]) -> dict[str, str]:
    slots = {slot.key for slot in template_slots(template)}
    unknown_slots = sorted(set(mapping) - slots)
    if unknown_slots:
        raise ApplicationError(_("The template has no slot %(slots)s.") % {"slots": ", ".join(unknown_slots)},
                               field="attribute_mapping")
    defined = set(AttributeDefinition.objects.filter(client_id=segment.client_id).values_list("key", flat=True))
    unknown = sorted({v for v in mapping.values() if v not in defined and v not in CONTACT_FIELDS})
    if unknown:
        raise ApplicationError(_("%(keys)s is not one of this client's contact attributes.") % {
            "keys": ", ".join(unknown)}, field="attribute_mapping")
    return dict(mapping)


def segment_recipients(*, segment: Segment, mapping: Mapping[str, str]) -> Iterator[dict[str, Any]]:
    """The segment's contacts as recipients (``{"phone", "variables"}``), streamed from the database."""
    queryset = segment_contacts(segment).order_by("pk").values("wa_id", "profile_name", "language", "attributes")
    for row in queryset.iterator(chunk_size=2000):
        attributes = row["attributes"] or {}
        variables = {}
        for slot, key in mapping.items():
            value = row[CONTACT_FIELDS[key]] if key in CONTACT_FIELDS else attributes.get(key)
            if value not in (None, ""):
                variables[slot] = str(value)
        yield {"phone": row["wa_id"], "variables": variables}


@transaction.atomic
def campaign_create_for_segment(*, actor, segment: Segment, attribute_mapping: Mapping[str, str] | None = None,
                                **fields: Any) -> Campaign:
    """Create a campaign whose recipients are ``segment``'s contacts now, and check them (the dry run)."""
    phone_number, template = fields["phone_number"], fields["template"]
    if segment.client_id != phone_number.client_id:
        raise ApplicationError(_("The segment belongs to another client than the sender number."), field="segment")
    mapping = _mapping_clean(segment=segment, template=template, mapping=attribute_mapping or {})
    campaign = services.campaign_create(actor=actor, **fields)
    campaign.segment = segment
    campaign.save(update_fields=["segment"])
    try:
        return services.campaign_recipients_set(actor=actor, campaign=campaign,
                                                recipients=segment_recipients(segment=segment, mapping=mapping))
    except ApplicationError as exc:
        if exc.field == "recipients":
            raise ApplicationError(_("The segment matches no contact."), field="segment")
        raise


def campaign_create_from_form(*, actor, data: Mapping[str, Any]) -> Campaign:
    """The pages' first step (``campaigns.forms.CampaignNewForm``'s data): a campaign for a segment, checked at
    once (its report is next), or one with its CSV attached (the column matching is next)."""
    fields = {name: data[name] for name in ("phone_number", "template", "name", "pace", "start_at",
                                            "default_country")}
    if data.get("segment") is not None:
        return campaign_create_for_segment(actor=actor, segment=data["segment"],
                                           attribute_mapping=data["attribute_mapping"], **fields)
    with transaction.atomic():
        campaign = services.campaign_create(actor=actor, **fields)
        services.campaign_upload_attach(actor=actor, campaign=campaign, file=data["file"],
                                        original_name=data["file"].name)
    return campaign
