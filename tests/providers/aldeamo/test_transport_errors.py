"""Transport failures and HTTP error classes: each becomes the ProviderError that says whether a retry is safe."""

from __future__ import annotations

from datetime import datetime

import pytest
import requests
import responses

from providers.aldeamo import AldeamoClient
from providers.base import ProviderRateLimited, ProviderTimeout, ProviderUnavailable
from tests.providers.aldeamo.support import BASE_URL, fixture, message_from_seed_body

SEND_TEXT_URL = f"{BASE_URL}/v1/apikey/text/bsp/send"
ANALYTICS_URL = f"{BASE_URL}/v1/analytics/getAnalytics"


def send_text(client: AldeamoClient) -> None:
    client.send(message_from_seed_body(fixture("send_text_request")))


def test_connection_error_is_unavailable_and_retryable(client: AldeamoClient, mocked: responses.RequestsMock) -> None:
    mocked.post(SEND_TEXT_URL, body=requests.exceptions.ConnectionError("Connection refused"))

    with pytest.raises(ProviderUnavailable) as excinfo:
        send_text(client)

    assert excinfo.value.retryable is True
    assert excinfo.value.maybe_delivered is False


def test_read_timeout_on_send_may_have_been_delivered_and_is_not_retried(
    client: AldeamoClient, mocked: responses.RequestsMock
) -> None:
    mocked.post(SEND_TEXT_URL, body=requests.exceptions.ReadTimeout())

    with pytest.raises(ProviderTimeout) as excinfo:
        send_text(client)

    assert excinfo.value.maybe_delivered is True
    assert excinfo.value.retryable is False


def test_connect_timeout_is_unavailable(client: AldeamoClient, mocked: responses.RequestsMock) -> None:
    mocked.post(SEND_TEXT_URL, body=requests.exceptions.ConnectTimeout())

    with pytest.raises(ProviderUnavailable) as excinfo:
        send_text(client)

    assert excinfo.value.retryable is True


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_unavailable(client: AldeamoClient, mocked: responses.RequestsMock, status: int) -> None:
    mocked.post(SEND_TEXT_URL, body="Service Unavailable", status=status)

    with pytest.raises(ProviderUnavailable) as excinfo:
        send_text(client)

    assert excinfo.value.status == status
    assert excinfo.value.retryable is True


def test_503_with_the_providers_words(client: AldeamoClient, mocked: responses.RequestsMock) -> None:
    mocked.post(ANALYTICS_URL, json={"errors": ["Service temporarily unavailable"]}, status=503)

    with pytest.raises(ProviderUnavailable, match="^Service temporarily unavailable$"):
        client.analytics(
            waba_id="1", client_id="2", start=datetime(2022, 9, 1), end=datetime(2022, 9, 2), granularity="DAILY"
        )


def test_429_is_rate_limited_with_retry_after(client: AldeamoClient, mocked: responses.RequestsMock) -> None:
    mocked.post(SEND_TEXT_URL, json={"errors": ["Too Many Requests"]}, status=429, headers={"Retry-After": "30"})

    with pytest.raises(ProviderRateLimited) as excinfo:
        send_text(client)

    assert excinfo.value.retryable is True
    assert excinfo.value.retry_after == 30.0
    assert str(excinfo.value) == "Too Many Requests"


def test_429_without_retry_after(client: AldeamoClient, mocked: responses.RequestsMock) -> None:
    mocked.post(SEND_TEXT_URL, body="", status=429)

    with pytest.raises(ProviderRateLimited) as excinfo:
        send_text(client)

    assert excinfo.value.retry_after is None
