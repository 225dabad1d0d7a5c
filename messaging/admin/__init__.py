"""Messaging admin, split by concern so each part can grow on its own.

- ``messages_admin``: messages, the composer, status history (sending).
- ``inbox_admin``: conversations, the inbox, raw webhook events (receiving).
"""

from messaging.admin import inbox_admin, messages_admin  # noqa: F401
