"""What accounts lets the apps above it hear about (see :mod:`waportal.hooks`).

- ``numbers_changed(changes=[(PhoneNumber, field, old, new), …])``: a sync found a number's quality rating or
  code verification status changed; fired inside the sync's transaction, after the numbers are written.
"""

from waportal.hooks import Hook

numbers_changed = Hook("accounts.numbers_changed", "A sync changed business numbers' quality or verification.")
