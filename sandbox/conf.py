"""Sandbox settings, read at call time so tests and deployments can override them.

Every name can be set in Django settings; the defaults below are what the
sandbox ships with. The portal's own settings the sandbox reads
(``PROVIDER_TIMEOUT``, ``ALLOWED_HOSTS``, ``PUBLIC_BASE_URL``) are declared in
``waportal/settings/base.py`` and read as ``settings.X``; ``ANALYTICS_PROVIDER_TIME_ZONE``
through ``analytics.conf``, where the portal declares it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Whether the simulator is served at /sandbox/ (base.py declares it; production forces it off).
    "SANDBOX_ENABLED": False,
    # (connect, read) seconds for posting a callback to the portal: a slow portal must not hold a deliverer.
    "SANDBOX_CALLBACK_TIMEOUT": (3.05, 10.0),
    # Posts of one callback before it is given up on (failed): real BSPs retry a few times, then stop.
    "SANDBOX_CALLBACK_MAX_ATTEMPTS": 5,
    # Backoff after the first failed post, doubled after each further one (seconds).
    "SANDBOX_CALLBACK_RETRY_SECONDS": 2.0,
    # URL prefix -> transport adapter (instance or dotted path) for posting callbacks, e.g. the in-process one,
    # so the demo and end-to-end tests need no server.
    "SANDBOX_CALLBACK_TRANSPORT_MOUNTS": {},
    # Ask the task worker to deliver callbacks as they fall due; off, they wait for sandbox_deliver_due
    # (run_sandbox's loop, tests, benchmarks that deliver on their own).
    "SANDBOX_CALLBACKS_ENQUEUE": True,
    # Where inbound media samples are served from; empty: the portal's public URL, else the webhook's origin.
    "SANDBOX_MEDIA_BASE_URL": "",
    # The wall clock of getAnalytics' naive dates; empty: the portal's ANALYTICS_PROVIDER_TIME_ZONE (analytics/conf.py,
    # America/Bogota by default), so both sides agree.
    "SANDBOX_ANALYTICS_TIME_ZONE": "",
    # The demo's living inbox (``demo_activity.py``): demo_setup seeds earlier conversations and a finished
    # campaign and starts the customers' script. Off unless a settings file turns it on (dev.py does; test.py
    # turns it off again so the suite stays quiet, and a test enables it).
    "SANDBOX_DEMO_ACTIVITY": False,
    # After the first minute's script, one simulated customer writes every this many seconds; 0 stops there.
    "SANDBOX_DEMO_TRICKLE_SECONDS": 90,
}


def setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])
