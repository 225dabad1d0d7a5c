"""Shared fixtures for the workspace tests: a business number, its staff, a conversation, a fake provider."""

from __future__ import annotations

import pytest

from accounts.models import Role
from tests.factories import PhoneNumberFactory
from tests.messaging.conftest import FakeClient, _no_backoff_sleep, fake  # noqa: F401 (fixtures)
from tests.messaging.factories import ConversationFactory, member

__all__ = ["FakeClient"]


@pytest.fixture
def number(db):
    return PhoneNumberFactory(digits="573001112233")


@pytest.fixture
def agent(number):
    return member(number, Role.AGENT)


@pytest.fixture
def other_agent(number):
    return member(number, Role.AGENT)


@pytest.fixture
def viewer(number):
    return member(number, Role.VIEWER)


@pytest.fixture
def admin_user(number):
    return member(number, Role.ADMIN)


@pytest.fixture
def conversation(number):
    return ConversationFactory(phone_number=number)
