"""Writes of the accounts app, one entry point for its parts.

- ``provider_accounts``: create, change, delete, rotate the webhook secret, test the connection, the balance.
- ``sync``: clients, WABAs and numbers pulled from the provider, then the templates; what a client may read of it.
- ``memberships``: a person's role in a client.
- ``inventory``: WABAs and numbers entered by hand (and what no listing returns).

Why the parts are gathered here rather than imported from where they live: ``accounts.services`` is the house's
"writes" module of this app, the one name every caller (API views, admin, the demo's setup, tests) reaches as
``services.provider_account_sync(...)``, as in every other app; callers keep asking the app for a write without
knowing which part holds it. A test that replaces a part's collaborator (``provider_client``) patches the part
that calls it (``accounts.services.sync``), since that is where the name is looked up.
"""

from accounts.services.inventory import (
    PHONE_NUMBER_EDITABLE,
    WABA_EDITABLE,
    checked_namespace,
    digits_only,
    phone_number_create,
    phone_number_update,
    waba_create,
    waba_update,
)
from accounts.services.memberships import membership_remove, membership_set
from accounts.services.provider_accounts import (
    provider_account_create,
    provider_account_delete,
    provider_account_test_connection,
    provider_account_update,
    provider_account_webhook_secret_rotate,
    provider_error_words,
)
from accounts.services.sync import SyncResult, provider_account_sync, sync_result_visible

__all__ = [
    "PHONE_NUMBER_EDITABLE",
    "WABA_EDITABLE",
    "SyncResult",
    "checked_namespace",
    "digits_only",
    "membership_remove",
    "membership_set",
    "phone_number_create",
    "phone_number_update",
    "provider_account_create",
    "provider_account_delete",
    "provider_account_sync",
    "provider_account_test_connection",
    "provider_account_update",
    "provider_account_webhook_secret_rotate",
    "provider_error_words",
    "sync_result_visible",
    "waba_create",
    "waba_update",
]
