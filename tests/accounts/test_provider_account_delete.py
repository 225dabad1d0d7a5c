"""Deleting a provider account with history is a 409 saying to deactivate it; deactivation works."""

from __future__ import annotations

import pytest

from accounts.models import ProviderAccount
from tests.factories import ProviderAccountFactory
from tests.messaging.factories_inbound import OutboundMessageFactory

pytestmark = pytest.mark.django_db


def test_delete_with_history_is_409_json_saying_deactivate(api_as, superuser):
    message = OutboundMessageFactory()
    account = message.phone_number.client.provider_account
    api = api_as(superuser)

    response = api.delete(f"/api/v1/provider-accounts/{account.pk}/")

    assert response.status_code == 409, response.content
    body = response.json()
    assert "is_active" in body and "is_active" in body["detail"]
    assert ProviderAccount.objects.filter(pk=account.pk).exists()

    patched = api.patch(f"/api/v1/provider-accounts/{account.pk}/", {"is_active": False}, format="json")
    assert patched.status_code == 200 and patched.json()["is_active"] is False


def test_delete_without_history_is_204(api_as, superuser):
    account = ProviderAccountFactory()
    assert api_as(superuser).delete(f"/api/v1/provider-accounts/{account.pk}/").status_code == 204
    assert not ProviderAccount.objects.filter(pk=account.pk).exists()
