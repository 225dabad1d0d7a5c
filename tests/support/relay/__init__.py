"""Relay: a made-up third provider, registered only in the test settings.

It exists to prove that a provider is added by writing its package and nothing
else: ``tests/test_third_provider.py`` sends a text through the API and the
composer, and a template campaign, through it. Its HTTP API (invented, JSON):

- ``POST messages`` ``{"from", "to", "text"}`` or ``{"from", "to", "template", "params"}`` → ``{"id"}``
- ``GET templates`` → ``[{"id", "name", "state", "body"}]``
- ``GET me`` → ``{"login"}``
- webhooks: ``{"event": "status", "id", "state"}`` and ``{"event": "message", "id", "from", "to", "text"}``
"""
