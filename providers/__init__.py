"""Provider adapters: the only place that knows the providers' wire formats.

- ``base``: pooled sessions, timeouts and the ProviderError family.
- ``types``: the frozen dataclasses everything above this package speaks.
- ``aldeamo``, ``contacto_virtual``: one adapter package per provider.
- ``sandbox``: a Django app simulating both providers (demo and end-to-end tests).

Nothing here imports a portal app.
"""
