"""From a stored ProviderAccount to a ready adapter client.

The only place that reads an account's secrets for use; the adapters never
see a model. One pooled session per account (``providers.base.session_for``);
the client comes from the account's registered provider.
"""

from __future__ import annotations

from functools import cache

from django.utils.module_loading import import_string

from accounts import conf
from accounts.models import ProviderAccount
from providers.base import session_for
from providers.contract import ProviderClient


@cache
def _transport(path: str):
    return import_string(path)()


def _mounts() -> dict:
    return {prefix: _transport(path) for prefix, path in conf.setting("PROVIDER_TRANSPORT_MOUNTS").items()}


def provider_client(account: ProviderAccount) -> ProviderClient:
    session = session_for(f"account:{account.pk}", mounts=_mounts())
    return account.spec.client(base_url=account.effective_base_url, credentials=account.credentials(),
                               session=session, timeout=tuple(conf.setting("PROVIDER_TIMEOUT")))
