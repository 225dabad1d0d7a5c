"""Shared fixtures for the contacts tests: an Aldeamo line, its client's agent, a fake provider client."""

from __future__ import annotations

import pytest

from messaging.sending import delivery
from tests.messaging.conftest import FakeClient
from tests.messaging.factories import member
from tests.messaging.factories_inbound import aldeamo_line


@pytest.fixture(autouse=True)
def _no_backoff_sleep(monkeypatch):
    monkeypatch.setattr(delivery, "sleep", lambda seconds: None)


@pytest.fixture
def fake(monkeypatch) -> FakeClient:
    client = FakeClient()
    monkeypatch.setattr(delivery, "provider_client", lambda account: client)
    return client


@pytest.fixture
def line():
    return aldeamo_line(digits="573001112233")


@pytest.fixture
def agent(line):
    return member(line)


@pytest.fixture
def api(api):
    api.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return api
