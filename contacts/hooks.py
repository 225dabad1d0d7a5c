"""What the contacts app lets the apps above it hear about (see :mod:`waportal.hooks`).

- ``contact_opted_out(contact=Contact, event=ConsentEvent)``: a contact's consent changed to out (a keyword, the
  API, the admin, an import). Fired inside the transaction that recorded it, once per change (an opt-out of a
  contact already out fires nothing).
- ``campaign_condition(kind="received" | "replied", campaign_id=int | None, since=datetime | None)``: asked (with
  ``collect``) by the segment filters ``received_campaign`` / ``replied_to_campaign``; the campaigns app answers with
  a condition on contacts (an ``Exists`` over its recipients), since contacts cannot import campaigns.
"""

from waportal.hooks import Hook

contact_opted_out = Hook("contacts.contact_opted_out", "A contact opted out.")
campaign_condition = Hook("contacts.campaign_condition",
                          "A condition on contacts: who received (or replied to) a campaign.")
