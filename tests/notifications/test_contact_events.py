"""A contact opting out reaches the client's webhook endpoints as contact.opted_out (once per change)."""

from __future__ import annotations

import pytest

from contacts.consent import contact_opt_in, contact_opt_out
from notifications import services
from notifications.models import OutboxEvent
from tests.messaging.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_an_opt_out_is_an_outgoing_event_and_a_repeat_is_not(receiver, line):
    services.webhook_endpoint_create(actor=None, client=line.client, url=receiver.url)
    contact = ContactFactory(client=line.client, wa_id="573115550000")
    contact_opt_out(actor=None, contact=contact, detail="BAJA")
    contact_opt_out(actor=None, contact=contact, detail="BAJA")  # already out: nothing new
    contact_opt_in(actor=None, contact=contact)
    events = list(OutboxEvent.objects.values_list("type", "ordering_key", "data"))
    assert [(kind, key) for kind, key, _data in events] == [("contact.opted_out", f"contact:{contact.pk}")]
    assert events[0][2]["wa_id"] == "573115550000" and events[0][2]["detail"] == "BAJA"
