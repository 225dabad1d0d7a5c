"""Provider adapters: the only place that knows the providers' wire formats.

- ``base``: pooled sessions, timeouts and the ProviderError family.
- ``types``: the frozen dataclasses everything above this package speaks.
- ``aldeamo``, ``contacto_virtual``: one adapter package per provider.

Nothing here imports a portal app. The simulator of both providers is the
top-level ``sandbox`` app (it may import from here, never the reverse).
"""
