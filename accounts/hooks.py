"""What accounts asks of the apps above it (see :mod:`waportal.hooks`); they register in ``AppConfig.ready()``.

- ``templates_sync(account, warnings) -> int``: pull the account's templates during its sync; how many the provider
  listed (a ``ProviderError`` becomes a warning, the other receivers still run);
- ``setup_notes(account, client_ids) -> list[SetupNote]``: lines for the account page's Setup box;
- ``numbers_changed(changes=[(PhoneNumber, field, old, new), …])``: a sync found a number's quality rating or
  code verification status changed; fired inside the sync's transaction, after the numbers are written.
- ``credentials_refused(account, error)``: the provider refused the account's credentials (a ``ProviderAuthError``)
  during a sync or a connection test; fired before the error goes up (or becomes the test's answer).
"""

from waportal.hooks import Hook

templates_sync = Hook("accounts.templates_sync", "Pull an account's templates during its sync.")
setup_notes = Hook("accounts.setup_notes", "Lines for the account page's Setup box.")
numbers_changed = Hook("accounts.numbers_changed", "A sync changed business numbers' quality or verification.")
credentials_refused = Hook("accounts.credentials_refused", "A provider refused an account's credentials.")
