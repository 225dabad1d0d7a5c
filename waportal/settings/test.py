"""Test settings: the demo's, plus a made-up third provider (``tests/support/relay``) that proves a provider is
added by its package alone."""

from .dev import *  # noqa: F403
from .dev import WAPORTAL_PROVIDERS

WAPORTAL_PROVIDERS = [*WAPORTAL_PROVIDERS, "tests.support.relay"]
# The demo's living inbox stays off in the suite: a test that wants it enables it.
SANDBOX_DEMO_ACTIVITY = False
