"""Shared fixtures for the messaging tests: a fake provider client and a business number."""

from __future__ import annotations

import uuid

import pytest

from messaging.sending import delivery
from providers.types import OutboundMessage, SendResult, TemplateSend
from tests.factories import PhoneNumberFactory
from tests.messaging.factories import member


class FakeClient:
    """Stands in for the adapter: records what it is asked to send, answers from a script."""

    def __init__(self) -> None:
        self.sent: list[OutboundMessage | TemplateSend] = []
        self.script: list[SendResult | Exception] = []

    def send(self, wire):
        self.sent.append(wire)
        answer = self.script.pop(0) if self.script else SendResult(message_id=str(uuid.uuid4()))
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture(autouse=True)
def _no_backoff_sleep(monkeypatch):
    """Retries never really wait in tests (modules that assert the waits record them instead)."""
    monkeypatch.setattr(delivery, "sleep", lambda seconds: None)


@pytest.fixture
def fake(monkeypatch) -> FakeClient:
    client = FakeClient()
    monkeypatch.setattr(delivery, "provider_client", lambda account: client)
    return client


@pytest.fixture
def number():
    return PhoneNumberFactory(digits="573001112233")


@pytest.fixture
def agent(number):
    return member(number)
