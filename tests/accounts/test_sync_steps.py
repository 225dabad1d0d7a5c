"""An account's sync pulls templates through the step the templates manager registers (accounts imports no app above it)."""

import pytest
from django.utils import translation

from accounts import hooks
from accounts.services import SyncResult, sync
from providers.base import ProviderUnavailable
from templates_mgr.services import templates_sync_for_account
from tests.factories import ProviderAccountFactory
from waportal.hooks import Hook

pytestmark = pytest.mark.django_db


def test_the_templates_manager_registers_its_pull_when_the_app_is_ready():
    assert hooks.templates_sync.receivers == (templates_sync_for_account,)


def test_a_step_failing_at_the_provider_is_a_warning_and_the_others_still_count(monkeypatch):
    def failing(*, account, warnings):
        raise ProviderUnavailable("the provider is down")

    def two(*, account, warnings):
        return 2

    monkeypatch.setattr(hooks, "templates_sync", Hook("test"))
    hooks.templates_sync.register(failing)
    hooks.templates_sync.register(two)
    result = SyncResult()
    with translation.override("en"):
        assert sync._sync_templates(ProviderAccountFactory(), result) == 2
    assert result.warnings == ["Templates: the provider is down"]
    hooks.templates_sync.register(two)
    assert hooks.templates_sync.receivers == (failing, two)
