import pytest

from providers.base import sessions_clear


@pytest.fixture(autouse=True)
def _fresh_provider_sessions():
    """Each test starts with no pooled sessions (they may carry test transports)."""
    sessions_clear()
    yield
    sessions_clear()
