import pytest

from providers.base import sessions_clear


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_provider_sessions():
    """Each test starts with no pooled sessions (they may carry test transports)."""
    sessions_clear()
    yield
    sessions_clear()


@pytest.fixture
def superuser(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("root", "root@example.com", "pass-word-123")


@pytest.fixture
def api(db):
    """A DRF APIClient; call ``api.force_authenticate(user)`` or use ``api_as``."""
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def api_as(api):
    def _as(user):
        api.force_authenticate(user)
        return api

    return _as


@pytest.fixture
def tenant_pair(db):
    """Two clients on two accounts, each with a WABA, a number and an admin member."""
    from tests.factories import MembershipFactory, PhoneNumberFactory

    a_number = PhoneNumberFactory()
    b_number = PhoneNumberFactory()
    a_member = MembershipFactory(client=a_number.client)
    b_member = MembershipFactory(client=b_number.client)
    return {"a": a_number, "b": b_number, "a_user": a_member.user, "b_user": b_member.user}


class _LogLines:
    """A handler that keeps every formatted line (message and traceback) emitted while a test runs."""

    def __init__(self) -> None:
        import logging

        self.lines: list[str] = []
        self.handler = logging.Handler(level=logging.DEBUG)
        formatter = logging.Formatter("%(name)s %(message)s")
        self.handler.emit = lambda record: self.lines.append(formatter.format(record))


# Loggers that do not propagate to the root logger, so they are watched directly.
_SEPARATE_LOGGERS = ("django.server", "gunicorn.access", "gunicorn.error")


@pytest.fixture(autouse=True)
def _no_secret_in_logs():
    """No log line written during any test contains a webhook secret or a provider secret (issue 17).

    Every provider account saved during the test lends its secrets to the
    watch list; at the end, every line logged in this process is searched.
    """
    import logging

    from django.db.models.signals import post_save

    from accounts.models import ProviderAccount

    secrets: set[str] = set()

    def collect(sender, instance, **kwargs):
        for name in ("webhook_secret", "previous_webhook_secret", *ProviderAccount.SECRET_FIELDS):
            value = getattr(instance, name, "") or ""
            if len(value) >= 8:
                secrets.add(value)

    post_save.connect(collect, sender=ProviderAccount, weak=False, dispatch_uid="tests-no-secret-in-logs")
    capture = _LogLines()
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in _SEPARATE_LOGGERS)]
    for logger in loggers:
        logger.addHandler(capture.handler)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeHandler(capture.handler)
        post_save.disconnect(sender=ProviderAccount, dispatch_uid="tests-no-secret-in-logs")
    leaked = [line for line in capture.lines if any(secret in line for secret in secrets)]
    assert not leaked, f"a log line carries a provider or webhook secret: {leaked[:3]}"


@pytest.fixture(autouse=True)
def _outgoing_endpoints_cache():
    """Each test starts with no outgoing webhook endpoint (each process keeps a copy of them: notifications)."""
    from notifications.events import endpoints_cache

    endpoints_cache.prime_empty()
    yield
    endpoints_cache.clear()
