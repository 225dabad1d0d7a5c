"""Which providers the portal speaks: each provider package registers its :class:`~providers.contract.ProviderSpec`.

The packages named in ``settings.WAPORTAL_PROVIDERS`` are imported on first
use; importing one registers it (``registry.register`` at the bottom of its
``provider.py``). The apps ask here — ``spec(account.provider)``
(and its capabilities), ``choices()`` — and never compare provider names.
"""

from __future__ import annotations

import importlib
import threading

from providers.contract import ProviderSpec

DEFAULT_PROVIDERS = ("providers.aldeamo", "providers.contacto_virtual")

_registry: dict[str, ProviderSpec] = {}
_loaded = False
_lock = threading.Lock()


class UnknownProvider(LookupError):
    """An account names a provider no installed package registered."""


def register(spec_class: type[ProviderSpec]) -> type[ProviderSpec]:
    """Register a provider (usable as a class decorator); the id must be unique."""
    spec = spec_class()
    known = _registry.get(spec.id)
    if known is not None and type(known) is not spec_class:
        raise ValueError(f"Two providers registered the id {spec.id!r}: {type(known)!r} and {spec_class!r}.")
    _registry[spec.id] = spec
    return spec_class


def _packages() -> tuple[str, ...]:
    from django.conf import settings

    return tuple(settings.WAPORTAL_PROVIDERS) if settings.configured else DEFAULT_PROVIDERS


def _load() -> None:
    global _loaded
    if _loaded:
        return
    with _lock:
        if not _loaded:
            for package in _packages():
                importlib.import_module(f"{package}.provider")
            _loaded = True


def all_specs() -> list[ProviderSpec]:
    _load()
    return list(_registry.values())


def spec(provider_id: str) -> ProviderSpec:
    _load()
    try:
        return _registry[provider_id]
    except KeyError:
        raise UnknownProvider(provider_id) from None


def by_webhook_slug(slug: str) -> ProviderSpec | None:
    return next((s for s in all_specs() if s.webhook_slug == slug), None)


def choices() -> list[tuple[str, str]]:
    """(id, name) of every registered provider: the account model's ``provider`` choices."""
    return [(s.id, s.name) for s in all_specs()]


def with_capability(name: str, value: object = True) -> list[str]:
    """Ids of the providers whose capability ``name`` is ``value`` (for database filters)."""
    return [s.id for s in all_specs() if getattr(s.capabilities, name) == value]
