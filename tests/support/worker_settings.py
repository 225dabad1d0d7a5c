"""Settings of worker subprocesses started by tests: the dev settings, with a fake provider on the network."""

from waportal.settings.dev import *  # noqa: F403

PROVIDER_TRANSPORT_MOUNTS = {
    "https://aldeamo.invalid/": "tests.support.fake_provider.AcceptingTransport",
    "https://cv.invalid/": "tests.support.fake_provider.AcceptingTransport",
}
