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
