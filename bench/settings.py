"""Benchmark settings: production settings, served on loopback over plain HTTP.

Only what a benchmark on 127.0.0.1 needs differs from production: no HTTPS
redirect (no TLS terminator in front), the bench URLs with the baselines, and
the sandbox mounted when a scenario asks for it in-process.
"""

import os

os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 60)
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")

from waportal.settings.production import *  # noqa: E402,F403

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
ROOT_URLCONF = "bench.urls"
STATIC_ROOT = os.environ.get("BENCH_STATIC_ROOT") or STATIC_ROOT  # noqa: F405
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}  # noqa: F405

# The sandbox provider is never served in production; a scenario that needs it
# as a separate process (``harness.sandbox_server``) starts that process with
# SANDBOX_ENABLED=true. The portal's own processes keep it off.
SANDBOX_ENABLED = os.environ.get("SANDBOX_ENABLED", "").lower() in ("1", "true", "yes")

# ``campaign_send.py --campaign-workers N``: tasks started per campaign (how many processes share one).
if os.environ.get("BENCH_CAMPAIGN_WORKERS"):
    CAMPAIGN_WORKERS = int(os.environ["BENCH_CAMPAIGN_WORKERS"])
if os.environ.get("BENCH_SWITCH_INTERVAL"):  # ``--switch-interval S``
    CAMPAIGN_SWITCH_INTERVAL = float(os.environ["BENCH_SWITCH_INTERVAL"])

# ``campaign_send.py --stall-ms MS [--stall-share P]``: a fault injected to test the send deadline -- a share of
# provider requests held up MS inside the HTTP stack, after the sender woke at its slot and before the request
# is written (urllib3 handing out a connection), as a thread waiting for the interpreter lock on a busy machine
# would be.
if os.environ.get("BENCH_STALL_MS"):
    import random as _random
    import time as _time

    from urllib3 import connectionpool as _connectionpool

    _get_conn = _connectionpool.HTTPConnectionPool._get_conn
    _STALL = float(os.environ["BENCH_STALL_MS"]) / 1000
    _STALL_SHARE = float(os.environ.get("BENCH_STALL_SHARE") or 0.05)

    def _stalled_get_conn(self, timeout=None):
        if _random.random() < _STALL_SHARE:
            _time.sleep(_STALL)
        return _get_conn(self, timeout)

    _connectionpool.HTTPConnectionPool._get_conn = _stalled_get_conn
