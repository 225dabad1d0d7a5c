"""Fixtures of the analytics tests: a fake Aldeamo client, and the sandbox served in-process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from providers.types import ConversationPoint
from tests.factories import MembershipFactory, PhoneNumberFactory
from tests.support.sandbox_account import sandbox_aldeamo_account


@pytest.fixture(autouse=True)
def _default_provider_clock(settings):
    """Every test reads the provider's times in the documented default clock (America/Bogota) unless it says otherwise."""
    settings.ANALYTICS_PROVIDER_TIME_ZONE = ""


@dataclass
class FakeAldeamo:
    """Stands in for ``AldeamoClient``: records each getAnalytics call and answers from ``answer``.

    ``answer`` is a list of points (returned for every call), a callable of
    the call's keyword arguments, or an exception instance to raise.
    """

    answer: Any = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    # True as for a client over HTTP: the sync asks for the next chunk while it stores one (another thread).
    over_the_network: bool = False

    def analytics(self, **kwargs: Any) -> list[ConversationPoint]:
        self.calls.append(kwargs)
        if isinstance(self.answer, Exception):
            raise self.answer
        if callable(self.answer):
            return self.answer(**kwargs)
        return list(self.answer)


@pytest.fixture(params=[False, True], ids=["in-turn", "ahead"])
def fake_aldeamo(monkeypatch, request) -> FakeAldeamo:
    fake = FakeAldeamo(over_the_network=request.param)
    monkeypatch.setattr("analytics.services.provider_client", lambda account: fake)
    return fake


@pytest.fixture
def number(db):
    """A business number on a WABA of an Aldeamo client with an analytics token."""
    return PhoneNumberFactory(digits="573245550101", display_phone_number="+57 324 555 0101")


@pytest.fixture
def waba(number):
    return number.waba


def point(start: str, count: int = 1, **dims: str) -> ConversationPoint:
    """A data point as the adapter returns it (naive, provider clock); dims default to the seed's values."""
    begin = datetime.strptime(start, "%Y-%m-%d %H:%M")
    values = {
        "country": "CO",
        "phone_number": "573245550101",
        "conversation_type": "REGULAR",
        "conversation_direction": "USER_INITIATED",
        **dims,
    }
    return ConversationPoint(start=begin, end=begin, conversations=count, **values)


@pytest.fixture
def sandbox(db, settings):
    """The sandbox provisioned with 3 days of history and an Aldeamo account synced from it, in-process."""
    from accounts.services import provider_account_sync

    # The sandbox writes its wall clock in UTC; read it that way so hours line up in these tests.
    settings.ANALYTICS_PROVIDER_TIME_ZONE = "UTC"
    with sandbox_aldeamo_account(settings, history_days=3) as account:
        provider_account_sync(account=account)
        yield account


@pytest.fixture
def member_of() -> Callable:
    def _member(client, role: str = "admin"):
        return MembershipFactory(client=client, role=role).user

    return _member
