"""What accounts asks of the apps above it (see :mod:`waportal.hooks`); they register in ``AppConfig.ready()``.

- ``templates_sync(account, warnings) -> int``: pull the account's templates during its sync; how many the provider
  listed (a ``ProviderError`` becomes a warning, the other receivers still run);
- ``setup_notes(account, client_ids) -> list[SetupNote]``: lines for the account page's Setup box.
"""

from waportal.hooks import Hook

templates_sync = Hook("accounts.templates_sync", "Pull an account's templates during its sync.")
setup_notes = Hook("accounts.setup_notes", "Lines for the account page's Setup box.")
