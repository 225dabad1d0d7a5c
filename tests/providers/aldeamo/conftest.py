"""Shared setup of the Aldeamo adapter tests: a client with the manual's credentials, a mocked transport."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from providers.aldeamo import AldeamoClient
from providers.base import session_for
from tests.providers.aldeamo.support import API_KEY, BASE_URL, TOKEN, USER_ID


@pytest.fixture
def client() -> AldeamoClient:
    # The trailing slash proves the base URL is normalised.
    return AldeamoClient(
        base_url=BASE_URL + "/",
        api_key=API_KEY,
        user_id=USER_ID,
        analytics_token=TOKEN,
        session=session_for("aldeamo-tests"),
    )


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    """A mocked transport that fails the test if a registered call is never made."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps
