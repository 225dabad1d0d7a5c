"""Fixtures of the sandbox tests: a provisioned world with deterministic, instant behaviour."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

from sandbox.models import SandboxAccount
from sandbox.services import SandboxCredentials, credentials_of, sandbox_provision

ALDEAMO_WEBHOOK = "http://portal.test/webhooks/aldeamo/s3cret/"
CV_WEBHOOK = "http://portal.test/webhooks/contacto-virtual/s3cret/"
BUSINESS = "573245550101"  # "+57 324 555 0101", WABA 236928178367012, client 942
CUSTOMER = "573135550123"


class RecordingAdapter(BaseAdapter):
    """Stands in for the portal's webhook endpoint: records what is posted, answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        super().__init__()
        self.status = status
        self.requests: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.requests.append(request)
        response = requests.Response()
        response.status_code = self.status
        response._content = b'{"ok": true}'
        response.request = request
        response.url = request.url or ""
        return response

    def close(self) -> None:
        pass

    @property
    def payloads(self) -> list[Any]:
        return [json.loads(r.body) for r in self.requests]

    def posted_to(self, url: str) -> list[Any]:
        return [json.loads(r.body) for r in self.requests if r.url == url]


@pytest.fixture(autouse=True)
def _no_network(monkeypatch) -> RecordingAdapter:
    """Callbacks posted without an explicit session never leave the process: a recorder answers them."""
    from sandbox import delivery

    adapter = RecordingAdapter()
    session = requests.Session()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    monkeypatch.setattr(delivery, "delivery_session", lambda: session)
    return adapter


@pytest.fixture
def account(db) -> SandboxAccount:
    """The demo world (analytics history is left to the tests that need it); statuses due at once."""
    sandbox_provision(webhook_url=ALDEAMO_WEBHOOK, cv_webhook_url=CV_WEBHOOK, seed_history_days=0)
    account = SandboxAccount.objects.get(name="demo")
    account.status_delay_seconds = 0
    account.template_review_seconds = 60
    account.failed_share = 0
    account.read_share = 1
    account.reply_share = 0
    account.random_seed = 1234
    account.save()
    return account


@pytest.fixture
def creds(account: SandboxAccount) -> SandboxCredentials:
    return credentials_of(account)


@pytest.fixture
def aldeamo_headers(creds: SandboxCredentials) -> dict[str, str]:
    return {"ApiKey": creds.aldeamo_api_key, "UserId": creds.aldeamo_user_id}


@pytest.fixture
def webhook() -> tuple[requests.Session, RecordingAdapter]:
    """A session whose posts to the fake portal are recorded."""
    adapter = RecordingAdapter()
    session = requests.Session()
    session.mount("http://portal.test/", adapter)
    return session, adapter


def post_json(client, url: str, body: Any, headers: dict[str, str] | None = None):
    return client.post(url, data=json.dumps(body), content_type="application/json", headers=headers or {})
