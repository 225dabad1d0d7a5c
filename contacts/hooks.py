"""What the contacts app lets the apps above it hear about (see :mod:`waportal.hooks`).

- ``contact_opted_out(contact=Contact, event=ConsentEvent)``: a contact's consent changed to out (a keyword, the
  API, the admin, an import). Fired inside the transaction that recorded it, once per change (an opt-out of a
  contact already out fires nothing).
"""

from waportal.hooks import Hook

contact_opted_out = Hook("contacts.contact_opted_out", "A contact opted out.")
