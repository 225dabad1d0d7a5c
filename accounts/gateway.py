"""From a stored ProviderAccount to a ready adapter client.

The only place that reads an account's secrets for use; the adapters never
see a model. One pooled session per account (``providers.base.session_for``).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from django.utils.module_loading import import_string

from accounts import conf
from accounts.models import Provider, ProviderAccount
from providers.base import session_for

if TYPE_CHECKING:
    from providers.aldeamo import AldeamoClient
    from providers.contacto_virtual import ContactoVirtualClient


@cache
def _transport(path: str):
    return import_string(path)()


def _mounts() -> dict:
    return {prefix: _transport(path) for prefix, path in conf.setting("PROVIDER_TRANSPORT_MOUNTS").items()}


def provider_client(account: ProviderAccount) -> AldeamoClient | ContactoVirtualClient:
    from providers.aldeamo import AldeamoClient
    from providers.contacto_virtual import ContactoVirtualClient

    session = session_for(f"account:{account.pk}", mounts=_mounts())
    timeout = tuple(conf.setting("PROVIDER_TIMEOUT"))
    if account.provider == Provider.ALDEAMO:
        return AldeamoClient(
            base_url=account.effective_base_url,
            api_key=account.api_key,
            user_id=account.user_id,
            analytics_token=account.analytics_token,
            templates_list_path=account.templates_list_path or "getTemplates",
            session=session,
            timeout=timeout,
        )
    return ContactoVirtualClient(
        base_url=account.effective_base_url,
        login=account.login,
        token=account.token,
        session=session,
        timeout=timeout,
    )
