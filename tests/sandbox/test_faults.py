"""Fault injection: latency, 5xx, 429, timeouts -- deterministic with a seed."""

from __future__ import annotations

import time

import pytest

from sandbox.faults import decide_fault
from sandbox.models import SandboxAccount, SandboxMessage

from . import seed_examples as seeds
from .conftest import post_json

SEND = "/sandbox/aldeamo/v1/apikey/text/bsp/send"


def _configure(account: SandboxAccount, **fields) -> SandboxAccount:
    for name, value in fields.items():
        setattr(account, name, value)
    account.random_draws = 0
    account.save()
    return account


def test_seeded_faults_repeat_exactly(account):
    _configure(account, error_share=0.2, rate_limit_share=0.2, timeout_share=0.1, random_seed=42)
    first = [decide_fault(account) for _ in range(40)]
    _configure(account, random_seed=42)
    second = [decide_fault(account) for _ in range(40)]

    assert first == second
    assert {"", "5xx", "429", "timeout"} == set(first)
    _configure(account, random_seed=43)
    assert [decide_fault(account) for _ in range(40)] != first


def test_seeded_answers_repeat_exactly(client, aldeamo_headers, account):
    def run() -> list[int]:
        _configure(account, error_share=0.3, rate_limit_share=0.3, random_seed=7)
        return [post_json(client, SEND, seeds.TEXT, aldeamo_headers).status_code for _ in range(15)]

    first = run()
    assert first == run()
    assert set(first) == {200, 429, 503}


def test_all_5xx(client, aldeamo_headers, account, creds):
    _configure(account, error_share=1.0)
    response = post_json(client, SEND, seeds.TEXT, aldeamo_headers)
    assert response.status_code == 503 and response.json() == {"errors": ["Service Unavailable"]}
    cv = client.post("/sandbox/contacto-virtual/balance/", {"login": creds.cv_login, "token": creds.cv_token})
    assert cv.status_code == 503
    assert not SandboxMessage.objects.exists()


def test_all_429_with_retry_after(client, account, creds):
    _configure(account, rate_limit_share=1.0)
    response = client.post("/sandbox/aldeamo/v1/analytics/getWabaIdsByToken", headers={"token": creds.aldeamo_token})
    assert response.status_code == 429 and response["Retry-After"] == "1"
    assert response.json() == {"errors": ["Too Many Requests"]}


def test_faults_only_apply_once_the_account_is_known(client, account):
    _configure(account, error_share=1.0)
    assert post_json(client, SEND, seeds.TEXT, {"ApiKey": "x", "UserId": "y"}).status_code == 401


def test_latency_and_timeout_stall_then_proceed(client, aldeamo_headers, account):
    _configure(account, latency_ms=30)
    started = time.monotonic()
    assert post_json(client, SEND, seeds.TEXT, aldeamo_headers).status_code == 200
    assert time.monotonic() - started >= 0.03

    _configure(account, latency_ms=0, timeout_share=1.0, timeout_seconds=0.05)
    started = time.monotonic()
    assert post_json(client, SEND, seeds.TEXT, aldeamo_headers).status_code == 200
    assert time.monotonic() - started >= 0.05


def test_default_timeout_outlasts_the_portal_read_timeout(account, settings):
    from sandbox.faults import timeout_seconds

    settings.PROVIDER_TIMEOUT = (5.0, 30.0)
    assert timeout_seconds(account) > 30.0
    account.timeout_seconds = 2.5
    assert timeout_seconds(account) == 2.5


@pytest.mark.parametrize("share", ["error_share", "rate_limit_share", "timeout_share"])
def test_shares_are_validated_between_0_and_1(account, share):
    from django.core.exceptions import ValidationError

    setattr(account, share, 1.5)
    with pytest.raises(ValidationError):
        account.full_clean()
