"""Fixtures of the campaign tests: a sender, an approved template, an agent, and a fake send service.

The fake replaces the send service's batch (``messaging.sending.TemplateBatch``,
which the runner uses) and ``message_send``: it stores real
:class:`~messaging.models.Message` rows, keeps the real service's promises (a
repeated key returns the first message without "sending"; a message stored
``queued`` is sent by whoever holds it; unsent ones are forgotten at
``finish``), and records every call that would have reached the provider, so
tests can assert "sent at most once". The real batch is tested against a fake
provider client in ``tests/messaging/test_template_batch.py``.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone, translation

from accounts.models import Role
from campaigns import services
from campaigns.models import Campaign
from messaging import sending
from messaging.models import Direction, Message, MessageStatus
from tests.factories import MembershipFactory, TemplateFactory
from tests.messaging.factories import aldeamo_number

BODY = "Hola {{1}}, tu cita es el {{2}}."


def error_kind_of(status: str, code: str) -> str:
    """The kind the real send path stores for a scripted failure: a 401/403 is a ProviderAuthError."""
    if status != MessageStatus.FAILED:
        return ""
    return "auth" if code in ("401", "403") else "rejected"


class FakeSend:
    """Records calls; ``outcome(to)`` may return ``(status, error_code, error_title)`` or raise."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.provider_calls: list[str] = []  # "to" of each call that would have reached the provider
        self.calls = 0
        self.outcome: Callable[[str], tuple[str, str, str]] = lambda to: (MessageStatus.SENT, "", "")
        self.before_send: Callable[[str], None] | None = None

    def __call__(self, *, actor, phone_number, to, type, content, template=None, idempotency_key="", **kwargs: Any):
        with self.lock:
            self.calls += 1
        if self.before_send is not None:
            self.before_send(to)
        existing = Message.objects.filter(client_id=phone_number.client_id, idempotency_key=idempotency_key).first()
        if idempotency_key and existing is not None:
            return existing
        status, code, title = self.outcome(to)
        message = Message.objects.create(
            client_id=phone_number.client_id, phone_number=phone_number, direction=Direction.OUTBOUND, type=type,
            from_number=phone_number.digits, to_number=to, content=content, template=template, status=status,
            status_at=timezone.now(), error_code=code, error_title=title, idempotency_key=idempotency_key,
            error_kind=error_kind_of(status, code),
            provider_message_id=str(uuid.uuid4()),
        )
        with self.lock:
            self.provider_calls.append(to)
        return message

    def per_number(self) -> Counter:
        return Counter(self.provider_calls)

    def batch(self, *, phone_number, template) -> FakeBatch:
        return FakeBatch(self, phone_number=phone_number, template=template)


class FakeBatch:
    """``TemplateBatch`` with the fake's outcomes: store queued rows, "send" them one by one."""

    def __init__(self, fake: FakeSend, *, phone_number, template) -> None:
        self.fake, self.phone_number, self.template = fake, phone_number, template
        self.unsent: set = set()

    def store(self, items):
        results = []
        for item in items:
            message = Message.objects.filter(client_id=self.phone_number.client_id,
                                             idempotency_key=item.idempotency_key).first()
            if message is None:
                message = Message.objects.create(
                    client_id=self.phone_number.client_id, phone_number=self.phone_number,
                    direction=Direction.OUTBOUND, type="template", from_number=self.phone_number.digits,
                    to_number=item.to, content=item.content, template=self.template, status=MessageStatus.QUEUED,
                    status_at=timezone.now(), idempotency_key=item.idempotency_key)
            if message.status == MessageStatus.QUEUED:
                self.unsent.add(message.pk)
            results.append(message)
        return results

    # The runner's in-flight interface: calls run inline (like the in-process sandbox), outcomes are Messages.
    concurrent = False
    throttle_back = False

    def begin(self, message):
        self.unsent.discard(message.pk)
        return lambda: self.send(message)

    def begin_many(self, messages):
        return [self.begin(message) for message in messages]

    def complete(self, message, outcome):
        return outcome if isinstance(outcome, Message) else Message.objects.get(pk=message.pk)

    def withdraw(self, message):
        return bool(Message.objects.filter(pk=message.pk).delete()[0])

    def send(self, message):
        self.unsent.discard(message.pk)
        with self.fake.lock:
            self.fake.calls += 1
        if self.fake.before_send is not None:
            self.fake.before_send(message.to_number)
        status, code, title = self.fake.outcome(message.to_number)
        Message.objects.filter(pk=message.pk).update(status=status, status_at=timezone.now(), error_code=code,
                                                     error_title=title, error_kind=error_kind_of(status, code),
                                                     provider_message_id=str(uuid.uuid4()))
        with self.fake.lock:
            self.fake.provider_calls.append(message.to_number)
        return Message.objects.get(pk=message.pk)

    def abandon(self, message, *, words):
        self.unsent.discard(message.pk)
        Message.objects.filter(pk=message.pk).update(status=MessageStatus.FAILED, error_title=words)
        return message

    def finish(self):
        Message.objects.filter(pk__in=self.unsent, status=MessageStatus.QUEUED).delete()
        self.unsent.clear()


@pytest.fixture
def fake_send(monkeypatch) -> FakeSend:
    fake = FakeSend()
    monkeypatch.setattr(sending, "message_send", fake)
    monkeypatch.setattr(sending, "TemplateBatch", fake.batch)
    return fake


@pytest.fixture(autouse=True)
def _campaign_settings(settings, tmp_path):
    # Assertions read English words; the portal's default language is Spanish.
    settings.LANGUAGE_CODE = "en"
    translation.activate("en")
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CAMPAIGN_PACE_LIMIT = 100000
    settings.CAMPAIGN_CHUNK_SECONDS = 0.5
    settings.CAMPAIGN_SLICE_SECONDS = 30
    settings.CAMPAIGN_COUNTS_MAX_AGE = 0
    yield
    translation.deactivate()


@pytest.fixture
def number(db):
    return aldeamo_number()


@pytest.fixture
def template(number):
    return TemplateFactory(waba=number.waba, name="recordatorio_cita",
                           components=[{"type": "BODY", "text": BODY}])


@pytest.fixture
def agent(number):
    return MembershipFactory(client=number.client, role=Role.AGENT).user


def phones(count: int, start: int = 0) -> list[str]:
    return [f"57300{start + i:07d}" for i in range(count)]


def rows_for(numbers: list[str]) -> list[dict[str, Any]]:
    return [{"phone": p, "variables": {"body_1": f"Cliente {i}", "body_2": "lunes"}} for i, p in enumerate(numbers)]


@pytest.fixture
def make_campaign(agent, number, template):
    """A checked campaign (report read) for ``count`` distinct numbers; ``start=True`` starts it."""

    def make(count: int = 10, *, start: bool = True, pace: int = 1000, recipients=None, **fields) -> Campaign:
        campaign = services.campaign_create_with_recipients(
            actor=agent, phone_number=number, template=fields.pop("template", template), name="Recordatorios",
            pace=pace, recipients=recipients if recipients is not None else rows_for(phones(count)), **fields,
        )
        services.campaign_report_seen(actor=agent, campaign=campaign)
        if start:
            campaign = services.campaign_start(actor=agent, campaign=campaign)
        return campaign

    return make


def work(campaign: Campaign, *, worker: str = "w1", budget: float = 30.0, generation: int | None = None):
    """Run one slice of the worker on ``campaign`` (in this thread)."""
    from campaigns import runner

    campaign.refresh_from_db()
    return runner.campaign_work(campaign_id=campaign.pk,
                                generation=campaign.generation if generation is None else generation,
                                worker_id=worker, budget_seconds=budget)


# The Chromium fixtures of tests/browser/, for this app's end-to-end test.
from tests.browser.conftest import browser, demo, page  # noqa: E402, F401
