"""Demo and test settings: works with no configuration at all.

Keys that must survive restarts (SECRET_KEY, FIELD_ENCRYPTION_KEY) are
generated once into ``var/`` when not given, so a second ``make demo`` can
still read the provider secrets stored by the first.
"""

import secrets

from cryptography.fernet import Fernet

from .base import *  # noqa: F403
from .base import BASE_DIR, env


def _local_secret(name: str, make) -> str:
    path = BASE_DIR / "var" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="") or _local_secret("secret_key", lambda: secrets.token_urlsafe(50))
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEY", default=[]) or [
    _local_secret("field_encryption_key", lambda: Fernet.generate_key().decode())
]
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=True)
# make demo opens on a living inbox: earlier conversations, a finished campaign, customers writing in.
SANDBOX_DEMO_ACTIVITY = env.bool("SANDBOX_DEMO_ACTIVITY", default=True)
# Alert emails are printed by the process that sends them (a task worker), never sent, in the demo.
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
# Plain static storage: no collectstatic needed for the demo or tests.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# WhiteNoise serves from the app folders in the demo (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
(BASE_DIR / "var" / "static").mkdir(parents=True, exist_ok=True)
