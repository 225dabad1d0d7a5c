"""Test settings: the demo's, plus a made-up third provider (``tests/support/relay``) that proves a provider is
added by its package alone."""

from .dev import *  # noqa: F403
from .dev import WAPORTAL_PROVIDERS

WAPORTAL_PROVIDERS = [*WAPORTAL_PROVIDERS, "tests.support.relay"]
# The demo's living inbox stays off in the suite: a test that wants it enables it.
SANDBOX_DEMO_ACTIVITY = False

# On SQLite the suite's database is a file, not Django's shared-cache in-memory database: the browser tests
# run a campaign worker beside the live server, and shared-cache SQLite answers "database table is locked" at
# once instead of waiting (its table locks ignore the busy timeout). A file in WAL mode waits up to the
# timeout, like PostgreSQL's row locks would. pytest-django adds a suffix per xdist worker.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / "test-db.sqlite3")}  # noqa: F405
    DATABASES["default"]["OPTIONS"]["init_command"] = "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;"  # noqa: F405
