"""Provider secrets at rest: Fernet with key rotation.

``settings.FIELD_ENCRYPTION_KEYS`` lists Fernet keys, newest first. New values
are encrypted with the first; any listed key decrypts. To rotate: put a new key
first, run ``manage.py rotate_field_keys``, then drop the old key.
"""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from accounts import conf

PREFIX = "fernet:"


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is not set: provider secrets cannot be stored.")
    try:
        return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be comma-separated Fernet keys (32 url-safe base64-encoded bytes)."
        ) from exc


def fernet() -> MultiFernet:
    return _fernet(tuple(conf.setting("FIELD_ENCRYPTION_KEYS")))


def encrypt(value: str) -> str:
    if not value:
        return ""
    return PREFIX + fernet().encrypt(value.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        # A value written before encryption was configured (never by this code).
        return stored
    try:
        return fernet().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored provider secret cannot be decrypted with any FIELD_ENCRYPTION_KEY: "
            "was a key removed before `rotate_field_keys` ran?"
        ) from exc


def rotate(stored: str) -> str:
    """Re-encrypt ``stored`` with the newest key."""
    if not stored or not stored.startswith(PREFIX):
        return encrypt(stored) if stored else ""
    return PREFIX + fernet().rotate(stored[len(PREFIX) :].encode()).decode()


class EncryptedTextField(models.TextField):
    """A text column whose value is Fernet-encrypted in the database.

    Python code sees plain text; the database only ever holds ``fernet:…``.
    Not searchable or orderable, by design.
    """

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return value
        return encrypt(value)
